"""Speed paths of the convolutions, apart from the blocks: same parameters, same math.

``Conv`` is a drop-in ``nn.Conv2d`` whose forward takes four shortcuts where they give the
same result:

1. a 1x1 stride-1 conv on a channels_last tensor as a matmul (``F.linear``) on the NHWC view
   (on GPUs only where no BatchNorm follows: ``Conv.matmul_on_gpu``);
2. a stride-1 "same" conv with the taps that only ever meet zero padding cropped, on maps
   under about half its kernel (kernel > 2 * size - 1: a 7x7 conv on 3x3 maps runs as a 5x5
   one, a 7x7 depthwise conv on 1x1 maps as a 1x1 one);
3. a depthwise 1x1 conv (what 2. can leave) as a per-channel scale and shift;
4. on CPU, a depthwise stride-1 conv on tiny maps (2x2, or 4x4 with kernels >= 5) with its
   weight gradient as a sum over taps (``_DepthwiseSmallMap``).

Each module's ``shortcuts`` attribute switches them (on by default; ``use_shortcuts(model,
False)`` sets it for every ``Conv`` of a built model); ``plain_convolutions(model)`` turns
them off for one model inside a block (FLOP counting, which counts every tap, and measuring
what they buy). Nothing is process-wide.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn


def use_shortcuts(model: nn.Module, enabled: bool | list[bool]) -> list[bool]:
    """Switch the shortcuts of every ``Conv`` of ``model`` (one flag for all, or one per conv
    in ``model.modules()`` order); returns their previous states in that order."""
    convs = [m for m in model.modules() if isinstance(m, Conv)]
    previous = [c.shortcuts for c in convs]
    states = enabled if isinstance(enabled, list) else [enabled] * len(convs)
    for c, state in zip(convs, states):
        c.shortcuts = state
    return previous


@contextmanager
def plain_convolutions(model: nn.Module) -> Iterator[nn.Module]:
    """Run every ``Conv`` of ``model`` as a plain ``nn.Conv2d`` inside the block (other
    models, other threads' models, are untouched); the states are restored after it.

    For FLOP counting (the paper counts every tap of every kernel, also those that only
    meet padding) and for measuring what the shortcuts of ``Conv`` buy.
    """
    previous = use_shortcuts(model, False)
    try:
        yield model
    finally:
        use_shortcuts(model, previous)


class _DepthwiseSmallMap(torch.autograd.Function):
    """Depthwise stride-1 conv whose weight gradient is a sum over taps.

    On CPU, oneDNN's depthwise weight gradient is slow on tiny feature maps (2x2, 4x4: up
    to 12x slower than this loop over the k*k taps, measured at batch 128); the forward
    and the input gradient keep the library kernel.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, 1, padding, 1, weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        (ph, pw), (kh, kw) = ctx.padding, weight.shape[-2:]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, [1, 1], list(ctx.padding), [1, 1], False, [0, 0],
                weight.shape[0], [True, False, False])[0]
        if ctx.needs_input_grad[1]:
            h, w = x.shape[-2:]
            padded = F.pad(x, (pw, pw, ph, ph))
            taps = [(padded[:, :, i:i + h, j:j + w] * grad).sum(dim=(0, 2, 3))
                    for i in range(kh) for j in range(kw)]
            grad_w = torch.stack(taps, dim=1).view_as(weight)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(dim=(0, 2, 3))
        return grad_x, grad_w, grad_b, None


def _small_map_depthwise(x: torch.Tensor, kernel: tuple[int, int]) -> bool:
    # Measured on a 2-core CPU: the tap loop wins on 2x2 maps for every kernel and on
    # 4x4 maps for kernels of 5 and more; elsewhere (and on GPUs) the library is faster.
    area = x.shape[-2] * x.shape[-1]
    return (x.device.type == "cpu" and torch.is_grad_enabled()
            and (area <= 4 or (area <= 16 and min(kernel) >= 5)))


