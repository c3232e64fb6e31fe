"""A plan: the runs of steps x seeds at a preset's scale (``PlannedRun``, ``plan``) and
where they train (``ExecuteOptions``). Plain values, no torch: planning a study, pricing it
(``run --plan``) and checking it cost no model and no data; ``runner`` trains a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.roadmap import Step

from ..data.catalog import DataSpec, LoaderOptions
from ..errors import UserError
from ..train.recipe import Recipe, RunPreset, apply_recipe, recipe as named_recipe
from . import identity

if TYPE_CHECKING:
    from models.complexity import AnyDesign


def scale_design(design: AnyDesign, multiplier: float) -> AnyDesign:
    """``design`` with every width multiplied (``Design.scaled``; a Transformer keeps its
    head counts, its heads get narrower)."""
    return design if multiplier == 1.0 else design.scaled(multiplier)


@dataclass(frozen=True)
class PlannedRun:
    """One (step, seed) at a preset's scale, with everything that defines it."""

    study: str
    step: Step
    seed: int
    design: AnyDesign
    recipe: Recipe
    data: DataSpec
    preset: RunPreset
    pretrain: "PlannedRun | None" = None
    """The pretraining run (FCMAE) this run starts from; None: a fresh init."""

    @property
    def spec(self) -> dict[str, Any]:
        """What the run's hash is made of (``identity.run_spec``; a fine-tuning run's also
        holds its pretraining run's hash, so it changes with everything that one did)."""
        spec = identity.run_spec(self.design, self.recipe, self.data, self.seed)
        if self.pretrain is not None:
            spec["pretrained"] = self.pretrain.hash
        return spec

    @property
    def pretraining(self) -> bool:
        """A pretraining run: no labels, no test accuracy, no row of the results table."""
        return self.recipe.task != "classify"

    @property
    def hash(self) -> str:
        return identity.config_hash(self.spec)

    @property
    def loader_options(self) -> LoaderOptions:
        """What its loaders take from the recipe: runs that agree share loaded data."""
        return self.recipe.loader_options(self.preset.eval_batch_size, self.seed)

    @property
    def name(self) -> str:
        """'[index] step-name sSEED', as progress bars and messages show it."""
        return f"[{self.step.index}] {self.step.name} s{self.seed}"


def plan(study: str, steps: list[Step], preset: RunPreset, seeds: list[int],
         recipe_changes: dict[str, Any] | None = None) -> list[PlannedRun]:
    """The runs of ``steps`` x ``seeds`` at ``preset``'s scale, seed-major order."""
    spec = DataSpec(preset.dataset, preset.resolution, preset.channels, preset.train_subset,
                    preset.eval_resolution)
    runs = []
    for seed in seeds:
        for step in steps:
            r = preset.scale_recipe(named_recipe(step.recipe))
            if recipe_changes:
                r = r.replace(**recipe_changes)
            check_schedule(r)
            design = apply_recipe(scale_design(step.design, preset.width_multiplier), r)
            design = design.at_resolution(preset.resolution)  # a ViT's size is a field
            if r.task == "fcmae" and hasattr(design, "stem"):  # a ConvNet: refused here, not after the run's folder is made
                from models.fcmae import check_maskable

                check_maskable(design)
            runs.append(PlannedRun(study, step, seed, design, r, spec, preset))
    return runs


def check_schedule(recipe: Recipe) -> None:
    """One ``UserError`` line if the recipe's schedule cannot be what it says: a warmup
    longer than the training (the lr would never leave it)."""
    if recipe.warmup_epochs > recipe.epochs:
        raise UserError(f"recipe.warmup_epochs={recipe.warmup_epochs:g} is more than "
                        f"recipe.epochs={recipe.epochs}; allowed: at most {recipe.epochs}")


@dataclass(frozen=True)
class ExecuteOptions:
    """Where and how a plan runs (the same for every backend)."""

    out: str | Path
    """The results folder."""
    data_dir: str | None = None
    device: str = "cpu"
    progress: bool = True
    retry_failed: bool = False
    """Train runs stored as failed again."""
    batch_per_device: int | None = None
    sync_bn: bool = False
    threads: int | None = None
    """Intra-op threads per process (None: torch's default, all cores)."""
    workers: int | None = None
    """Image-folder loader workers per process (None: ``data.loading.default_workers``)."""


__all__ = ["PlannedRun", "ExecuteOptions", "plan", "scale_design", "check_schedule"]
