"""Named models: points of the design space (the ResNet, ConvNeXt and ConvNeXt V2 families)
and the reference Transformers, by the names torchvision and timm give them.

"Preset" means a run preset (a training scale, ``ablations.train.recipe``) everywhere else; the
named models were called presets before 0.2."""

from __future__ import annotations

from .design import Design, DesignError
from .transformers import TRANSFORMERS, TransformerDesign

_RESNET = Design()  # torchvision ResNet-50 (v1.5: stride on the 3x3 conv)

_CONVNEXT = Design(
    depths=(3, 3, 9, 3),
    widths=(96, 192, 384, 768),
    stem="patchify",
    groups="depthwise",
    block="inverted",
    expansion=4,
    spatial_position="top",
    kernel_size=7,
    activation="gelu",
    activation_count="one",
    norm="layer",
    norm_count="one",
    downsample="separate",
    layer_scale=1e-6,
    drop_path=0.1,
    head_norm=True,
    init="trunc-normal",
)

# ConvNeXt V2 = ConvNeXt + GRN - layer scale (V2 paper, Sec. 3.3).
_V2 = _CONVNEXT.replace(grn=True, layer_scale=0.0, drop_path=0.0)


def _v2(depths: tuple[int, ...], c: int) -> Design:
    return _V2.replace(depths=depths, widths=(c, 2 * c, 4 * c, 8 * c))


# Drop-path rates of the V1 models are the paper's Table 5 (T/S/B/L 0.1/0.4/0.5/0.5;
# XL, trained on ImageNet-22K in the paper, gets 0.5 like B and L). V2 models carry none: the V2
# rates depend on the training stage (pre-training / fine-tuning) and belong to a recipe.
CONVNETS: dict[str, Design] = {
    "resnet50": _RESNET,
    "resnet101": _RESNET.replace(depths=(3, 4, 23, 3)),
    "resnet152": _RESNET.replace(depths=(3, 8, 36, 3)),
    "resnet200": _RESNET.replace(depths=(3, 24, 36, 3)),
    "convnext_tiny": _CONVNEXT,
    "convnext_small": _CONVNEXT.replace(depths=(3, 3, 27, 3), drop_path=0.4),
    "convnext_base": _CONVNEXT.replace(
        depths=(3, 3, 27, 3), widths=(128, 256, 512, 1024), drop_path=0.5
    ),
    "convnext_large": _CONVNEXT.replace(
        depths=(3, 3, 27, 3), widths=(192, 384, 768, 1536), drop_path=0.5
    ),
    "convnext_xlarge": _CONVNEXT.replace(
        depths=(3, 3, 27, 3), widths=(256, 512, 1024, 2048), drop_path=0.5
    ),
    "convnextv2_atto": _v2((2, 2, 6, 2), 40),
    "convnextv2_femto": _v2((2, 2, 6, 2), 48),
    "convnextv2_pico": _v2((2, 2, 6, 2), 64),
    "convnextv2_nano": _v2((2, 2, 8, 2), 80),
    "convnextv2_tiny": _v2((3, 3, 9, 3), 96),
    "convnextv2_base": _v2((3, 3, 27, 3), 128),
    "convnextv2_large": _v2((3, 3, 27, 3), 192),
    "convnextv2_huge": _v2((3, 3, 27, 3), 352),
}


MODEL_NAMES: tuple[str, ...] = (*CONVNETS, *TRANSFORMERS)
"""Every named model: the ConvNets of ``CONVNETS``, then the reference Transformers."""


def named_design(name: str) -> Design | TransformerDesign:
    """The model called ``name``: a ``Design`` of ``CONVNETS`` or a reference Transformer of
    ``models.transformers.TRANSFORMERS`` (torchvision's Swin / ViT)."""
    if name in CONVNETS:
        return CONVNETS[name]
    if name in TRANSFORMERS:
        return TRANSFORMERS[name]
    raise DesignError(f"model {name!r} is unknown; allowed: {', '.join(MODEL_NAMES)}")


# Published (params in millions, GFLOPs at 224) as printed, with the FLOP convention of the
# table: "macs" = conv + linear multiply-adds (the ConvNeXt paper, torchvision's docs);
# "v2" = the ConvNeXt V2 table, whose rounding matches MACs for some rows and fvcore's
# count (norms included) for others, so a row matches if either convention rounds to it.
PUBLISHED: dict[str, tuple[float | None, float, str, str]] = {
    "resnet50": (25.557, 4.089, "macs", "torchvision docs (ResNet50_Weights)"),
    "resnet101": (44.549, 7.801, "macs", "torchvision docs (ResNet101_Weights)"),
    "resnet152": (60.193, 11.514, "macs", "torchvision docs (ResNet152_Weights)"),
    "resnet200": (None, 15.01, "macs", "ConvNeXt paper Table 11"),
    "convnext_tiny": (28.59, 4.456, "macs", "torchvision docs (ConvNeXt_Tiny_Weights)"),
    "convnext_small": (50.22, 8.684, "macs", "torchvision docs (ConvNeXt_Small_Weights)"),
    "convnext_base": (88.59, 15.355, "macs", "torchvision docs (ConvNeXt_Base_Weights)"),
    "convnext_large": (197.77, 34.361, "macs", "torchvision docs (ConvNeXt_Large_Weights)"),
    "convnext_xlarge": (350, 60.9, "macs", "ConvNeXt paper Table 1 (ImageNet-22K row)"),
    "convnextv2_atto": (3.71, 0.55, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_femto": (5.23, 0.78, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_pico": (9.07, 1.37, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_nano": (15.62, 2.45, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_tiny": (28.64, 4.47, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_base": (88.72, 15.4, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_large": (197.96, 34.4, "v2", "ConvNeXt V2 paper, model table"),
    "convnextv2_huge": (660.29, 115.0, "v2", "ConvNeXt V2 paper, model table"),
    # The Transformers as the ConvNeXt paper's Table 1 prints them (params in M, GFLOPs to
    # one decimal); attention matmuls count as multiply-adds (see models.complexity).
    "swin_t": (28, 4.5, "macs", "ConvNeXt paper Table 1"),
    "swin_s": (50, 8.7, "macs", "ConvNeXt paper Table 1"),
    "swin_b": (88, 15.4, "macs", "ConvNeXt paper Table 1"),
    "vit_b_16": (87, 17.6, "macs", "ConvNeXt paper Table 1 (DeiT-B)"),
    "vit_s_16": (22, 4.6, "macs", "ConvNeXt paper Table 1 (DeiT-S)"),
}
