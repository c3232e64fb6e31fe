"""What a plan costs before it runs: GPU-hours per run from measured images/s (``run --plan``).

Rates come from the H100 bench table's training rows for the step (``results/bench_h100.csv``:
not compiled, channels-last, the recipe's precision: bf16, or fp32 with TF32 as the ``paper``
preset trains); a step without one takes the rate of the nearest measured step of its chain
scaled by their GFLOPs; another GPU takes the H100's rates scaled by the ratio of published
ResNet-50 mixed-precision training rates (``GPU_ANCHORS``), assumed the same at fp32. A
preset's other resolution or width scales by GFLOPs too. Evaluation runs every epoch at
``EVAL_SPEEDUP`` times the training rate (forward only). GPUs are assumed to scale linearly:
measure the loader with ``bench-data`` before trusting a wall-clock figure.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .costs import costs  # counted once per machine (cached)

from ..errors import UserError

EVAL_SPEEDUP = 3.0
"""Evaluation images/s over training images/s (a forward pass against forward + backward)."""

REFERENCE_GPU = "h100"
"""The GPU whose training rows were measured here (``results/bench_h100.csv``)."""

GPU_ANCHORS: dict[str, tuple[float | None, str]] = {
    "v100": (1200.0, "ResNet-50 AMP training, NVIDIA DeepLearningExamples ResNet-50 v1.5 README"),
    "a100": (2470.0, "ResNet-50 AMP training, NVIDIA DeepLearningExamples ResNet-50 v1.5 README"),
    "h100": (None, "measured here (results/bench_h100.csv)"),
    "h200": (None, "no training rows: taken as the H100's (the same GH100 compute; only its "
                   "memory is larger and faster)"),
}
"""ResNet-50 training images/s at 224 per GPU kind, with its source; None: measured here."""

DATASET_IMAGES = {"imagefolder": (1_281_167, 50_000), "fashion-mnist": (60_000, 10_000),
                  "cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000),
                  "synthetic": (2_000, 500)}
"""(training, evaluation) images per data set; image folders: ImageNet-1K's unless counted."""


@dataclass(frozen=True)
class Target:
    """The GPUs a plan is priced on: a kind (``GPU_ANCHORS``) and how many."""

    gpu: str
    count: int

    @property
    def label(self) -> str:
        return f"{self.count} x {self.gpu.upper()}"


def parse_target(text: str) -> Target:
    """``'a100x8'`` -> ``Target('a100', 8)`` (``'h200'``: one); one ``UserError`` line else."""
    gpu, x, count = text.lower().partition("x")
    allowed = f"GPU[xN] with GPU one of {', '.join(GPU_ANCHORS)}, e.g. a100x8 or h200"
    if gpu not in GPU_ANCHORS or (x and (not count.isascii() or not count.isdigit()
                                         or int(count) < 1)):
        raise UserError(f"--plan {text!r}; allowed: {allowed}")
    return Target(gpu, int(count or 1))


def bench_rows(gpu: str, results: Path, bf16: bool = True) -> pd.DataFrame:
    """The uncompiled training rows of the chain's steps as trained (not the plain-conv
    variants) in ``results/bench_<gpu>.csv``, at bf16 or fp32 (empty if none)."""
    path = results / f"bench_{gpu}.csv"
    if not path.exists():
        return pd.DataFrame(columns=["step_name", "gflops", "images_per_s"])
    df = pd.read_csv(path)
    keep = ((df["mode"] == "train") & (df.dtype == ("bfloat16" if bf16 else "float32"))
            & (~df["compile"].astype(bool)) & (~df.plain_convs.astype(bool)))
    return df[keep & df.step_name.notna()]


def reference_rates(results: Path, bf16: bool = True) -> tuple[dict[str, float], dict[str, float]]:
    """(images/s, GFLOPs) per measured step of the reference GPU (mean over its rows)."""
    rows = bench_rows(REFERENCE_GPU, results, bf16)
    grouped = rows.groupby("step_name")
    return grouped.images_per_s.mean().to_dict(), grouped.gflops.first().to_dict()


def gpu_factor(gpu: str, reference: dict[str, float]) -> tuple[float, str]:
    """How fast ``gpu`` trains against the reference GPU, and why we think so."""
    anchor, source = GPU_ANCHORS[gpu]
    if anchor is None:
        return 1.0, source
    measured = reference.get("modern-recipe")
    if measured is None:
        raise UserError(f"no measured ResNet-50 training rate in results/bench_"
                        f"{REFERENCE_GPU}.csv to scale {gpu} from; allowed: {REFERENCE_GPU}")
    return anchor / measured, f"{source}: {anchor:.0f} vs {measured:.0f} images/s measured"


def step_rate(step_name: str, chain_names: list[str], gflops_224: float,
              rates: dict[str, float], flops: dict[str, float]) -> tuple[float, str]:
    """The reference GPU's training images/s for a full-width step at 224 px: measured, or
    the nearest measured step's (by chain position) scaled by GFLOPs."""
    if step_name in rates:
        return rates[step_name], f"measured ({REFERENCE_GPU.upper()})"
    if not rates:
        raise UserError(f"no training rows in results/bench_{REFERENCE_GPU}.csv; allowed: a "
                        "results folder with the bench table (python -m ablations bench)")
    here = chain_names.index(step_name) if step_name in chain_names else 0
    nearest = min(rates, key=lambda n: abs((chain_names.index(n) if n in chain_names
                                            else 0) - here))
    return (rates[nearest] * flops[nearest] / gflops_224,
            f"{nearest} x {flops[nearest]:.2f}/{gflops_224:.2f} GFLOPs")


