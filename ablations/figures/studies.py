"""Figures of the studies beside the chain: order effects (each change in three contexts),
the scale study (the gap ConvNeXt-T minus ResNet-50 per cell) and sweeps.
``study_figures`` writes each figure's numbers as a CSV of the same name, then draws it."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import pandas as pd

from ..analysis.contexts import CONTEXTS, order_table
from .common import save_figure
from .chain import VERDICT_COLORS
from ..analysis.summary import summary_table
from ..run.store import Store
from ..studies.names import parse_study

_CONTEXT_COLORS = dict(zip(CONTEXTS, ("#4c72b0", "#dd8452", "#8c6bb1", "#55a868")))
_CONTEXT_WORDS = dict(zip(CONTEXTS, (
    "in the chain: the step minus the step before",
    "alone: ResNet-50 with it minus ResNet-50",
    "alone, widths rescaled to ResNet-50's GFLOPs",
    "at the end: the last step minus it without the change")))
"""What each context's bar is, in words: every one is the gain from adding the change."""
_SCALE_UNITS = {"train_images": "training images", "epochs": "epochs",
                "width": "width multiplier", "resolution": "resolution (px)"}


def _with_seeds(context: str, seeds: pd.Series) -> str:
    """The legend label of a context: its name and how many paired seeds its bars rest on
    (a range while a study is part-way through)."""
    n = sorted({int(k) for k in seeds if k > 0})
    if not n:
        return context
    return f"{context}, {n[0]}{'' if len(n) == 1 else f'-{n[-1]}'} seeds"


def order_figure(table: pd.DataFrame, path: Path, title: str) -> list[Path]:
    """Bars of ``contexts.order_table``: per change, the gain from adding it in each measured
    context, solid where the claims give a verdict (gain or loss: the verdict's interval
    excludes 0), faded where it is within noise, that interval as whiskers (each context's
    study its own family, so the same runs can be judged at another level) and the GFLOPs of
    the changed design at the bar's end (contexts without a number get no bars and no legend;
    each legend entry says what its bar is and its seeds)."""
    cols = [c for c in CONTEXTS if table[c].notna().any()]
    rows = table.iloc[::-1]  # the first change at the top
    fig, ax = plt.subplots(figsize=(10, 0.75 * len(table) + 1.8))
    height, handles = 0.8 / len(cols), []
    for k, c in enumerate(cols):
        y = [i - 0.4 + (len(cols) - 1 - k + 0.5) * height for i in range(len(rows))]
        real = rows[c + " verdict"].isin(["gain", "loss"])
        bars = ax.barh(y, rows[c].fillna(0), height=height, color=_CONTEXT_COLORS[c])
        for bar, is_real in zip(bars, real):
            bar.set_alpha(1.0 if is_real else 0.35)
        handles.append(Patch(color=_CONTEXT_COLORS[c],
                             label=_with_seeds(_CONTEXT_WORDS[c], rows[c + " seeds"])))
        lo, hi = (rows[c] - rows[c + " lo"]).fillna(0), (rows[c + " hi"] - rows[c]).fillna(0)
        ax.errorbar(rows[c].fillna(0), y, xerr=[lo, hi], fmt="none", elinewidth=0.7,
                    capsize=1.5, ecolor="#333333")
        gflops = rows.get(c + " gflops", pd.Series(float("nan"), index=rows.index))
        for yi, x, top, g in zip(y, rows[c], rows[c + " hi"], gflops):
            if pd.notna(x) and pd.notna(g):
                ax.text(max(top, x, 0) + 0.05, yi, f"{g:.1f} GF", va="center", fontsize=7,
                        color="#444444")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows.index, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("gain from adding the change, top-1 points (> 0: it helps)\n"
                  "solid: gain or loss (the whisker, the verdict's interval, excludes 0); "
                  "faded: within noise; each context is its own study (family), so one pair "
                  "of runs can be judged in two; GF: GFLOPs of the changed design (224 px)",
                  fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(handles=handles, fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.1),
              ncol=2)
    ax.grid(alpha=0.3, axis="x")
    ax.margins(x=0.12)
    return save_figure(fig, path)


