"""Training recipes and run presets as data, toggled like the architecture.

A ``Recipe`` says how a model is trained (optimizer, schedule, augmentation, ...). A
``RunPreset`` says at which scale a roadmap is replayed: data set, resolution, width
multiplier, epochs, batch size, and the recipe fields it overrides. One preset applies the
same recipe to every step of a chain (never per-step tuning); only the chain's step -1
("original recipe") names a different recipe, as in the paper.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.design import Design

from ..data.catalog import DATASETS, LoaderOptions
from ..errors import UserError

if TYPE_CHECKING:
    from models.complexity import AnyDesign

OPTIMIZERS = ("sgd", "adamw")
TASKS = ("classify", "fcmae")
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
    """Mixup's Beta alpha (0 = off): ``timm.data.Mixup(mixup_alpha=...)``, on each batch."""
    cutmix: float = 1.0
    """CutMix's Beta alpha (0 = off)."""
    mixup_prob: float = 1.0
    """Probability that a batch is mixed at all (timm's ``prob``)."""
    mixup_switch_prob: float = 0.5
    """Probability of CutMix instead of Mixup when both are on (timm's ``switch_prob``)."""
    mixup_mode: str = "batch"
    """One mix per batch, pair or element (timm's ``mode``)."""
    mix_batch: int = 0
    """Images per Mixup / CutMix draw (lambda, and Mixup or CutMix): the official code draws
    once per 128-image GPU batch, 32 times per 4096-image step (the ``paper`` preset sets
    128); 0: once per micro-batch as it reaches the step."""
    auto_augment: str = "rand-m9-mstd0.5-inc1"  # = PAPER_POLICY
    """timm's augmentation policy string (Table 5: RandAugment m9, mstd 0.5, increasing
    ops); "" is off. Applied per image, before mixing."""
    color_jitter: float = 0.4
    """Image folders only (timm's ``create_transform``, which skips it when
    ``auto_augment`` is on, as the official code's arguments do)."""
    train_interpolation: str = "bicubic"
    """Image folders only: RandomResizedCrop's interpolation."""
    crop_pct: float = 0.875
    """Image folders only: evaluation resizes to resolution / crop_pct, then crops."""
    random_erasing: float = 0.25
    """Probability of erasing a rectangle per image (timm's ``re_prob``), before mixing."""
    re_mode: str = "pixel"
    """What fills an erased rectangle: per-pixel normal noise (pixel), per-channel (rand)
    or zeros (const); timm's ``re_mode``."""
    re_count: int = 1
    """Rectangles erased per image (timm's ``re_count``)."""
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
    layer_decay: float = 1.0
    """Layer-wise lr decay (ConvNeXt V2 fine-tuning, 'single' rule): block k of the network
    (stem 1, each downsampling layer and block one more) trains at lr * d^(blocks + 1 - k),
    the head at lr; 1 = off."""
    task: str = "classify"
    """'classify' (cross-entropy on labels) or 'fcmae' (masked-autoencoder pretraining:
    ``models.fcmae``; no labels, no test accuracy)."""
    mask_ratio: float = 0.6
    """FCMAE: share of the last stage's grid cells masked per image."""
    decoder_width: int = 512
    """FCMAE: channels of the decoder (the official 512 at ConvNeXt-B)."""
    norm_pix_loss: bool = True
    """FCMAE: each target patch normalised by its own mean and variance."""
    encoder_masking: bool = True
    """FCMAE: masked convolutions in the encoder; False is the leakage baseline (the encoder
    sees the whole image, the mask only places mask tokens and the loss)."""
    random_resized_crop: float = 0.0
    """In-memory data sets: RandomResizedCrop's smallest area share per image (0 = off;
    FCMAE pretraining uses 0.2), on the device before erasing and mixing."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _checked(f.name, f.type, getattr(self, f.name)))
        for name, allowed in (("mixup_mode", MIXUP_MODES), ("re_mode", ERASE_MODES),
                              ("train_interpolation", INTERPOLATIONS)):
            if getattr(self, name) not in allowed:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: "
                                f"{', '.join(allowed)}")
        _check_policy(self.auto_augment)
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"recipe.optimizer={self.optimizer!r}; allowed: {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"recipe.schedule={self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        for name in ("lr", "epochs", "batch_size", "base_batch"):
            if not getattr(self, name) > 0:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: > 0")
        for name in ("weight_decay", "label_smoothing", "mixup", "cutmix", "random_erasing",
                     "warmup_epochs", "ema", "grad_clip", "min_lr", "mix_batch"):
            if getattr(self, name) < 0:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: >= 0")
        if not 0 <= self.random_erasing <= 1 or not 0 <= self.label_smoothing < 1:
            raise UserError(f"recipe.random_erasing={self.random_erasing!r}, recipe.label_smoothing="
                            f"{self.label_smoothing!r}; allowed: random_erasing in [0, 1], "
                            "label_smoothing in [0, 1)")
        for name in ("mixup_prob", "mixup_switch_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: in [0, 1]")
        if not 0 < self.crop_pct <= 1:
            raise UserError(f"recipe.crop_pct={self.crop_pct!r}; allowed: in (0, 1]")
        if self.re_count < 1:
            raise UserError(f"recipe.re_count={self.re_count!r}; allowed: an integer >= 1")
        if self.ema >= 1:
            raise UserError(f"recipe.ema={self.ema}; allowed: 0 (off) or a decay in (0, 1)")
        if self.task not in TASKS:
            raise UserError(f"recipe.task={self.task!r}; allowed: {', '.join(TASKS)}")
        for name in ("layer_decay", "mask_ratio"):
            if not 0 < getattr(self, name) <= 1 or (name == "mask_ratio" and self.mask_ratio == 1):
                raise UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: in (0, 1"
                                f"{')' if name == 'mask_ratio' else ']'}")
        if not 0 <= self.random_resized_crop < 1:
            raise UserError(f"recipe.random_resized_crop={self.random_resized_crop!r}; "
                            "allowed: 0 (off) or a smallest area share in (0, 1)")
        if self.decoder_width < 2:
            raise UserError(f"recipe.decoder_width={self.decoder_width!r}; allowed: >= 2")
        self._check_bounds()

    def _check_bounds(self) -> None:
        """The fields the checks above leave open: each within what it means."""
        def bad(name: str, allowed: str) -> UserError:
            return UserError(f"recipe.{name}={getattr(self, name)!r}; allowed: {allowed}")

        if not 0 <= self.momentum < 1:
            raise bad("momentum", "in [0, 1)")
        if not all(0 <= b < 1 for b in self.betas):
            raise bad("betas", "two numbers in [0, 1), e.g. [0.9, 0.999]")
        if not self.step_every > 0:
            raise bad("step_every", "> 0 epochs")
        if not 0 < self.step_gamma <= 1:
            raise bad("step_gamma", "in (0, 1]")
        if self.min_lr > self.lr:
            raise bad("min_lr", f"at most recipe.lr={self.lr:g} (the schedule decays to it)")
        if self.color_jitter < 0:
            raise bad("color_jitter", ">= 0")
        if self.crop_padding < 0:
            raise bad("crop_padding", "an integer >= 0 (pixels)")
        if self.drop_path is not None and not 0 <= self.drop_path < 1:
            raise bad("drop_path", "null (the design's) or a rate in [0, 1)")
        if self.layer_scale is not None and self.layer_scale < 0:
            raise bad("layer_scale", "null (the design's), 0 (off) or an initial value > 0")
        if self.mix_batch > self.batch_size or self.mix_batch % 2:
            raise bad("mix_batch", f"0 or an even number at most recipe.batch_size="
                                   f"{self.batch_size} (timm's Mixup pairs images)")

    @property
    def scaled_lr(self) -> float:
        """Peak learning rate at this recipe's batch size (linear scaling rule)."""
        return self.lr * self.batch_size / self.base_batch

    @property
    def mixes(self) -> bool:
        """Whether batches are mixed (Mixup or CutMix on)."""
        return self.mixup_prob > 0 and (self.mixup > 0 or self.cutmix > 0)

    @property
    def augments_per_image(self) -> bool:
        """Whether images get RandAugment or random erasing (per image, before mixing)."""
        return bool(self.auto_augment) or self.random_erasing > 0

    def replace(self, **changes: Any) -> "Recipe":
        """A copy with ``changes`` (unknown fields raise ``UserError``)."""
        if "randaugment" in changes:
            raise UserError("recipe.randaugment was replaced by recipe.auto_augment; allowed: "
                            "a timm policy string such as rand-m9-mstd0.5-inc1, or '' (off)")
        _check_fields(Recipe, changes, "recipe")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    def loader_options(self, eval_batch_size: int, seed: int) -> LoaderOptions:
        """What the data loaders take from this recipe (they read no recipe themselves)."""
        return LoaderOptions(self.batch_size, eval_batch_size, seed, self.crop_padding,
                             self.flip, self.channels_last, self.auto_augment,
                             self.color_jitter, self.train_interpolation, self.crop_pct)


