"""Figure 2 of the paper in its own style, ours beside the paper's, one panel per regime.

One row per step, grouped under the paper's phase headers (macro design, ResNeXt-ify, ...);
the kernel 5 / 9 / 11 side branches hatched, as the paper draws the steps it did not keep.
Ours and the paper's sit on axes of the same span in points, and every bar starts at the
regime's first (modern-recipe ResNet) step, so a bar's length is the gain over that ResNet
in both panels alike. Our bars carry that gain's claim (``analysis.claims``, kind ``vs
first``): its whisker is the verdict's interval and its mark the verdict, so length, whisker
and mark say one thing. The paper is paired by design: its last row (separate downsampling,
which also turns on layer scale and ConvNeXt's init) sits beside our ConvNeXt-T, the
sub-steps it folds marked as such. The paper's bars carry the GFLOPs as printed, a misprint
marked. The chain's target Transformer (Swin-T, Swin-B) is the dashed line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd

from models.roadmap import Step, chain

from ..analysis.paper import paper_by_design
from ..analysis.stats import RULE, t_half_width
from .chain import PHASE_COLORS, TARGET_COLOR, Target, target_line
from .common import save_figure

PAPER_FIGURE_FORMATS = (".png", ".pdf")
VERDICT_MARKS = {"gain": ("^", "#2e7d32"), "loss": ("v", "#c62828"),
                 "within noise": ("o", "#757575"), "too few seeds": ("o", "#bdbdbd")}
PHASE_TITLES = {"training": "training", "macro design": "macro design",
                "ResNeXt-ify": "ResNeXt-ify", "inverted bottleneck": "inverted bottleneck",
                "large kernel": "large kernel", "micro design": "micro design"}


@dataclass(frozen=True)
class Regime:
    """One panel: a chain, the preset of our runs, our rows and verdicts."""

    chain_name: str
    preset: str
    rows: pd.DataFrame
    stats: pd.DataFrame
    """The regime's claims (``analysis.claims.chain_claims``)."""
    target: Target | None


def paper_order(chain_name: str) -> list[Step]:
    """The chain's steps from the modern-recipe ResNet on, the kernel branches placed around
    kernel 7 by kernel size (5, 7, 9, 11), as the paper's Figure 2 lists them."""
    steps = [s for s in chain(chain_name, branches=True) if s.index >= 0]
    main = [s for s in steps if not s.branch_of]
    branches = sorted((s for s in steps if s.branch_of), key=lambda s: s.design.kernel_size)
    out: list[Step] = []
    for s in main:
        if branches and s.phase == branches[0].phase and s.index > branches[0].index:
            # kernel 7 sits among its branches by kernel size
            out += [b for b in branches if b.design.kernel_size < s.design.kernel_size]
            out.append(s)
            out += [b for b in branches if b.design.kernel_size > s.design.kernel_size]
            branches = []
        else:
            out.append(s)
    return out


def _rows_with_headers(steps: list[Step]) -> list[Step | str]:
    """Steps with a phase header (a string) before each new phase."""
    out: list[Step | str] = []
    phase = None
    for s in steps:
        if s.phase != phase:
            out.append(PHASE_TITLES.get(s.phase, s.phase))
            phase = s.phase
        out.append(s)
    return out


def _ours(rows: pd.DataFrame) -> dict[str, tuple[float, float, int, float]]:
    """step name -> (mean top-1, 95% t half-width, seeds, GFLOPs at 224 px)."""
    out = {}
    for name, g in rows.groupby("step_name"):
        top1 = g.top1.astype(float)
        half = t_half_width(top1) if len(top1) > 1 else 0.0
        out[name] = (float(top1.mean()), float(half), len(top1), float(g.gflops.iloc[0]))
    return out


