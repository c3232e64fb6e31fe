"""Compare result sets (presets, datasets, recipes, seeds) with each other and the paper."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from models.roadmap import chain

from .plot import save_figure
from .errors import UserError
from .report import summary_table
from .agreement import format_agreement, paper_agreement
from .store import load


def step_table(results: dict[str, pd.DataFrame], chain_name: str) -> pd.DataFrame:
    """Per main step: each set's mean top-1 and its gain over the previous step, the
    paper's top-1 and gain, and each set's difference of gains to the paper."""
    steps = chain(chain_name)
    out = pd.DataFrame({"step": [s.index for s in steps], "step_name": [s.name for s in steps],
                        "paper_top1": [s.paper_top1 for s in steps]})
    out["paper_gain"] = out.paper_top1.diff()
    for label, df in results.items():
        s = summary_table(df[df.study == chain_name]).set_index("step_name").top1_mean
        out[f"{label}_top1"] = out.step_name.map(s)
        out[f"{label}_gain"] = out[f"{label}_top1"].diff()
        out[f"{label}_gain_minus_paper"] = out[f"{label}_gain"] - out.paper_gain
    return out


def agreements(results: dict[str, pd.DataFrame], chain_name: str) -> dict[str, dict]:
    """Each set's agreement with the paper (``agreement.paper_agreement`` of its chain rows)."""
    out = {}
    for label, df in results.items():
        presets = sorted(set(df[df.study == chain_name].preset))
        if len(presets) > 1:
            raise UserError(f"compare: {label} holds chain {chain_name} at several presets "
                            f"({', '.join(presets)}); compare one preset per folder")
        out[label] = paper_agreement(df, chain_name, presets[0] if presets else "")
    return out


def compare_results(paths: dict[str, str | Path], chain_name: str, out: str | Path,
                    ) -> tuple[pd.DataFrame, dict[str, dict], list[Path]]:
    """Overlay result sets on one accuracy-vs-GFLOPs figure; write the delta table as CSV.
    Returns the table, each set's agreement with the paper, and the files written."""
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
    table.to_csv(out.with_suffix(".csv"), index=False)
    return table, agreement, [out.with_suffix(".png"), out.with_suffix(".csv")]
