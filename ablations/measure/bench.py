"""Measured speed of every step, next to the reference implementations, on one machine.

FLOPs are not time. ``bench`` times our models and the references (torchvision's
``resnet50``, timm's ``convnext_tiny``) in the same process and *interleaved*: each timing
window visits every model once, in turn, so that a noisy machine slows all of them alike
and the ratios hold. Each model's throughput is the median over windows, after warm-up.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import multiprocessing
import queue as queue_module
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from models import build
from models.fast_conv import use_shortcuts
from models.complexity import count_params, paper_gflops
from models.roadmap import Step

from ..errors import UserError
from ..system.machine import sync

MODES = ("infer", "train")
DTYPES = ("float32", "bfloat16")
REFERENCES = ("torchvision_resnet50", "timm_convnext_tiny")
# Which reference a model is compared with: the one of its family (BatchNorm ResNets vs
# LayerNorm ConvNeXts); both are in every table, so other ratios can be read off it.
RATIO_COLUMNS = {"torchvision_resnet50": "vs_resnet50", "timm_convnext_tiny": "vs_convnext_tiny"}


@dataclass(frozen=True)
class Setting:
    """How every model of one benchmark is run."""

    mode: str = "infer"
    dtype: str = "float32"
    batch_size: int = 32
    resolution: int = 224
    channels_last: bool = True
    compile: bool = False
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"bench setting mode={self.mode!r}; allowed: {', '.join(MODES)}")
        if self.dtype not in DTYPES:
            raise UserError(f"bench setting dtype={self.dtype!r}; allowed: {', '.join(DTYPES)}")
        for name in ("batch_size", "resolution"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UserError(f"bench setting {name}={value!r}; allowed: an integer >= 1")
        if self.resolution < 32:
            raise UserError(f"bench setting resolution={self.resolution}; allowed: >= 32 (five stride-2 "
                            "stages need 32 px)")


@dataclass
class Candidate:
    """One model to time: a label and how to build it (its FLOPs are counted per setting)."""

    label: str
    kind: str  # "step" (of a chain), "model" (a named model) or "reference" (timm / torchvision)
    make: Callable[[int], nn.Module]
    """Builds the model for inputs of the given resolution (only a ViT depends on it)."""
    step_index: int | None = None
    step_name: str | None = None
    plain_convs: bool = False


def step_candidates(steps: list[Step], plain: bool = False) -> list[Candidate]:
    """One candidate per step (stochastic depth off: it costs the same in any implementation)."""
    return _design_candidates([(s.index, s.name, s.design) for s in steps], plain)


def model_candidates(names: list[str], plain: bool = False) -> list[Candidate]:
    """One candidate per named model, numbered in the given order."""
    from models import named_design

    return _design_candidates([(i, n, named_design(n)) for i, n in enumerate(names)], plain,
                              kind="model")


def _design_candidates(items: list[tuple[int, str, Any]], plain: bool,
                       kind: str = "step") -> list[Candidate]:
    out = []
    for index, name, design in items:
        if hasattr(design, "drop_path"):  # torchvision's ViT has no stochastic depth
            design = design.replace(drop_path=0.0)
        make = functools.partial(build_at_resolution, design)  # picklable (spawn)
        out.append(Candidate(f"{index}:{name}", kind, make, index, name))
        if plain:
            out.append(Candidate(f"{index}:{name} (plain convs)", kind, make, index, name,
                                 plain_convs=True))
    return out


def build_at_resolution(design: Any, resolution: int = 224) -> nn.Module:
    """``build(design)`` for inputs of ``resolution`` px (a ViT is built for that size)."""
    return build(design.at_resolution(resolution))


def _torchvision_resnet50(resolution: int = 224) -> nn.Module:
    import torchvision

    return torchvision.models.resnet50()


def _timm_convnext_tiny(resolution: int = 224) -> nn.Module:
    try:
        import timm
    except ImportError:
        raise UserError("the timm reference needs timm: pip install -e '.[bench]' (or "
                        "--no-references)") from None

    return timm.create_model("convnext_tiny", pretrained=False)


_REFERENCE_MAKERS = {"torchvision_resnet50": _torchvision_resnet50,
                     "timm_convnext_tiny": _timm_convnext_tiny}


def reference_candidates(names: tuple[str, ...] = REFERENCES) -> list[Candidate]:
    """torchvision's ResNet-50 and timm's ConvNeXt-T, randomly initialised."""
    unknown = [n for n in names if n not in _REFERENCE_MAKERS]
    if unknown:
        raise UserError(f"reference {unknown[0]!r} is unknown; allowed: {', '.join(REFERENCES)}")
    return [Candidate(name, "reference", _REFERENCE_MAKERS[name]) for name in names]


class _Timed:
    """A model prepared for the setting, with one ``run(n)`` doing n timed iterations."""

    def __init__(self, cand: Candidate, setting: Setting, seed: int = 0) -> None:
        torch.manual_seed(seed)
        dev = torch.device(setting.device)
        self.cand, self.setting, self.dev = cand, setting, dev
        model = cand.make(setting.resolution).to(dev)
        use_shortcuts(model, not cand.plain_convs)
        self.model_eager = model
        fmt = torch.channels_last if setting.channels_last else torch.contiguous_format
        model = model.to(memory_format=fmt)
        self.train = setting.mode == "train"
        model.train(self.train)
        self.x = torch.randn(setting.batch_size, 3, setting.resolution, setting.resolution,
                             device=dev).contiguous(memory_format=fmt)
        self.y = torch.randint(0, 1000, (setting.batch_size,), device=dev)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4) if self.train else None
        self.forward = torch.compile(model) if setting.compile else model
        self.autocast = setting.dtype == "bfloat16"

    def _step(self) -> None:
        with torch.autocast(self.dev.type, torch.bfloat16, enabled=self.autocast):
            if self.train:
                loss = F.cross_entropy(self.forward(self.x).float(), self.y)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
            else:
                with torch.inference_mode():
                    self.forward(self.x)

    def run(self, iterations: int) -> float:
        """Seconds for ``iterations`` steps (the device is synchronised at both ends)."""
        sync(self.dev)
        t0 = time.perf_counter()
        for _ in range(iterations):
            self._step()
        sync(self.dev)
        return time.perf_counter() - t0

    def latency_bs1(self, repeats: int) -> float:
        """Median milliseconds of one single-image forward (eval mode, no grad)."""
        model = self.forward
        was_training = self.model_eager.training
        self.model_eager.eval()
        x = self.x[:1].clone(memory_format=torch.channels_last if self.setting.channels_last
                             else torch.contiguous_format)
        with torch.autocast(self.dev.type, torch.bfloat16, enabled=self.autocast):
            ms = median_call_ms(model, x, repeats, warmup=2)
        self.model_eager.train(was_training)
        return ms


def median_call_ms(model: nn.Module, x: torch.Tensor, repeats: int, warmup: int) -> float:
    """Median milliseconds of ``model(x)`` under inference mode over ``repeats`` calls
    after ``warmup`` untimed ones (the device synchronised around each call)."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            sync(x.device)
            t0 = time.perf_counter()
            model(x)
            sync(x.device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def achieved_gflop_rate(images_per_s: Any, gflops: Any, mode: str) -> Any:
    """GFLOP/s a model reaches (numbers or pandas columns): images/s x its counted GFLOPs
    (multiply-adds) x 2 FLOPs per multiply-add x the passes of ``mode`` (a training step
    is about 3 forward passes: the backward pass costs about twice the forward)."""
    passes = 3 if mode == "train" else 1
    return images_per_s * gflops * 2 * passes


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _memory_child(cand: Candidate, setting: Setting, queue: Any) -> None:
    try:
        torch.set_num_threads(1)
        timed = _Timed(cand, setting)
        before = _rss_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set (VmHWM) to the current one (Linux)
        timed.run(2)
        queue.put((_rss_kib("VmHWM") - before) / 1024)
    except Exception as e:  # reported, not raised: memory is a side measurement
        queue.put(f"{type(e).__name__}: {e}")


def peak_memory_mb(cand: Candidate, setting: Setting, timeout: float = 600.0) -> float:
    """Peak memory of two eager iterations, in MiB.

    CUDA: ``max_memory_allocated``. CPU (Linux): how far the peak resident set of a fresh
    process (spawned, so that nothing else it holds is counted) rises above its resident
    set after building the model, over two eager iterations (inputs and weights are not
    counted, activations, gradients and optimizer state are).
    """
    setting = dataclasses.replace(setting, compile=False)  # compiling again costs minutes
    if setting.device.startswith("cuda"):
        dev = torch.device(setting.device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        timed = _Timed(cand, setting)
        timed.run(2)
        peak = torch.cuda.max_memory_allocated(dev) - base
        del timed
        return peak / 2 ** 20
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_child, args=(cand, setting, queue))
    proc.start()
    value: Any = "no answer"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            if not proc.is_alive():  # died without answering (e.g. out of memory)
                value = f"process ended with code {proc.exitcode}"
                break
    proc.join(timeout=10)
    if proc.is_alive():
        proc.kill()
    if isinstance(value, str):
        print(f"warning: peak memory of {cand.label} not measured ({value})")
        return math.nan
    return float(value)


LATENCY_REPEATS = 5
"""Calls whose median is the batch-1 latency."""


def bench(candidates: list[Candidate], setting: Setting, windows: int = 5,
          min_window_s: float = 0.5, warmup: int = 2, memory: bool = True, log: Callable[[str], None] = print) -> pd.DataFrame:
    """Time every candidate under ``setting``, interleaved; one row per candidate.

    Each candidate is warmed up (``warmup`` iterations, more when compiling), then timed in
    ``windows`` rounds; in each round every candidate runs ``iterations`` steps, chosen once
    so that a window lasts at least ``min_window_s``, in an order rotated every round.
    Throughput is the median window.
    """
    if not candidates:
        raise UserError("bench: nothing to measure (no steps and no references)")
    if windows < 1:
        raise UserError(f"--windows={windows}; allowed: >= 1")
    timed = []
    for cand in candidates:
        log(f"  prepare {cand.label}")
        t = _Timed(cand, setting)
        t.run(warmup + (2 if setting.compile else 0))
        one = t.run(1)
        t.iterations = max(1, math.ceil(min_window_s / max(one, 1e-6)))
        timed.append(t)
    samples: dict[str, list[float]] = {c.label: [] for c in candidates}
    for w in range(windows):
        # Rotate the order every window, so that no model always follows the same one
        # (caches, allocator state and clock boosts then favour nobody on average).
        shift = w % len(timed)
        for t in timed[shift:] + timed[:shift]:
            samples[t.cand.label].append(t.run(t.iterations) / t.iterations)
        log(f"  window {w + 1}/{windows} done")
    rows = []
    for t in timed:
        cand = t.cand
        seconds = statistics.median(samples[cand.label])
        model = t.model_eager
        gflops = paper_gflops(_meta_copy(cand, setting.resolution), setting.resolution)
        rows.append({
            "model": cand.label, "kind": cand.kind, "step": cand.step_index,
            "step_name": cand.step_name, "plain_convs": cand.plain_convs,
            "gflops": round(gflops, 4), "params_m": round(count_params(model) / 1e6, 3),
            "images_per_s": round(setting.batch_size / seconds, 2),
            "ms_per_batch": round(seconds * 1e3, 3),
            "ms_per_batch_min": round(min(samples[cand.label]) * 1e3, 3),
            "ms_per_batch_max": round(max(samples[cand.label]) * 1e3, 3),
            "iterations_per_window": t.iterations, "windows": windows,
            # Compiled models would compile again for batch 1 and eval mode: not measured.
            "latency_bs1_ms": (math.nan if setting.compile
                               else round(t.latency_bs1(LATENCY_REPEATS), 3)),
        })
    del timed
    for row, cand in zip(rows, candidates):
        row["peak_mem_mb"] = round(peak_memory_mb(cand, setting), 1) if memory else math.nan
    df = pd.DataFrame(rows)
    for ref, column in RATIO_COLUMNS.items():
        match = df[df["model"] == ref]
        df[column] = (df["images_per_s"] / float(match["images_per_s"].iloc[0])).round(3) \
            if len(match) else math.nan
    return df


def _meta_copy(cand: Candidate, resolution: int) -> nn.Module:
    with torch.device("meta"):
        return cand.make(resolution)


