"""Result sets side by side: one accuracy-vs-GFLOPs figure and the delta table (``compare``).

The figure is redrawn only when what it shows changed: its PNG carries a digest of the
numbers it draws and of the code that draws them, so asking again answers without
matplotlib (a second, not three)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from models.roadmap import chain

from ..analysis.agreement import format_agreement
from ..analysis.compare import agreements, shared_steps, step_table
from ..run.store import load


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
    the files written (the PNG left out where the one there already draws these numbers)."""
    results = {label: load(p) for label, p in paths.items()}
    table = step_table(results, chain_name)
    agreement = agreements(results, chain_name)
    out = Path(out)
    from ..system.files import atomic_write_text  # each file whole or not at all

    atomic_write_text(out.with_suffix(".csv"), table.round(3).to_csv(index=False))
    shared = shared_steps(results)
    shared_csv = out.with_name(out.name + "_shared.csv")
    atomic_write_text(shared_csv, shared.round(3).to_csv(index=False))
    png = out.with_suffix(".png")
    ours_gflops = _counted_gflops(results, chain_name)
    digest = _figure_digest(table, agreement, ours_gflops)
    written = [out.with_suffix(".csv"), shared_csv]
    if drawn_from(png) != digest:  # else the PNG there already draws these numbers
        _draw(table, agreement, results, chain_name, ours_gflops, out, digest)
        written.insert(0, png)
    return table, agreement, written


DIGEST_KEY = "Source"
"""The PNG text chunk holding the digest of what the figure draws."""


def _figure_digest(table: pd.DataFrame, agreement: dict[str, dict],
                   gflops: dict[str, float]) -> str:
    """Digest of what the figure draws (the table, each set's agreement line, the GFLOPs)
    and of the modules that draw it."""
    code = b"".join(Path(__file__).with_name(n).read_bytes() for n in ("compare.py", "common.py"))
    text = (table.round(6).to_csv(index=False) + repr(sorted(gflops.items()))
            + repr([(k, format_agreement(a)) for k, a in agreement.items()]))
    return hashlib.sha256(code + text.encode()).hexdigest()


def drawn_from(png: Path) -> str | None:
    """The digest a PNG drawn here carries (None: no such file, or drawn otherwise)."""
    if not png.is_file():
        return None
    from PIL import Image

    try:
        with Image.open(png) as image:
            return image.text.get(DIGEST_KEY)
    except (OSError, ValueError):
        return None


def _draw(table: pd.DataFrame, agreement: dict[str, dict], results: dict[str, pd.DataFrame],
          chain_name: str, ours_gflops: dict[str, float], out: Path, digest: str) -> None:
    """The figure: each result set's chain (left) beside the paper's (right)."""
    from .common import place_labels, plt, save_figure  # common sets the Agg backend

    steps = chain(chain_name)
    paper_gflops = {s.name: s.paper_gflops for s in steps}
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
    save_figure(fig, out, formats=(".png",), png_text={DIGEST_KEY: digest})
