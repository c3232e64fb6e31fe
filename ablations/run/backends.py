"""Where a plan runs, chosen in one place: ``run(runs, options, backend=...)``.

- ``inprocess``: this process trains the runs in order (``runner.execute``); under a
  torchrun the user started, this process is one rank of it.
- ``workers``: ``jobs`` local processes share the plan, one run each at a time.
- ``torchrun``: ``nproc`` data-parallel processes train every run together (DDP).
- ``submitit``: one job per run on SLURM (or local jobs); returns before they finish
  unless ``submit.wait``.
Every backend stores into ``options.out``; the rows come back from the store.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from ..errors import UserError
from ..train.distributed import SINGLE, from_environment, micro_batches, mix_unit
from .jobs import SubmitOptions, launch
from .runner import ExecuteOptions, PlannedRun, execute, micro_batch_limit
from .workers import run_workers, worker_command, write_plan

BACKENDS = ("inprocess", "workers", "torchrun", "submitit")


def run(runs: list[PlannedRun], options: ExecuteOptions, backend: str = "inprocess",
        processes: int = 1, submit: SubmitOptions | None = None) -> pd.DataFrame | None:
    """Train what ``runs`` lack with ``backend`` (``processes``: workers or torchrun ranks);
    the rows of ``runs``, or None where they are not all finished on return (submitted jobs,
    or a rank of a torchrun other than rank 0)."""
    if backend not in BACKENDS:
        raise UserError(f"backend={backend!r}; allowed: {', '.join(BACKENDS)}")
    world = {"torchrun": processes, "inprocess": int(os.environ.get("WORLD_SIZE", "1")),
             "submitit": submit.nodes * max(1, submit.gpus_per_node) if submit else 1}.get(backend, 1)
    check_splits(runs, options, world)
    if backend == "submitit":
        submit = submit or SubmitOptions()
        launch(runs, options, submit)
        return execute(runs, options) if submit.wait else None
    if backend == "workers":
        run_workers(runs, options, processes)
    elif backend == "torchrun":
        _torchrun(runs, options, processes)
    dist = from_environment(options.device) if backend == "inprocess" else SINGLE
    rows = execute(runs, options, dist)  # after workers or ranks: reads what they stored
    return rows if dist.is_main else None


def check_splits(runs: list[PlannedRun], options: ExecuteOptions, world: int) -> None:
    """Every run's global batch splits over ``world`` processes into micro-batches (and
    whole Mixup groups), checked before anything starts: one ``UserError`` line if not."""
    for r in runs:
        micro_batches(r.recipe.batch_size, world, micro_batch_limit(options.batch_per_device, r),
                      mix_unit(r.recipe))


def _torchrun(runs: list[PlannedRun], options: ExecuteOptions, nproc: int) -> None:
    """Train the plan under ``torchrun --nproc_per_node nproc`` (the ranks report nothing:
    this process reads the store afterwards)."""
    plan = write_plan(runs, options)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", *worker_command(plan)[1:]]  # ranks run the worker
    try:
        rc = subprocess.call(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finally:
        plan.unlink(missing_ok=True)
    if rc:
        raise UserError(f"torchrun with {nproc} processes exited with code {rc}")


__all__ = ["BACKENDS", "check_splits", "run"]