class Conv(nn.Conv2d):
    """``nn.Conv2d`` (same parameters, same math) with the module's four shortcuts.

    * The 1x1 matmul: on the NHWC view ``F.linear`` needs no copy and is about twice as fast
      as the convolution kernel on CPU, forward and backward (measured with
      ``python -m ablations bench``).
    * The cropped kernel: a stride-1 "same" conv on a map smaller than its kernel only ever
      reaches the central ``2 * size - 1`` taps; the others multiply zero padding, so the
      output and the gradients are the same (zero for the cropped taps).
    * The depthwise 1x1 as a scale, and the depthwise weight gradient on tiny CPU maps.
    Each is skipped for shapes where it does not apply, so the module is a drop-in
    ``nn.Conv2d`` (state-dict keys and init are unchanged). A FLOP counter sees fewer FLOPs
    where a kernel is cropped or a 1x1 depthwise conv is a scale: ``models.costs`` counts
    inside ``plain_convolutions``.
    """

    shortcuts: bool = True
    """Whether this conv takes its shortcuts (``use_shortcuts``, ``plain_convolutions``)."""

    matmul_on_gpu: bool = True
    """On GPUs, a 1x1 conv followed by BatchNorm is faster as cuDNN's conv (measured on an
    H100, bf16 training of ResNet-50: 3,654 vs 3,387 images/s); ``conv_unit`` sets this."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding_mode != "zeros":
            return super().forward(x)
        if not self.shortcuts:
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        return conv_with_shortcuts(x, self.weight, self.bias, self.stride, self.padding,
                                   self.dilation, self.groups, self.matmul_on_gpu)


def conv_with_shortcuts(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                        stride: tuple[int, int], padding: tuple[int, int] | str,
                        dilation: tuple[int, int], groups: int,
                        matmul_on_gpu: bool = True) -> torch.Tensor:
    """``F.conv2d`` with the shortcuts of ``Conv`` where they apply (same result).

    The shortcuts branch on the input's shape, which torch.fx cannot trace; this function
    is therefore a leaf of ``torch.fx.symbolic_trace`` (``torch.fx.wrap`` below), so that
    torchvision's ``create_feature_extractor`` works on every design.
    """
    if stride != (1, 1) or x.ndim != 4:
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    out_ch, in_per_group, kh, kw = weight.shape
    h, w = x.shape[-2:]
    if isinstance(padding, tuple) and (kh > 2 * h - 1 or kw > 2 * w - 1) \
            and padding == (kh // 2, kw // 2) and kh % 2 == 1 and kw % 2 == 1:
        ch, cw = min(kh, 2 * h - 1), min(kw, 2 * w - 1)
        top, left = (kh - ch) // 2, (kw - cw) // 2
        weight = weight[:, :, top:top + ch, left:left + cw]
        padding = (ch // 2, cw // 2)
        kh, kw = ch, cw
    depthwise = groups == out_ch and in_per_group == 1 and x.shape[1] == out_ch
    if (kh, kw) == (1, 1) and groups == 1 and dilation == (1, 1) \
            and (x.device.type == "cpu" or matmul_on_gpu) \
            and x.is_contiguous(memory_format=torch.channels_last):
        y = F.linear(x.permute(0, 2, 3, 1), weight.flatten(1), bias)
        return y.permute(0, 3, 1, 2)
    if (kh, kw) == (1, 1) and depthwise:
        # A depthwise 1x1 conv is a per-channel scale (and shift).
        y = x * weight.view(1, -1, 1, 1)
        return y if bias is None else y + bias.view(1, -1, 1, 1)
    if depthwise and dilation == (1, 1) and _small_map_depthwise(x, (kh, kw)):
        return _DepthwiseSmallMap.apply(x, weight, bias, padding)
    return F.conv2d(x, weight, bias, stride, padding, dilation, groups)


torch.fx.wrap("conv_with_shortcuts")
