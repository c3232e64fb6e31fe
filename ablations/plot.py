"""Figures from result tables: the roadmap (paper Figure 2 style), accuracy vs GFLOPs,
training curves. Each figure is written as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt
import pandas as pd

from .report import summary_table
from .errors import UserError
from .stats import AGREEMENT_METHOD
from .store import Store

PHASE_COLORS = {"baseline": "#9e9e9e", "training": "#7f7f7f", "macro design": "#8c6bb1",
                "ResNeXt-ify": "#4c72b0", "inverted bottleneck": "#55a868",
                "large kernel": "#dd8452", "micro design": "#c44e52"}


def save_figure(fig: plt.Figure, path: str | Path,
                formats: tuple[str, ...] = (".png", ".svg")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (PNG at 150 dpi), close it,
    and return the paths written. The one figure writer of the toolkit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in formats:
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


VERDICT_COLORS = {"gain": "#2e7d32", "loss": "#c62828", "within noise": "#9e9e9e",
                  "too few seeds": "#bdbdbd"}


def roadmap_figure(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str,
                   stats: pd.DataFrame | None = None, footer: str = "",
                   target: dict | None = None) -> list[Path]:
    """One row per step: our top-1 bars (mean, min-max whiskers), each step's gain over the
    previous one with its 95% paired interval and verdict, and the paper's top-1.

    ``target`` (see ``target_line``) draws the chain's target Transformer across both
    panels: the paper's printed top-1, and ours trained at the same scale (with its 95%
    interval over seeds) when it has been run.
    """
    s = _steps_with_phase(summary, chain_name).reset_index(drop=True)
    n = len(s)
    fig, (ax1, axg, ax2) = plt.subplots(1, 3, figsize=(16, 0.42 * n + 1.9), sharey=True,
                                        gridspec_kw={"wspace": 0.08,
                                                     "width_ratios": [1.2, 0.9, 1.0]})
    y = list(range(n))[::-1]
    _ours_panel(ax1, s, y, ours_label, target)
    _gain_panel(axg, s, y, stats)
    _paper_panel(ax2, s, y, target)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLORS.values()]
    fig.legend(handles, list(PHASE_COLORS), loc="lower center", ncol=len(PHASE_COLORS),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"Modernizing a ResNet: {chain_name}", fontsize=11)
    if footer:
        fig.text(0.5, -0.05, footer, ha="center", va="top", fontsize=7.5, color="#555555")
    return save_figure(fig, path)


def _ours_panel(ax: plt.Axes, s: pd.DataFrame, y: list[int], label: str,
                target: dict | None) -> None:
    """Our top-1 per step: mean bars, min-max whiskers, our target Transformer's line."""
    colors = [PHASE_COLORS.get(p, "#888888") for p in s.phase]
    base = max(0.0, float(s.top1_min.min()) - 3)
    ax.barh(y, s.top1_mean - base, left=base, color=colors, height=0.7,
            xerr=[(s.top1_mean - s.top1_min).fillna(0), (s.top1_max - s.top1_mean).fillna(0)],
            error_kw={"elinewidth": 1, "capsize": 2})
    for yi, row in zip(y, s.itertuples()):
        ax.text(row.top1_max + 0.1 if pd.notna(row.top1_max) else base, yi,
                f"{row.top1_mean:.2f}  ({row.gflops:.2f} GF)", va="center", fontsize=8)
    right = float(s.top1_max.max())
    if target and target.get("ours_mean") is not None:
        _target_vline(ax, target["ours_mean"], target.get("ours_ci"),
                      f"our {target['title']}: {target['ours_mean']:.2f} "
                      f"({target['ours_seeds']} seeds)")
        right = max(right, target["ours_mean"])
    ax.set_xlim(base, right + 2.2)
    ax.set_yticks(y)
    ax.set_yticklabels(s.label, fontsize=9)
    seeds = int(s.seeds.max()) if len(s) else 0
    ax.set_xlabel(f"top-1 (%), mean of {seeds} seed(s); whiskers: min-max")
    ax.set_title(label, fontsize=10)


