"""Training recipes and run presets as data, toggled like the architecture.

A ``Recipe`` says how a model is trained (optimizer, schedule, augmentation, ...). A
``RunPreset`` says at which scale a roadmap is replayed: data set, resolution, width
multiplier, epochs, batch size, and the recipe fields it overrides. One preset applies the
same recipe to every step of a chain (never per-step tuning); only the chain's step -1
("original recipe") names a different recipe, as in the paper.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError

OPTIMIZERS = ("sgd", "adamw")
DATASETS = ("fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic")
"""Data sets a preset can name (loaded by ``ablations.data``)."""
SCHEDULES = ("cosine", "step")


@dataclass(frozen=True)
class Recipe:
    """How to train. Learning rates are given at ``base_batch`` and scaled linearly."""

    name: str = "convnext"
    optimizer: str = "adamw"
    lr: float = 4e-3
    base_batch: int = 4096
    min_lr: float = 1e-6
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.05
    decay_norm_and_bias: bool = False
    """Apply weight decay to 1-d parameters (norms, biases, scales) too."""
    schedule: str = "cosine"
    warmup_epochs: float = 20.0
    step_every: float = 30.0
    """Epochs between step decays (a float, so that short schedules keep their shape)."""
    step_gamma: float = 0.1
    epochs: int = 300
    batch_size: int = 4096
    label_smoothing: float = 0.1
    mixup: float = 0.8
    cutmix: float = 1.0
    randaugment: tuple[int, int] = (2, 9)
    """(number of ops, magnitude); (0, 0) is off. Table 5's rand-m9-mstd0.5."""
    random_erasing: float = 0.25
    crop_padding: int = 0
    """Random-crop padding for in-memory data sets (pixels)."""
    flip: bool = True
    drop_path: float | None = None
    """Stochastic depth rate; None keeps the design's."""
    layer_scale: float | None = None
    """Layer scale init; None keeps the design's."""
    zero_init_residual: bool = True
    """Start each residual branch at zero (the last norm's scale or the last conv), as
    modern ResNet recipes do; designs with layer scale skip it (layer scale does that)."""
    ema: float = 0.0
    """EMA decay of the weights (0 = off; the paper turns it off for the roadmap)."""
    bf16: bool = False
    channels_last: bool = True
    compile: bool = False
    """torch.compile the model for training (same math; pays off on GPUs for long runs)."""
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.betas, list):
            object.__setattr__(self, "betas", tuple(self.betas))
        if isinstance(self.randaugment, list):
            object.__setattr__(self, "randaugment", tuple(self.randaugment))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", "int") and (isinstance(value, bool)
                                                or not isinstance(value, (int, float))):
                raise UserError(f"recipe.{f.name}={value!r}; allowed: a number")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"recipe.optimizer={self.optimizer!r}; allowed: {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"recipe.schedule={self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        for name in ("lr", "epochs", "batch_size", "base_batch"):
            if not getattr(self, name) > 0:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: > 0")
        for name in ("weight_decay", "label_smoothing", "mixup", "cutmix", "random_erasing",
                     "warmup_epochs", "ema", "grad_clip", "min_lr"):
            if getattr(self, name) < 0:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: >= 0")
        if not 0 <= self.random_erasing <= 1 or not 0 <= self.label_smoothing < 1:
            raise UserError("recipe.random_erasing and recipe.label_smoothing must be in [0, 1)")
        if self.ema >= 1:
            raise UserError(f"recipe.ema={self.ema}; allowed: 0 (off) or a decay in (0, 1)")

    @property
    def scaled_lr(self) -> float:
        """Peak learning rate at this recipe's batch size (linear scaling rule)."""
        return self.lr * self.batch_size / self.base_batch

    def replace(self, **changes: Any) -> "Recipe":
        """A copy with ``changes`` (unknown fields raise ``UserError``)."""
        _check_fields(Recipe, changes, "recipe")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for hashing and JSON."""
        d = dataclasses.asdict(self)
        d["betas"], d["randaugment"] = list(self.betas), list(self.randaugment)
        return d


RECIPES: dict[str, Recipe] = {
    # The paper's Table 5 (ImageNet-1K, 300 epochs); EMA off as in the roadmap runs.
    "convnext": Recipe(),
    # torchvision's original ResNet recipe: 90 epochs SGD, lr 0.1 at 256, /10 every 30.
    "resnet-original": Recipe(
        name="resnet-original", optimizer="sgd", lr=0.1, base_batch=256, weight_decay=1e-4,
        decay_norm_and_bias=True, schedule="step", warmup_epochs=0.0, step_every=30.0,
        epochs=90, batch_size=256, label_smoothing=0.0, mixup=0.0, cutmix=0.0,
        randaugment=(0, 0), random_erasing=0.0, drop_path=0.0, zero_init_residual=False,
    ),
}


def recipe(name: str) -> Recipe:
    """The named recipe."""
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"recipe {name!r} is unknown; allowed: {', '.join(RECIPES)}") from None


@dataclass(frozen=True)
class RunPreset:
    """The scale at which a chain is replayed, applied identically to every step."""

    name: str
    dataset: str
    resolution: int
    channels: int
    width_multiplier: float
    epochs: int
    batch_size: int
    train_subset: int | None = None
    """Train on a fixed class-balanced subset of this size (None = all)."""
    recipe_overrides: dict[str, Any] = field(default_factory=dict)
    """Recipe fields set for every recipe at this scale (e.g. lr for short schedules)."""
    eval_batch_size: int = 1024
    description: str = ""

    def __post_init__(self) -> None:
        def bad(name: str, allowed: str) -> UserError:
            return UserError(f"preset.{name}={getattr(self, name)!r}; allowed: {allowed}")

        if self.dataset not in DATASETS:
            raise bad("dataset", ", ".join(DATASETS))
        for name in ("resolution", "epochs", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(name, "an integer >= 1")
        if self.resolution < 32:
            raise bad("resolution", "an integer >= 32 (five stride-2 stages)")
        if self.channels not in (1, 3):
            raise bad("channels", "1 or 3")
        w = self.width_multiplier
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 4:
            raise bad("width_multiplier", "a number in (0, 4]")
        if self.train_subset is not None and (
                isinstance(self.train_subset, bool) or not isinstance(self.train_subset, int)
                or self.train_subset < 1):
            raise bad("train_subset", "null (all) or an integer >= 1")
        if not isinstance(self.recipe_overrides, dict):
            raise bad("recipe_overrides", "a mapping of recipe name to field overrides")

    def scale_recipe(self, base: Recipe) -> Recipe:
        """``base`` at this preset's scale: epochs, batch, warmup and step decay rescaled."""
        ratio = self.epochs / base.epochs
        changes: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "warmup_epochs": base.warmup_epochs * ratio,
        }
        if base.schedule == "step":
            changes["step_every"] = base.step_every * ratio
        changes.update(self.recipe_overrides.get("*", {}))
        changes.update(self.recipe_overrides.get(base.name, {}))
        return base.replace(**changes)

    def replace(self, **changes: Any) -> "RunPreset":
        """A copy with ``changes`` (unknown fields raise ``UserError``)."""
        _check_fields(RunPreset, changes, "preset")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dataclasses.asdict(self)


