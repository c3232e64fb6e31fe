"""FCMAE, ConvNeXt V2's fully convolutional masked autoencoder, with dense masked convolutions.

The official code (facebookresearch/ConvNeXt-V2) runs the encoder on sparse tensors
(MinkowskiEngine); the paper's numbers came from a dense JAX version that multiplies by the
mask before and after every spatially aggregating op. This module is that dense version for
any design of the space with a patchify stem, separate downsampling and LayerNorm:

- a random mask per image on the grid of the last stage (1 = masked), ``mask_ratio`` of the
  cells, nearest-upsampled to every stage (``stage_visibility``);
- the stem output, every depthwise conv's input and output, every downsampling output and
  every block output are multiplied by the visible map; GRN takes its statistics from
  visible positions only, per image. LayerNorm, the 1x1 convs and GELU act per position, so
  visible outputs never depend on masked pixels (``tests/test_fcmae.py``'s leak tests);
- a light decoder: 1x1 projection, mask token at masked cells, one ConvNeXt V2 block, a 1x1
  conv to the pixels of a patch; mean squared error over masked patches only, each patch's
  target normalised by its own mean and variance (``norm_pix_loss``).

``encoder_masking=False`` is the leakage baseline: the encoder sees the whole image densely
(the mask only decides where the decoder gets mask tokens and where the loss is counted), so
features at visible cells carry the masked pixels through their receptive fields.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import Block
from .design import NUM_STAGES, Design, DesignError
from .network import ConvNet


def check_maskable(design: Design) -> None:
    """Raise ``DesignError`` unless masked pretraining can keep ``design`` leak-free: a
    patchify stem (cells aligned to patches), separate downsampling (cell-aligned 2x2
    convs) and LayerNorm (BatchNorm's batch statistics would mix masked positions in)."""
    for field, value, allowed in (("stem", design.stem, "patchify"),
                                  ("downsample", design.downsample, "separate"),
                                  ("norm", design.norm, "layer")):
        if value != allowed:
            raise DesignError(f"Design.{field}={value!r} is invalid for FCMAE pretraining; "
                              f"allowed: {allowed!r} (masking must not leak)")


def random_mask(batch: int, grid: tuple[int, int], ratio: float,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """A (batch, h, w) 0/1 map per image, 1 = masked: ``int(h * w * (1 - ratio))`` cells kept
    at random, the rest masked (the official rule: 19 of 49 cells kept at 224 px)."""
    if not 0.0 < ratio < 1.0:
        raise DesignError(f"FCMAE mask_ratio={ratio!r} is invalid; allowed: in (0, 1)")
    h, w = grid
    cells = h * w
    keep = int(cells * (1 - ratio))
    if keep < 1:
        raise DesignError(f"FCMAE: a {h}x{w} mask grid at mask_ratio={ratio} keeps no cell; "
                          "allowed: a finer grid (smaller stem_stride or larger images) or a "
                          "lower ratio")
    order = torch.rand(batch, cells, device=device).argsort(dim=1)
    mask = torch.ones(batch, cells, device=device)
    mask.scatter_(1, order[:, :keep], 0.0)
    return mask.view(batch, h, w)


def upsample_mask(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """(N, h, w) -> (N, 1, h * factor, w * factor), nearest (every cell becomes a block)."""
    return mask.repeat_interleave(factor, dim=1).repeat_interleave(factor, dim=2).unsqueeze(1)


def stage_visibility(mask: torch.Tensor) -> list[torch.Tensor]:
    """The visible map (1 - mask) at the resolution of each stage, first stage first."""
    visible = 1.0 - mask
    return [upsample_mask(visible, 2 ** (NUM_STAGES - 1 - s)) for s in range(NUM_STAGES)]


def masked_block(block: Block, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """``block.forward`` with masked convolutions: the spatial conv sees and leaves zeros at
    masked positions, GRN counts visible positions only, the output is re-masked."""
    identity = x if block.shortcut is None else block.shortcut(x)
    y = x
    for name, role in zip(("conv1", "conv2", "conv3"), block.roles):
        for kind, layer in getattr(block, name).named_children():
            if kind == "conv" and role == "spatial":
                y = layer(y * visible) * visible
            elif kind == "grn":
                y = layer(y, visible=visible)
            else:
                y = layer(y)
    if block.layer_scale is not None:
        y = block.layer_scale(y)
    if block.drop_path is not None:
        y = block.drop_path(y)
    y = y + identity
    if block.act is not None:
        y = block.act(y)
    return y * visible


def masked_stage_outputs(net: ConvNet, images: torch.Tensor,
                         mask: torch.Tensor) -> list[torch.Tensor]:
    """Every stage's output of ``net`` on ``images`` under ``mask`` (N, h, w) on the last
    stage's grid; masked positions hold zeros."""
    visible = stage_visibility(mask)
    x = net.stem(images) * visible[0]
    outputs = []
    for s, stage in enumerate(net.stages):
        if stage.downsample is not None:
            x = stage.downsample(x) * visible[s]
        for block in stage.blocks:
            x = masked_block(block, x, visible[s])
        outputs.append(x)
    return outputs


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, cells, patch * patch * C), cells in row-major order."""
    n, c, h, w = images.shape
    gh, gw = h // patch, w // patch
    x = images.reshape(n, c, gh, patch, gw, patch).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(n, gh * gw, patch * patch * c)


def reconstruction_loss(images: torch.Tensor, prediction: torch.Tensor, mask: torch.Tensor,
                        norm_pix_loss: bool = True) -> torch.Tensor:
    """Mean squared error over masked patches only. ``prediction``: (N, patch^2 C, h, w),
    ``mask``: (N, h, w), 1 = masked; with ``norm_pix_loss`` each target patch is normalised
    by its own mean and variance (the official default)."""
    n, _, gh, gw = prediction.shape
    patch = images.shape[-1] // gw
    target = patchify(images, patch)
    if norm_pix_loss:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    pred = prediction.flatten(2).transpose(1, 2)  # (N, cells, patch^2 C)
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    m = mask.reshape(n, gh * gw)
    return (per_patch * m).sum() / m.sum()


class FCMAE(nn.Module):
    """Encoder (the design's stem and stages) + light decoder; ``forward`` returns the loss."""

    def __init__(self, design: Design, in_chans: int = 3, mask_ratio: float = 0.6,
                 decoder_width: int = 512, norm_pix_loss: bool = True,
                 encoder_masking: bool = True) -> None:
        super().__init__()
        check_maskable(design)
        if not isinstance(decoder_width, int) or decoder_width < 2:
            raise DesignError(f"FCMAE decoder_width={decoder_width!r} is invalid; allowed: "
                              "an integer >= 2")
        self.encoder = ConvNet(design, num_classes=1, in_chans=in_chans)
        self.encoder.head = nn.Identity()  # pretraining has no classifier
        self.mask_ratio, self.norm_pix_loss = mask_ratio, norm_pix_loss
        self.encoder_masking = encoder_masking
        self.patch = design.total_stride
        width = design.residual_width(NUM_STAGES - 1)
        self.proj = nn.Conv2d(width, decoder_width, 1)
        self.mask_token = nn.Parameter(torch.zeros(1, decoder_width, 1, 1))
        # The official decoder: one ConvNeXt V2 block (GRN, no layer scale, no drop path).
        decoder_design = design.replace(grn=True, layer_scale=0.0, drop_path=0.0)
        self.decoder = Block(decoder_design, decoder_width, decoder_width, 1, 0.0)
        self.pred = nn.Conv2d(decoder_width, self.patch * self.patch * in_chans, 1)
        for m in (self.proj, self.pred, *self.decoder.modules()):
            if isinstance(m, nn.Conv2d):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.mask_token, std=0.02)

    def encode(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last stage's features: masked convolutions, or dense on the whole image when
        ``encoder_masking`` is off (the leakage baseline)."""
        if self.encoder_masking:
            return masked_stage_outputs(self.encoder, images, mask)[-1]
        return self.encoder.forward_features(images)

    def reconstruct(self, images: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        """Predicted pixels (N, patch^2 C, h, w) of every cell under ``mask``."""
        x = self.proj(self.encode(images, mask))
        m = mask.unsqueeze(1).to(x.dtype)
        x = x * (1 - m) + self.mask_token * m
        return self.pred(self.decoder(x))

    def grid(self, images: torch.Tensor) -> tuple[int, int]:
        """The mask grid of ``images`` (the last stage's resolution)."""
        h, w = images.shape[-2:]
        if h % self.patch or w % self.patch:
            raise DesignError(f"FCMAE: images of {h}x{w} px are not a whole number of "
                              f"{self.patch}-px cells; allowed: multiples of {self.patch}")
        return h // self.patch, w // self.patch

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        mask = random_mask(images.shape[0], self.grid(images), self.mask_ratio, images.device)
        prediction = self.reconstruct(images, mask)
        return reconstruction_loss(images, prediction, mask, self.norm_pix_loss)

    def encoder_state(self) -> dict[str, torch.Tensor]:
        """The encoder's weights as a classifier of the same design loads them (no head)."""
        return {k: v for k, v in self.encoder.state_dict().items() if not k.startswith("head.")}