def _paper_panel(ax: plt.Axes, s: pd.DataFrame, y: list[int], target: dict | None) -> None:
    """The paper's printed top-1 per step, and its target Transformer's line."""
    paper = s.dropna(subset=["paper_top1"])
    py = [y[i] for i in paper.index]
    pbase = max(0.0, float(paper.paper_top1.min()) - 2) if len(paper) else 0
    ax.barh(py, paper.paper_top1 - pbase, left=pbase, height=0.7,
            color=[PHASE_COLORS.get(p, "#888") for p in paper.phase], alpha=0.55)
    for yi, row in zip(py, paper.itertuples()):
        ax.text(row.paper_top1 + 0.05, yi, f"{row.paper_top1:.2f}  ({row.paper_gflops:.2f} GF)",
                va="center", fontsize=8)
    if target:
        _target_vline(ax, target["paper_top1"], None,
                      f"{target['title']}: {target['paper_top1']:.1f} "
                      f"({target['paper_gflops']:.1f} GF)")
    if len(paper):
        top = max(float(paper.paper_top1.max()), target["paper_top1"] if target else 0)
        ax.set_xlim(pbase, top + 2.2)
    ax.set_xlabel("top-1 (%), ImageNet-1K, as printed")
    ax.set_title("paper (Liu et al. 2022, Table 10/11)", fontsize=10)


TARGET_COLOR = "#d62728"


def _target_vline(ax: plt.Axes, x: float, ci: tuple[float, float] | None, label: str) -> None:
    if ci is not None:
        ax.axvspan(ci[0], ci[1], color=TARGET_COLOR, alpha=0.12, lw=0)
    ax.axvline(x, color=TARGET_COLOR, ls="--", lw=1.2)
    ax.text(x, 0.995, " " + label, transform=ax.get_xaxis_transform(), color=TARGET_COLOR,
            fontsize=8, ha="left", va="top",
            bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1})


def target_line(df: pd.DataFrame, chain_name: str, preset: str) -> dict | None:
    """The chain's target Transformer (the paper's Figure 2 line): its printed numbers and,
    if the transformers study has runs of it at ``preset``, our mean top-1, its 95% t
    interval over seeds and its paper-scale GFLOPs."""
    from models.roadmap import get_chain

    from .stats import t_half_width

    ref = get_chain(chain_name).target
    if ref is None:
        return None
    out = {"title": ref.title, "paper_top1": ref.paper_top1, "paper_gflops": ref.paper_gflops,
           "ours_mean": None, "ours_ci": None, "ours_seeds": 0, "ours_gflops": None}
    if "study" not in df:
        return out
    rows = df[(df.study == f"transformers:{chain_name}") & (df.step_name == ref.model)
              & (df.preset == preset) & (df.get("status", "ok") == "ok")]
    if rows.empty:
        return out
    top1 = rows.top1.astype(float)
    n, mean = len(top1), float(top1.mean())
    half = t_half_width(top1) if n > 1 else 0.0
    out.update(ours_mean=mean, ours_ci=(mean - half, mean + half) if n > 1 else None,
               ours_seeds=n, ours_gflops=float(rows.gflops.iloc[0]))
    return out


