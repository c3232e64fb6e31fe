"""Any design as a detection / segmentation backbone (torchvision's conventions).

The paper's case for ConvNeXt is dense prediction: its four stages (strides 4, 8, 16, 32)
feed an FPN or UPerNet. ``DesignBackbone`` returns them as torchvision's detection models
expect (an ordered dict of maps and an ``out_channels`` attribute), with torchvision's own
``FeaturePyramidNetwork`` on top when asked.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .design import Design
from .network import build, stage_outputs


class DesignBackbone(nn.Module):
    """Stem and four stages of ``design`` (no head), optionally followed by an FPN.

    ``forward`` returns ``OrderedDict`` name -> map: the stages as "0".."3" without an FPN;
    with one, its outputs ("0".."3" and "pool", all ``fpn_channels`` wide), which is what
    ``torchvision.models.detection.FasterRCNN`` takes as its ``backbone``.
    """

    def __init__(self, design: Design, in_chans: int = 3, fpn_channels: int | None = 256) -> None:
        super().__init__()
        net = build(design, num_classes=1, in_chans=in_chans)
        self.stem, self.stages = net.stem, net.stages
        self.stage_channels = net.stage_channels
        self.stage_strides = net.stage_strides
        self.fpn = None
        self.out_channels: int | tuple[int, ...] = self.stage_channels
        if fpn_channels is not None:
            from torchvision.ops import FeaturePyramidNetwork
            from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

            self.fpn = FeaturePyramidNetwork(list(self.stage_channels), fpn_channels,
                                             extra_blocks=LastLevelMaxPool())
            self.out_channels = fpn_channels

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        maps = OrderedDict((str(i), m)
                           for i, m in enumerate(stage_outputs(self.stem, self.stages, x)))
        return maps if self.fpn is None else self.fpn(maps)