def _draw_panel(ax: plt.Axes, items: list[Step | str], values: dict[str, float],
                errors: dict[str, float], labels: dict[str, str], base: float,
                extent: tuple[float, float]) -> None:
    """Bars from ``base`` for the steps of ``items`` (headers as bold rows), text labels;
    a step with a label but no value gets its label alone (else "not run")."""
    n = len(items)
    for i, item in enumerate(items):
        y = n - 1 - i
        if isinstance(item, str):
            continue
        if item.name not in values:
            ax.text(base, y, labels.get(item.name, "  not run"), va="center",
                    fontsize=7.5, color="#9e9e9e")
            continue
        v = values[item.name]
        ax.barh(y, v - base, left=base, height=0.72, color=PHASE_COLORS.get(item.phase, "#888"),
                hatch="////" if item.branch_of else None, edgecolor="white" if item.branch_of
                else None, linewidth=0, alpha=0.55 if item.branch_of else 0.95)
        if errors.get(item.name):
            ax.errorbar(v, y, xerr=errors[item.name], color="black", lw=0.9, capsize=2)
        end = max(v + errors.get(item.name, 0.0), base)
        ax.text(end + 0.02 * sum(extent), y, labels[item.name], va="center", fontsize=7.5,
                zorder=4, bbox={"fc": "white", "ec": "none", "alpha": 0.9, "pad": 0.4})
    ax.axvline(base, color="black", lw=0.8)
    ax.set_xlim(base - extent[0], base + extent[1])
    # No tick at either edge: neighbouring panels' edge ticks would meet.
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, prune="both"))
    ax.set_ylim(-0.6, n + 0.4)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _label_axis(ax: plt.Axes, items: list[Step | str]) -> None:
    """Step titles (and bold phase headers) as text left of the first panel."""
    n = len(items)
    for i, item in enumerate(items):
        y = n - 1 - i
        if isinstance(item, str):
            ax.text(1.0, y, item, ha="right", va="center", fontsize=8.5, fontweight="bold",
                    transform=ax.get_yaxis_transform())
        else:
            ax.text(1.0, y, item.title + ("  (branch)" if item.branch_of else ""),
                    ha="right", va="center", fontsize=8, transform=ax.get_yaxis_transform())
    ax.axis("off")
    ax.set_ylim(-0.6, n + 0.4)


def _target(ax: plt.Axes, x: float, text: str, n: int) -> None:
    ax.axvline(x, color=TARGET_COLOR, ls="--", lw=1.1, zorder=1)
    ax.text(x, n - 0.1, " " + text, color=TARGET_COLOR, fontsize=7.5, ha="left", va="center",
            bbox={"fc": "white", "ec": "none", "alpha": 0.9, "pad": 0.5})


def regimes_of(df: pd.DataFrame, chains: tuple[str, ...], out: Path,
               preset: str | None = None) -> list[Regime]:
    """The regimes of ``chains`` that have finished runs in ``df`` (at ``preset``, or at the
    preset with the most runs), with their verdicts (``stats``, the store's predictions)."""
    from ..analysis.claims import chain_claims
    from ..run.store import Store

    found = []
    for name in chains:
        rows = df[(df.study == name) & (df.get("status", "ok") == "ok")]
        if preset is not None:
            rows = rows[rows.preset == preset]
        if rows.empty:
            continue
        chosen = preset or rows.preset.value_counts().index[0]
        rows = rows[rows.preset == chosen]
        claims = pd.concat(chain_claims(df, name, chosen, Store(out)), ignore_index=True)
        found.append(Regime(name, chosen, rows, claims, target_line(df, name, chosen)))
    return found


WIDTHS = {"column": 3.3, "page": 7.0}
"""Named figure widths in inches: a journal column and a full page."""
MIN_POINTS = 7.0
"""The smallest text drawn, in points, at the width the figure is drawn for."""
COMPACT_BELOW = 5.0
"""Narrower figures (a column) draw one panel: ours and the paper's gain side by side."""


def paper_figure(regimes: list[Regime], path: Path, steps: list[str] | None = None,
                 width: float = 11.0, formats: tuple[str, ...] = PAPER_FIGURE_FORMATS
                 ) -> list[Path]:
    """Figure 2 in the paper's style (module docstring): for each regime a row of three
    columns (step titles, ours, the paper's); below ``COMPACT_BELOW`` inches one panel per
    regime (``compact_figure``). ``steps``: step names to keep (default all). Drawn at its
    final width, so that no text is below ``MIN_POINTS`` where it is printed."""
    if width < COMPACT_BELOW:
        return compact_figure(regimes, path, steps, width, formats)
    with plt.rc_context({"font.size": max(MIN_POINTS, 8.0)}):
        return _full_figure(regimes, path, steps, width, formats)


