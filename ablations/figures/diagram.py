"""Block diagrams of designs, and "before -> after" pictures of a roadmap step.

Reads only a ``Design`` and the public rules the builder follows: ``models.stage_plan``,
``models.block_plan``, ``models.needs_projection`` (the shortcut) and
``models.activation_after_add``; the diagram tests check the boxes against a built model.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from models import Design, activation_after_add, block_plan, needs_projection, stage_plan

from .common import save_figure

COLORS = {"conv": "#cfe2f3", "spatial": "#b6d7a8", "norm": "#fff2cc", "act": "#f4cccc",
          "grn": "#d9d2e9", "scale": "#eeeeee", "stem": "#d0e0e3", "down": "#fce5cd"}


def _norm_name(d: Design) -> str:
    return "BatchNorm" if d.norm == "batch" else "LayerNorm"


def _act_name(d: Design) -> str:
    return "ReLU" if d.activation == "relu" else "GELU"


def describe(design: Design, stage: int = 1) -> dict[str, list[tuple[str, str]]]:
    """Text boxes (label, kind) of the stem, the downsampling before ``stage``, the first
    block of ``stage`` and its shortcut."""
    d = design
    if d.stem == "resnet":
        stem = [(f"7x7 conv /2\n3 -> {d.stem_width}", "stem"), (_norm_name(d), "norm"),
                (_act_name(d), "act"), ("3x3 max-pool /2", "stem")]
    else:
        k = d.stem_stride
        stem = [(f"{k}x{k} conv /{k} (patchify)\n3 -> {d.stem_width}", "stem"),
                (_norm_name(d), "norm")]
    plan = stage_plan(d)[stage]
    down = []
    if plan.downsample_in is not None:
        down = [(_norm_name(d), "norm"),
                (f"2x2 conv /2\n{plan.downsample_in} -> {plan.in_ch}", "down")]
    block = []
    for spec in block_plan(d, plan.in_ch, plan.out_ch, plan.stride):
        k = spec.kernel_size
        if spec.groups == spec.in_ch and spec.groups > 1:
            kind_text = "depthwise "
        elif spec.groups > 1:
            kind_text = f"grouped (g={spec.groups}) "
        else:
            kind_text = ""
        stride = " /2" if spec.stride == 2 else ""
        block.append((f"{k}x{k} {kind_text}conv{stride}\n{spec.in_ch} -> {spec.out_ch}",
                      "spatial" if spec.spatial else "conv"))
        if spec.norm:
            block.append((_norm_name(d), "norm"))
        if spec.act:
            block.append((_act_name(d), "act"))
        if spec.grn:
            block.append(("GRN", "grn"))
    if d.layer_scale > 0:
        block.append((f"layer scale (init {d.layer_scale:g})", "scale"))
    shortcut = []
    if needs_projection(plan.in_ch, plan.out_ch, plan.stride):
        stride = " /2" if plan.stride == 2 else ""
        shortcut = [(f"1x1 conv{stride}\n{plan.in_ch} -> {plan.out_ch}", "conv"),
                    (_norm_name(d), "norm")]
    after = [(_act_name(d), "act")] if activation_after_add(d) else []
    return {"stem": stem, "downsample": down, "block": block, "shortcut": shortcut,
            "after_add": after}


def _box(ax, center: tuple[float, float], size: tuple[float, float], text: str, kind: str,
         highlight: bool, fontsize: float = 7) -> None:
    (x, y), (w, h) = center, size
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=COLORS.get(kind, "#ffffff"),
                                ec="#e69138" if highlight else "#555555",
                                lw=2.5 if highlight else 0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, linespacing=1.1)


def _arrow(ax, x, y_from, y_to, x_to=None) -> None:
    ax.annotate("", xy=(x if x_to is None else x_to, y_to), xytext=(x, y_from),
                arrowprops={"arrowstyle": "->", "lw": 0.8})


def draw_design(ax, design: Design, title: str, stage: int = 1,
                changed: set[str] | None = None) -> None:
    """Draw ``design``'s stem, downsampling and first block of ``stage`` on ``ax``.

    Boxes whose text is in ``changed`` are outlined (what a step changed).
    """
    parts = describe(design, stage)
    changed = changed or set()
    h, gap, w = 0.5, 0.18, 3.0
    y = 0.0
    ax.text(0, y + 0.5, title, ha="center", fontsize=9, weight="bold")

    def column(items, x, y0, width=w):
        ys = []
        for text, kind in items:
            _box(ax, (x, y0), (width, h), text, kind, f"{kind}:{text}" in changed)
            if ys:
                _arrow(ax, x, ys[-1] - h / 2, y0 + h / 2)
            ys.append(y0)
            y0 -= h + gap
        return y0, ys

    ax.text(-2.0, y - 0.1, "stem", fontsize=7, color="#666666", ha="right")
    # the stages before the one drawn are left out, and the diagram says so
    plans = stage_plan(design)
    skipped = [(f"stage {k + 1}: {design.depths[k]} blocks, {plans[k].out_ch} channels\n"
                f"(not drawn)", "skip") for k in range(stage)]
    y, ys = column(parts["stem"] + skipped + parts["downsample"], 0, y - 0.1)
    if parts["downsample"]:
        ax.text(-2.0, ys[len(parts["stem"]) + len(skipped)], "downsample", fontsize=7,
                color="#666666", ha="right")
    split = y + h / 2 + gap / 2  # the block's input: branch and residual path part here
    _arrow(ax, 0, ys[-1] - h / 2, split)
    ax.text(-2.0, y, f"block (stage {stage + 1},\nfirst)", fontsize=7, color="#666666",
            ha="right", va="top")
    y, ys = column(parts["block"], 0, y)
    add_y = y
    ax.add_patch(plt.Circle((0, add_y), 0.17, fc="white", ec="black", lw=1))
    ax.text(0, add_y, "+", ha="center", va="center", fontsize=11)
    _arrow(ax, 0, ys[-1] - h / 2, add_y + 0.17)
    # residual path on the right: identity, or the projection conv and its norm
    xr = 3.0
    ax.plot([0, xr], [split, split], color="#333333", lw=0.9)
    bottom = split
    if parts["shortcut"]:
        sy = (split + add_y) / 2 + (len(parts["shortcut"]) - 1) * (h + gap) / 2
        _, sys_ = column(parts["shortcut"], xr, sy, width=2.2)
        _arrow(ax, xr, split, sys_[0] + h / 2)
        bottom = sys_[-1] - h / 2
    ax.plot([xr, xr], [bottom, add_y], color="#333333", lw=0.9)
    _arrow(ax, xr, add_y, add_y, x_to=0.17)
    y = add_y - 0.17 - gap - h / 2
    if parts["after_add"]:
        _arrow(ax, 0, add_y - 0.17, y + h / 2)
    for text, kind in parts["after_add"]:
        _box(ax, (0, y), (w, h), text, kind, f"{kind}:{text}" in changed)
        y -= h + gap
    ax.set_xlim(-3.6, 4.3)
    ax.set_ylim(y - 0.2, 1.0)
    ax.axis("off")


def _keys(design: Design, stage: int) -> list[str]:
    parts = describe(design, stage)
    return [f"{kind}:{text}" for items in parts.values() for text, kind in items]


def draw_step(before: Design, after: Design, title_before: str, title_after: str,
              path: str | Path, stage: int = 1, formats: tuple[str, ...] = (".png",)
              ) -> list[Path]:
    """Side by side: ``before`` and ``after``, with what changed outlined on both sides."""
    kb, ka = _keys(before, stage), _keys(after, stage)
    cb, ca = Counter(kb), Counter(ka)
    # a box is "changed" when its kind and text occur a different number of times
    changed_b = {k for k in cb if cb[k] != ca.get(k, 0)}
    changed_a = {k for k in ca if ca[k] != cb.get(k, 0)}
    n = max(len(kb), len(ka))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * n + 1.8))
    draw_design(axes[0], before, title_before, stage, changed_b)
    draw_design(axes[1], after, title_after, stage, changed_a)
    what = ("changed boxes outlined" if changed_a or changed_b else
            "no box of this block changes: the step changes the network around it "
            "(diagram --overview) or how it is trained")
    fig.suptitle(f"{title_before}  \u2192  {title_after}   ({what})", fontsize=11)
    return save_figure(fig, Path(path), formats)


def draw_single(design: Design, title: str, path: str | Path, stage: int = 1,
                formats: tuple[str, ...] = (".png",)) -> list[Path]:
    """One design's stem, downsampling and block."""
    n = len(_keys(design, stage))
    fig, ax = plt.subplots(figsize=(5.5, 0.5 * n + 1.8))
    draw_design(ax, design, title, stage)
    return save_figure(fig, Path(path), formats)


