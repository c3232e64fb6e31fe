"""How cost grows with resolution: GFLOPs, peak activation memory and speed per model.

The paper argues for ConvNets (and Swin's windows) at high resolution because global
self-attention costs grow quadratically with the number of tokens while convolutions grow
linearly. ``scaling_table`` measures it: per model and resolution, the counted GFLOPs
(attention matmuls included, on the meta device), the peak memory of the activations of
one inference forward (counted tensor by tensor on the real kernels), and, where asked,
the measured latency at batch 1. ``fit_exponents`` fits cost ~ pixels^k on log-log axes.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from models import Design, build, costs, named_design
from models.roadmap import DEFAULT_CHAIN
from models.complexity import AnyDesign

from .bench import median_call_ms
from ..defaults import SCALING_MODELS, SCALING_RESOLUTIONS
from ..errors import UserError

DEFAULT_MODELS = SCALING_MODELS
DEFAULT_RESOLUTIONS = SCALING_RESOLUTIONS
METRICS = ("gflops", "activation_mb", "cuda_peak_mb", "latency_ms")


class _LiveActivations(TorchDispatchMode):
    """Counts the bytes of tensors that ops create and that are still referenced.

    Every op output registers its storage (views share one); a storage is freed when the
    last tensor registered on it dies. Storages that existed before (weights, the input)
    are not counted, also when an op returns a view of them.
    """

    def __init__(self, preexisting: set[int]) -> None:
        super().__init__()
        self.preexisting = preexisting
        self.refs: dict[int, int] = {}
        self.sizes: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _release(self, key: int) -> None:
        self.refs[key] -= 1
        if self.refs[key] == 0:
            del self.refs[key]
            self.current -= self.sizes.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            key = t.untyped_storage()._cdata
            if key in self.preexisting:
                continue
            if key not in self.refs:
                self.refs[key] = 0
                self.sizes[key] = t.untyped_storage().nbytes()
                self.current += self.sizes[key]
                self.peak = max(self.peak, self.current)
            self.refs[key] += 1
            weakref.finalize(t, self._release, key)
        return out


def activation_peak_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Peak bytes of live intermediate tensors during ``model(x)`` under inference mode
    (weights and the input excluded), counted on whatever kernels run on ``x``'s device."""
    model.eval()
    preexisting = {t.untyped_storage()._cdata
                   for t in [x, *model.parameters(), *model.buffers()]}
    counter = _LiveActivations(preexisting)
    with torch.inference_mode(), counter:
        out = model(x)
        del out
    return counter.peak


def resolve_models(names: list[str], chain_name: str | None = None) -> dict[str, AnyDesign]:
    """Named models (ConvNets and Transformers) or ``step:KEY`` of ``chain_name`` -> designs."""
    from models.roadmap import find_step

    out = {}
    for name in names:
        try:
            if name.startswith("step:"):
                step = find_step(chain_name or DEFAULT_CHAIN, name[5:])
                out[f"{step.index}:{step.name}"] = step.design
            else:
                out[name] = named_design(name)
        except ValueError as e:
            raise UserError(f"--models: {e}") from None
    return out


def scaling_table(models: dict[str, AnyDesign], resolutions: list[int],
                  time_resolutions: list[int] | None = None, device: str = "cpu",
                  memory: bool = True, repeats: int = 3,
                  log: Callable[[str], None] = print) -> pd.DataFrame:
    """One row per (model, resolution): params, GFLOPs (attention part too), peak
    activation MB (float32, batch 1) and median latency at batch 1 where timed.

    ``time_resolutions`` (default: none) are the sizes timed on ``device``; memory is
    counted on ``device``'s kernels too (a fused attention kernel holds no N x N matrix).
    """
    bad = [r for r in [*resolutions, *(time_resolutions or [])]
           if isinstance(r, bool) or not isinstance(r, int) or r < 32]
    if bad:
        raise UserError(f"--resolutions: {bad[0]!r}; allowed: integers >= 32")
    dev = torch.device(device)
    rows = []
    for name, design in models.items():
        for res in sorted(set(resolutions) | set(time_resolutions or [])):
            c = costs(design, resolution=res, with_fvcore=False)
            row: dict[str, Any] = {
                "model": name, "family": _family(design), "resolution": res,
                "pixels": res * res, "params_m": round(c.params_m, 3),
                "gflops": round(c.gflops, 4), "attention_gflops": round(c.attention_gflops, 4),
                "activation_mb": math.nan, "cuda_peak_mb": math.nan, "latency_ms": math.nan,
                "device": device}
            needs_model = (memory and res in resolutions) or res in (time_resolutions or [])
            if needs_model:
                torch.manual_seed(0)
                model = build(design.at_resolution(res)).to(dev).eval()
                x = torch.randn(1, 3, res, res, device=dev)
                if memory and res in resolutions:
                    row["activation_mb"] = round(activation_peak_bytes(model, x) / 2**20, 2)
                if res in (time_resolutions or []):
                    if dev.type == "cuda":  # what the allocator really held, above weights
                        torch.cuda.synchronize(dev)
                        torch.cuda.reset_peak_memory_stats(dev)
                        base = torch.cuda.memory_allocated(dev)
                    row["latency_ms"] = round(median_call_ms(model, x, repeats, warmup=1), 2)
                    if dev.type == "cuda":
                        peak = torch.cuda.max_memory_allocated(dev) - base
                        row["cuda_peak_mb"] = round(peak / 2**20, 2)
                del model, x
            log(f"  {name} @ {res}: {row['gflops']:.2f} GFLOPs, "
                f"{row['activation_mb']} MB, {row['latency_ms']} ms")
            rows.append(row)
    return pd.DataFrame(rows)


def _family(design: AnyDesign) -> str:
    if isinstance(design, Design):
        return "convnet"
    return design.family


def fit_exponents(df: pd.DataFrame) -> pd.DataFrame:
    """Per model and metric: k of cost ~ pixels^k (least squares on log-log over all
    measured sizes) and the local k between the two largest sizes."""
    rows = []
    for model, part in df.groupby("model", sort=False):
        for metric in METRICS:
            if metric not in part:
                continue
            p = part[["pixels", metric]].dropna().sort_values("pixels")
            p = p[p[metric] > 0]
            if len(p) < 2:
                continue
            lx, ly = np.log(p.pixels.to_numpy(float)), np.log(p[metric].to_numpy(float))
            k = float(np.polyfit(lx, ly, 1)[0])
            local = float((ly[-1] - ly[-2]) / (lx[-1] - lx[-2]))
            rows.append({"model": model, "metric": metric, "exponent": round(k, 3),
                         "exponent_largest": round(local, 3), "points": len(p),
                         "from_px": int(math.sqrt(p.pixels.iloc[0])),
                         "to_px": int(math.sqrt(p.pixels.iloc[-1]))})
    return pd.DataFrame(rows, columns=["model", "metric", "exponent", "exponent_largest",
                                       "points", "from_px", "to_px"])


