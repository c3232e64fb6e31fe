"""At what scale does the climb appear? The scale study: chosen steps over a grid of run-
preset overrides, one axis at a time from the quick preset, paired seeds.

A *cell* is the quick preset with one field changed (``train_subset`` = training images,
``epochs``, ``width_multiplier``, ``resolution``); its runs are labelled with the study
``scale:<chain>`` and the preset name ``quick+<axis>=<value>`` (the quick preset itself is
the base cell, whose runs are the chain's own). In each cell every step is compared with
the first step (ResNet-50, modern recipe) on the same seeds, so the statistics, verdicts and
store are those of every other study. This module plans the cells and estimates their
cost; ``analysis.scale`` reads them back (the gap per cell, where it changes sign).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from models.roadmap import Step

from ..data.catalog import TRAIN_SIZES
from ..defaults import SCALE_GRID
from ..errors import UserError
from .names import study_id
from ..train.recipe import PAPER_REGULARISATION, SHORT_TRAINING, RunPreset

AXES = {"train_images": "train_subset", "epochs": "epochs", "width": "width_multiplier",
        "resolution": "resolution", "regularisation": "recipe_overrides"}
"""Axis name (as the figure and table say it) -> the run-preset field it sets."""
REGULARISATION = ("off", "paper")
"""Values of the ``regularisation`` axis: the CPU presets' short training (``off``: no
RandAugment, Mixup, CutMix, erasing, padding crop or stochastic depth) or the paper's
(``paper``: ``PAPER_REGULARISATION``)."""
DEFAULT_GRID = SCALE_GRID
"""The committed study's cells besides the base (``defaults.SCALE_GRID``)."""
DEFAULT_STEPS = ("modern-recipe", "trunc-normal-init")
"""ResNet-50 with the modern recipe, and ConvNeXt-T (the chain's last step)."""

Grid = list[dict[str, list[Any]]]
"""Blocks of a grid: each block crosses its axes (every combination of their values is a
cell); a block of one axis is that axis alone, one value at a time, from the base."""


@dataclass(frozen=True)
class Cell:
    """One point of the grid: the base preset with ``settings`` (axis -> value) changed."""

    settings: tuple[tuple[str, Any], ...]
    preset: RunPreset

    @property
    def label(self) -> str:
        return self.preset.name

    @property
    def axis(self) -> str:
        """'base', the one axis changed, or the changed axes joined by ' x '."""
        return " x ".join(a for a, _ in self.settings) or "base"

    @property
    def value(self) -> Any:
        """The one changed value (None for the base; a tuple for a crossed cell)."""
        if not self.settings:
            return None
        return self.settings[0][1] if len(self.settings) == 1 else tuple(v for _, v in self.settings)




def base_value(base: RunPreset, axis: str) -> Any:
    """The base preset's value on ``axis`` (all training images: the data set's size; the
    regularisation the preset's recipe overrides leave on)."""
    if axis == "regularisation":
        return regularisation_of(base)
    v = getattr(base, AXES[axis])
    return TRAIN_SIZES.get(base.dataset, math.nan) if axis == "train_images" and v is None else v


def regularisation_of(preset: RunPreset) -> str:
    """'paper' where the preset's overrides leave the paper's regularisation on, else 'off'."""
    shared = preset.recipe_overrides.get("*", {})
    return "off" if shared.get("mixup", None) == 0.0 and shared.get("auto_augment") == "" else "paper"


def base_of(preset_names: list[str]) -> RunPreset:
    """The run preset a scale study's cells start from (the one name without '+')."""
    from ..train.recipe import run_preset

    names = {n.split("+", 1)[0] for n in preset_names}
    if len(names) != 1:
        raise UserError(f"scale study: cells of several presets ({', '.join(sorted(names))}); "
                        f"allowed: one base preset per results folder")
    return run_preset(names.pop())


def _parse_value(axis: str, text: str, part: str) -> Any:
    text = text.strip()
    if axis == "regularisation":
        if text not in REGULARISATION:
            raise UserError(f"--grid {part!r}: regularisation is one of {', '.join(REGULARISATION)}")
        return text
    try:
        return float(text) if axis == "width" else int(text)
    except ValueError:
        raise UserError(f"--grid {part!r}: values must be numbers "
                        f"({'e.g. 0.25' if axis == 'width' else 'integers'})") from None


def parse_grid(text: str) -> Grid:
    """'train_images=7500,15000;epochs=12' -> [{axis: [values]}, ...]: blocks separated by
    ';', each one axis alone or axes crossed with ' x ' ('regularisation=paper x
    epochs=6,24'); one error line if bad."""
    grid: Grid = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        block: dict[str, list[Any]] = {}
        for term in (t.strip() for t in part.split(" x ")):
            axis, sep, values = term.partition("=")
            axis = axis.strip()
            if not sep or axis not in AXES:
                raise UserError(f"--grid {part!r}: expected AXIS=V1,V2 (crossed with ' x ') "
                                f"with AXIS one of {', '.join(AXES)}")
            if axis in block:
                raise UserError(f"--grid {part!r}: axis {axis} named twice; allowed: each "
                                f"axis once per block")
            parsed = [_parse_value(axis, v, part) for v in values.split(",") if v.strip()]
            if not parsed:
                raise UserError(f"--grid {part!r}: no values")
            block[axis] = parsed
        grid.append(block)
    return grid


