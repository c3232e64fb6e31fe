"""Figures from result tables: the roadmap (paper Figure 2 style), accuracy vs GFLOPs,
training curves. Each figure is written as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .report import summary_table  # noqa: E402
from .store import Store  # noqa: E402

PHASE_COLORS = {"baseline": "#9e9e9e", "training": "#7f7f7f", "macro design": "#8c6bb1",
                "ResNeXt-ify": "#4c72b0", "inverted bottleneck": "#55a868",
                "large kernel": "#dd8452", "micro design": "#c44e52"}


def _save(fig: plt.Figure, path: Path) -> list[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in (".png", ".svg"):
        p = path.with_suffix(ext)
        fig.savefig(p, dpi=150 if ext == ".png" else None, bbox_inches="tight")
        out.append(p)
    plt.close(fig)
    return out


def _steps_with_phase(summary: pd.DataFrame, chain_name: str) -> pd.DataFrame:
    from models.roadmap import chain

    phases = {s.name: s.phase for s in chain(chain_name, branches=True)}
    titles = {s.name: s.title for s in chain(chain_name, branches=True)}
    s = summary.copy()
    s["phase"] = s.step_name.map(phases).fillna("baseline")
    s["label"] = s.step_name.map(titles).fillna(s.step_name)
    return s


def roadmap_figure(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str) -> list[Path]:
    """One row per step: our top-1 bars (mean, min-max whiskers) beside the paper's."""
    s = _steps_with_phase(summary, chain_name).reset_index(drop=True)
    n = len(s)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 0.42 * n + 1.6), sharey=True,
                                   gridspec_kw={"wspace": 0.08})
    y = list(range(n))[::-1]
    colors = [PHASE_COLORS.get(p, "#888888") for p in s.phase]
    lo = s.top1_mean - s.top1_min
    hi = s.top1_max - s.top1_mean
    ours_min = float(s.top1_min.min())
    base = max(0.0, ours_min - 3)
    ax1.barh(y, s.top1_mean - base, left=base, color=colors, height=0.7,
             xerr=[lo.fillna(0), hi.fillna(0)], error_kw={"elinewidth": 1, "capsize": 2})
    for yi, row in zip(y, s.itertuples()):
        ax1.text(row.top1_max + 0.1 if pd.notna(row.top1_max) else base, yi,
                 f"{row.top1_mean:.2f}  ({row.gflops:.2f} GF)", va="center", fontsize=8)
    ax1.set_xlim(base, float(s.top1_max.max()) + 2.2)
    ax1.set_yticks(y)
    ax1.set_yticklabels(s.label, fontsize=9)
    seeds = int(s.seeds.max()) if len(s) else 0
    ax1.set_xlabel(f"top-1 (%), mean of {seeds} seed(s); whiskers: min-max")
    ax1.set_title(ours_label, fontsize=10)
    paper = s.dropna(subset=["paper_top1"])
    py = [y[i] for i in paper.index]
    pbase = max(0.0, float(paper.paper_top1.min()) - 2) if len(paper) else 0
    ax2.barh(py, paper.paper_top1 - pbase, left=pbase, height=0.7,
             color=[PHASE_COLORS.get(p, "#888") for p in paper.phase], alpha=0.55)
    for yi, row in zip(py, paper.itertuples()):
        ax2.text(row.paper_top1 + 0.05, yi, f"{row.paper_top1:.2f}  ({row.paper_gflops:.2f} GF)",
                 va="center", fontsize=8)
    if len(paper):
        ax2.set_xlim(pbase, float(paper.paper_top1.max()) + 2.2)
    ax2.set_xlabel("top-1 (%), ImageNet-1K, as printed")
    ax2.set_title("paper (Liu et al. 2022, Table 10/11)", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLORS.values()]
    fig.legend(handles, list(PHASE_COLORS), loc="lower center", ncol=len(PHASE_COLORS),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"Modernizing a ResNet: {chain_name}", fontsize=11)
    return _save(fig, path)


