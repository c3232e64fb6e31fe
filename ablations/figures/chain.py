"""Figures from result tables: the roadmap (paper Figure 2 style), accuracy vs GFLOPs,
training curves. Each figure is written as PNG and SVG."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt
import pandas as pd

from models.roadmap import DEFAULT_CHAIN, chain

from ..analysis.summary import summary_table
from .common import place_labels, save_figure
from ..analysis.paper import paper_by_design
from ..errors import UserError
from ..analysis.agreement import format_agreement
from ..run.store import Store
from ..studies.names import study_id

PHASE_COLORS = {"baseline": "#9e9e9e", "training": "#7f7f7f", "macro design": "#8c6bb1",
                "ResNeXt-ify": "#4c72b0", "inverted bottleneck": "#55a868",
                "large kernel": "#dd8452", "micro design": "#c44e52"}


def _steps_with_phase(summary: pd.DataFrame, chain_name: str) -> pd.DataFrame:
    phases = {s.name: s.phase for s in chain(chain_name, branches=True)}
    titles = {s.name: s.title for s in chain(chain_name, branches=True)}
    s = summary.copy()
    s["phase"] = s.step_name.map(phases).fillna("baseline")
    s["label"] = s.step_name.map(titles).fillna(s.step_name)
    s["chain"] = chain_name
    return s


VERDICT_COLORS = {"gain": "#2e7d32", "loss": "#c62828", "within noise": "#9e9e9e",
                  "too few seeds": "#bdbdbd"}


def roadmap_figure(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str,
                   stats: pd.DataFrame | None = None, footer: str = "",
                   target: Target | None = None) -> list[Path]:
    """One row per step: our top-1 bars (means over seeds), each step's gain over the previous
    one with the verdict's interval and verdict (the claims table), and the paper's top-1
    paired by design (its last row beside our ConvNeXt-T, the sub-steps it folds marked).

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
                target: Target | None) -> None:
    """Our top-1 per step: mean bars (no whiskers: a step's interval is its change's, in the
    middle panel), our target Transformer's line."""
    colors = [PHASE_COLORS.get(p, "#888888") for p in s.phase]
    base = max(0.0, float(s.top1_min.min()) - 3)
    ax.barh(y, s.top1_mean - base, left=base, color=colors, height=0.7)
    for yi, row in zip(y, s.itertuples()):
        ax.text(row.top1_mean + 0.1 if pd.notna(row.top1_mean) else base, yi,
                f"{row.top1_mean:.2f}  ({row.gflops:.2f} GF)", va="center", fontsize=8)
    right = float(s.top1_mean.max())
    if target and target.ours_mean is not None:
        _target_vline(ax, target.ours_mean, target.ours_ci,
                      f"our {target.title}: {target.ours_mean:.2f} "
                      f"({target.ours_seeds} seeds)")
        right = max(right, target.ours_mean)
    ax.set_xlim(base, right + 2.2)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(prune="upper"))
    ax.set_yticks(y)
    ax.set_yticklabels(s.label, fontsize=9)
    seeds = int(s.seeds.max()) if len(s) else 0
    ax.set_xlabel(f"top-1 (%), mean of {seeds} seed(s)")
    ax.set_title(label, fontsize=10)


def _paper_panel(ax: plt.Axes, s: pd.DataFrame, y: list[int], target: Target | None) -> None:
    """The paper's printed top-1 per step, and its target Transformer's line."""
    paper = s.dropna(subset=["paper_top1"])
    py = [y[i] for i in paper.index]
    pbase = max(0.0, float(paper.paper_top1.min()) - 2) if len(paper) else 0
    ax.barh(py, paper.paper_top1 - pbase, left=pbase, height=0.7,
            color=[PHASE_COLORS.get(p, "#888") for p in paper.phase], alpha=0.55)
    for yi, row in zip(py, paper.itertuples()):
        ax.text(row.paper_top1 + 0.05, yi, f"{row.paper_top1:.2f}  ({row.paper_gflops:.2f} GF)",
                va="center", fontsize=8)
    _, folded = paper_by_design(s.chain.iat[0]) if "chain" in s and len(s) else ({}, {})
    titles = dict(zip(s.step_name, s.label))
    for yi, row in zip(y, s.itertuples()):
        if row.step_name in folded:
            ax.text(pbase + 0.05, yi, f"in {titles.get(folded[row.step_name], '').split(' (')[0]}"
                    " (the paper's one row)", va="center", fontsize=8, color="#777777")
    if target:
        _target_vline(ax, target.paper_top1, None,
                      f"{target.title}: {target.paper_top1:.1f} "
                      f"({target.paper_gflops:.1f} GF)")
    if len(paper):
        top = max(float(paper.paper_top1.max()), target.paper_top1 if target else 0)
        ax.set_xlim(pbase, top + 4.0)  # room for the value labels inside the frame
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