def compact_figure(regimes: list[Regime], path: Path, steps: list[str] | None = None,
                   width: float = WIDTHS["column"],
                   formats: tuple[str, ...] = PAPER_FIGURE_FORMATS) -> list[Path]:
    """Figure 2 for a column: per regime one panel, a row per main step, our gain over the
    first step (the ``vs first`` claim: bar, whisker = the verdict's interval, colour = the
    verdict) above the paper's gain over its first step (grey), both in points; sub-steps the
    paper folds have no grey bar. Text at ``MIN_POINTS``."""
    from models.roadmap import chain as chain_steps

    fs = MIN_POINTS
    heights = []
    layouts = []
    for r in regimes:
        order = [st for st in chain_steps(r.chain_name) if st.index >= 0
                 and (not steps or st.name in steps)]
        layouts.append((r, order))
        heights.append(0.2 * len(order) + 0.9)
    fig, axes = plt.subplots(len(regimes), 1, figsize=(width, sum(heights) + 0.9),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    colors = {"gain": "#2e7d32", "loss": "#c62828", "within noise": "#9e9e9e"}
    for ax, (r, order) in zip(axes[:, 0], layouts):
        vs = r.stats[r.stats.kind == "vs first"].set_index("treatment")
        by_design, _ = paper_by_design(r.chain_name)
        first_paper = by_design.get(order[0].name)
        n = len(order)
        for i, st in enumerate(order):
            y = n - 1 - i
            if st.name in vs.index:
                c = vs.loc[st.name]
                ax.barh(y + 0.17, c.delta, height=0.32, color=colors.get(c.verdict, "#bdbdbd"))
                ax.plot([c.lo, c.hi], [y + 0.17] * 2, color="black", lw=0.7)
            if st.name in by_design and first_paper is not None and i > 0:
                ax.barh(y - 0.17, by_design[st.name] - first_paper, height=0.32,
                        color="#9ecae1")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(range(n))
        ax.set_yticklabels([st.title.split(" (")[0] for st in order][::-1], fontsize=fs)
        ax.tick_params(axis="x", labelsize=fs)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_title(f"{r.chain_name} ({r.preset})", fontsize=fs)
        ax.grid(alpha=0.3, axis="x")
    axes[-1, 0].set_xlabel("gain over the first step (points)", fontsize=fs)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, label=f"ours: {v}") for v, c in colors.items()]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#9ecae1", label="paper (ImageNet-1K)"))
    fig.legend(handles=handles, fontsize=fs, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.55 / (sum(heights) + 0.9) + 0.03, 1, 1))
    return save_figure(fig, path, formats)