def regularised(base: RunPreset) -> dict[str, Any]:
    """``base``'s recipe overrides with the paper's regularisation on
    (``PAPER_REGULARISATION`` replaces the short-training switches of every recipe)."""
    shared = {k: v for k, v in base.recipe_overrides.get("*", {}).items() if k not in SHORT_TRAINING}
    return {**base.recipe_overrides, "*": {**shared, **PAPER_REGULARISATION}}


def _cell(base: RunPreset, settings: dict[str, Any]) -> Cell:
    changed = tuple((a, settings[a]) for a in AXES if a in settings
                    and settings[a] != base_value(base, a))
    label = base.name + "".join(f"+{a}={v:g}" if isinstance(v, float) else f"+{a}={v}"
                                for a, v in changed)
    fields: dict[str, Any] = {}
    for a, v in changed:
        if a == "regularisation":
            fields["recipe_overrides"] = regularised(base) if v == "paper" else {
                **base.recipe_overrides, "*": {**base.recipe_overrides.get("*", {}),
                                               **SHORT_TRAINING}}
        else:
            fields[AXES[a]] = v
    return Cell(changed, base.replace(name=label, **fields) if changed else base)


def cells(base: RunPreset, grid: Grid | dict[str, list[Any]]) -> list[Cell]:
    """The base cell, then every cell of each block (a block of one axis: one cell per
    value; crossed axes: every combination), each once, values equal to the base's left
    out of the label."""
    import itertools

    blocks = [{a: v} for a, v in grid.items()] if isinstance(grid, dict) else grid
    out = {base.name: Cell((), base)}
    for block in blocks:
        axes = list(block)
        for combo in itertools.product(*(block[a] for a in axes)):
            cell = _cell(base, dict(zip(axes, combo)))
            out.setdefault(cell.label, cell)
    return list(out.values())


def cell_of(preset_name: str, base: RunPreset) -> dict[str, Any]:
    """The settings (axis -> value) of a cell's preset name; {} for the base."""
    if preset_name == base.name:
        return {}
    out: dict[str, Any] = {}
    for term in preset_name.removeprefix(f"{base.name}+").split("+"):
        axis, _, value = term.partition("=")
        out[axis] = value if axis == "regularisation" else float(value) if axis == "width" else int(value)
    return out


def plan_scale(chain_name: str, steps: list[Step], base: RunPreset, grid: dict[str, list[Any]],
               seeds: list[int], recipe_changes: dict[str, Any] | None = None,
               seconds_per_run: dict[str, float] | None = None) -> list:
    """The study's runs, cheapest cell first (by ``estimate_seconds``)."""
    from ..run.planned import plan

    study = study_id("scale", chain_name)
    runs = []
    for cell in cells(base, grid):
        runs += plan(study, steps, cell.preset, seeds, recipe_changes)
    est = {id(r): estimate_seconds(r, base, seconds_per_run or {}) for r in runs}
    cell_cost: dict[str, float] = {}
    for r in runs:
        cell_cost[r.preset.name] = cell_cost.get(r.preset.name, 0.0) + est[id(r)]
    return sorted(runs, key=lambda r: (cell_cost[r.preset.name], r.preset.name, r.seed))


def measured_seconds(table: pd.DataFrame, preset_name: str) -> dict[str, float]:
    """Median training seconds per step of the finished runs of ``preset_name`` (the base
    cell) in a results ``table``; what ``estimate_seconds`` scales from."""
    if table.empty:
        return {}
    rows = table[(table.preset == preset_name) & (table.status == "ok")]
    return rows.groupby("step_name").train_seconds.median().to_dict()


def estimate_seconds(run, base: RunPreset, seconds_per_run: dict[str, float],
                     fallback: float = 150.0) -> float:
    """CPU seconds of one run: the step's measured seconds at the base cell (one thread),
    times the cell's ratio of training images x epochs x GFLOPs per image."""
    def work(preset: RunPreset) -> float:
        g = _trained_gflops(run.step.design, preset.width_multiplier, preset.resolution)
        return (preset.train_subset or TRAIN_SIZES.get(preset.dataset, 1)) * preset.epochs * g

    return seconds_per_run.get(run.step.name, fallback) * work(run.preset) / work(base)


@functools.lru_cache(maxsize=256)
def _trained_gflops(design, width: float, resolution: int) -> float:
    from models import costs

    scaled = design.scaled(width) if width != 1 else design
    return costs(scaled.at_resolution(resolution), resolution=resolution, num_classes=10,
                 with_fvcore=False).gflops


def estimate_table(runs: list, base: RunPreset, seconds_per_run: dict[str, float]) -> pd.DataFrame:
    """Estimated CPU minutes per cell (what ``run --study scale`` prints before training)."""
    rows: dict[str, dict[str, Any]] = {}
    for r in runs:
        row = rows.setdefault(r.preset.name, {"cell": r.preset.name, "runs": 0, "cpu_minutes": 0.0})
        row["runs"] += 1
        row["cpu_minutes"] += estimate_seconds(r, base, seconds_per_run) / 60
    table = pd.DataFrame(list(rows.values()))
    table["cpu_minutes"] = table.cpu_minutes.round(1)
    return table


__all__ = ["AXES", "REGULARISATION", "DEFAULT_GRID", "DEFAULT_STEPS", "Cell", "Grid", "cells",
           "parse_grid", "regularised", "regularisation_of",
           "plan_scale", "measured_seconds", "estimate_seconds", "estimate_table",
           "cell_of", "base_value"]