def count_images(data_dir: str | None, dataset: str, subset: int | None) -> tuple[int, int, str]:
    """(training, evaluation) images, and where the numbers come from."""
    if dataset == "imagefolder" and data_dir and Path(data_dir, "train").is_dir():
        n = [sum(len(os.listdir(c)) for c in Path(data_dir, split).iterdir() if c.is_dir())
             for split in ("train", "val")]
        return n[0], n[1], f"counted in {data_dir}"
    train, val = DATASET_IMAGES[dataset]
    if subset:
        train = min(train, subset)
    name = "ImageNet-1K" if dataset == "imagefolder" else dataset
    return train, val, f"{name}'s sizes"


@functools.lru_cache(maxsize=256)
def _gflops(design: Any, resolution: int) -> float:
    """GFLOPs of ``design`` at ``resolution`` (seeds and the evaluation share designs)."""
    return costs(design, resolution=resolution, with_fvcore=False).gflops


def plan_costs(runs: list[Any], target: Target, results: Path, chain_name: str,
               data_dir: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One row per run (``runner.PlannedRun``) of chain ``chain_name`` in the suggested
    order (the chain's two ends first), with its images/s per GPU, GPU-hours and wall-clock
    hours on ``target``; and the notes that say where every number comes from."""
    from models.roadmap import chain

    if not runs:
        raise UserError("--plan: nothing to plan; allowed: at least one step")
    preset = runs[0].preset
    if preset.dataset != "imagefolder" or preset.width_multiplier != 1:
        raise UserError(f"--plan prices GPU presets (image folders at full width); preset "
                        f"{preset.name!r} is not one (its runs' CPU minutes are in its results "
                        "table); allowed: paper, a3")
    bf16 = runs[0].recipe.bf16
    rates, flops = reference_rates(results, bf16)
    factor, why = gpu_factor(target.gpu, reference_rates(results, True)[0])
    train_images, val_images, counted = count_images(data_dir, preset.dataset,
                                                     preset.train_subset)
    eval_res = runs[0].data.test_resolution
    names = [s.name for s in chain(chain_name)]
    main = [s.name for s in chain(chain_name) if s.index >= 0]
    ends = (main[0], main[-1])
    rows = []
    for r in runs:
        g224 = _gflops(r.step.design, 224)  # the rate is measured at full width and 224 px
        base, source = step_rate(r.step.name, names, g224, rates, flops)
        g_train, g_eval = _gflops(r.design, preset.resolution), _gflops(r.design, eval_res)
        rate = base * factor * g224 / g_train
        seconds = (train_images * r.recipe.epochs / rate
                   + val_images * r.recipe.epochs / (EVAL_SPEEDUP * base * factor * g224 / g_eval))
        if factor != 1.0:  # the reference GPU's rate, scaled to this one
            source = f"{source}; x {factor:.2f}"
        rows.append({"step": r.step.index, "step_name": r.step.name, "seed": r.seed,
                     "epochs": r.recipe.epochs, "train_gflops": round(g_train, 3),
                     "images_per_s_per_gpu": round(rate), "rate_from": source,
                     "gpu_hours": seconds / 3600, "wall_hours": seconds / 3600 / target.count})
    df = pd.DataFrame(rows)
    df["order"] = [0 if n in ends else 1 for n in df.step_name]
    df = df.sort_values(["order", "seed", "step"], kind="stable").drop(columns="order")
    notes = [f"GPU: {target.label}; speed against the {REFERENCE_GPU.upper()} x {factor:.2f} "
             f"({why}; the same ratio assumed at fp32)" if factor != 1.0 else
             f"GPU: {target.label} ({why})",
             f"precision: {'bf16' if bf16 else 'fp32 with TF32'} as the recipe trains "
             f"(H100 rows of that precision)",
             f"images per epoch: {train_images:,} training, {val_images:,} evaluation "
             f"({counted}); evaluation at {EVAL_SPEEDUP:g}x the training rate",
             f"training at {preset.resolution} px, evaluation at {eval_res} px; rates scale "
             "by GFLOPs from full width at 224 px (which overrates the depthwise steps, "
             "memory-bound on GPUs); GPUs assumed to scale linearly"]
    return df.reset_index(drop=True), notes


def format_plan(df: pd.DataFrame, notes: list[str], target: Target, chain_name: str) -> str:
    """The plan as text: the table, the cost of the chain's two ends, the total."""
    from models.roadmap import chain

    main = [s.name for s in chain(chain_name) if s.index >= 0]
    ends = df[df.step_name.isin([main[0], main[-1]])]
    shown = df.assign(gpu_hours=df.gpu_hours.map(lambda v: f"{v:,.1f}"),
                      wall_hours=df.wall_hours.map(lambda v: f"{v:,.1f}"))
    total_gpu, total_wall = df.gpu_hours.sum(), df.wall_hours.sum()
    lines = [shown.to_string(index=False), "", *[f"note: {n}" for n in notes], ""]
    if len(ends) and len(ends) < len(df):
        lines.append(f"first the two ends ({', '.join(dict.fromkeys(ends.step_name))}): "
                     f"{ends.gpu_hours.sum():,.0f} GPU-hours, {ends.wall_hours.sum():,.1f} h "
                     f"on {target.label}: whether ConvNeXt-T beats the modern ResNet-50 on "
                     "your data before paying for the rest")
    lines.append(f"total: {total_gpu:,.0f} GPU-hours, {total_wall:,.1f} h = "
                 f"{total_wall / 24:,.1f} days on {target.label}")
    return "\n".join(lines)


__all__ = ["EVAL_SPEEDUP", "GPU_ANCHORS", "Target", "format_plan", "parse_target",
           "plan_costs"]
