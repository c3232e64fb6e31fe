"""Result sets side by side: one accuracy-vs-GFLOPs figure and the delta table (``compare``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from models.roadmap import chain

from ..analysis.agreement import format_agreement
from ..analysis.compare import agreements, shared_steps, step_table
from ..run.store import load
from .common import place_labels, save_figure


def _counted_gflops(results: dict[str, pd.DataFrame], chain_name: str) -> dict[str, float]:
    """GFLOPs at 224 px of each chain step as our runs count them (the rows' ``gflops``)."""
    out: dict[str, float] = {}
    for df in results.values():
        rows = df[df.study == chain_name] if "study" in df else df
        for name, g in rows.groupby("step_name"):
            out.setdefault(name, float(g.gflops.iloc[0]))
    if len(out) < len(chain(chain_name)):  # a step no set ran: count it
        from models import costs

        for s in chain(chain_name):
            out.setdefault(s.name, costs(s.design, with_fvcore=False).gflops)
    return out


def compare_results(paths: dict[str, str | Path], chain_name: str, out: str | Path,
                    ) -> tuple[pd.DataFrame, dict[str, dict], list[Path]]:
    """Overlay result sets on one accuracy-vs-GFLOPs figure; write the chain's delta table
    as CSV, and every step the sets share, in any study (``shared_steps``), as
    ``<out>_shared.csv``. Returns the chain table, each set's agreement with the paper, and
    the files written."""
    results = {label: load(p) for label, p in paths.items()}
    table = step_table(results, chain_name)
    agreement = agreements(results, chain_name)
    steps = chain(chain_name)
    paper_gflops = {s.name: s.paper_gflops for s in steps}
    ours_gflops = _counted_gflops(results, chain_name)
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(13, 5.6))
    drawn = []
    for label in results:
        y = table[f"{label}_top1"]
        text = f"{label}: {format_agreement(agreement[label])}"
        if y.isna().all():  # e.g. a folder of scale cells only: see the shared table
            ax.plot([], [], "o-", label=f"{label}: no runs of the chain "
                                        f"(its shared steps: {Path(out).name}_shared.csv)")
            continue
        ax.plot(table.step_name.map(ours_gflops), y, "o-", lw=1, ms=4, label=text)
        drawn.append(y)
    ax.set_xlabel("GFLOPs at 224 px (counted: conv + linear MACs)")
    ax.set_ylabel("top-1 (%)")
    ax.set_title("result sets (ours)", fontsize=10)
    ax.grid(alpha=0.3)
    axp.plot(table.step_name.map(paper_gflops), table.paper_top1, "o-", color="black", lw=1,
             ms=4)
    axp.set_title("paper, ImageNet-1K", fontsize=10)
    axp.set_xlabel("GFLOPs at 224 px (as the paper prints them)")
    axp.set_ylabel("top-1 (%)")
    axp.grid(alpha=0.3)
    # The legend (each set's agreement with the paper) goes below the panels, off the data.
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", fontsize=8, ncol=1,
               frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.035 * len(results), 1, 1))
    if drawn:
        first = table[drawn[0].notna()]
        place_labels(ax, list(first.step_name.map(ours_gflops)), list(drawn[0].dropna()),
                     [str(v) for v in first.step], fontsize=7)
    paper = table.dropna(subset=["paper_top1"])
    place_labels(axp, list(paper.step_name.map(paper_gflops)), list(paper.paper_top1),
                 [str(v) for v in paper.step], fontsize=7)
    out = Path(out)
    save_figure(fig, out, formats=(".png",))
    from ..system.files import atomic_write_text  # each file whole or not at all

    atomic_write_text(out.with_suffix(".csv"), table.round(3).to_csv(index=False))
    shared = shared_steps(results)
    shared_csv = out.with_name(out.name + "_shared.csv")
    atomic_write_text(shared_csv, shared.round(3).to_csv(index=False))
    return table, agreement, [out.with_suffix(".png"), out.with_suffix(".csv"), shared_csv]