def textwrap_key(text: str, width: int = 190) -> str:
    """Wrap the step key below a figure."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def accuracy_vs_gflops(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str) -> list[Path]:
    """Top-1 against GFLOPs (paper scale), arrows along the chain; the paper's on the right."""
    s = _steps_with_phase(summary, chain_name)
    main = s[s.step_name.isin(_main_names(chain_name))].reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, ycol, err, title in ((axes[0], "top1_mean", True, ours_label),
                                 (axes[1], "paper_top1", False, "paper, ImageNet-1K")):
        d = main.dropna(subset=[ycol]).reset_index(drop=True)
        gx = d.gflops if ycol == "top1_mean" else d.paper_gflops
        for i in range(len(d) - 1):
            ax.annotate("", xy=(gx[i + 1], d[ycol][i + 1]), xytext=(gx[i], d[ycol][i]),
                        arrowprops={"arrowstyle": "->", "color": "#999999", "lw": 0.8})
        colors = [PHASE_COLORS.get(p, "#888") for p in d.phase]
        if err:
            ax.errorbar(gx, d[ycol], yerr=d.top1_std.fillna(0), fmt="none", ecolor="#444444",
                        elinewidth=1, capsize=2)
        ax.scatter(gx, d[ycol], c=colors, s=36, zorder=3)
        # Many steps share a FLOP count: label with the step index only, alternating sides
        # within each column of points (ordered by accuracy) so that labels do not collide.
        column = gx.round(1)
        for _, idx in d.groupby(column).groups.items():
            ordered = sorted(idx, key=lambda i: d[ycol][i])
            for k, i in enumerate(ordered):
                dx = 7 if k % 2 == 0 else -7
                ax.annotate(str(d.step[i]), (gx[i], d[ycol][i]), fontsize=8, weight="bold",
                            xytext=(dx, -3), textcoords="offset points",
                            ha="left" if dx > 0 else "right")
        ax.set_xlabel("GFLOPs at 224x224 (paper convention: conv + linear MACs)")
        ax.set_ylabel("top-1 (%)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    key = "   ".join(f"{r.step}: {r.label}" for r in main.itertuples())
    fig.suptitle(f"Accuracy vs GFLOPs along {chain_name}", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.text(0.5, 0.01, textwrap_key(key), ha="center", va="bottom", fontsize=7.5)
    return _save(fig, path)


def training_curves(df: pd.DataFrame, store: Store, path: Path, chain_name: str) -> list[Path]:
    """Test top-1 per epoch of every step (mean over seeds)."""
    curves = []
    for row in df[df.get("status", "ok") == "ok"].itertuples():
        h = store.history(row.config_hash)
        if not h.empty:
            h = h.assign(step=row.step, step_name=row.step_name)
            curves.append(h)
    fig, ax = plt.subplots(figsize=(8, 5))
    if curves:
        all_h = pd.concat(curves)
        cmap = plt.get_cmap("viridis")
        steps = sorted(all_h.step.unique())
        for k, step in enumerate(steps):
            h = all_h[all_h.step == step].groupby("epoch").test_top1.mean()
            name = all_h[all_h.step == step].step_name.iloc[0]
            ax.plot(h.index, h.values, marker="o", ms=3, lw=1.2,
                    color=cmap(k / max(1, len(steps) - 1)), label=f"{step} {name}")
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test top-1 (%)")
    ax.set_title(f"Training curves, {chain_name} (mean over seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _main_names(chain_name: str) -> list[str]:
    from models.roadmap import chain

    return [s.name for s in chain(chain_name)]


def all_figures(df: pd.DataFrame, out: str | Path, chain_name: str = "resnet50-to-convnext-t") -> list[Path]:
    """Draw the three figures of ``chain_name`` from the results table ``df`` into ``out``."""
    out = Path(out)
    df = df[df.study == chain_name] if "study" in df else df
    if df.empty:
        raise ValueError(f"no results for chain {chain_name!r} in {out}")
    summary = summary_table(df)
    presets = ", ".join(sorted(df.preset.unique()))
    datasets = ", ".join(sorted(df.dataset.unique()))
    label = f"ours: {datasets}, preset {presets}"
    paths = roadmap_figure(summary, out / "roadmap", chain_name, label)
    paths += accuracy_vs_gflops(summary, out / "accuracy_vs_gflops", chain_name, label)
    paths += training_curves(df, Store(out), out / "training_curves", chain_name)
    return paths


def _mean_top1(df: pd.DataFrame, study: str) -> pd.Series:
    d = df[(df.study == study) & (df.get("status", "ok") == "ok")]
    return d.groupby("step_name").top1.mean()


def order_figure(df: pd.DataFrame, path: Path, chain_name: str) -> list[Path]:
    """Does order matter? Per change: its gain in the chain, alone on ResNet, and the loss
    from removing it from the final design (each a top-1 difference in points)."""
    from models.roadmap import chain

    steps = chain(chain_name)
    in_chain = _mean_top1(df, chain_name)
    alone = _mean_top1(df, f"one-at-a-time:{chain_name}")
    removed = _mean_top1(df, f"leave-one-out:{chain_name}")
    rows = []
    for prev, s in zip(steps[1:-1], steps[2:]):
        rows.append({
            "change": s.title,
            "in chain": in_chain.get(s.name, float("nan")) - in_chain.get(prev.name, float("nan")),
            "alone (on ResNet)": alone.get(f"only-{s.name}", float("nan"))
            - alone.get(steps[1].name, float("nan")),
            "removing it (from the end)": removed.get(steps[-1].name, float("nan"))
            - removed.get(f"without-{s.name}", float("nan")),
        })
    table = pd.DataFrame(rows).set_index("change")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.round(3).to_csv(Path(path).with_suffix(".csv"))  # the numbers behind the bars
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 1.5))
    table.iloc[::-1].plot.barh(ax=ax, width=0.8, color=["#4c72b0", "#dd8452", "#55a868"])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("top-1 change (points)")
    ax.set_ylabel("")
    ax.set_title(f"Effect of each change: in the chain, alone, and removed ({chain_name})",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, path)


def sweep_figure(df: pd.DataFrame, study: str, path: Path) -> list[Path]:
    """Top-1 (mean, min-max) against the swept value, GFLOPs on a second axis."""
    s = summary_table(df[df.study == study])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = list(range(len(s)))
    ax.errorbar(x, s.top1_mean, yerr=[s.top1_mean - s.top1_min, s.top1_max - s.top1_mean],
                fmt="o-", capsize=3, color="#4c72b0", label="top-1")
    ax.set_xticks(x)
    ax.set_xticklabels([n.split("=", 1)[-1] for n in s.step_name], fontsize=8)
    ax.set_xlabel(study.split(":", 1)[-1])
    ax.set_ylabel("top-1 (%)")
    ax2 = ax.twinx()
    ax2.plot(x, s.gflops, "s--", color="#dd8452", label="GFLOPs (224 px)")
    ax2.set_ylabel("GFLOPs at 224 px")
    ax.set_title(study, fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def study_figures(df: pd.DataFrame, out: str | Path) -> list[Path]:
    """Figures of the non-chain studies present in ``df`` (order effects, sweeps)."""
    out = Path(out)
    paths: list[Path] = []
    studies = set(df.study) if "study" in df else set()
    for chain_name in {s.split(":", 1)[1] for s in studies
                       if s.startswith(("one-at-a-time:", "leave-one-out:"))}:
        paths += order_figure(df, out / f"order_effects_{chain_name}", chain_name)
    for study in sorted(s for s in studies if s.startswith("sweep:")):
        paths += sweep_figure(df, study, out / f"sweep_{study.split(':', 1)[1]}")
    return paths


def bench_figure(df: pd.DataFrame, path: Path, title: str = "") -> list[Path]:
    """Where FLOPs and speed disagree: GFLOPs vs measured images/s per step, references
    starred (left), and the arithmetic rate each step reaches, GFLOP/s (right)."""
    steps = df[(df["kind"] == "step") & (~df["plain_convs"].astype(bool))].copy()
    steps = steps.sort_values("step")
    refs = df[df["kind"] == "reference"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax.plot(steps["gflops"], steps["images_per_s"], "-", color="#bbbbbb", zorder=1)
    ax.scatter(steps["gflops"], steps["images_per_s"], color="#4c72b0", zorder=2, label="steps")
    for _, r in steps.iterrows():
        ax.annotate(str(int(r["step"])), (r["gflops"], r["images_per_s"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    for _, r in refs.iterrows():
        ax.scatter([r["gflops"]], [r["images_per_s"]], marker="*", s=160, zorder=3,
                   label=r["model"].replace("_", " "))
    ax.set_xlabel("GFLOPs (multiply-adds, one image)")
    ax.set_ylabel("images / s (median window)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    passes = 3 if (df["mode"] == "train").all() else 1
    rate = steps["images_per_s"] * steps["gflops"] * 2 * passes
    ax2.bar([str(int(s)) for s in steps["step"]], rate, color="#55a868")
    ax2.set_xlabel("step")
    ax2.set_ylabel("achieved GFLOP/s")
    if "matmul_peak_gflops" in df and df["matmul_peak_gflops"].notna().any():
        peak = float(df["matmul_peak_gflops"].iloc[0])
        ax2.axhline(peak, color="#c44e52", ls="--", lw=1)
        ax2.text(0, peak, f" matmul peak {peak:.0f}", va="bottom", fontsize=8, color="#c44e52")
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle(title or "GFLOPs vs measured throughput")
    fig.tight_layout()
    return _save(fig, Path(path))


def bench_figures(df: pd.DataFrame, out: Path, tag: str) -> list[Path]:
    """One ``bench_figure`` per setting of a bench table (files named after the setting)."""
    from .bench import SETTING_COLUMNS

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
