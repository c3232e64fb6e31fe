"""Figures of ``bench``: where FLOPs and measured speed disagree."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd

from .common import place_labels, save_figure


def bench_figure(df: pd.DataFrame, path: Path, title: str = "") -> list[Path]:
    """Where FLOPs and speed disagree: GFLOPs vs measured images/s per step or named model,
    references starred (left), and the arithmetic rate each reaches, GFLOP/s (right). Steps
    of a chain are numbered and joined in order; named models are not joined."""
    from ..measure.bench import achieved_gflop_rate

    rows = df[df["kind"].isin(["step", "model"]) & (~df["plain_convs"].astype(bool))]
    rows = rows.sort_values("step")
    chain_steps = bool((rows["kind"] == "step").all())
    refs = df[df["kind"] == "reference"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, max(4.6, 0.22 * len(rows) + 1.6)),
                                  gridspec_kw={"width_ratios": [1.25, 1]})
    steps = rows["step"].astype(int).tolist()
    if chain_steps and len(steps) > 2 and steps == list(range(steps[0], steps[0] + len(steps))):
        # consecutive steps of a chain are a path; two steps far apart are not
        ax.plot(rows["gflops"], rows["images_per_s"], "-", color="#bbbbbb", zorder=1)
    ax.scatter(rows["gflops"], rows["images_per_s"], color="#4c72b0", zorder=2,
               label="steps" if chain_steps else "models")
    names = [str(int(r["step"])) if chain_steps else str(r["step_name"])
             for _, r in rows.iterrows()]
    for _, r in refs.iterrows():
        ax.scatter([r["gflops"]], [r["images_per_s"]], marker="*", s=160, zorder=1.5,
                   label=r["model"].replace("_", " "))
    ax.set_xlabel("GFLOPs (multiply-adds, one image)")
    ax.set_ylabel("images / s (median window)")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(prune="upper"))
    mode = "train" if (df["mode"] == "train").all() else "infer"
    rate = achieved_gflop_rate(rows["images_per_s"], rows["gflops"], mode)
    # One row per point of the left panel (a step, numbered as there, or a named model).
    ax2.barh(list(range(len(rows)))[::-1], rate, color="#55a868")
    ax2.set_yticks(list(range(len(rows)))[::-1])
    ax2.set_yticklabels(rows["model"].astype(str) if chain_steps else names, fontsize=7)
    ax2.set_xlabel("achieved GFLOP/s")
    ax2.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter(sep=""))
    ax2.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
    peak = (float(df["matmul_peak_gflops"].iloc[0]) if "matmul_peak_gflops" in df
            and df["matmul_peak_gflops"].notna().any() else 0.0)
    if peak > 0:  # a peak of 0 means it was not measured: no line
        ax2.axvline(peak, color="#c44e52", ls="--", lw=1)
        ax2.text(peak, 1.0, f"matmul peak {peak:.0f} ", ha="right", va="bottom", fontsize=8,
                 color="#c44e52", transform=ax2.get_xaxis_transform())
    ax2.grid(alpha=0.3, axis="x")
    fig.suptitle(title or "GFLOPs vs measured throughput")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    place_labels(ax, list(rows["gflops"]), list(rows["images_per_s"]), names, fontsize=8)
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
