"""The design space: one frozen dataclass spanning ResNet and ConvNeXt.

Every field is one design decision of *A ConvNet for the 2020s* (arXiv 2201.03545) or of
ConvNeXt V2 (arXiv 2301.00808). A model is a pure function of a ``Design`` (see
``models.network.build``); a roadmap step is ``dataclasses.replace(previous, field=value)``.

Widths follow one convention for both block shapes: ``widths[i]`` is the *narrow* width of
stage ``i`` and ``expansion`` the ratio wide / narrow. A ResNet bottleneck carries the wide
width on its residual path and the narrow one inside; an inverted bottleneck does the
opposite. That is exactly the paper's "inverted bottleneck" step: same widths, same
expansion, the two widths swap roles.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NoReturn, Union

STEMS = ("resnet", "patchify")
STEM_STRIDES = (1, 2, 4)
BLOCKS = ("bottleneck", "inverted")
SPATIAL_POSITIONS = ("middle", "top")
ACTIVATIONS = ("relu", "gelu")
COUNTS = ("all", "one")
NORMS = ("batch", "layer")
DOWNSAMPLINGS = ("in_block", "separate")
INITS = ("kaiming", "trunc-normal")
NUM_STAGES = 4


class DesignError(ValueError):
    """An invalid model description or name (a field value, named model, chain or step): the
    user's input, reported as one line by the command line. Other errors are bugs."""


@dataclass(frozen=True)
class Design:
    """One point of the ResNet -> ConvNeXt design space.

    Defaults describe torchvision's ResNet-50; see ``models.named`` for named points.
    Construction validates every field and raises ``DesignError`` (a ``ValueError``)
    naming the field, the value and what is allowed.
    """

    depths: tuple[int, ...] = (3, 4, 6, 3)
    """Blocks per stage (the stage ratio); exactly four stages."""
    widths: tuple[int, ...] = (64, 128, 256, 512)
    """Narrow width of each stage; the stem outputs ``widths[0]`` channels."""
    stem: str = "resnet"
    """'resnet': 7x7 stride-2 conv, norm, activation, 3x3 stride-2 max-pool;
    'patchify': 4x4 stride-4 conv, norm."""
    stem_stride: int = 4
    """Pixels per stem output of the patchify stem (its kernel = its stride). 4 is the paper's;
    1 or 2 keep a 4 x 4 final grid at 32 / 64 px, which masked pretraining (FCMAE) needs:
    at 32 px with total stride 32 the whole image is a single mask cell."""
    groups: Union[int, str] = 1
    """Groups of the spatial conv: 1 (dense), an int > 1 (grouped), or 'depthwise'."""
    block: str = "bottleneck"
    """'bottleneck' (ResNet: wide residual, narrow inside) or 'inverted' (narrow residual,
    wide inside)."""
    expansion: int = 4
    """Ratio of the wide to the narrow width inside a block."""
    spatial_position: str = "middle"
    """Where the spatial (kxk) conv sits: 'middle' (between the 1x1 convs, ResNet) or 'top'
    (first in the block, ConvNeXt's moved-up depthwise conv)."""
    kernel_size: int = 3
    """Kernel size of the spatial conv (odd)."""
    activation: str = "relu"
    """'relu' or 'gelu', used everywhere in the network."""
    activation_count: str = "all"
    """How many activations a block has: 'all' (after the first two convs and after the
    residual add, ResNet) or 'one' (only after the first 1x1 conv, ConvNeXt)."""
    norm: str = "batch"
    """'batch' (BatchNorm) or 'layer' (LayerNorm over channels), used everywhere."""
    norm_count: str = "all"
    """How many norms a block has: 'all' (after each of the three convs, ResNet) or 'one'
    (only after the spatial conv, i.e. before the 1x1 convs when it is on top, ConvNeXt)."""
    downsample: str = "in_block"
    """'in_block': the first block of stages 2-4 strides its spatial conv and projects its
    shortcut (ResNet v1.5); 'separate': a norm + 2x2 stride-2 conv between stages."""
    layer_scale: float = 0.0
    """Initial value of the per-channel residual scale (0 = no layer scale)."""
    drop_path: float = 0.0
    """Stochastic depth rate of the last block; rates rise linearly from 0 over all blocks."""
    head_norm: bool = False
    """A norm on the pooled features before the classifier (ConvNeXt)."""
    grn: bool = False
    """ConvNeXt V2 Global Response Normalization after the first 1x1 conv's activation."""
    norm_eps: float | None = None
    """Norm epsilon; None means the convention of the norm type (BN 1e-5, LN 1e-6)."""
    init: str = "kaiming"
    """Weight init of convs and linears: 'kaiming' (torchvision's ResNet: He normal,
    fan-out, for convs; PyTorch's default for the classifier) or 'trunc-normal'
    (ConvNeXt's: truncated normal, std 0.02, zero biases). Norms start at 1 / 0 in both."""

    def __post_init__(self) -> None:
        # Lists from JSON/YAML become tuples so that designs stay hashable and comparable.
        for name in ("depths", "widths"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        validate(self)

    def replace(self, **changes: Any) -> "Design":
        """Return a copy with ``changes`` applied (validated like any new design)."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise DesignError(
                f"Design: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists for tuples) for JSON and tables."""
        out = dataclasses.asdict(self)
        out["depths"] = list(self.depths)
        out["widths"] = list(self.widths)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], stored: bool = False) -> "Design":
        """Inverse of ``to_dict``; unknown keys raise ``DesignError`` naming them.
        ``stored``: a run spec's dict, whose renamed fields keep the names they were stored
        under (``STORED_NAMES``; ``ablations.run.identity`` writes them)."""
        if stored:
            data = {STORED_NAMES.get(key, key): value for key, value in data.items()}
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise DesignError(
                f"Design: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
            )
        return cls(**data)

    # Derived quantities used by the builder (kept here so there is one source of truth).
    @property
    def total_stride(self) -> int:
        """Input pixels per output pixel of the last stage (32 for every stem at stride 4)."""
        return self.stem_stride * 2 ** (NUM_STAGES - 1)

    @property
    def stem_width(self) -> int:
        """Channels out of the stem."""
        return self.widths[0]

    def residual_width(self, stage: int) -> int:
        """Width of the residual stream in ``stage``."""
        w = self.widths[stage]
        return w * self.expansion if self.block == "bottleneck" else w

    def scaled(self, multiplier: float) -> "Design":
        """Every width times ``multiplier`` (rounded; kept divisible by int groups): the
        design at a run preset's width scale."""
        unit = self.groups if isinstance(self.groups, int) else 1
        return self.replace(widths=tuple(scaled_width(w, multiplier, unit) for w in self.widths))

    def at_resolution(self, resolution: int) -> "Design":
        """The design for ``resolution`` px inputs: unchanged (a ConvNet takes any size);
        the Transformers of ``models.transformers`` answer the same question."""
        return self

    def hidden_for(self, residual: int) -> int:
        """Width between the two 1x1 convs of a block whose residual stream is ``residual``
        channels wide (the one rule; ``models.blocks.block_plan`` uses it)."""
        return residual * self.expansion if self.block == "inverted" else residual // self.expansion

    @property
    def eps(self) -> float:
        """Norm epsilon in use."""
        if self.norm_eps is not None:
            return self.norm_eps
        return 1e-5 if self.norm == "batch" else 1e-6


