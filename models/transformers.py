"""Reference Transformers: torchvision's Swin and ViT, described as data like a ``Design``.

The ConvNeXt paper measures its ConvNets against Swin (its roadmap's target line) and
DeiT/ViT (Table 1). These are not reimplemented: ``build`` returns torchvision's own
``SwinTransformer`` and ``VisionTransformer``. A frozen dataclass holds the constructor's
arguments, so that a Transformer can be scaled, hashed, stored and trained by the same
runner as every roadmap step.

Two changes of the constructor's output, both only where asked:
- ``in_chans != 3`` replaces the patch-embedding conv by one with that many inputs,
  initialised as torchvision initialises its own;
- ``drop_path`` is Swin's ``stochastic_depth_prob`` (torchvision's ViT has none: its
  recipe, DeiT's, would use 0.1; here the ViT trains without, and says so).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Union

from .design import DesignError, invalid_field, scaled_width

if TYPE_CHECKING:  # torch is imported when a model is built, not to read a description
    from torch import nn


def _positive_int(model: str, field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        invalid_field(model, field, value, "an integer >= 1")


def _tuple_of_ints(model: str, field: str, value: Any, length: int) -> None:
    if not isinstance(value, tuple) or len(value) != length or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
        invalid_field(model, field, value, f"{length} integers >= 1")


class _Spec:
    """What Swin and ViT descriptions share: replace, plain data, validation on build."""

    family: ClassVar[str] = ""

    def replace(self, **changes: Any):
        """A copy with ``changes`` (unknown fields raise ``DesignError`` naming them)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise DesignError(f"{self.family}: unknown field(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for hashing and JSON), with the family under ``model``."""
        d = {"model": self.family}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            d[f.name] = list(value) if isinstance(value, tuple) else value
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Inverse of ``to_dict``."""
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
                if k != "model"}
        return cls(**data)


@dataclass(frozen=True)
class SwinDesign(_Spec):
    """torchvision's ``SwinTransformer`` (V1); defaults are Swin-T."""

    family: ClassVar[str] = "swin"

    patch_size: int = 4
    embed_dim: int = 96
    """Channels of stage 1; stage i has ``embed_dim * 2**i``."""
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (3, 6, 12, 24)
    window_size: int = 7
    """Side of the attention windows. torchvision pads a map to a multiple of it (the padded
    tokens take part in attention unmasked, as in the original Swin code)."""
    mlp_ratio: float = 4.0
    drop_path: float = 0.2
    """Stochastic depth of the last block (torchvision's ``stochastic_depth_prob``)."""

    def __post_init__(self) -> None:
        m = "swin"
        for name in ("patch_size", "embed_dim", "window_size"):
            _positive_int(m, name, getattr(self, name))
        _tuple_of_ints(m, "depths", self.depths, 4)
        _tuple_of_ints(m, "num_heads", self.num_heads, 4)
        for i, heads in enumerate(self.num_heads):
            if self.widths[i] % heads:
                invalid_field(m, "num_heads", self.num_heads,
                              f"divisors of the stage widths {self.widths}")
        if not 0 <= self.drop_path < 1:
            invalid_field(m, "drop_path", self.drop_path, "a rate in [0, 1)")
        if not self.mlp_ratio > 0:
            invalid_field(m, "mlp_ratio", self.mlp_ratio, "a number > 0")

    @property
    def widths(self) -> tuple[int, ...]:
        """Channels of the four stages."""
        return tuple(self.embed_dim * 2 ** i for i in range(4))

    def scaled(self, multiplier: float) -> "SwinDesign":
        """Every width times ``multiplier`` with the head counts kept (so each head is
        narrower), rounded to a multiple of the first stage's heads."""
        return self.replace(embed_dim=scaled_width(self.embed_dim, multiplier, self.num_heads[0]))

    def at_resolution(self, resolution: int) -> "SwinDesign":
        """The design for ``resolution`` px inputs (Swin takes any size: unchanged)."""
        return self

    def build(self, num_classes: int = 1000, in_chans: int = 3) -> "nn.Module":
        """torchvision's ``SwinTransformer`` with these arguments."""
        from torch import nn
        from torchvision.models.swin_transformer import SwinTransformer

        model = SwinTransformer(
            patch_size=[self.patch_size] * 2, embed_dim=self.embed_dim,
            depths=list(self.depths), num_heads=list(self.num_heads),
            window_size=[self.window_size] * 2, mlp_ratio=self.mlp_ratio,
            stochastic_depth_prob=self.drop_path, num_classes=num_classes)
        if in_chans != 3:
            old = model.features[0][0]
            # torchvision leaves this conv at PyTorch's default init; so does the new one.
            model.features[0][0] = nn.Conv2d(in_chans, old.out_channels, old.kernel_size,
                                             old.stride)
        return model


@dataclass(frozen=True)
class ViTDesign(_Spec):
    """torchvision's ``VisionTransformer``; defaults are ViT-B/16 at 224 px."""

    family: ClassVar[str] = "vit"

    image_size: int = 224
    """The one input size the model takes (its position embeddings are per patch)."""
    patch_size: int = 16
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    mlp_dim: int = 3072

    def __post_init__(self) -> None:
        m = "vit"
        for name in ("image_size", "patch_size", "num_layers", "num_heads", "hidden_dim",
                     "mlp_dim"):
            _positive_int(m, name, getattr(self, name))
        if self.image_size % self.patch_size:
            invalid_field(m, "image_size", self.image_size,
                          f"a multiple of patch_size={self.patch_size}")
        if self.hidden_dim % self.num_heads:
            invalid_field(m, "num_heads", self.num_heads,
                          f"a divisor of hidden_dim={self.hidden_dim}")

    @property
    def widths(self) -> tuple[int, ...]:
        """The one token width (a ViT has no stages)."""
        return (self.hidden_dim,)

    def scaled(self, multiplier: float) -> "ViTDesign":
        """Token and MLP widths times ``multiplier``, head count kept (rounded to it)."""
        dim = scaled_width(self.hidden_dim, multiplier, self.num_heads)
        return self.replace(hidden_dim=dim, mlp_dim=max(1, round(self.mlp_dim * multiplier)))

    def at_resolution(self, resolution: int) -> "ViTDesign":
        """The same ViT for ``resolution`` px inputs (more patches, more position
        embeddings: the way ViTs are fine-tuned at higher resolution)."""
        return self.replace(image_size=resolution)

    def build(self, num_classes: int = 1000, in_chans: int = 3) -> "nn.Module":
        """torchvision's ``VisionTransformer`` with these arguments."""
        from torch import nn
        from torchvision.models.vision_transformer import VisionTransformer

        model = VisionTransformer(
            image_size=self.image_size, patch_size=self.patch_size,
            num_layers=self.num_layers, num_heads=self.num_heads,
            hidden_dim=self.hidden_dim, mlp_dim=self.mlp_dim, num_classes=num_classes)
        if in_chans != 3:
            conv = nn.Conv2d(in_chans, self.hidden_dim, self.patch_size, self.patch_size)
            # As torchvision initialises its own patch embedding.
            fan_in = in_chans * self.patch_size ** 2
            nn.init.trunc_normal_(conv.weight, std=math.sqrt(1 / fan_in))
            nn.init.zeros_(conv.bias)
            model.conv_proj = conv
        return model


TransformerDesign = Union[SwinDesign, ViTDesign]

TRANSFORMERS: dict[str, TransformerDesign] = {
    # Arguments as torchvision's swin_t / swin_s / swin_b and vit_b_16 builders pass them.
    "swin_t": SwinDesign(),
    "swin_s": SwinDesign(depths=(2, 2, 18, 2), drop_path=0.3),
    "swin_b": SwinDesign(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32),
                         drop_path=0.5),
    "vit_b_16": ViTDesign(),
    # DeiT-S: ViT-S/16 (384 wide, 6 heads), built with the same torchvision class.
    "vit_s_16": ViTDesign(num_heads=6, hidden_dim=384, mlp_dim=1536),
}


def transformer_from_dict(data: dict[str, Any]) -> TransformerDesign:
    """A Swin or ViT description from ``to_dict`` output (``model`` names the family)."""
    families = {cls.family: cls for cls in (SwinDesign, ViTDesign)}
    family = data.get("model")
    if family not in families:
        raise DesignError(f"model={family!r} is invalid; allowed: {', '.join(families)}")
    return families[family].from_dict(data)
