"""ConvNeXt V2's co-design study as a study of the toolkit: FCMAE pretraining x block design.

Cells (``CELLS``), each a classifier trained on labels, some after FCMAE pretraining:

- V1 and V2 blocks, each supervised from scratch and FCMAE-pretrained then fine-tuned (the
  paper's Table 3);
- GRN dropped at fine-tuning (pretrained V2, fine-tuned without GRN) and added only at
  fine-tuning (pretrained V1, fine-tuned with GRN) (Table 2f);
- V1 pretrained without masked convolutions in the encoder (the leakage baseline, Sec. 3).

The paper's numbers are ConvNeXt-B's (800 pretraining epochs); the toolkit's base model is
ConvNeXt(-V2)-Atto's depths at a preset's widths. Supervised cells train with the
fine-tuning recipe from a fresh init and no layer-wise lr decay, so that a pair differs in
its start (pretrained or not), not in its schedule. A fine-tuned run's hash holds its
pretraining run's; pretraining runs are shared by the cells that start from them and are
trained first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import Design, named_design
from models.roadmap import Step

from ..run.planned import PlannedRun, check_schedule, plan
from ..train.recipe import apply_recipe
from ..train.recipe import RunPreset, recipe as named_recipe
from .names import study_id

BASE = "convnextv2_atto"
"""The named model whose depths and width the study runs at (scaled by the preset)."""
PRETRAIN_RECIPE = "fcmae-pretrain"
FINETUNE_RECIPE = "fcmae-finetune-atto"
SOURCE = "ConvNeXt V2 (arXiv 2301.00808), ConvNeXt-B, 800-epoch FCMAE"


def v2_design(base: str = BASE) -> Design:
    """ConvNeXt V2 at ``base``'s depths and widths: GRN, no layer scale."""
    return named_design(base)


def v1_design(base: str = BASE) -> Design:
    """ConvNeXt V1 at the same depths and widths: layer scale 1e-6, no GRN."""
    return named_design(base).replace(grn=False, layer_scale=1e-6)


@dataclass(frozen=True)
class Pretraining:
    """What a cell is pretrained as: its encoder's design and whether masking is on."""

    name: str
    design: Design
    encoder_masking: bool = True


@dataclass(frozen=True)
class Cell:
    """One cell: the classifier's design, its pretraining (None: from scratch), the
    paper's top-1 for ConvNeXt-B."""

    name: str
    title: str
    design: Design
    pretraining: Pretraining | None
    paper_top1: float
    source: str


def cells(base: str = BASE) -> list[Cell]:
    """The cells of the study, cheapest (no pretraining) first."""
    v1, v2 = v1_design(base), v2_design(base)
    pt_v1, pt_v2 = Pretraining("pretrain-v1", v1), Pretraining("pretrain-v2", v2)
    pt_leak = Pretraining("pretrain-v1-no-masking", v1, encoder_masking=False)
    return [
        Cell("v1-supervised", "V1, supervised", v1, None, 83.8, "Table 3 (V1 S)"),
        Cell("v2-supervised", "V2, supervised", v2, None, 84.3, "Table 3 (V2 S)"),
        Cell("v1-fcmae", "V1, FCMAE + fine-tune", v1, pt_v1, 83.7, "Table 3 (V1 F)"),
        Cell("v2-fcmae", "V2, FCMAE + fine-tune", v2, pt_v2, 84.6, "Table 3 (V2 F)"),
        Cell("v2-fcmae-grn-dropped-at-ft", "V2 pretrained, GRN dropped at fine-tuning",
             v2.replace(grn=False), pt_v2, 78.8, "Table 2f (drop at ft.)"),
        Cell("v1-fcmae-grn-added-at-ft", "V1 pretrained, GRN added at fine-tuning",
             v1.replace(grn=True), pt_v1, 80.6, "Table 2f (add at ft.)"),
        Cell("v1-fcmae-no-masking", "V1, FCMAE without masked convs (leakage)", v1, pt_leak,
             79.3, "Sec. 3 (w/o sparse conv.)"),
    ]


COMPARISONS: tuple[tuple[str, str, str], ...] = (
    # (treatment, control, what the difference says)
    ("v1-fcmae", "v1-supervised", "FCMAE on V1 (paper: no gain)"),
    ("v2-fcmae", "v2-supervised", "FCMAE on V2 (paper: gain)"),
    ("v2-supervised", "v1-supervised", "GRN block, supervised"),
    ("v2-fcmae", "v1-fcmae", "GRN block, with FCMAE (co-design)"),
    ("v2-fcmae-grn-dropped-at-ft", "v2-fcmae", "GRN dropped at fine-tuning"),
    ("v1-fcmae-grn-added-at-ft", "v1-fcmae", "GRN added only at fine-tuning"),
    ("v1-fcmae-no-masking", "v1-fcmae", "no masked convs (leakage)"),
)
"""The study's paired comparisons, in order."""


def study_label(base: str = BASE) -> str:
    """The study's id in the store: ``fcmae:<base model>``."""
    return study_id("fcmae", base)


def steps(base: str = BASE) -> list[Step]:
    """The cells as steps (index, name, design, the paper's top-1), for tables and stats."""
    return [Step(i, c.name, c.title, "fcmae", c.design, FINETUNE_RECIPE,
                 ("pretrained",) if c.pretraining else (), c.paper_top1, None, None,
                 f"{SOURCE}: {c.source}") for i, c in enumerate(cells(base))]