FIELDS = tuple(f.name for f in dataclasses.fields(Design))

STORED_NAMES = {"activations": "activation_count", "norms": "norm_count"}
"""Name a field is stored under in run specs -> its name in ``Design``. Renamed in 0.2
because 'activation' / 'activations' and 'norm' / 'norms' differed by one letter and meant a
kind vs a count; run specs keep the old names so that stored run hashes stay valid. Only
``from_dict(..., stored=True)`` reads them: everywhere else they are unknown fields."""


def scaled_width(width: int, multiplier: float, unit: int) -> int:
    """``width * multiplier`` rounded to a multiple of ``unit`` (at least one unit): how
    every design scales its widths to a run preset (conv groups or attention heads)."""
    return max(unit, int(round(width * multiplier / unit)) * unit)


def invalid_field(owner: str, field: str, value: Any, allowed: str) -> NoReturn:
    """Raise the one error of a bad field value: '<owner>.<field>=<value> is invalid;
    allowed: ...' (a ``DesignError``, so the command line reports it in one line)."""
    raise DesignError(f"{owner}.{field}={value!r} is invalid; allowed: {allowed}")


def _fail(field: str, value: Any, allowed: str) -> NoReturn:
    invalid_field("Design", field, value, allowed)


def _check_choice(design: Design, field: str, choices: tuple[str, ...]) -> None:
    value = getattr(design, field)
    if value not in choices:
        _fail(field, value, " | ".join(repr(c) for c in choices))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(design: Design) -> None:
    """Raise ``DesignError`` (naming field, value and what is allowed) if ``design`` is invalid."""
    for field, count in (("depths", NUM_STAGES), ("widths", NUM_STAGES)):
        value = getattr(design, field)
        if not isinstance(value, tuple) or len(value) != count:
            _fail(field, value, f"a sequence of exactly {count} integers (one per stage)")
        if not all(_is_int(v) for v in value):
            _fail(field, value, "integers only")
    if any(d < 1 for d in design.depths):
        _fail("depths", design.depths, "every stage depth >= 1")
    if any(w < 1 for w in design.widths):
        _fail("widths", design.widths, "every width >= 1")
    _check_choice(design, "stem", STEMS)
    _check_choice(design, "block", BLOCKS)
    if design.stem_stride not in STEM_STRIDES:
        _fail("stem_stride", design.stem_stride, " | ".join(map(str, STEM_STRIDES)))
    if design.stem == "resnet" and design.stem_stride != 4:
        _fail("stem_stride", design.stem_stride,
              "4 with the ResNet stem (its conv and pool stride 2 each); other strides need "
              "stem='patchify'")
    _check_choice(design, "spatial_position", SPATIAL_POSITIONS)
    _check_choice(design, "activation", ACTIVATIONS)
    _check_choice(design, "activation_count", COUNTS)
    _check_choice(design, "norm", NORMS)
    _check_choice(design, "norm_count", COUNTS)
    _check_choice(design, "downsample", DOWNSAMPLINGS)
    _check_choice(design, "init", INITS)
    if not _is_int(design.expansion) or design.expansion < 1:
        _fail("expansion", design.expansion, "an integer >= 1")
    k = design.kernel_size
    if not _is_int(k) or k < 1 or k % 2 == 0:
        _fail("kernel_size", k, "an odd integer >= 1 (odd keeps 'same' padding symmetric)")
    if design.groups != "depthwise":
        if not _is_int(design.groups) or design.groups < 1:
            _fail("groups", design.groups, "'depthwise' or an integer >= 1 (1 = dense)")
        plans = stage_plan(design)
        for stage in range(NUM_STAGES):
            for c in _spatial_channels(design, plans[stage], stage):
                if c % design.groups:
                    _fail(
                        "groups",
                        design.groups,
                        f"a divisor of the spatial conv's channels; stage {stage + 1} has "
                        f"{c} channels",
                    )
    for field in ("layer_scale", "drop_path"):
        value = getattr(design, field)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _fail(field, value, "a number")
    if design.layer_scale < 0:
        _fail("layer_scale", design.layer_scale, "0 (off) or a positive initial value")
    if not 0.0 <= design.drop_path < 1.0:
        _fail("drop_path", design.drop_path, "a rate in [0, 1)")
    for field in ("head_norm", "grn"):
        if not isinstance(getattr(design, field), bool):
            _fail(field, getattr(design, field), "True or False")
    if design.norm_eps is not None and (
        not isinstance(design.norm_eps, float) or design.norm_eps <= 0
    ):
        _fail("norm_eps", design.norm_eps, "None or a positive float")
    _check_layer_norm(design)