RUN_PRESETS: dict[str, RunPreset] = {
    "smoke": RunPreset(
        name="smoke", dataset="synthetic", resolution=32, channels=1, width_multiplier=1 / 16,
        epochs=2, batch_size=32, eval_batch_size=256,
        recipe_overrides={"*": {"lr": 2e-3, "base_batch": 32, "randaugment": (0, 0),
                                "random_erasing": 0.0, "mixup": 0.0, "cutmix": 0.0},
                          "resnet-original": {"lr": 0.05, "base_batch": 32}},
        description="seconds; synthetic data; for tests",
    ),
    # Chosen from the measured frontier in results/frontier/ (accuracy vs CPU minutes on
    # steps 0, 3 and 12): all 60k training images help most, then optimizer steps (batch
    # 128 beats 512 at equal epochs); 6 epochs keep one seed of the chain within ~20 min.
    "quick": RunPreset(
        name="quick", dataset="fashion-mnist", resolution=32, channels=3,
        width_multiplier=1 / 8, epochs=6, batch_size=128, train_subset=None,
        recipe_overrides={
            # Short training underfits: no heavy augmentation, no stochastic depth.
            "*": {"randaugment": (0, 0), "random_erasing": 0.0, "mixup": 0.0, "cutmix": 0.0,
                  "crop_padding": 0, "drop_path": 0.0},
            "convnext": {"lr": 4e-3, "base_batch": 128},
            "resnet-original": {"lr": 0.1, "base_batch": 256},
        },
        description="real Fashion-MNIST at 32 px (grey repeated to 3 channels), widths / 8, "
                    "all 60k training images, 6 epochs, flips; AdamW lr 4e-3 at batch 128 "
                    "(SGD 0.05 for the original recipe)",
    ),
    "paper": RunPreset(
        name="paper", dataset="imagefolder", resolution=224, channels=3, width_multiplier=1.0,
        epochs=300, batch_size=4096, eval_batch_size=256,
        recipe_overrides={"resnet-original": {"epochs": 90, "batch_size": 256,
                                              "step_every": 30.0}},
        description="ImageNet-1K at 224 with the paper's recipe (needs GPUs: see README)",
    ),
}


def run_preset(name: str) -> RunPreset:
    """The named run preset."""
    try:
        return RUN_PRESETS[name]
    except KeyError:
        raise UserError(f"run preset {name!r} is unknown; allowed: {', '.join(RUN_PRESETS)}") from None


def _check_fields(cls: type, changes: dict[str, Any], what: str) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise UserError(f"{what}: unknown field(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(sorted(names))}")
