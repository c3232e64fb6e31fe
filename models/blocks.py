"""Small building blocks: norms over channels, GRN, layer scale, drop path, the generic block.

Every network of the design space is made of the same few modules, so that one set of
names covers ResNet-50 and ConvNeXt-T alike (see ``models.weights`` for the key maps).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .design import Design
from .fast_conv import Conv


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channel dimension of an (N, C, H, W) tensor.

    The permutes are views: on a channels_last tensor the permuted one is contiguous, so
    ``layer_norm`` runs without a copy.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps
        ).permute(0, 3, 1, 2)


class GlobalResponseNorm(nn.Module):
    """ConvNeXt V2 GRN: x + gamma * (x * Nx) + beta, Nx = ||x||_HW / mean_C ||x||_HW."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, visible: torch.Tensor | None = None) -> torch.Tensor:
        """``visible``: an (N, 1, H, W) 0/1 map; the per-image statistics then come from the
        visible positions only (masked pretraining, FCMAE), so masked ones cannot leak in."""
        gx = torch.linalg.vector_norm(x if visible is None else x * visible, ord=2,
                                      dim=(2, 3), keepdim=True)
        nx = gx / (gx.mean(dim=1, keepdim=True) + self.eps)
        w = self.weight.view(1, -1, 1, 1)
        b = self.bias.view(1, -1, 1, 1)
        return x + torch.addcmul(b, w, x * nx)


class LayerScale(nn.Module):
    """Per-channel learnable scale of the residual branch (CaiT / ConvNeXt)."""

    def __init__(self, channels: int, init_value: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init_value)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch per sample, rescale the kept ones."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


def make_norm(design: Design, channels: int, ndim: int = 4) -> nn.Module:
    """The design's norm over ``channels`` for (N, C, H, W) (ndim=4) or (N, C) tensors."""
    if design.norm == "batch":
        cls = nn.BatchNorm2d if ndim == 4 else nn.BatchNorm1d
        return cls(channels, eps=design.eps)
    if ndim == 2:
        return nn.LayerNorm(channels, eps=design.eps)
    return ChannelLayerNorm(channels, eps=design.eps)


def make_activation(design: Design) -> nn.Module:
    """The design's activation."""
    return nn.ReLU(inplace=True) if design.activation == "relu" else nn.GELU()


def conv_unit(
    design: Design,
    in_ch: int,
    out_ch: int,
    kernel_size: int = 1,
    stride: int = 1,
    groups: int = 1,
    norm: bool = True,
    act: bool = False,
    grn: bool = False,
) -> nn.Sequential:
    """conv -> [norm] -> [act] -> [GRN], with named children ``conv``, ``norm``, ``act``, ``grn``.

    The conv carries a bias unless a BatchNorm follows it (the bias would be cancelled).
    """
    batch_norm_follows = norm and design.norm == "batch"
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["conv"] = Conv(
        in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups,
        bias=not batch_norm_follows,
    )
    layers["conv"].matmul_on_gpu = not batch_norm_follows
    if norm:
        layers["norm"] = make_norm(design, out_ch)
    if act:
        layers["act"] = make_activation(design)
    if grn:
        layers["grn"] = GlobalResponseNorm(out_ch)
    return nn.Sequential(layers)


ROLES = ("spatial", "to_hidden", "from_hidden")
"""What each of a block's three convs does, named the same way in every design:

- ``spatial``: the k x k conv (depthwise or grouped), the only one that mixes pixels;
- ``to_hidden``: the 1x1 conv from the block's width to its hidden width, 4x wider in an
  inverted bottleneck (ConvNeXt's first MLP layer: its GELU, and GRN in V2, follow it; feature
  collapse is measured on its output) and 4x narrower in ResNet's bottleneck (it reduces);
- ``from_hidden``: the 1x1 conv from the hidden width back to the block's width, the last
  conv of the residual branch (ResNet's expanding 1x1, ConvNeXt's projecting one).

Forward order (``block_plan``): ResNet's bottleneck ``to_hidden -> spatial -> from_hidden``,
ConvNeXt's inverted one ``spatial -> to_hidden -> from_hidden``."""

@dataclass(frozen=True)
class ConvSpec:
    """One conv of a block and what follows it (a plan, shared by the builder and diagrams).

    ``role`` is one of ``ROLES``; ``name`` is the conv unit's module name (``conv1``..``conv3``
    by position in the forward pass, whatever the role, so that state-dict keys do not depend
    on the design)."""

    role: str
    name: str
    in_ch: int
    out_ch: int
    kernel_size: int
    stride: int
    groups: int
    norm: bool
    act: bool
    grn: bool

    @property
    def spatial(self) -> bool:
        return self.role == "spatial"