MIXUP_MODES = ("batch", "pair", "elem")
ERASE_MODES = ("pixel", "rand", "const")
INTERPOLATIONS = ("bicubic", "bilinear", "random")

_FORMS = {"float": "a number", "int": "an integer", "bool": "true or false", "str": "a string",
          "float | None": "a number or null", "tuple[float, float]": "two numbers, e.g. [0.9, 0.999]"}


def _checked(name: str, kind: str, value: Any) -> Any:
    """``value`` as field ``name`` of type ``kind`` holds it, or one ``UserError`` line."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    ok = {"float": number(value), "bool": isinstance(value, bool),
          "int": number(value) and float(value).is_integer(), "str": isinstance(value, str),
          "float | None": value is None or number(value),
          "tuple[float, float]": isinstance(value, (list, tuple)) and len(value) == 2
          and all(number(v) for v in value)}.get(kind, True)
    if not ok:
        raise UserError(f"recipe.{name}={value!r}; allowed: {_FORMS[kind]}")
    if kind == "int":
        return int(value)
    return tuple(float(v) for v in value) if kind == "tuple[float, float]" else value


PAPER_POLICY = "rand-m9-mstd0.5-inc1"
"""Table 5's RandAugment as the official code writes it (timm's policy string)."""


@functools.lru_cache(maxsize=32)
def _check_policy(policy: str) -> None:
    """A timm policy string must parse (timm's own parser), or one ``UserError`` line."""
    if policy in ("", PAPER_POLICY):  # known good: no timm (and torch) import for them
        return
    from timm.data.auto_augment import rand_augment_transform

    allowed = "'' (off) or a timm RandAugment policy such as rand-m9-mstd0.5-inc1"
    if not policy.startswith("rand"):
        raise UserError(f"recipe.auto_augment={policy!r}; allowed: {allowed}")
    try:
        rand_augment_transform(policy, {})
    except Exception as e:  # timm's parser raises AssertionError / ValueError / KeyError
        raise UserError(f"recipe.auto_augment={policy!r} ({type(e).__name__}: {e}); "
                        f"allowed: {allowed}") from None
    import re

    for part in policy.split("-")[1:]:  # timm clamps a magnitude above 10: the recipe would lie
        found = re.fullmatch(r"(m|mmax)([0-9.]+)", part)
        key, value = found.groups() if found else ("", "0")
        if found and not 0 <= float(value) <= MAX_MAGNITUDE:
            raise UserError(f"recipe.auto_augment={policy!r}: magnitude {key}{value} is outside "
                            f"timm's range 0 to {MAX_MAGNITUDE:g} (it would clamp it); allowed: "
                            f"{allowed}, magnitude 0 to {MAX_MAGNITUDE:g}")


MAX_MAGNITUDE = 10.0
"""RandAugment's magnitude scale in timm (``_LEVEL_DENOM``): m0 to m10."""


RECIPES: dict[str, Recipe] = {
    # The paper's Table 5 (ImageNet-1K, 300 epochs); EMA off as in the roadmap runs.
    "convnext": Recipe(),
    # torchvision's original ResNet recipe: 90 epochs SGD, lr 0.1 at 256, /10 every 30.
    "resnet-original": Recipe(
        name="resnet-original", optimizer="sgd", lr=0.1, base_batch=256, weight_decay=1e-4,
        decay_norm_and_bias=True, schedule="step", warmup_epochs=0.0, step_every=30.0,
        epochs=90, batch_size=256, label_smoothing=0.0, mixup=0.0, cutmix=0.0,
        auto_augment="", random_erasing=0.0, drop_path=0.0, zero_init_residual=False,
    ),
}


# ConvNeXt V2 (arXiv 2301.00808, Table 8; the official main_pretrain.py): FCMAE pretraining.
RECIPES["fcmae-pretrain"] = Recipe(
    name="fcmae-pretrain", task="fcmae", lr=1.5e-4, base_batch=256, min_lr=0.0,
    betas=(0.9, 0.95), weight_decay=0.05, warmup_epochs=40.0, epochs=800, batch_size=4096,
    label_smoothing=0.0, mixup=0.0, cutmix=0.0, auto_augment="", random_erasing=0.0,
    random_resized_crop=0.2, flip=True, zero_init_residual=False, drop_path=0.0)


# ConvNeXt V2's fine-tuning (Tables 9 / 10, TRAINING.md): AdamW, layer decay 0.9, EMA 0.9999,
# RandAugment m9, erasing 0.25, batch 1024; per size (lr at 256, weight decay, epochs,
# warmup, drop path, mixup, cutmix, label smoothing) as printed.
_FINETUNE_FIELDS = ("lr", "weight_decay", "epochs", "warmup_epochs", "drop_path", "mixup",
                    "cutmix", "label_smoothing")
for _size, _values in {"atto": (2e-4, 0.3, 600, 0.0, 0.1, 0.0, 0.0, 0.2),
                       "femto": (2e-4, 0.05, 600, 0.0, 0.0, 0.3, 0.3, 0.2),
                       "pico": (2e-4, 0.3, 600, 0.0, 0.0, 0.3, 0.3, 0.2),
                       "nano": (2e-4, 0.3, 600, 0.0, 0.1, 0.5, 0.5, 0.2),
                       "tiny": (8e-4, 0.05, 300, 40.0, 0.2, 0.8, 1.0, 0.1)}.items():
    RECIPES[f"fcmae-finetune-{_size}"] = Recipe(
        name=f"fcmae-finetune-{_size}", base_batch=256, layer_decay=0.9, ema=0.9999,
        batch_size=1024, zero_init_residual=False, **dict(zip(_FINETUNE_FIELDS, _values)))


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
    steps: tuple[str, ...] = ()
    """The chain steps this preset trains when no ``--steps`` are given (empty: all); the
    lab preset's lesson set."""
    eval_resolution: int | None = None
    """Evaluate at this resolution (None: ``resolution``); budget schedules train smaller."""
    micro_batch: int | None = None
    """The most images per forward pass and process when ``--batch-per-device`` is not
    given (gradient accumulation makes up the batch); None: a process's whole share."""

    def __post_init__(self) -> None:
        def bad(name: str, allowed: str) -> UserError:
            return UserError(f"preset.{name}={getattr(self, name)!r}; allowed: {allowed}")

        for name in ("name", "description"):
            if not isinstance(getattr(self, name), str):
                raise bad(name, "a string")
        if not isinstance(self.steps, (list, tuple)) or not all(
                isinstance(k, str) for k in self.steps):
            raise bad("steps", "a list of step names, e.g. [modern-recipe, patchify-stem]")
        object.__setattr__(self, "steps", tuple(self.steps))
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
        for name, least, none in (("train_subset", 1, "all"),
                                  ("eval_resolution", 32, "the training resolution"),
                                  ("micro_batch", 1, "a process's whole share")):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < least):
                raise bad(name, f"null ({none}) or an integer >= {least}")
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


