"""Result sets side by side: one accuracy-vs-GFLOPs figure and the delta table (``compare``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from models.roadmap import chain

from ..analysis.agreement import format_agreement
from ..analysis.compare import agreements, shared_steps, step_table
from ..run.store import load
from .common import save_figure


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
    gflops = {s.name: s.paper_gflops for s in steps}
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(13, 5))
    for label in results:
        y = table[f"{label}_top1"]
        x = table.step_name.map(gflops)
        ax.plot(x, y, "o-", lw=1, ms=4, label=f"{label} ({format_agreement(agreement[label])})")
    ax.set_xlabel("GFLOPs at 224 px (paper)")
    ax.set_ylabel("top-1 (%)")
    ax.set_title("result sets", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    axp.plot(table.step_name.map(gflops), table.paper_top1, "o-", color="black", lw=1, ms=4)
    for row in table.itertuples():
        axp.annotate(str(row.step), (gflops[row.step_name], row.paper_top1), fontsize=7,
                     xytext=(3, 3), textcoords="offset points")
    axp.set_title("paper, ImageNet-1K", fontsize=10)
    axp.set_xlabel("GFLOPs at 224 px (paper)")
    axp.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(out)
    save_figure(fig, out, formats=(".png",))
    table.round(3).to_csv(out.with_suffix(".csv"), index=False)
    shared = shared_steps(results)
    shared_csv = out.with_name(out.name + "_shared.csv")
    shared.round(3).to_csv(shared_csv, index=False)
    return table, agreement, [out.with_suffix(".png"), out.with_suffix(".csv"), shared_csv]