def block_plan(design: Design, in_ch: int, out_ch: int, stride: int) -> list[ConvSpec]:
    """The three convs of a block in forward order, with what follows each (``ROLES``).

    ResNet's bottleneck runs ``to_hidden -> spatial -> from_hidden`` (the 3x3 conv at the
    hidden width); once the depthwise conv moved up (``spatial_position='top'``),
    ``spatial -> to_hidden -> from_hidden`` (the k x k conv at the block's input width).
    After the convs:

    - a norm after every conv, or with ``norm_count='one'`` after the spatial conv only;
    - an activation after every conv but ``from_hidden``, or with ``activation_count='one'``
      after ``to_hidden`` only (the MLP's GELU); GRN (V2) after ``to_hidden``'s activation.
    """
    d = design
    hidden = d.hidden_for(out_ch)
    if d.spatial_position == "middle":
        order = ("to_hidden", "spatial", "from_hidden")
        spatial_ch = hidden
    else:
        order = ("spatial", "to_hidden", "from_hidden")
        spatial_ch = in_ch
    shapes = {"spatial": (spatial_ch, spatial_ch, d.kernel_size, stride),
              "to_hidden": (in_ch, hidden, 1, 1), "from_hidden": (hidden, out_ch, 1, 1)}
    groups = spatial_ch if d.groups == "depthwise" else d.groups
    all_norms, all_acts = d.norm_count == "all", d.activation_count == "all"
    specs = []
    for position, role in enumerate(order):
        cin, cout, k, s = shapes[role]
        specs.append(ConvSpec(
            role, f"conv{position + 1}", cin, cout, k, s,
            groups=groups if role == "spatial" else 1,
            norm=all_norms or role == "spatial",
            act=role == "to_hidden" or (all_acts and role == "spatial"),
            grn=d.grn and role == "to_hidden"))
    return specs


def plan_text(design: Design, specs: list[ConvSpec]) -> str:
    """The block's ops in order, e.g. 'dwconv7x7 -> LN -> conv1x1 4x -> GELU -> conv1x1 /4
    -> layer scale -> (+)': a 1x1 conv shows how it changes the width ('4x', '/4'), the conv
    that strides shows its stride ('conv3x3 stride 2')."""
    norm = "BN" if design.norm == "batch" else "LN"
    act = "ReLU" if design.activation == "relu" else "GELU"
    ops = []
    for spec in specs:
        kind = "dwconv" if spec.groups == spec.in_ch > 1 else \
            f"g{spec.groups}conv" if spec.groups > 1 else "conv"
        name = f"{kind}{spec.kernel_size}x{spec.kernel_size}"
        if spec.out_ch > spec.in_ch and spec.kernel_size == 1:
            name += f" {spec.out_ch // spec.in_ch}x"
        elif spec.out_ch < spec.in_ch and spec.kernel_size == 1:
            name += f" /{spec.in_ch // spec.out_ch}"
        if spec.stride > 1:
            name += f" stride {spec.stride}"
        ops += [name] + [norm] * spec.norm + [act] * spec.act + ["GRN"] * spec.grn
    ops += ["layer scale"] * (design.layer_scale > 0) + ["(+)"]
    ops += [act] * activation_after_add(design)
    return " -> ".join(ops)


def needs_projection(in_ch: int, out_ch: int, stride: int) -> bool:
    """Whether a block's shortcut is a projection (1x1 conv + norm) rather than the identity:
    when the block changes the stride or the width."""
    return stride != 1 or in_ch != out_ch


def activation_after_add(design: Design) -> bool:
    """Whether a block ends with an activation after the residual add (ResNet's blocks)."""
    return design.activation_count == "all"


