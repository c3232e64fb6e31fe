"""Cost against resolution (``cost-vs-resolution``): log-log panels per metric, fitted exponents."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..measure.resolution_costs import METRICS
from .common import save_figure


def scaling_figure(df: pd.DataFrame, fits: pd.DataFrame, path: Path,
                   title: str = "") -> list[Path]:
    """Log-log panels of GFLOPs, activation memory and latency against pixels, with the
    fitted exponent of each model in the legend."""
    labels = {"gflops": "GFLOPs (multiply-adds)",
              "activation_mb": "peak activations, counted (MB)",
              "cuda_peak_mb": "peak CUDA memory above weights (MB)",
              "latency_ms": "latency at batch 1 (ms)"}
    metrics = [m for m in METRICS if m in df and df[m].notna().any()]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 4.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for model, part in df.groupby("model", sort=False):
            p = part[["pixels", "resolution", metric]].dropna()
            if p.empty:
                continue
            fit = fits[(fits.model == model) & (fits.metric == metric)]
            k = (f" (k = {fit.exponent.iloc[0]:.2f}; {fit.exponent_largest.iloc[0]:.2f} "
                 f"at the top)" if len(fit) else "")
            ax.plot(p.pixels, p[metric], "o-", label=f"{model}{k}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("pixels per image (log)")
        ax.set_title(labels[metric], fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, title="cost ~ pixels^k", title_fontsize=8)
        ticks = sorted(df.resolution.unique())
        ax.set_xticks([t * t for t in ticks])
        ax.set_xticklabels([f"{t}²" for t in ticks], fontsize=7, rotation=45)
        ax.minorticks_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