@dataclass(frozen=True)
class Target:
    """The chain's target Transformer (the paper's Figure 2 line): its printed numbers and,
    where the transformers study trained it, ours (mean top-1, 95% t interval over seeds,
    GFLOPs at our scale)."""

    title: str
    paper_top1: float
    paper_gflops: float
    ours_mean: float | None = None
    ours_ci: tuple[float, float] | None = None
    ours_seeds: int = 0
    ours_gflops: float | None = None


def target_line(df: pd.DataFrame, chain_name: str, preset: str) -> Target | None:
    """The ``Target`` of ``chain_name`` (None if it has none), with our numbers where the
    transformers study has runs of it at ``preset``."""
    from models.roadmap import get_chain

    from ..analysis.stats import t_half_width

    ref = get_chain(chain_name).target
    if ref is None:
        return None
    paper = Target(ref.title, ref.paper_top1, ref.paper_gflops)
    if "study" not in df:
        return paper
    rows = df[(df.study == study_id("transformers", chain_name)) & (df.step_name == ref.model)
              & (df.preset == preset) & (df.get("status", "ok") == "ok")]
    if rows.empty:
        return paper
    top1 = rows.top1.astype(float)
    n, mean = len(top1), float(top1.mean())
    half = t_half_width(top1) if n > 1 else 0.0
    return replace(paper, ours_mean=mean, ours_ci=(mean - half, mean + half) if n > 1 else None,
                   ours_seeds=n, ours_gflops=float(rows.gflops.iloc[0]))