class Block(nn.Module):
    """The one residual block of the design space.

    Three convs (two 1x1 and one k x k spatial conv, placed in the middle or on top), each
    followed by its norm / activation as the design says (``block_plan``), then layer
    scale, drop path and the residual add (with a projection shortcut when the shape
    changes), then an activation after the add when ``activation_count == 'all'`` (ResNet).
    The module's repr shows the order of ops (``plan_text``); at the three landmarks:

    ========================  ==========================================================
    ResNet-50 bottleneck      conv1x1 /4 -> BN -> ReLU -> conv3x3 -> BN -> ReLU ->
                              conv1x1 4x -> BN -> (+) -> ReLU
    inverted bottleneck (5)   conv1x1 4x -> BN -> ReLU -> dwconv3x3 -> BN -> ReLU ->
                              conv1x1 /4 -> BN -> (+) -> ReLU
    ConvNeXt-T (13, 14)       dwconv7x7 -> LN -> conv1x1 4x -> GELU -> conv1x1 /4 ->
                              layer scale -> (+)
    ========================  ==========================================================

    (ConvNeXt V2 adds GRN after the GELU and drops layer scale.) The three conv units are
    registered as conv1..conv3 in forward order, whatever their role, so that the state-dict
    keys stay the same for every design (``models.weights`` maps them to torchvision's and
    timm's); ``roles`` names them in that order and ``unit(role)`` finds one by what it does.
    """

    def __init__(
        self, design: Design, in_ch: int, out_ch: int, stride: int, drop_path: float
    ) -> None:
        super().__init__()
        d = design
        specs = block_plan(d, in_ch, out_ch, stride)
        for spec in specs:
            self.add_module(spec.name, conv_unit(
                d, spec.in_ch, spec.out_ch, kernel_size=spec.kernel_size, stride=spec.stride,
                groups=spec.groups, norm=spec.norm, act=spec.act, grn=spec.grn))
        self.roles = tuple(spec.role for spec in specs)  # of conv1, conv2, conv3
        self._unit_names = {spec.role: spec.name for spec in specs}
        self.layer_scale = LayerScale(out_ch, d.layer_scale) if d.layer_scale > 0 else None
        self.drop_path = DropPath(drop_path) if drop_path > 0 else None
        if needs_projection(in_ch, out_ch, stride):
            self.shortcut: nn.Module | None = conv_unit(d, in_ch, out_ch, 1, stride, norm=True)
        else:
            self.shortcut = None
        self.act = make_activation(d) if activation_after_add(d) else None
        self.ops = plan_text(d, specs)

    def unit(self, role: str) -> nn.Sequential:
        """The conv unit (conv, its norm / activation / GRN) that plays ``role`` (``ROLES``)."""
        if role not in self._unit_names:
            raise ValueError(f"role={role!r}; allowed: {', '.join(ROLES)}")
        return getattr(self, self._unit_names[role])

    def extra_repr(self) -> str:
        return f"ops: {self.ops}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        # conv1..conv3 are the units in forward order (block_plan), as the paper draws them.
        y = self.conv1(x)  # ResNet: to_hidden 1x1 (reduces) | ConvNeXt: spatial dw 7x7
        y = self.conv2(y)  # ResNet: spatial 3x3             | ConvNeXt: to_hidden 1x1 (4x)
        y = self.conv3(y)  # both: from_hidden 1x1, back to the block's width
        if self.layer_scale is not None:
            y = self.layer_scale(y)
        if self.drop_path is not None:
            y = self.drop_path(y)
        y += identity  # in place, as torchvision's ResNet: no extra tensor per block
        return y if self.act is None else self.act(y)


def make_stem(design: Design, in_chans: int) -> nn.Sequential:
    """ResNet stem (7x7/2 conv, norm, act, 3x3/2 max-pool) or patchify stem (kxk/k conv, norm;
    k = ``design.stem_stride``, 4 in the paper)."""
    width = design.stem_width
    bias = design.norm != "batch"
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if design.stem == "resnet":
        layers["conv"] = nn.Conv2d(in_chans, width, 7, stride=2, padding=3, bias=bias)
        layers["norm"] = make_norm(design, width)
        layers["act"] = make_activation(design)
        layers["pool"] = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    else:
        k = design.stem_stride  # non-overlapping patches: kernel = stride
        layers["conv"] = nn.Conv2d(in_chans, width, k, stride=k, bias=bias)
        layers["norm"] = make_norm(design, width)
    return nn.Sequential(layers)


def make_downsample(design: Design, in_ch: int, out_ch: int) -> nn.Sequential:
    """Separate downsampling layer between stages: norm, then 2x2 stride-2 conv."""
    return nn.Sequential(
        OrderedDict(
            norm=make_norm(design, in_ch),
            conv=nn.Conv2d(in_ch, out_ch, kernel_size=2, stride=2),
        )
    )


class Stage(nn.Module):
    """An optional separate downsampling layer followed by a sequence of blocks."""

    def __init__(self, downsample: nn.Module | None, blocks: list[Block]) -> None:
        super().__init__()
        self.downsample = downsample
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            x = self.downsample(x)
        return self.blocks(x)


class Head(nn.Module):
    """Global average pool, optional norm, linear classifier."""

    def __init__(self, design: Design, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = make_norm(design, channels, ndim=2) if design.head_norm else None
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.mean(dim=(2, 3))
        if self.norm is not None:
            x = self.norm(x)
        return self.fc(x)