# --- the network level: stem, stages, downsampling layers, head ------------------------------

NETWORK_FIELDS = ("depths", "widths", "stem", "stem_stride", "downsample", "head_norm",
                  "block", "expansion")
"""Design fields the network-level diagram shows (the rest live inside the block)."""
BLOCK_FIELDS = ("groups", "block", "expansion", "spatial_position", "kernel_size",
                "activation", "activation_count", "norm", "norm_count", "layer_scale", "grn")
"""Design fields the block's ops show (``models.plan_text``)."""


def network_parts(design: Design) -> list[tuple[str, str, tuple[str, ...]]]:
    """The network as (slot, text, fields that decide the text): stem, each stage (with its
    separate downsampling layer before it), head, and the first block's ops."""
    from models.blocks import plan_text

    d = design
    norm, act = ("BN" if d.norm == "batch" else "LN"), ("ReLU" if d.activation == "relu"
                                                         else "GELU")
    if d.stem == "resnet":
        stem = f"stem\n7x7 conv /2, {norm}, {act},\nmax-pool /2; 3 -> {d.stem_width}"
    else:
        k = d.stem_stride
        stem = f"stem\n{k}x{k} conv /{k} (patchify),\n{norm}; 3 -> {d.stem_width}"
    parts = [("stem", stem, ("stem", "stem_stride", "widths", "norm", "activation"))]
    stride = 4 if d.stem == "resnet" else d.stem_stride
    for s, plan in enumerate(stage_plan(d)):
        if plan.downsample_in is not None:
            parts.append((f"down{s + 1}", f"downsample\n{norm}, 2x2 conv /2\n"
                                          f"{plan.downsample_in} -> {plan.in_ch}",
                          ("downsample", "norm", "widths", "block", "expansion")))
        if s > 0:
            stride *= 2
        first = " (1st strides)" if plan.stride == 2 else ""
        parts.append((f"stage{s + 1}", f"stage {s + 1}, /{stride}\n{d.depths[s]} blocks{first}"
                                       f"\nwidth {plan.out_ch}",
                      ("depths", "widths", "block", "expansion", "downsample", "stem",
                       "stem_stride")))
    head = "head\navg pool" + (f", {'LN' if d.norm == 'layer' else 'BN'}" if d.head_norm
                                 else "") + ", linear"
    parts.append(("head", head, ("head_norm", "norm")))
    plan = stage_plan(d)[1]
    ops = plan_text(d, block_plan(d, plan.in_ch, plan.out_ch, plan.stride))
    # the stage's first block strides its spatial conv unless downsampling is separate
    parts.append(("block", "block (stage 2)\n" + ops.replace(" -> ", " > "),
                  BLOCK_FIELDS + ("downsample",)))
    return parts


