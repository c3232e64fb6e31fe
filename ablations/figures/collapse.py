"""The feature-collapse figure (ConvNeXt V2, Figure 4): cosine distance per block."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .common import save_figure


def collapse_figure(df: pd.DataFrame, path: Path, title: str = "",
                    normalised: bool = False) -> list[Path]:
    """Feature cosine distance per block (mean over seeds, min-max band), one line per
    model, as the V2 paper's Figure 4; dead-channel share beside it. ``normalised``: the
    x-axis is the normalised layer index (block / blocks), as the paper draws it."""
    fig, (ax, axd) = plt.subplots(1, 2, figsize=(12, 4.4))
    df = df.copy()
    if normalised:
        df["block"] = df.block / df.block.max()
    for label, part in df.groupby("model", sort=False):
        g = part.groupby("block")
        seeds = part.seed.nunique()
        for axis, col in ((ax, "cosine_distance"), (axd, "dead_share")):
            mean = g[col].mean()
            axis.plot(mean.index, mean.values, "o-", ms=3, label=f"{label} ({seeds} seeds)")
            axis.fill_between(mean.index, g[col].min(), g[col].max(), alpha=0.2)
    ax.set_ylabel("feature cosine distance\n(mean over channel pairs; higher = more diverse)",
                  fontsize=9)
    axd.set_ylabel("share of dead hidden channels\n(RMS < 1% of the layer's largest)",
                   fontsize=9)
    blocks = df.drop_duplicates("block").sort_values("block")
    starts = blocks[blocks.channels != blocks.channels.shift()].block.tolist()[1:]
    step = float(blocks.block.diff().min()) if len(blocks) > 1 else 1.0
    for axis in (ax, axd):
        for b in starts:  # a new stage (wider hidden layer) starts here
            axis.axvline(b - step / 2, color="#999999", lw=0.8, ls=":")
        if not normalised:
            axis.set_xticks(blocks.block.tolist())
        axis.tick_params(axis="x", labelsize=7)
        axis.set_xlabel(("normalised layer index" if normalised else "block")
                        + " (input -> output; dotted: stage boundaries)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, title="band: min-max over seeds", title_fontsize=7)
    fig.suptitle(title or "Feature collapse per block (hidden activations, test images)",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