def _check_layer_norm(design: Design) -> None:
    # A LayerNorm over channels of width 1 normalises every value to its bias: the network
    # would output a constant. Reject it rather than train a model that cannot learn.
    if design.norm == "layer":
        for stage in range(NUM_STAGES):
            if design.widths[stage] < 2:
                _fail(
                    "norm",
                    design.norm,
                    "'batch' when a stage is 1 channel wide (LayerNorm over 1 channel "
                    "outputs a constant)",
                )


def _spatial_channels(design: Design, plan: StagePlan, stage: int) -> tuple[int, ...]:
    """Input channels of the spatial conv in the blocks of ``stage`` (first block, others),
    whose first block sees ``plan``."""
    if design.spatial_position == "middle":
        return (design.hidden_for(design.residual_width(stage)),)
    return (plan.in_ch, design.residual_width(stage))


@dataclass(frozen=True)
class StagePlan:
    """Channels and stride of a stage's first block, and its separate downsampling input."""

    in_ch: int
    out_ch: int
    stride: int
    downsample_in: int | None
    """Input channels of a separate downsampling layer before the stage (None: none)."""


def stage_plan(design: Design) -> list[StagePlan]:
    """Per stage: what the first block sees (ResNet strides inside it; ConvNeXt before it)."""
    plans = []
    prev = design.stem_width
    for s in range(NUM_STAGES):
        out_ch = design.residual_width(s)
        if s > 0 and design.downsample == "separate":
            plans.append(StagePlan(out_ch, out_ch, 1, prev))
        else:
            plans.append(StagePlan(prev, out_ch, 1 if s == 0 else 2, None))
        prev = out_ch
    return plans