def _gain_panel(ax: plt.Axes, s: pd.DataFrame, y: list[int], stats: pd.DataFrame | None) -> None:
    """Each step minus the previous one: mean over paired seeds, the verdict's interval,
    coloured by verdict; the grey band is +-the minimum detectable effect."""
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("gain over the previous step (points)\nthe verdict's interval; band: +-MDE")
    ax.set_title("step gain and verdict", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    if stats is None or stats.empty:
        return
    by_name = stats.set_index("step_name")
    mde = float(stats.mde.dropna().median()) if stats.mde.notna().any() else float("nan")
    if not math.isnan(mde):
        ax.axvspan(-mde, mde, color="#eeeeee", zorder=0)
    for yi, name in zip(y, s.step_name):
        if name not in by_name.index:
            continue
        r = by_name.loc[name]
        color = VERDICT_COLORS.get(r.verdict, "#888888")
        lo, hi = r.lo, r.hi
        if not math.isnan(lo):
            ax.plot([lo, hi], [yi, yi], color=color, lw=2, solid_capstyle="butt")
        ax.plot([r.delta], [yi], "o", color=color, ms=5)
        edge = r.delta if math.isnan(hi) else max(hi, r.delta)
        ax.text(edge + 0.1, yi, f"{r.delta:+.2f} {r.verdict}", va="center", fontsize=7.5,
                color=color)
    lo = min(float(stats.lo.min(skipna=True)), float(stats.delta.min()), -0.5)
    hi = max(float(stats.hi.max(skipna=True)), float(stats.delta.max()), 0.5)
    if not (math.isnan(lo) or math.isnan(hi)):
        ax.set_xlim(lo - 0.3, hi + 0.5 * (hi - lo) + 0.5)


def gain_vs_paper_figure(stats: pd.DataFrame, agreement: dict, path: Path,
                         chain_name: str, ours_label: str) -> list[Path]:
    """Per step the paper has (rows of the claims table with ``paper_delta``: the chain's
    steps and the paper's last row paired by design), our gain with the verdict's interval
    coloured by the verdict, beside the paper's gain scaled to our error (hollow diamond);
    the verdict against the paper at the right. One row per step: no points pile up."""
    from ..analysis.stats import RULE

    d = stats.dropna(subset=["paper_delta"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 0.34 * max(len(d), 3) + 2.2))
    y = list(range(len(d)))[::-1]
    for yi, r in zip(y, d.itertuples()):
        color = VERDICT_COLORS.get(r.verdict, "#888888")
        if not math.isnan(r.lo):
            ax.plot([r.lo, r.hi], [yi, yi], color=color, lw=2.2, solid_capstyle="butt")
        ax.plot([r.delta], [yi], "o", color=color, ms=5, zorder=3)
        ax.plot([r.paper_scaled], [yi], "D", mfc="white", mec="black", ms=5, zorder=4)
        ax.text(1.01, yi, f"{r.vs_paper}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=7.5, color="#333333")
    titles = {s.name: s.title for s in chain(chain_name)}
    labels = [(f"{titles.get(r.treatment, r.treatment).split(' (')[0]} vs "
               f"{titles.get(r.control, r.control)} (the paper's last row)"
               if r.kind == "paper step" else titles.get(r.treatment, r.treatment))
              for r in d.itertuples()] if "kind" in d else list(d.treatment)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    handles = [plt.Line2D([], [], marker="o", ls="-", color=c, label=f"ours: {v}")
               for v, c in VERDICT_COLORS.items() if v in set(d.verdict)]
    handles.append(plt.Line2D([], [], marker="D", ls="", mfc="white", mec="black",
                              label="paper's gain, scaled to our error"))
    ax.legend(handles=handles, fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=2, frameon=False)
    ax.set_xlabel(f"gain over the previous step (top-1 points), {ours_label}", fontsize=8.5)
    ax.set_title(f"Each step's gain against the paper's ({chain_name})\n"
                 f"{format_agreement(agreement)}", fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    fig.text(0.01, 0.005, textwrap_key("Bars: the verdict's interval. " + RULE + " Right: the "
                                       "verdict against the paper.", 130), fontsize=6.5,
             va="bottom")
    fig.tight_layout(rect=(0, 0.05, 0.88, 1))
    return save_figure(fig, path)


def textwrap_key(text: str, width: int = 190) -> str:
    """Wrap the step key below a figure."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def accuracy_vs_gflops(summary: pd.DataFrame, path: Path, chain_name: str, ours_label: str,
                       target: Target | None = None) -> list[Path]:
    """Top-1 against GFLOPs (paper scale), arrows along the chain; the paper's on the right;
    the target Transformer (``target_line``) as a star and a horizontal line in each."""
    s = _steps_with_phase(summary, chain_name)
    main = s[s.step_name.isin([m.name for m in chain(chain_name)])].reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(13, 7))
    labels = []
    for ax, ycol, err, title in ((axes[0], "top1_mean", True, ours_label),
                                 (axes[1], "paper_top1", False, "paper, ImageNet-1K")):
        d = main.dropna(subset=[ycol]).reset_index(drop=True)
        gx = d.gflops if ycol == "top1_mean" else d.paper_gflops
        for i in range(len(d) - 1):
            ax.annotate("", xy=(gx[i + 1], d[ycol][i + 1]), xytext=(gx[i], d[ycol][i]),
                        arrowprops={"arrowstyle": "->", "color": "#999999", "lw": 0.8})
        colors = [PHASE_COLORS.get(p, "#888") for p in d.phase]
        ax.scatter(gx, d[ycol], c=colors, s=36, zorder=3)
        labels.append((ax, list(gx), list(d[ycol]), [str(v) for v in d.step]))
        _target_point(ax, target, ours=ycol == "top1_mean")
        ax.set_xlabel("GFLOPs at 224x224 (paper convention: conv + linear + attention MACs)")
        ax.set_ylabel("top-1 (%)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    key = "   ".join(f"{r.step}: {r.label}" for r in main.itertuples())
    fig.suptitle(f"Accuracy vs GFLOPs along {chain_name}: means over seeds (each step's "
                 f"change and its interval: gain_vs_paper, roadmap)", fontsize=11)
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    fig.text(0.5, 0.01, textwrap_key(key, 170), ha="center", va="bottom", fontsize=7.5)
    for ax, xs, ys, texts in labels:  # once the layout is final: no label on another
        place_labels(ax, xs, ys, texts, fontsize=8, weight="bold")
    return save_figure(fig, path)


def _target_point(ax: plt.Axes, target: Target | None, ours: bool) -> None:
    if not target:
        return
    y = target.ours_mean if ours else target.paper_top1
    x = target.ours_gflops if ours else target.paper_gflops
    if y is None:
        return
    if ours and target.ours_ci:
        ax.axhspan(*target.ours_ci, color=TARGET_COLOR, alpha=0.12, lw=0)
    ax.axhline(y, color=TARGET_COLOR, ls="--", lw=1)
    ax.scatter([x], [y], marker="*", s=160, color=TARGET_COLOR, zorder=4)
    who = f"our {target.title} ({target.ours_seeds} seeds)" if ours else target.title
    ax.annotate(f"{who}: {y:.2f}", (x, y), xytext=(8, 6), textcoords="offset points",
                color=TARGET_COLOR, fontsize=8)


def training_curves(df: pd.DataFrame, store: Store, path: Path, chain_name: str) -> list[Path]:
    """Test top-1 per epoch of every step (mean over seeds), one panel per phase of the
    chain so that few lines share a panel; each panel repeats the step before its phase in
    grey, the curve its steps change."""
    curves = []
    for row in df[df.get("status", "ok") == "ok"].itertuples():
        h = store.history(row.config_hash)
        if not h.empty:
            curves.append(h.assign(step=row.step, step_name=row.step_name))
    phases = {st.name: st.phase for st in chain(chain_name, branches=True)}
    if not curves:
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.set_title(f"Training curves, {chain_name}: no histories", fontsize=10)
        return save_figure(fig, path)
    all_h = pd.concat(curves)
    steps = sorted(all_h.step.unique())
    names = {st: all_h[all_h.step == st].step_name.iloc[0] for st in steps}
    groups: list[tuple[str, list]] = []
    for st in steps:
        phase = phases.get(names[st], "baseline")
        phase = "training" if phase == "baseline" else phase
        if not groups or groups[-1][0] != phase:
            groups.append((phase, []))
        groups[-1][1].append(st)
    cols = 3
    rows_n = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(13, 3.3 * rows_n), sharey=True,
                             squeeze=False)
    colors = [c for k, c in enumerate(plt.get_cmap("tab10").colors) if k != 7]  # no grey
    previous = None
    for ax, (phase, members) in zip(axes.flat, groups):
        shown = ([previous] if previous is not None else []) + members
        for k, st in enumerate(shown):
            h = all_h[all_h.step == st].groupby("epoch").test_top1.mean()
            grey = st == previous
            ax.plot(h.index, h.values, marker="o", ms=3, lw=1.2,
                    color="#aaaaaa" if grey else colors[k % len(colors)],
                    label=f"{st} {names[st]}" + (" (before)" if grey else ""))
        previous = members[-1]
        ax.set_title(phase, fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("epoch", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("test top-1 (%)")
    fig.suptitle(f"Training curves, {chain_name} (mean over seeds; grey: the step before "
                 "the phase)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def all_figures(df: pd.DataFrame, out: str | Path, chain_name: str = DEFAULT_CHAIN) -> list[Path]:
    """Draw the chain's four figures (roadmap, gain vs the paper, accuracy vs GFLOPs,
    training curves) from the results table ``df`` into ``out``: one set per preset of the
    chain's runs, the preset named in the files when there are several."""
    out = Path(out)
    rows = df[df.study == chain_name] if "study" in df else df
    if rows.empty:
        raise UserError(f"no results for chain {chain_name!r} in {out}")
    presets = sorted(rows.preset.unique())
    paths: list[Path] = []
    for preset in presets:
        suffix = "" if len(presets) == 1 else f"_{preset}"
        paths += _chain_figures(df, rows[rows.preset == preset], out, chain_name, preset, suffix)
    return paths


def _chain_figures(everything: pd.DataFrame, df: pd.DataFrame, out: Path, chain_name: str,
                   preset: str, suffix: str) -> list[Path]:
    from ..analysis.agreement import paper_agreement
    from ..analysis.claims import chain_claims
    from ..analysis.stats import provenance_line

    summary = summary_table(df)
    label = f"ours: {', '.join(sorted(df.dataset.unique()))}, preset {preset}"
    claims = pd.concat(chain_claims(df, chain_name, preset, Store(out)), ignore_index=True)
    stats = claims[claims.kind == "step"]
    target = target_line(everything, chain_name, preset)
    paths = roadmap_figure(summary, out / f"roadmap{suffix}", chain_name, label, stats,
                           provenance_line(df), target)
    paths += gain_vs_paper_figure(claims[claims.kind.isin(["step", "paper step"])],
                                  paper_agreement(df, chain_name, preset),
                                  out / f"gain_vs_paper{suffix}", chain_name, label)
    paths += accuracy_vs_gflops(summary, out / f"accuracy_vs_gflops{suffix}", chain_name, label,
                                target)
    paths += training_curves(df, Store(out), out / f"training_curves{suffix}", chain_name)
    return paths
