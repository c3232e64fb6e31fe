"""Counting a design without training: parameters and FLOPs (two named conventions).

Two FLOP conventions, always named:
- ``gflops``: the paper's. Multiply-adds of conv and linear layers only (1 MAC = 1 FLOP);
  norms, activations, adds and pooling are free. Counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 FLOPs per MAC, so halved).
- ``fvcore_gflops``: fvcore's total (1 MAC = 1 FLOP, plus BatchNorm and LayerNorm),
  the convention of the ConvNeXt V2 tables (ConvNets only).

Attention is multiply-adds too: the two matmuls of self-attention (queries x keys, weights x
values; ``bmm`` or fused attention kernels) are counted in ``gflops`` like any linear layer,
as torchvision, timm and the Swin/DeiT papers count them. ``attention_gflops`` is that part
alone: a conv + linear only count (``gflops - attention_gflops``) would miss it, and it is
what grows quadratically with the number of tokens in a global-attention ViT.

``gflops_by_part`` splits a ConvNet's ``gflops`` into stem, stages and head (same counter).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from .fast_conv import plain_convolutions
from .design import Design
from .network import build
from .transformers import SwinDesign, ViTDesign

AnyDesign = Design | SwinDesign | ViTDesign

# The ops whose FLOPs are attention: batched matmuls (no conv or linear layer of the design
# space uses one) and the fused attention kernels.
_ATTENTION_OPS = ("bmm", "scaled_dot_product")


@dataclass(frozen=True)
class Costs:
    """Parameter count and FLOPs of one design at one resolution."""

    params: int
    gflops: float
    fvcore_gflops: float | None
    attention_gflops: float = 0.0
    """The part of ``gflops`` spent in attention matmuls (0 for ConvNets)."""

    @property
    def params_m(self) -> float:
        """Parameters in millions."""
        return self.params / 1e6


def count_params(model: torch.nn.Module) -> int:
    """Number of trainable parameters (buffers such as BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def paper_gflops(model: torch.nn.Module, resolution: int = 224, in_chans: int = 3) -> float:
    """GFLOPs in the paper's convention (conv + linear + attention MACs) for one image."""
    return count_gflops(model, resolution, in_chans)[0]


def count_gflops(model: torch.nn.Module, resolution: int = 224,
                 in_chans: int = 3) -> tuple[float, float]:
    """(all multiply-adds, those of attention matmuls) in GMACs, for one image."""
    counter = _counted_forward(model, resolution, in_chans)
    per_op = counter.get_flop_counts().get("Global", {})
    attention = sum(n for op, n in per_op.items()
                    if any(name in str(op) for name in _ATTENTION_OPS))
    return counter.get_total_flops() / 2 / 1e9, attention / 2 / 1e9


def _counted_forward(model: torch.nn.Module, resolution: int,
                     in_chans: int) -> FlopCounterMode:
    # One forward pass of one zero image under torch's FLOP counter, the shortcuts of
    # fast_conv off: the paper counts every tap of every kernel, also those on padding.
    model = model.eval()
    x = torch.zeros(1, in_chans, resolution, resolution, device=_device_of(model))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad(), plain_convolutions(model):
        model(x)
    return counter


def gflops_by_part(
    design: Design, resolution: int = 224, num_classes: int = 1000, in_chans: int = 3
) -> dict[str, float]:
    """Where a ConvNet's FLOPs go: GFLOPs (the paper's convention, counted as ``costs``
    counts them, on the meta device) of ``stem``, ``stage 1`` .. ``stage 4`` (each with its
    separate downsampling layer, when the design has one) and ``head``, in forward order.

    The parts sum to ``costs(design, resolution, num_classes, in_chans).gflops``.
    """
    if not isinstance(design, Design):
        raise TypeError(f"gflops_by_part() splits a models.Design (stem, stages, head), "
                        f"got {type(design).__name__}")
    with torch.device("meta"):
        model = build(design, num_classes=num_classes, in_chans=in_chans)
    per_module = _counted_forward(model, resolution, in_chans).get_flop_counts()
    root = type(model).__name__  # the counter names modules "ConvNet.stages.0", ...
    stages = {f"stage {i + 1}": f"stages.{i}" for i in range(len(model.stages))}
    paths = {"stem": "stem", **stages, "head": "head"}
    return {part: sum(per_module.get(f"{root}.{path}", {}).values()) / 2 / 1e9
            for part, path in paths.items()}


def fvcore_gflops(model: torch.nn.Module, resolution: int = 224, in_chans: int = 3) -> float:
    """fvcore's total GFLOPs for one image (counts norms too); needs a real (non-meta) model."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # fvcore imports and traces with torch.jit, which warns
        from fvcore.nn import FlopCountAnalysis

        model = model.eval()
        x = torch.zeros(1, in_chans, resolution, resolution)
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        with plain_convolutions(model):
            return analysis.total() / 1e9


def costs(
    design: AnyDesign,
    resolution: int = 224,
    num_classes: int = 1000,
    in_chans: int = 3,
    with_fvcore: bool = True,
) -> Costs:
    """Params and FLOPs of ``design`` at ``resolution`` (paper scale by default).

    The paper-convention count runs on the meta device (no memory, no arithmetic); fvcore
    traces a real model, so ``with_fvcore=False`` is much faster for big designs. A ViT is
    counted as built for ``resolution`` (its position embeddings grow with the patches);
    fvcore's count is left out for the Transformers (it skips fused attention).
    """
    design = design.at_resolution(resolution)
    with torch.device("meta"):
        meta_model = build(design, num_classes=num_classes, in_chans=in_chans)
    params = count_params(meta_model)
    gflops, attention = count_gflops(meta_model, resolution, in_chans)
    fv = None
    if with_fvcore and isinstance(design, Design) \
            and fvcore_memory_bytes(design, resolution, in_chans) <= _memory_budget():
        fv = fvcore_gflops(build(design, num_classes, in_chans), resolution, in_chans)
    return Costs(params=params, gflops=gflops, fvcore_gflops=fv, attention_gflops=attention)


def fvcore_memory_bytes(design: Design, resolution: int, in_chans: int = 3) -> int:
    """A generous estimate of the memory fvcore's real forward pass needs: the input plus
    the widest activations (the stem's output at the block's hidden width), float32."""
    stride = 2 if design.stem == "resnet" else 4
    widest = design.stem_width * max(design.expansion, 1) * (resolution // stride) ** 2
    return 4 * (in_chans * resolution ** 2 + 3 * widest)


def _memory_budget() -> int:
    # Half of the machine's physical memory: fvcore is skipped above it (its count is
    # optional; the paper-convention count runs on the meta device at any size).
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def _device_of(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")
