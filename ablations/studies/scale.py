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

from ..defaults import SCALE_GRID
from ..errors import UserError
from .names import study_id
from ..train.recipe import RunPreset

AXES = {"train_images": "train_subset", "epochs": "epochs", "width": "width_multiplier",
        "resolution": "resolution"}
"""Axis name (as the figure and table say it) -> the run-preset field it sets."""
DEFAULT_GRID = SCALE_GRID
"""The committed study's cells besides the base (``defaults.SCALE_GRID``)."""
DEFAULT_STEPS = ("modern-recipe", "trunc-normal-init")
"""ResNet-50 with the modern recipe, and ConvNeXt-T (the chain's last step)."""


@dataclass(frozen=True)
class Cell:
    """One point of the grid: the base preset with ``axis`` set to ``value``."""

    axis: str
    value: Any
    preset: RunPreset

    @property
    def label(self) -> str:
        return self.preset.name


TRAIN_SIZES = {"fashion-mnist": 60000, "cifar10": 50000, "cifar100": 50000, "synthetic": 512}
"""Training images of the in-memory data sets (what ``train_subset=None`` means)."""


def base_value(base: RunPreset, axis: str) -> Any:
    """The base preset's value on ``axis`` (all training images: the data set's size)."""
    v = getattr(base, AXES[axis])
    return TRAIN_SIZES.get(base.dataset, math.nan) if axis == "train_images" and v is None else v


def base_of(preset_names: list[str]) -> RunPreset:
    """The run preset a scale study's cells start from (the one name without '+')."""
    from ..train.recipe import run_preset

    names = {n.split("+", 1)[0] for n in preset_names}
    if len(names) != 1:
        raise UserError(f"scale study: cells of several presets ({', '.join(sorted(names))}); "
                        f"allowed: one base preset per results folder")
    return run_preset(names.pop())


def parse_grid(text: str) -> dict[str, list[Any]]:
    """'train_images=7500,15000;epochs=12' -> {axis: [values]} (one error line if bad)."""
    grid: dict[str, list[Any]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        axis, sep, values = part.partition("=")
        axis = axis.strip()
        if not sep or axis not in AXES:
            raise UserError(f"--grid {part!r}: expected AXIS=V1,V2 with AXIS one of "
                            f"{', '.join(AXES)}")
        try:
            parsed = [float(v) if axis == "width" else int(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise UserError(f"--grid {part!r}: values must be numbers "
                            f"({'e.g. 0.25' if axis == 'width' else 'integers'})") from None
        if not parsed:
            raise UserError(f"--grid {part!r}: no values")
        grid[axis] = parsed
    return grid


def cells(base: RunPreset, grid: dict[str, list[Any]]) -> list[Cell]:
    """The base cell, then one cell per (axis, value) that differs from the base."""
    out = [Cell("base", None, base)]
    for axis, values in grid.items():
        for v in values:
            if v == base_value(base, axis):
                continue
            label = f"{base.name}+{axis}={v:g}" if isinstance(v, float) else f"{base.name}+{axis}={v}"
            out.append(Cell(axis, v, base.replace(name=label, **{AXES[axis]: v})))
    return out


def cell_of(preset_name: str, base: RunPreset) -> tuple[str, Any]:
    """(axis, value) of a cell's preset name ('base', None for the base)."""
    if preset_name == base.name:
        return "base", None
    axis, _, value = preset_name.removeprefix(f"{base.name}+").partition("=")
    return axis, float(value) if axis == "width" else int(value)


def plan_scale(chain_name: str, steps: list[Step], base: RunPreset, grid: dict[str, list[Any]],
               seeds: list[int], recipe_changes: dict[str, Any] | None = None,
               seconds_per_run: dict[str, float] | None = None) -> list:
    """The study's runs, cheapest cell first (by ``estimate_seconds``)."""
    from ..run.runner import plan

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


__all__ = ["AXES", "DEFAULT_GRID", "DEFAULT_STEPS", "Cell", "cells", "parse_grid",
           "plan_scale", "measured_seconds", "estimate_seconds", "estimate_table",
           "cell_of", "base_value"]