def _full_figure(regimes: list[Regime], path: Path, steps: list[str] | None,
                 width: float, formats: tuple[str, ...]) -> list[Path]:
    heights = []
    layouts = []
    for r in regimes:
        order = [s for s in paper_order(r.chain_name) if not steps or s.name in steps]
        items = _rows_with_headers(order)
        layouts.append((r, order, items))
        heights.append(0.24 * len(items) + 1.1)
    fig = plt.figure(figsize=(width, sum(heights) + 0.6))
    grid = fig.add_gridspec(len(regimes), 3, height_ratios=heights, width_ratios=[0.9, 1, 1],
                            wspace=0.04, hspace=0.35)
    footnotes = []
    for k, (r, order, items) in enumerate(layouts):
        ours = _ours(r.rows)
        first = order[0].name
        base_ours = ours[first][0] if first in ours else min(v[0] for v in ours.values())
        vs_first = r.stats[r.stats.kind == "vs first"].set_index("treatment")
        verdicts = vs_first.verdict.to_dict()
        for name in vs_first.index.intersection(list(ours)):  # bar = the claim: gain over first
            c = vs_first.loc[name]
            ours[name] = (base_ours + c.delta, (c.hi - c.lo) / 2, ours[name][2], ours[name][3])
        if first in ours:
            ours[first] = (base_ours, 0.0) + ours[first][2:]
        by_design, folded = paper_by_design(r.chain_name)
        paper = {s.name: (s.paper_top1 if s.branch_of else by_design.get(s.name))
                 for s in order}
        paper = {k: v for k, v in paper.items() if v is not None}
        base_paper = paper.get(first, min(paper.values()))
        # The same extent left and right of the first step in both panels (points per inch
        # alike), with room for the value labels right of the longest bar.
        below = max([base_ours - (m - h) for m, h, _, _ in ours.values()]
                    + [base_paper - v for v in paper.values()] + [0.0])
        above = max([m + h - base_ours for m, h, _, _ in ours.values()]
                    + [v - base_paper for v in paper.values()] + [0.0])
        if r.target is not None:
            below = max(below, base_paper - r.target.paper_top1)
            if r.target.ours_mean is not None:
                below = max(below, base_ours - r.target.ours_mean)
        width_pts = below + above
        extent = (below + 0.06 * width_pts, above + 0.55 * width_pts)
        ax_l, ax_o, ax_p = (fig.add_subplot(grid[k, c]) for c in range(3))
        _label_axis(ax_l, items)
        labels_o = {}
        for name, (mean, half, seeds, gf) in ours.items():
            mark = {"gain": " ▲", "loss": " ▼"}.get(verdicts.get(name, ""), "")
            labels_o[name] = f"{mean:.2f}{mark}  {gf:.2f} GF"
        _draw_panel(ax_o, items, {n: v[0] for n, v in ours.items()},
                    {n: v[1] for n, v in ours.items()}, labels_o, base_ours, extent)
        labels_p = {}
        titles = {s.name: s.title.split(" (")[0] for s in order}
        for s in order:
            if s.name not in paper:
                continue
            star = "*" if "misprint" in s.note and "GFLOPs" in s.note else ""
            labels_p[s.name] = f"{paper[s.name]:.2f}  {s.paper_gflops:.2f}{star} GF"
            if star:
                footnotes.append(f"* {s.title}: {s.note}")
        labels_p.update({k: f"  in {titles.get(v, v)}" for k, v in folded.items()})
        _draw_panel(ax_p, items, paper, {}, labels_p, base_paper, extent)
        if r.target is not None:
            _target(ax_p, r.target.paper_top1, f"{r.target.title} {r.target.paper_top1:.1f} "
                    f"({r.target.paper_gflops:.1f} GF)", len(items))
            if r.target.ours_mean is not None:
                _target(ax_o, r.target.ours_mean, f"our {r.target.title} "
                        f"{r.target.ours_mean:.2f}", len(items))
        counts = sorted({v[2] for v in ours.values()})
        seeds = f"{counts[0]}-{counts[-1]}" if len(counts) > 1 else f"{counts[0]}"
        dataset = ", ".join(sorted(r.rows.dataset.unique()))
        ax_o.set_title(f"ours: {dataset}\npreset {r.preset}, {seeds} seeds", fontsize=9)
        ax_p.set_title("paper: ImageNet-1K\n(Table 10 / 11)", fontsize=9)
        ax_o.set_xlabel(f"top-1 (%)\nbars from step 0: {base_ours:.2f}", fontsize=8)
        ax_p.set_xlabel(f"top-1 (%)\nbars from step 0: {base_paper:.2f}", fontsize=8)
        ax_l.set_title(r.chain_name, fontsize=9.5, loc="left", fontweight="bold")
    notes = ["Both panels of a regime have the same span in points; bars start at the first "
             "step, so a bar is the gain over it. Whiskers: the verdict's interval of that "
             "gain; ▲ / ▼: gain / loss, no mark: within noise. " + RULE + " Hatched: side "
             "branches (not kept; mean over seeds, no whisker). The paper's last row is paired "
             "with our ConvNeXt-T, the design it measured."]
    notes += list(dict.fromkeys(footnotes))
    fig.text(0.02, -0.01, "\n".join(_wrap(n, int(width * 17)) for n in notes), fontsize=7,
             va="top", color="#444444")
    return save_figure(fig, path, formats)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
