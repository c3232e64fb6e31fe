"""The builder: a ``Design`` in, an ``nn.Module`` out."""

from __future__ import annotations

import math

import torch
from torch import nn

from .blocks import Block, Head, Stage, make_downsample, make_stem
from .design import NUM_STAGES, Design, DesignError, stage_plan
from .transformers import SwinDesign, ViTDesign


class ConvNet(nn.Module):
    """stem -> four stages -> head. ``design`` is kept for inspection (``stage_channels``)."""

    def __init__(self, design: Design, num_classes: int = 1000, in_chans: int = 3,
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        self.design = design
        self.stem = make_stem(design, in_chans)
        total = sum(design.depths)
        # Drop-path rates rise linearly from 0 to design.drop_path over all blocks.
        rates = [design.drop_path * i / max(total - 1, 1) for i in range(total)]
        stages = []
        block_index = 0
        for s, plan in enumerate(stage_plan(design)):
            downsample = None
            if plan.downsample_in is not None:
                downsample = make_downsample(design, plan.downsample_in, plan.in_ch)
            blocks = []
            in_ch = plan.in_ch
            for b in range(design.depths[s]):
                blocks.append(Block(design, in_ch, plan.out_ch, plan.stride if b == 0 else 1,
                                    rates[block_index]))
                in_ch = plan.out_ch
                block_index += 1
            stages.append(Stage(downsample, blocks))
        self.stages = nn.Sequential(*stages)
        self.num_features = design.residual_width(NUM_STAGES - 1)
        self.head = Head(design, self.num_features, num_classes)
        _init_weights(self, design)
        if zero_init_residual and design.layer_scale == 0:
            for block in self.modules():
                if isinstance(block, Block):
                    _zero_last_layer(block)

    @property
    def stage_strides(self) -> tuple[int, ...]:
        """Input pixels per output pixel of each stage: (4, 8, 16, 32) at the paper's stem."""
        return tuple(self.design.stem_stride * 2 ** s for s in range(NUM_STAGES))

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Channels of each stage's output (the residual widths)."""
        return tuple(self.design.residual_width(s) for s in range(NUM_STAGES))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before the head."""
        return self.stages(self.stem(x))

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The four stage outputs, at ``stage_strides`` with ``stage_channels`` channels:
        the maps a detection or segmentation neck (FPN, UPerNet) takes."""
        return stage_outputs(self.stem, self.stages, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def stage_outputs(stem: nn.Module, stages: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every stage of ``stem -> stages`` on ``x`` (the backbone view)."""
    x = stem(x)
    maps = []
    for stage in stages:
        x = stage(x)
        maps.append(x)
    return maps


def _init_weights(model: nn.Module, design: Design) -> None:
    # design.init picks the scheme; each end of the roadmap then starts exactly as its
    # reference implementation does (torchvision's ResNet: 'kaiming'; ConvNeXt: 'trunc-normal').
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if design.init == "trunc-normal":
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            else:
                # nn.Linear: the weight keeps the draw of PyTorch's default init, as in
                # torchvision's ResNet; the bias is drawn again from the distribution of
                # PyTorch's default (uniform within 1 / sqrt(fan_in)): no change of
                # distribution, kept so that the numbers of past runs stay bit-identical.
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.LayerNorm)):
            if m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def _zero_last_layer(block: Block) -> None:
    # Zero the last norm's scale of the residual branch, or, with no norm there, the last
    # conv: the block starts as the identity (Goyal et al. 2017; timm's zero_init_last).
    last = block.unit("from_hidden")
    target = last.norm if hasattr(last, "norm") else last.conv
    nn.init.zeros_(target.weight)
    if target.bias is not None:
        nn.init.zeros_(target.bias)


def build(design: Design | SwinDesign | ViTDesign, num_classes: int = 1000, in_chans: int = 3,
          zero_init_residual: bool = False) -> nn.Module:
    """Build the network described by ``design``.

    Args:
        design: a validated point of the design space, or a reference Transformer
            (``models.transformers``: torchvision's own Swin / ViT, built as they are).
        num_classes: outputs of the classifier.
        in_chans: channels of the input image.
        zero_init_residual: start every residual branch at zero (an init choice of training
            recipes; skipped when the design has layer scale, which does the same job, and
            for the Transformers, which keep torchvision's init).
    """
    if not isinstance(design, (Design, SwinDesign, ViTDesign)):
        raise TypeError(f"build() expects a models.Design (or SwinDesign / ViTDesign), "
                        f"got {type(design).__name__}")
    for name, value in (("num_classes", num_classes), ("in_chans", in_chans)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DesignError(f"build(): {name}={value!r} is invalid; allowed: an integer >= 1")
    if not isinstance(design, Design):
        return design.build(num_classes=num_classes, in_chans=in_chans)
    return ConvNet(design, num_classes=num_classes, in_chans=in_chans,
                   zero_init_residual=zero_init_residual)
