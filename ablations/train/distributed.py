"""Data-parallel training across processes that a launcher started (``torchrun``, or a
SLURM job through ``run.jobs``); this module joins them, it starts none.

One process per device. The global batch of the recipe is split evenly between ranks
(and, with gradient accumulation, between micro-batches), so that N processes compute the
gradients of the same global batch as one process would: same numbers up to float
rounding (BatchNorm statistics included when SyncBatchNorm is on). Only rank 0 writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes results, checkpoints and logs."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for every rank (no-op in a single process)."""
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        """Sum of ``t`` over ranks (``t`` itself in a single process)."""
        if self.enabled:
            import torch.distributed as dist

            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t


SINGLE = DistContext()


def from_environment(device: str) -> DistContext:
    """Join the process group that ``torchrun`` (or submitit) described in the environment.

    nccl on GPUs, gloo on CPUs. Each GPU process uses ``cuda:LOCAL_RANK``. Returns the
    single-process context when no ``WORLD_SIZE`` > 1 is set.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    import torch
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend)
    return DistContext(rank, world, local)


LAUNCH_VARIABLES = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
"""What torch.distributed's env:// rendezvous reads beside ``WORLD_SIZE`` (torchrun sets all)."""


def check_environment(environ: dict[str, str] | None = None) -> None:
    """A launcher's environment is whole or absent: ``WORLD_SIZE`` a positive integer and,
    where it is above 1, ``LAUNCH_VARIABLES`` set, integers where they are ranks. One
    ``UserError`` line before anything is created (torch's rendezvous error otherwise)."""
    env = os.environ if environ is None else environ
    allowed = ("allowed: no WORLD_SIZE (one process), or the whole environment torchrun sets "
               f"(WORLD_SIZE, {', '.join(LAUNCH_VARIABLES)})")
    if "WORLD_SIZE" not in env:
        return
    world = env["WORLD_SIZE"]
    if not world.isascii() or not world.isdigit() or int(world) < 1:
        raise UserError(f"WORLD_SIZE={world!r} is not a positive integer; {allowed}")
    if int(world) == 1:
        return
    missing = [k for k in LAUNCH_VARIABLES if not env.get(k, "").strip()]
    if missing:
        raise UserError(f"WORLD_SIZE={world} is set but {', '.join(missing)} not; {allowed}")
    for key in ("RANK", "LOCAL_RANK"):
        value = env[key]
        if not value.isascii() or not value.isdigit() or int(value) >= int(world):
            raise UserError(f"{key}={value!r} with WORLD_SIZE={world}; allowed: 0 to "
                            f"{int(world) - 1}")


def device_for(ctx: DistContext, device: str) -> str:
    """The device of this rank: ``cuda:LOCAL_RANK`` on GPUs, ``cpu`` otherwise."""
    if device.startswith("cuda") and ctx.enabled:
        return f"cuda:{ctx.local_rank}"
    return device


def check_sync_bn(sync_bn: bool, device: str) -> None:
    """SyncBatchNorm is CUDA-only in torch: say so before anything starts."""
    if sync_bn and not str(device).startswith("cuda"):
        raise UserError("--sync-bn needs GPUs (torch's SyncBatchNorm runs on CUDA only); "
                        "allowed on CPU: without --sync-bn (BatchNorm statistics per process)")


def mix_unit(recipe) -> int:
    """What a micro-batch must be a multiple of for ``recipe``'s Mixup: its ``mix_batch``,
    or 2 (timm's Mixup pairs the images of a batch) where it mixes per micro-batch; 0 where
    it does not mix."""
    if not recipe.mixes:
        return 0
    return recipe.mix_batch or 2


def micro_batches(global_batch: int, world_size: int, batch_per_device: int | None,
                  mix_batch: int = 0) -> tuple[int, int]:
    """(per-rank share of a global batch, gradient-accumulation steps per optimizer step).

    ``batch_per_device`` is the most images one forward pass may take: the micro-batch is
    the largest divisor of the share that is at most that (and a multiple of ``mix_batch``:
    ``mix_unit`` of the recipe, where the run mixes), so that every step of a chain, whatever
    its batch, splits exactly and the global batch (and with it the learning rate) stays the
    recipe's. None: the whole share in one pass.
    """
    if global_batch % world_size:
        raise UserError(f"batch_size={global_batch} does not split over {world_size} "
                        f"processes; allowed: a multiple of {world_size}")
    share = global_batch // world_size
    if mix_batch == 2 and share % 2:  # mixing per micro-batch (mix_unit): pairs of images
        raise UserError(f"batch_size={global_batch} over {world_size} process(es) gives odd "
                        f"batches, which timm's Mixup refuses; allowed: an even batch per "
                        f"process, or mixup=0 and cutmix=0")
    if mix_batch and share % mix_batch:
        raise UserError(f"recipe.mix_batch={mix_batch}: the per-process share of the global "
                        f"batch ({share} = {global_batch} / {world_size} processes) must be a "
                        f"multiple of it; allowed: a divisor of {share}, or 0 (one draw per "
                        "micro-batch)")
    if batch_per_device is None:
        return share, 1
    unit = mix_batch or 1
    fits = [d for d in range(unit, min(batch_per_device, share) + 1, unit) if share % d == 0]
    if batch_per_device < 1 or not fits:
        raise UserError(f"--batch-per-device={batch_per_device}: no micro-batch of at most "
                        f"that many images splits the per-process share ({share} = "
                        f"{global_batch} / {world_size} processes)"
                        + (f" into whole Mixup groups of recipe.mix_batch={mix_batch}"
                           if mix_batch > 2 else " into even micro-batches (timm's Mixup "
                           "pairs images)" if mix_batch else "")
                        + f"; allowed: at least {unit}")
    return share, share // fits[-1]
