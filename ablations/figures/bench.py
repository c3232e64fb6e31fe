"""Figures of ``bench``: where FLOPs and measured speed disagree."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .common import save_figure


def bench_figure(df: pd.DataFrame, path: Path, title: str = "") -> list[Path]:
    """Where FLOPs and speed disagree: GFLOPs vs measured images/s per step or named model,
    references starred (left), and the arithmetic rate each reaches, GFLOP/s (right). Steps
    of a chain are numbered and joined in order; named models are not joined."""
    from ..measure.bench import achieved_gflop_rate

    rows = df[df["kind"].isin(["step", "model"]) & (~df["plain_convs"].astype(bool))]
    rows = rows.sort_values("step")
    chain_steps = bool((rows["kind"] == "step").all())
    refs = df[df["kind"] == "reference"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    if chain_steps:
        ax.plot(rows["gflops"], rows["images_per_s"], "-", color="#bbbbbb", zorder=1)
    ax.scatter(rows["gflops"], rows["images_per_s"], color="#4c72b0", zorder=2,
               label="steps" if chain_steps else "models")
    for _, r in rows.iterrows():
        text = str(int(r["step"])) if chain_steps else str(r["step_name"])
        ax.annotate(text, (r["gflops"], r["images_per_s"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    for _, r in refs.iterrows():
        ax.scatter([r["gflops"]], [r["images_per_s"]], marker="*", s=160, zorder=1.5,
                   label=r["model"].replace("_", " "))
    ax.set_xlabel("GFLOPs (multiply-adds, one image)")
    ax.set_ylabel("images / s (median window)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    mode = "train" if (df["mode"] == "train").all() else "infer"
    rate = achieved_gflop_rate(rows["images_per_s"], rows["gflops"], mode)
    # The bars' labels name each point of the left panel (a step or a named model).
    ax2.bar(rows["model"].astype(str), rate, color="#55a868")
    ax2.tick_params(axis="x", labelrotation=60, labelsize=7)
    plt.setp(ax2.get_xticklabels(), ha="right")
    ax2.set_xlabel("step" if chain_steps else "model")
    ax2.set_ylabel("achieved GFLOP/s")
    if "matmul_peak_gflops" in df and df["matmul_peak_gflops"].notna().any():
        peak = float(df["matmul_peak_gflops"].iloc[0])
        ax2.axhline(peak, color="#c44e52", ls="--", lw=1)
        ax2.text(0, peak, f" matmul peak {peak:.0f}", va="bottom", fontsize=8, color="#c44e52")
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle(title or "GFLOPs vs measured throughput")
    fig.tight_layout()
    return save_figure(fig, path)


def bench_figures(df: pd.DataFrame, out: Path, tag: str) -> list[Path]:
    """One ``bench_figure`` per setting of a bench table (files named after the setting)."""
    from ..measure.bench_settings import SETTING_COLUMNS

    written = []
    for values, sub in df.groupby(SETTING_COLUMNS, dropna=False):
        s = dict(zip(SETTING_COLUMNS, values))
        name = (f"bench_{tag}_{s['mode']}_{s['dtype']}" + ("_compiled" if s["compile"] else "")
                + ("" if s["channels_last"] else "_channels_first"))
        title = (f"{tag}, {s['mode']}, {s['dtype']}, batch {s['batch_size']}, "
                 f"{s['resolution']} px, "
                 f"{'channels_last' if s['channels_last'] else 'channels_first'}"
                 + (", compiled" if s["compile"] else ""))
        written += bench_figure(sub, Path(out) / name, title)
    return written
