"""Where numbers were measured and what the machine can do: its description, a file-name
tag for the device, the matmul peak, and a scoped thread count."""

from __future__ import annotations

import contextlib
import math
import platform
import resource
import time
from collections.abc import Iterator
from typing import Any

import torch

from ..errors import UserError


def sync(dev: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU): timers read after it."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def matmul_peak_gflops(device: str = "cpu", dtype: str = "float32", size: int | None = None,
                       repeats: int = 5) -> float:
    """Best measured GFLOP/s of a square matmul (2 n^3 FLOPs): this machine's practical peak."""
    dev = torch.device(device)
    n = size or (8192 if dev.type == "cuda" else 2048)
    dt = torch.bfloat16 if dtype == "bfloat16" else torch.float32
    a = torch.randn(n, n, device=dev, dtype=dt)
    b = torch.randn(n, n, device=dev, dtype=dt)
    best = math.inf
    for i in range(repeats + 1):
        sync(dev)
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync(dev)
        if i > 0:  # the first call warms up
            best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def machine_info(device: str) -> dict[str, Any]:
    """Where the numbers were measured: machine, threads, library versions."""
    import torchvision

    info = {
        "machine": platform.node(), "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "python": platform.python_version(),
    }
    try:
        import timm

        info["timm"] = timm.__version__
    except ImportError:
        info["timm"] = None
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def device_tag(device: str) -> str:
    """A short file-name tag for the device: ``cpu`` or the GPU's model (``h100`` ...)."""
    if not device.startswith("cuda"):
        return "cpu"
    name = torch.cuda.get_device_name(torch.device(device)).lower()
    for tag in ("h200", "h100", "a100", "l40s", "l4", "a10", "v100", "t4", "4090", "3090"):
        if tag in name:
            return tag
    return "".join(c for c in name.split()[-1] if c.isalnum()) or "gpu"


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Temporarily use ``n`` intra-op threads (checked as ``set_threads``; None keeps the count)."""
    previous = torch.get_num_threads()
    set_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def set_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op threads in this process (default: all cores)."""
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads={threads}; allowed: >= 1")
        torch.set_num_threads(threads)


def device_label(device: str) -> str:
    """What a result row names as its device: 'cpu', or 'cuda (NVIDIA H200)' with the GPU's
    name, so that rows trained on different accelerators are never read as one machine."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(dev)})"
    return device


def peak_memory_mb(dev: torch.device) -> float:
    """Peak memory of this process so far: allocated on the GPU, or resident on the host."""
    if dev.type == "cuda":
        return torch.cuda.max_memory_allocated(dev) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_capability() -> str:
    """The vector extension torch's CPU kernels use here (``AVX2``, ``AVX512``, ...): with the
    CPU model and torch's version, what decides whether two CPU runs are bit-identical."""
    return torch.backends.cpu.get_cpu_capability()