def _gain_panel(ax: plt.Axes, s: pd.DataFrame, y: list[int], stats: pd.DataFrame | None) -> None:
    """Each step minus the previous one: mean over paired seeds, 95% paired-t interval,
    coloured by verdict; the grey band is +-the minimum detectable effect."""
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("gain over the previous step (points)\n95% paired-t interval; band: +-MDE")
    ax.set_title("step gain and verdict", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    if stats is None or stats.empty:
        return
    by_name = stats.set_index("step_name")
    mde = float(stats.mde.dropna().median()) if stats.mde.notna().any() else float("nan")
    if mde == mde:
        ax.axvspan(-mde, mde, color="#eeeeee", zorder=0)
    for yi, name in zip(y, s.step_name):
        if name not in by_name.index:
            continue
        r = by_name.loc[name]
        color = VERDICT_COLORS.get(r.verdict, "#888888")
        lo, hi = r.t_lo, r.t_hi
        if lo == lo:
            ax.plot([lo, hi], [yi, yi], color=color, lw=2, solid_capstyle="butt")
        ax.plot([r.delta], [yi], "o", color=color, ms=5)
        edge = max(hi if hi == hi else r.delta, r.delta)
        ax.text(edge + 0.1, yi, f"{r.delta:+.2f} {r.verdict}", va="center", fontsize=7.5,
                color=color)
    lo = min(float(stats.t_lo.min(skipna=True)), float(stats.delta.min()), -0.5)
    hi = max(float(stats.t_hi.max(skipna=True)), float(stats.delta.max()), 0.5)
    if lo == lo and hi == hi:
        ax.set_xlim(lo - 0.3, hi + 0.5 * (hi - lo) + 0.5)


def gain_vs_paper_figure(stats: pd.DataFrame, agreement: dict, path: Path,
                         chain_name: str, ours_label: str) -> list[Path]:
    """Our step gains (95% paired intervals, coloured by verdict) against the paper's."""
    d = stats.dropna(subset=["paper_delta"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    if len(d):
        colors = [VERDICT_COLORS.get(v, "#888") for v in d.verdict]
        yerr = [(d.delta - d.t_lo).fillna(0).clip(lower=0), (d.t_hi - d.delta).fillna(0).clip(lower=0)]
        ax.errorbar(d.paper_delta, d.delta, yerr=yerr, fmt="none", ecolor="#777777",
                    elinewidth=1, capsize=2, zorder=2)
        ax.scatter(d.paper_delta, d.delta, c=colors, s=40, zorder=3)
        placed: list[tuple[float, float]] = []
        for r in d.itertuples():  # a label next to a labelled point goes to the other side
            near = any(abs(r.paper_delta - x) < 0.2 and abs(r.delta - y) < 0.2 for x, y in placed)
            ax.annotate(str(r.step), (r.paper_delta, r.delta), xytext=(-6 if near else 5, 3),
                        textcoords="offset points", fontsize=8, weight="bold",
                        ha="right" if near else "left")
            placed.append((r.paper_delta, r.delta))
        lim = float(max(d.paper_delta.abs().max(), d.t_hi.abs().max(skipna=True),
                        d.t_lo.abs().max(skipna=True), d.delta.abs().max())) * 1.1 + 0.2
        ax.plot([-lim, lim], [-lim, lim], ls="--", color="#999999", lw=0.8, label="y = x")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(0, color="black", lw=0.6)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v)
               for v, c in VERDICT_COLORS.items() if v in set(d.verdict)]
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    ax.set_xlabel("paper's step gain (ImageNet-1K top-1 points)")
    ax.set_ylabel(f"our step gain (points), {ours_label}")
    a = agreement
    interval = ("" if pd.isna(a.get("spearman_lo"))
                else f" [{a['spearman_lo']:+.2f}, {a['spearman_hi']:+.2f}] (95%, {AGREEMENT_METHOD})")
    summary = (f"Spearman {a['spearman']:+.2f}{interval}, signs agree {a['signs_agree']}/"
               f"{a['steps']} steps, {a['seeds']} seed(s)" if a.get("seeds") else
               "too few steps or seeds for a rank correlation")
    ax.set_title(f"Step gains vs the paper's ({chain_name})\n{summary}", fontsize=10)
    ax.grid(alpha=0.3)
    key = "   ".join(f"{r.step}: {r.step_name}" for r in d.itertuples())
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.text(0.5, 0.01, textwrap_key(key, 120), ha="center", va="bottom", fontsize=7)
    return save_figure(fig, path)


def textwrap_key(text: str, width: int = 190) -> str:
    """Wrap the step key below a figure."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def accuracy_vs_gflops(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str,
                       target: dict | None = None) -> list[Path]:
    """Top-1 against GFLOPs (paper scale), arrows along the chain; the paper's on the right;
    the target Transformer (``target_line``) as a star and a horizontal line in each."""
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
        _target_point(ax, target, ours=ycol == "top1_mean")
        ax.set_xlabel("GFLOPs at 224x224 (paper convention: conv + linear + attention MACs)")
        ax.set_ylabel("top-1 (%)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    key = "   ".join(f"{r.step}: {r.label}" for r in main.itertuples())
    fig.suptitle(f"Accuracy vs GFLOPs along {chain_name}", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.text(0.5, 0.01, textwrap_key(key), ha="center", va="bottom", fontsize=7.5)
    return save_figure(fig, path)


def _target_point(ax: plt.Axes, target: dict | None, ours: bool) -> None:
    if not target:
        return
    y = target["ours_mean"] if ours else target["paper_top1"]
    x = target["ours_gflops"] if ours else target["paper_gflops"]
    if y is None:
        return
    if ours and target["ours_ci"]:
        ax.axhspan(*target["ours_ci"], color=TARGET_COLOR, alpha=0.12, lw=0)
    ax.axhline(y, color=TARGET_COLOR, ls="--", lw=1)
    ax.scatter([x], [y], marker="*", s=160, color=TARGET_COLOR, zorder=4)
    who = f"our {target['title']} ({target['ours_seeds']} seeds)" if ours else target["title"]
    ax.annotate(f"{who}: {y:.2f}", (x, y), xytext=(8, 6), textcoords="offset points",
                color=TARGET_COLOR, fontsize=8)


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
    return save_figure(fig, path)


def _main_names(chain_name: str) -> list[str]:
    from models.roadmap import chain

    return [s.name for s in chain(chain_name)]


def all_figures(df: pd.DataFrame, out: str | Path, chain_name: str = "resnet50-to-convnext-t") -> list[Path]:
    """Draw the three figures of ``chain_name`` from the results table ``df`` into ``out``."""
    out = Path(out)
    everything = df
    df = df[df.study == chain_name] if "study" in df else df
    if df.empty:
        raise UserError(f"no results for chain {chain_name!r} in {out}")
    from .stats import paper_agreement, provenance_line, study_stats

    summary = summary_table(df)
    presets = ", ".join(sorted(df.preset.unique()))
    datasets = ", ".join(sorted(df.dataset.unique()))
    label = f"ours: {datasets}, preset {presets}"
    preset = sorted(df.preset.unique())[0]
    stats = study_stats(df, chain_name, preset, Store(out))
    target = target_line(everything, chain_name, preset)
    paths = roadmap_figure(summary, out / "roadmap", chain_name, label, stats,
                           provenance_line(df), target)
    paths += gain_vs_paper_figure(stats, paper_agreement(df, chain_name, preset),
                                  out / "gain_vs_paper", chain_name, label)
    paths += accuracy_vs_gflops(summary, out / "accuracy_vs_gflops", chain_name, label, target)
    paths += training_curves(df, Store(out), out / "training_curves", chain_name)
    return paths


def across_contexts(verdicts: list[str]) -> str:
    """One word for a change's verdicts in its contexts (in the chain, alone, removed):
    ``same gain`` / ``same loss`` (that verdict wherever measured), ``opposite`` (a gain in
    one, a loss in another), ``noise everywhere``, ``depends`` (real in some, within noise in
    others), or ``not measured``."""
    seen = [v for v in verdicts if v in ("gain", "loss", "within noise")]
    if not seen:
        return "not measured"
    if "gain" in seen and "loss" in seen:
        return "opposite"
    if all(v == seen[0] for v in seen):
        return "noise everywhere" if seen[0] == "within noise" else f"same {seen[0]}"
    return "depends"


def order_figure(df: pd.DataFrame, path: Path, chain_name: str,
                 store: Store | None = None) -> list[Path]:
    """Does order matter? Per change: its gain in the chain, alone on ResNet, and what
    removing it from the final design costs (top-1 differences in points, with 95% paired-t
    intervals over seeds)."""
    from models.roadmap import chain

    from .stats import study_stats

    steps = chain(chain_name)
    preset = sorted(df.preset.unique())[0]

    def by_name(study: str) -> pd.DataFrame:
        t = study_stats(df, study, preset, store)
        return t.set_index("step_name") if not t.empty else t

    sources = {"in chain": (by_name(chain_name), ""),
               "alone (on ResNet)": (by_name(f"one-at-a-time:{chain_name}"), "only-"),
               "removing it (from the end)": (by_name(f"leave-one-out:{chain_name}"), "without-")}
    rows, errs = [], []
    for s in steps[2:]:
        row, err = {"change": s.title}, {"change": s.title}
        for col, (t, prefix) in sources.items():
            name = prefix + s.name
            ok = not t.empty and name in t.index
            row[col] = float(t.loc[name, "delta"]) if ok else float("nan")
            row[col + " lo"] = float(t.loc[name, "t_lo"]) if ok else float("nan")
            row[col + " hi"] = float(t.loc[name, "t_hi"]) if ok else float("nan")
            row[col + " verdict"] = t.loc[name, "verdict"] if ok else ""
            err[col] = (row[col] - row[col + " lo"], row[col + " hi"] - row[col])
        rows.append(row)
        errs.append(err)
    table = pd.DataFrame(rows).set_index("change")
    table["across contexts"] = [across_contexts([r[c + " verdict"] for c in sources])
                                for r in rows]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.round(3).to_csv(Path(path).with_suffix(".csv"))  # the numbers behind the bars
    cols = [c for c in sources if table[c].notna().any()]  # no legend entry without bars
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(table) + 1.5))
    bars = table[cols].iloc[::-1]
    xerr = [[[e[c][0] for e in errs][::-1], [e[c][1] for e in errs][::-1]] for c in cols]
    xerr = [[[0 if pd.isna(v) else v for v in side] for side in c] for c in xerr]
    bars.plot.barh(ax=ax, width=0.8, color=["#4c72b0", "#dd8452", "#55a868"], xerr=xerr,
                   error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"})
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("top-1 change (points); whiskers: 95% paired-t interval over seeds")
    ax.set_ylabel("")
    ax.set_title(f"Effect of each change: in the chain, alone, and removed ({chain_name})",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    ax.grid(alpha=0.3, axis="x")
    return save_figure(fig, path)


def scale_figure(df: pd.DataFrame, path: Path, chain_name: str,
                 store: Store | None = None) -> list[Path]:
    """The scale study: per axis, the gap ConvNeXt-T minus ResNet-50 (modern recipe) with
    its 95% paired-t interval per cell, and where it crosses zero; the numbers beside it as
    a CSV of the same name."""
    from . import scale
    from .stats import study_stats

    study = f"scale:{chain_name}"
    rows = df[df.study == study]
    base = scale.base_of(list(rows.preset.unique()))
    parts = [study_stats(df, study, p, store) for p in sorted(rows.preset.unique())]
    stats = pd.concat([p for p in parts if not p.empty], ignore_index=True) if parts else None
    if stats is None or stats.empty:
        return []
    gaps = scale.gap_table(stats, rows, chain_name, base)
    if gaps.empty:
        return []
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    gaps.round(3).to_csv(Path(path).with_suffix(".csv"), index=False)
    axes_names = list(dict.fromkeys(gaps.axis))
    fig, axes = plt.subplots(1, len(axes_names), figsize=(max(6.5, 3.6 * len(axes_names)), 4.2),
                             sharey=True, squeeze=False)
    units = {"train_images": "training images", "epochs": "epochs",
             "width": "width multiplier", "resolution": "resolution (px)"}
    for ax, axis in zip(axes[0], axes_names):
        g = gaps[gaps.axis == axis].sort_values("value")
        ax.errorbar(g.value, g.gap, yerr=[g.gap - g.lo, g.hi - g.gap], fmt="o-", capsize=3,
                    color="#4c72b0")
        for r in g.itertuples():
            ax.annotate(f"{r.gap:+.2f}\n(n={r.seeds})", (r.value, r.hi), fontsize=7,
                        ha="center", va="bottom", xytext=(0, 3), textcoords="offset points")
        ax.axhline(0, color="black", lw=0.8)
        cross = scale.crossing(g)
        if cross is not None:  # of the mean gaps; the intervals say whether it is real
            ax.axvline(cross, color="#c44e52", ls="--", lw=1)
            where = f"{cross:,.0f}" if cross >= 100 else f"{cross:.3g}"
            ax.text(cross, ax.get_ylim()[0], f" mean gap crosses 0 near {where}",
                    color="#c44e52", fontsize=7, va="bottom")
        ax.margins(x=0.12, y=0.15)
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(g.value))
        ax.set_xticklabels([f"{v:g}" for v in g.value], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel(units.get(axis, axis))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("top-1 gap, ConvNeXt-T - ResNet-50 (points)")
    fig.suptitle(f"Where does ConvNeXt-T overtake ResNet-50 (both modern recipe)?\n"
                 f"One axis at a time from the {base.name} preset; 95% paired-t intervals "
                 f"over seeds", fontsize=9)
    return save_figure(fig, path)


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
    return save_figure(fig, path)


def study_figures(df: pd.DataFrame, out: str | Path) -> list[Path]:
    """Figures of the non-chain studies present in ``df`` (order effects, sweeps)."""
    out = Path(out)
    paths: list[Path] = []
    studies = set(df.study) if "study" in df else set()
    for chain_name in {s.split(":", 1)[1] for s in studies
                       if s.startswith(("one-at-a-time:", "leave-one-out:"))}:
        paths += order_figure(df, out / f"order_effects_{chain_name}", chain_name, Store(out))
    for study in sorted(s for s in studies if s.startswith("scale:")):
        paths += scale_figure(df, out / f"scale_{study.split(':', 1)[1]}", study.split(":", 1)[1],
                              Store(out))
    for study in sorted(s for s in studies if s.startswith("sweep:")):
        paths += sweep_figure(df, study, out / f"sweep_{study.split(':', 1)[1]}")
    return paths


def bench_figure(df: pd.DataFrame, path: Path, title: str = "") -> list[Path]:
    """Where FLOPs and speed disagree: GFLOPs vs measured images/s per step or named model,
    references starred (left), and the arithmetic rate each reaches, GFLOP/s (right). Steps
    of a chain are numbered and joined in order; named models are not joined."""
    from .bench import achieved_gflop_rate

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