def changed_parts(before: Design, after: Design) -> dict[str, tuple[str | None, str | None]]:
    """slot -> (text before, text after) of every part that differs (None: absent)."""
    a = {slot: text for slot, text, _ in network_parts(before)}
    b = {slot: text for slot, text, _ in network_parts(after)}
    return {slot: (a.get(slot), b.get(slot)) for slot in dict.fromkeys([*a, *b])
            if a.get(slot) != b.get(slot)}


def _first_difference(before: str | None, after: str | None) -> str:
    """The first line of ``before`` that ``after`` does not have (what a part was)."""
    lines = (before or "").split("\n")
    kept = set((after or "").split("\n"))
    return next((line for line in lines[1:] if line not in kept), lines[-1]).strip()


def draw_chain_changes(chain_name: str, path: str | Path, branches: bool = True,
                       formats: tuple[str, ...] = (".png",)) -> list[Path]:
    """Every step of ``chain_name``, one row each: its network (stem, stages with depths and
    widths, downsampling layers, head) and its block's ops, the parts the step changed
    outlined and what they were before written under them. A step that changes no part
    (the recipe, the init) says so."""
    import textwrap

    from models.roadmap import chain, parent_step

    steps = [s for s in chain(chain_name, branches=branches) if s.index >= 0]
    slots = ["stem", "down1", "stage1", "down2", "stage2", "down3", "stage3", "down4",
             "stage4", "head"]
    widths = [1.75 if s.startswith("stage") or s == "stem" else 1.35 for s in slots]
    xs, x = [], 0.0
    for w in widths:
        xs.append(x + w / 2)
        x += w + 0.08
    block_x = x + 1.7
    row_h = 1.25
    fig, ax = plt.subplots(figsize=(25, row_h * len(steps) * 0.82 + 1.0))
    for r, step in enumerate(steps):
        y = -r * row_h
        parent = parent_step(chain_name, step)
        parts = {slot: text for slot, text, _ in network_parts(step.design)}
        changed = changed_parts(parent.design, step.design) if parent else {}
        label = f"{step.index} {step.title}" + ("  (branch)" if step.branch_of else "")
        ax.text(-0.2, y, textwrap.fill(label, 26), ha="right", va="center", fontsize=7.5,
                weight="bold")
        for slot, cx, w in zip(slots, xs, widths):
            if slot not in parts:
                continue
            hit = slot in changed
            _box(ax, (cx, y), (w, 0.78), parts[slot], "down" if slot.startswith("down")
                 else "stem" if slot in ("stem", "head") else "conv", hit, fontsize=6)
            if hit and changed[slot][0] is not None:
                ax.text(cx, y - 0.47, "was: " + _first_difference(*changed[slot]), ha="center",
                        va="top", fontsize=5.5, color="#b45f06")
            elif hit:
                ax.text(cx, y - 0.47, "new", ha="center", va="top", fontsize=5.5,
                        color="#b45f06")
        ops = parts["block"].split("\n", 1)[1]
        hit = "block" in changed
        _box(ax, (block_x + 2.4, y), (5.0, 0.78), "block (stage 2)\n" + textwrap.fill(ops, 70),
             "spatial", hit, fontsize=6)
        if not changed:
            ax.text(block_x + 5.1, y, "no architectural change\n(" + ", ".join(step.changes)
                    + ")", ha="left", va="center", fontsize=6.5, color="#666666")
    ax.set_xlim(-2.8, block_x + 6.8)
    ax.set_ylim(-(len(steps) - 1) * row_h - 0.8, 0.8)
    ax.axis("off")
    ax.set_title(f"{chain_name}: what each step changes (outlined), network and block",
                 fontsize=11)
    return save_figure(fig, Path(path), formats)