def scale_figure(gaps: pd.DataFrame, path: Path, base_name: str,
                 trends: dict[str, str] | None = None) -> list[Path]:
    """Per axis of ``analysis.scale.gap_table``, the gap with the verdict's interval per
    cell, its verdict, and where the gap changes sign (``crossing``: only between a gain and
    a loss; otherwise the panel says that no crossing is resolved). Cells are joined by a
    line only where the axis's trend (``trends``: axis -> verdict) is resolved."""
    from ..analysis.scale import crossing

    axes_names = list(dict.fromkeys(gaps.axis))
    fig, axes = plt.subplots(1, len(axes_names), figsize=(max(6.5, 3.6 * len(axes_names)), 4.2),
                             sharey=True, squeeze=False)
    for ax, axis in zip(axes[0], axes_names):
        g = gaps[gaps.axis == axis].sort_values("value")
        resolved = (trends or {}).get(axis) in ("gain", "loss")
        ax.errorbar(g.value, g.gap, yerr=[g.gap - g.lo, g.hi - g.gap],
                    fmt="o-" if resolved else "o", capsize=3, color="#4c72b0")
        for r in g.itertuples():  # above the whisker, or below it where 0 is just above
            above = not (r.hi < 0 and r.hi > -0.25 * max(1.0, float(g.hi.max() - g.lo.min())))
            ax.annotate(f"{r.gap:+.2f}\n(n={r.seeds})", (r.value, r.hi if above else r.lo),
                        fontsize=7, ha="center", va="bottom" if above else "top",
                        xytext=(0, 3 if above else -3), textcoords="offset points")
        ax.axhline(0, color="black", lw=0.8)
        cross = crossing(g)
        if cross is not None:  # between a gain and a loss: the intervals resolve it
            ax.axvline(cross, color="#c44e52", ls="--", lw=1)
            rounded = float(f"{cross:.2g}")  # two figures: the crossing is an estimate
            where = f"{rounded:,.0f}" if rounded >= 100 else f"{rounded:g}"
            ax.text(cross, ax.get_ylim()[0], f" gap changes sign near {where}",
                    color="#c44e52", fontsize=7, va="bottom")
        else:
            ax.text(0.02, 0.02, "no crossing resolved", transform=ax.transAxes,
                    fontsize=7, color="#555555", va="bottom")
        ax.margins(x=0.12, y=0.15)
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(g.value))
        ax.set_xticklabels([f"{v:g}" for v in g.value], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel(_SCALE_UNITS.get(axis, axis))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("top-1 gap, ConvNeXt-T - ResNet-50 (points)")
    devices = ", ".join(sorted(set(gaps.device)))
    fig.suptitle(f"Where does ConvNeXt-T overtake ResNet-50 (both modern recipe)?\n"
                 f"One axis at a time from the {base_name} preset; the verdict's intervals "
                 f"(all cells one family); lines only where the trend is resolved; "
                 f"over seeds; trained on {devices}", fontsize=9)
    return save_figure(fig, path)


REG_STYLE = {"off": ("o", "#4c72b0", "regularisation off (CPU presets)"),
             "paper": ("s", "#dd8452", "the paper's regularisation")}


def crossed_figure(cells: pd.DataFrame, path: Path, base_name: str) -> list[Path]:
    """The crossed cells of a scale study (``analysis.scale.cell_table``): at the training
    images of the cells with the paper's regularisation, one panel per resolution, the gap
    ConvNeXt-T - ResNet-50 against epochs with and without the regularisation; whiskers the
    verdict's interval, filled where the verdict is resolved; no line joins cells."""
    from ..analysis.stats import RULE
    from .common import place_labels

    reg = cells[cells.regularisation == "paper"]
    images = sorted(set(reg.train_images))
    block = cells[cells.train_images.isin(images) & cells.width.isin(set(reg.width))
                  & cells.lo.notna()]  # cells with an interval (2+ seeds of both steps)
    resolutions = sorted(set(block.resolution))
    fig, axes = plt.subplots(1, len(resolutions), figsize=(4.2 * len(resolutions) + 2, 5),
                             sharey=True, squeeze=False)
    epochs = sorted(set(block.epochs))
    for ax, res in zip(axes[0], resolutions):
        labels = ([], [], [])
        for k, (name, (marker, color, text)) in enumerate(REG_STYLE.items()):
            g = block[(block.resolution == res) & (block.regularisation == name)
                      & block.lo.notna()].sort_values("epochs")
            x = [epochs.index(e) + (k - 0.5) * 0.18 for e in g.epochs]
            ax.errorbar(x, g.gap, yerr=[g.gap - g.lo, g.hi - g.gap], fmt="none",
                        ecolor=color, elinewidth=1.2, capsize=3)
            resolved = g.verdict.isin(["gain", "loss"]).to_numpy()
            ax.scatter([xi for xi, r in zip(x, resolved) if r], g.gap[resolved], marker=marker,
                       color=color, s=34, zorder=3, label=text)
            ax.scatter([xi for xi, r in zip(x, resolved) if not r], g.gap[~resolved],
                       marker=marker, facecolor="white", edgecolor=color, s=34, zorder=3)
            for xi, r in zip(x, g.itertuples()):
                labels[0].append(xi)
                labels[1].append(r.gap)
                labels[2].append(f"{r.gap:+.2f} (n={r.seeds})")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(epochs)))
        ax.set_xticklabels([str(e) for e in epochs])
        ax.set_xlim(-0.6, len(epochs) - 0.4)
        ax.set_xlabel("epochs")
        ax.set_title(f"{res} px (last stage {res // 32}x{res // 32})", fontsize=9)
        ax.grid(alpha=0.3)
        ax._labels = labels  # placed once the layout is final
    axes[0][0].set_ylabel("top-1 gap, ConvNeXt-T - ResNet-50 (points)")
    fig.legend(*axes[0][0].get_legend_handles_labels(), fontsize=7.5, loc="lower center",
               ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.055))
    what = ", ".join(f"{i:,}" for i in images)
    fig.suptitle(f"Does the paper's regularisation make ConvNeXt-T overtake ResNet-50?\n"
                 f"{base_name} preset at {what} training images; filled: gain or loss, hollow: "
                 f"within noise", fontsize=9)
    fig.text(0.01, 0.005, "Whiskers: the verdict's interval. " + RULE, fontsize=6.5,
             wrap=True, va="bottom")
    fig.tight_layout(rect=(0, 0.12, 1, 0.93))
    for ax in axes[0]:
        place_labels(ax, *ax._labels, fontsize=7)
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
    field, _, base = parse_study(study).subject.partition("@")
    ax.set_xlabel(field)
    ax.set_ylabel("top-1 (%)")
    ax2 = ax.twinx()
    ax2.plot(x, s.gflops, "s--", color="#dd8452", label="GFLOPs (224 px)")
    ax2.set_ylabel("GFLOPs at 224 px")
    presets = ", ".join(sorted(set(df[df.study == study].preset)))
    ax.set_title(f"{field} swept on {base or 'the named base model'} ({presets}); top-1 mean, "
                 f"whiskers: min-max over seeds", fontsize=9)
    ax.legend(handles=[ax.get_lines()[0], ax2.get_lines()[0]], fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def study_figures(df: pd.DataFrame, out: str | Path) -> list[Path]:
    """The tables (CSV) and figures of the non-chain studies in ``df``: order effects per
    chain and preset, the scale study per chain, sweeps."""
    from ..analysis import scale

    out, store = Path(out), Store(out)
    ids = [parse_study(s) for s in sorted(set(df.study))] if "study" in df else []
    paths: list[Path] = []
    for chain_name in sorted({i.subject for i in ids if i.kind in ("one-at-a-time",
                                                                   "leave-one-out")}):
        presets = _order_presets(df, chain_name)
        for preset in presets:
            table = order_table(df, chain_name, preset, store)
            stem = out / (f"order_effects_{chain_name}"
                          + ("" if len(presets) == 1 else f"_{preset}"))
            paths += _write_csv(table.round(3), stem, index=True)
            paths += order_figure(table, stem, f"Gain from each change in its contexts: in the "
                                               f"chain, alone, and at the end ({chain_name}, "
                                               f"{preset})")
    for chain_name in sorted({i.subject for i in ids if i.kind == "scale"}):
        parts = scale.claims_by_kind(df, chain_name, store)  # once: gaps, cells, trends
        base, gaps = scale.study_gaps(df, chain_name, store, parts)
        one_axis = (parts["trend"][~parts["trend"].treatment.str.contains(" at ")]
                    if "trend" in parts else None)  # the one-axis lines the figure draws
        trends = dict(zip(one_axis.axis, one_axis.verdict)) if one_axis is not None else {}
        if not gaps.empty:
            stem = out / f"scale_{chain_name}"
            paths += _write_csv(gaps.round(3), stem, index=False)
            paths += scale_figure(gaps, stem, base.name, trends)
        cells = scale.cell_table(df, chain_name, store, parts)
        if (cells.regularisation == "paper").any():
            stem = out / f"scale_cells_{chain_name}"
            paths += _write_csv(cells.round(3), stem, index=False)
            paths += crossed_figure(cells, out / f"scale_regularisation_{chain_name}", base.name)
    for i in ids:
        if i.kind == "sweep":
            paths += sweep_figure(df, str(i), out / f"sweep_{i.subject.replace('@', '_on_')}")
        if i.kind == "fcmae":
            from ..analysis.stats import study_stats

            for preset in sorted(df[df.study == str(i)].preset.unique()):
                table = study_stats(df, str(i), preset, store)
                if not table.empty:
                    paths += fcmae_figure(table, out / f"fcmae_{i.subject}", preset)
    return paths


def fcmae_figure(table: pd.DataFrame, path: Path, preset: str) -> list[Path]:
    """The FCMAE study's comparisons: our paired delta with the verdict's interval, coloured
    by the verdict (``stats.RULE``), beside the paper's ConvNeXt-B delta."""
    from ..studies.fcmae import comparison_titles

    titles = comparison_titles()
    t = table.reset_index(drop=True)
    y = list(range(len(t)))[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(t) + 1.6))
    ax.axvline(0, color="black", lw=0.8)
    for yi, r in zip(y, t.itertuples()):
        color = VERDICT_COLORS.get(r.verdict, "#888888")
        ax.plot([r.lo, r.hi], [yi, yi], color=color, lw=2.2, solid_capstyle="butt")
        ax.plot([r.delta], [yi], "o", color=color, ms=6)
        if pd.notna(r.paper_delta):
            ax.plot([r.paper_delta], [yi], marker="D", color="black", ms=5, ls="", mfc="white")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{titles.get((r.treatment, r.control), r.treatment)}\n"
                        f"{r.treatment} - {r.control}" for r in t.itertuples()], fontsize=7.5)
    lo = min(float(t.lo.min()), float(t.paper_delta.min(skipna=True)), -0.5)
    hi = max(float(t.hi.max()), float(t.paper_delta.max(skipna=True)), 0.5)
    ax.set_xlim(lo - 0.3, hi + 0.3)
    ax.set_xlabel("top-1 difference (points); ours: mean over paired seeds and the verdict's "
                  "interval (paired t at 1 - 0.05/m)")
    handles = [plt.Line2D([], [], marker="o", color=c, lw=2.2, label=f"ours: {v}")
               for v, c in VERDICT_COLORS.items() if v in set(t.verdict)]
    handles.append(plt.Line2D([], [], marker="D", color="black", mfc="white", ls="",
                              label="paper, ConvNeXt-B (ImageNet-1K)"))
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title="verdict (as stats)", title_fontsize=7.5)
    seeds = int(t.seeds.max())
    ax.set_title(f"FCMAE x block co-design at preset {preset} ({seeds} seeds)", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return save_figure(fig, path)


def _order_presets(df: pd.DataFrame, chain_name: str) -> list[str]:
    """The presets at which a chain's order studies have runs."""
    ids = {s: parse_study(s) for s in set(df.study)}
    studies = [s for s, i in ids.items()
               if i.kind in ("one-at-a-time", "leave-one-out") and i.subject == chain_name]
    return sorted(df[df.study.isin(studies)].preset.unique())


def _write_csv(table: pd.DataFrame, stem: Path, index: bool) -> list[Path]:
    path = stem.with_suffix(".csv")
    from ..system.files import atomic_write_text

    atomic_write_text(path, table.to_csv(index=index))  # whole or not at all
    return [path]