def stem_stride_for(resolution: int) -> int:
    """The patchify stem's stride that keeps at least a 4 x 4 mask grid: the paper's 4 at
    224 px (7 x 7), 2 at 64 px, 1 at 32 px (both 4 x 4)."""
    for stride in (4, 2, 1):
        if resolution // (8 * stride) >= 4:
            return stride
    return 1


def plan_fcmae(study_steps: list[Step], preset: RunPreset, seeds: list[int],
               recipe_changes: dict[str, Any] | None = None,
               base: str = BASE) -> list[PlannedRun]:
    """The runs of the cells named by ``study_steps`` x ``seeds``, cell by cell (cheapest
    first; within a cell its pretraining runs first), each fine-tuning run chained to its
    pretraining run of the same seed."""
    by_name = {c.name: c for c in cells(base)}
    stride = stem_stride_for(preset.resolution)
    label = study_label(base)
    changes = recipe_changes or {}
    pretrained: dict[tuple[str, int], PlannedRun] = {}
    runs: list[PlannedRun] = []
    for step in study_steps:
        cell = by_name[step.name]
        if cell.pretraining is not None:
            pt = cell.pretraining
            pt_step = Step(100 + len(pretrained), pt.name, f"FCMAE pretraining ({pt.name})",
                           "fcmae", pt.design, PRETRAIN_RECIPE, (), None, None, None, SOURCE)
            for seed in seeds:
                if (pt.name, seed) in pretrained:
                    continue
                r = preset.scale_recipe(named_recipe(PRETRAIN_RECIPE)).replace(
                    encoder_masking=pt.encoder_masking)
                run = _planned(label, pt_step, seed, r, preset, stride)
                pretrained[(pt.name, seed)] = run
                runs.append(run)
        finetune = preset.scale_recipe(named_recipe(FINETUNE_RECIPE))
        if cell.pretraining is None:  # from scratch: the same recipe, no layer decay
            finetune = finetune.replace(layer_decay=1.0)
        finetune = finetune.replace(**changes) if changes else finetune
        for seed in seeds:
            start = None if cell.pretraining is None else pretrained[(cell.pretraining.name,
                                                                      seed)]
            run = _planned(label, step, seed, finetune, preset, stride)
            runs.append(PlannedRun(run.study, run.step, run.seed, run.design, run.recipe,
                                   run.data, run.preset, start))
    return runs


def _planned(label: str, step: Step, seed: int, recipe: Any, preset: RunPreset,
             stride: int) -> PlannedRun:
    # runner.plan at the preset's scale, then the stem stride of the resolution.
    run = plan(label, [step], preset, [seed])[0]
    check_schedule(recipe)
    design = apply_recipe(run.design.replace(stem_stride=stride), recipe)
    return PlannedRun(label, step, seed, design, recipe, run.data, preset)


def comparison_titles() -> dict[tuple[str, str], str]:
    """(treatment, control) -> what the difference says."""
    return {(t, c): what for t, c, what in COMPARISONS}


def step_seconds(run: PlannedRun, batch: int | None = None, repeats: int = 2) -> float:
    """Measured seconds of one training step of ``run``'s model at its batch size on this
    machine (random images of its resolution; the fastest of ``repeats`` after a warm-up)."""
    import time

    import torch
    import torch.nn.functional as F

    from ..train.loop import build_for
    from ..train.optim import make_optimizer

    n = batch or run.recipe.batch_size
    classes = 100 if run.data.dataset == "cifar100" else 10
    x = torch.randn(n, run.data.channels, run.data.resolution, run.data.resolution)
    y = torch.randint(0, classes, (n,))
    with torch.random.fork_rng():
        model = build_for(run.design, run.recipe, classes, run.data.channels)
        opt = make_optimizer(model, run.recipe)
        best = float("inf")
        for i in range(repeats + 1):
            t0 = time.perf_counter()
            out = model(x)
            loss = out if run.pretraining else F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i:
                best = min(best, time.perf_counter() - t0)
    return best


def estimate_table(runs: list[PlannedRun], train_images: int) -> "Any":
    """Estimated CPU minutes per cell and per pretraining run, before anything trains: the
    measured seconds of one step (``step_seconds``, per distinct model) x steps per epoch x
    epochs (training only; evaluation adds about a tenth). Cheapest first, as planned."""
    import pandas as pd

    timed: dict[tuple, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    for r in runs:
        key = (r.design, r.pretraining, r.recipe.batch_size, r.recipe.decoder_width)
        if key not in timed:
            timed[key] = step_seconds(r)
        minutes = timed[key] * (train_images // r.recipe.batch_size) * r.recipe.epochs / 60
        row = rows.setdefault(r.step.name, {"cell": r.step.name, "runs": 0, "cpu_minutes": 0.0,
                                            "starts_from": r.pretrain.step.name
                                            if r.pretrain else ""})
        row["runs"] += 1
        row["cpu_minutes"] += minutes
    table = pd.DataFrame(list(rows.values()))
    table["cpu_minutes"] = table.cpu_minutes.round(1)
    return table