SHORT_TRAINING = {"auto_augment": "", "random_erasing": 0.0, "mixup": 0.0, "cutmix": 0.0,
                  "crop_padding": 0, "drop_path": 0.0}
"""Short training underfits: no heavy augmentation, no stochastic depth (every CPU preset)."""
PAPER_REGULARISATION = {"auto_augment": PAPER_POLICY, "random_erasing": 0.25, "mixup": 0.8,
                        "cutmix": 1.0, "crop_padding": 4, "drop_path": None}
"""The paper's regularisation (Table 5) at CPU scale, the scale study's ``regularisation=paper``
axis: RandAugment m9, erasing 0.25, Mixup 0.8, CutMix 1.0 and the design's stochastic depth
(0.1, the paper's ConvNeXt-T and modern ResNet-50) as the paper; label smoothing 0.1 is on in
every preset. One change for the data: the random-resized crop (8-100% of a 224-px ImageNet
image) becomes a 4-pixel padding crop, the usual crop at 32 px, since an 8% crop of a 28-px
Fashion-MNIST item keeps a few pixels of it."""
_CPU_SCALE_OVERRIDES = {"*": SHORT_TRAINING, "convnext": {"lr": 4e-3, "base_batch": 128},
                        "resnet-original": {"lr": 0.1, "base_batch": 256}}
"""The recipe overrides of the quick and lab presets (the lab is the quick scale, shorter)."""

RUN_PRESETS: dict[str, RunPreset] = {
    "smoke": RunPreset(
        name="smoke", dataset="synthetic", resolution=32, channels=1, width_multiplier=1 / 16,
        epochs=2, batch_size=32, eval_batch_size=256,
        recipe_overrides={"*": {"lr": 2e-3, "base_batch": 32, "auto_augment": "",
                                "random_erasing": 0.0, "mixup": 0.0, "cutmix": 0.0},
                          "resnet-original": {"lr": 0.05, "base_batch": 32}},
        description="seconds; synthetic data; for tests",
    ),
    # Chosen from the measured frontier in results/frontier/ (accuracy vs CPU minutes of the
    # modern recipe, depthwise conv and separate downsampling): all 60k training images help most, then optimizer steps (batch
    # 128 beats 512 at equal epochs); 6 epochs keep one seed of the chain within ~20 min.
    "quick": RunPreset(
        name="quick", dataset="fashion-mnist", resolution=32, channels=3,
        width_multiplier=1 / 8, epochs=6, batch_size=128, train_subset=None,
        recipe_overrides=_CPU_SCALE_OVERRIDES,
        description="real Fashion-MNIST at 32 px (grey repeated to 3 channels), widths / 8, "
                    "all 60k training images, 6 epochs, flips; AdamW lr 4e-3 at batch 128 "
                    "(SGD 0.05 for the original recipe)",
    ),
    # A class's lab (issue 28): the lesson's steps x 3 paired seeds in at most 10 minutes on 2
    # cores (measured: 3 min 23 s, README "A lab in one class"); 10k training images, 4 epochs.
    "lab": RunPreset(
        name="lab", dataset="fashion-mnist", resolution=32, channels=3,
        width_multiplier=1 / 8, epochs=4, batch_size=128, train_subset=10000,
        recipe_overrides=_CPU_SCALE_OVERRIDES,
        description="a class's lab: Fashion-MNIST at 32 px, widths / 8, 10k training images, "
                    "4 epochs; by default the lesson's 8 steps (original and modern recipe, "
                    "patchify stem, width 96, inverted bottleneck, BN -> LN, separate "
                    "downsampling, ConvNeXt-T)",
        steps=("resnet50-original", "modern-recipe", "patchify-stem", "width-96",
               "inverted-bottleneck", "bn-to-ln", "separate-downsampling",
               "trunc-normal-init"),
    ),
    # The FCMAE co-design study (ablations.studies.fcmae) at CPU scale: ConvNeXt(-V2)-Atto
    # depths at widths / 5 with stem stride 1 (a 4 x 4 mask grid at 32 px); 10k training
    # images; learning rates raised for schedules of a few epochs (see results/README).
    "fcmae-quick": RunPreset(
        name="fcmae-quick", dataset="fashion-mnist", resolution=32, channels=3,
        width_multiplier=0.2, epochs=5, batch_size=128, train_subset=10000,
        recipe_overrides={
            "*": {**SHORT_TRAINING, "ema": 0.0},
            "fcmae-pretrain": {"epochs": 8, "warmup_epochs": 0.5, "lr": 1.5e-3,
                               "decoder_width": 64},
            "fcmae-finetune-atto": {"lr": 4e-3, "base_batch": 128, "warmup_epochs": 0.5,
                                    "weight_decay": 0.05, "label_smoothing": 0.1},
        },
        description="Fashion-MNIST at 32 px, 10k training images, ConvNeXt-Atto depths at "
                    "widths / 5, stem stride 1; FCMAE 8 epochs (lr 1.5e-3 at 256, decoder 64 "
                    "wide), fine-tuning 5 epochs (AdamW lr 4e-3 at 128, layer decay 0.9)",
    ),
    "paper": RunPreset(
        name="paper", dataset="imagefolder", resolution=224, channels=3, width_multiplier=1.0,
        epochs=300, batch_size=4096, eval_batch_size=256, micro_batch=128,
        recipe_overrides={"convnext": {"mix_batch": 128},
                          # torchvision's reference: bilinear crops, no colour jitter
                          "resnet-original": {"epochs": 90, "batch_size": 256,
                                              "step_every": 30.0, "color_jitter": 0.0,
                                              "train_interpolation": "bilinear"}},
        description="ImageNet-1K at 224 with the paper's recipe: 128 images per GPU and "
                    "forward pass as the official code (gradient accumulation makes up 4096 "
                    "on fewer than 32 GPUs), one Mixup draw per 128 images (needs GPUs: see "
                    "README)",
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


# A budget for GPUs (issue 29): the paper's recipe shortened to the schedule of "ResNet strikes
# back" A3 (Wightman et al. 2021: 100 epochs, training at 160 px, testing at 224; ResNet-50 78.05
# at 224), in bf16 autocast (the official code's --use_amp true, and A3's). A3's own recipe
# (LAMB, binary cross-entropy, lighter augmentation) is not taken: the chain keeps one recipe,
# the paper's, so that its steps stay comparable with the paper's.
RUN_PRESETS["a3"] = RUN_PRESETS["paper"].replace(
    name="a3", resolution=160, eval_resolution=224, epochs=100,
    recipe_overrides={**RUN_PRESETS["paper"].recipe_overrides, "*": {"bf16": True}},
    description="ImageNet-1K, the paper's recipe shortened to A3's schedule: 100 epochs at "
                "160 px (warmup 6.7 epochs), evaluated at 224, bf16; about a day for the "
                "chain on 8 A100s (run --plan)")


def apply_recipe(design: AnyDesign, recipe: Recipe) -> AnyDesign:
    """The design as trained: the recipe may set stochastic depth and layer scale.

    A reference Transformer takes only what it has (Swin: stochastic depth; torchvision's
    ViT: neither), so one recipe serves a chain and its Transformer reference alike.
    """
    changes = {}
    if recipe.drop_path is not None:
        changes["drop_path"] = recipe.drop_path
    if recipe.layer_scale is not None:
        changes["layer_scale"] = recipe.layer_scale
    if not isinstance(design, Design):
        changes = {k: v for k, v in changes.items() if hasattr(design, k)}
    return design.replace(**changes) if changes else design
