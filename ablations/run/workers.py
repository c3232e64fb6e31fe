"""Train one plan in several local worker processes (``backend="workers"``, ``run --jobs N``).

Small models on a few cores use threads poorly (at the quick scale one thread gave
58-89% of the images per second of two, measured on the 2-core machine), so one worker
per core trains more per second than one process with every core. The parent writes the
plan once (``write_plan``); each worker (``python -m ablations.run.worker_process PLAN``)
walks it and trains the runs nobody has claimed (``Store.claim``); the parent shows one
progress bar over all of them and waits.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Stopped, UserError
from ..system.files import atomic_write
from .progress import fraction_done, run_work
from .runner import ExecuteOptions, PlannedRun
from .store import Store


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker process is given: the runs and the options to execute them with."""

    runs: list[PlannedRun]
    options: ExecuteOptions


def default_threads(jobs: int) -> int:
    """Intra-op threads per worker: the cores shared out (at least one)."""
    return max(1, (os.cpu_count() or 1) // jobs)


def logs_folder(out: str | Path) -> Path:
    """Where workers write their output (one log per worker) and their plan."""
    return Path(out) / "logs"


def write_plan(runs: list[PlannedRun], options: ExecuteOptions) -> Path:
    """Pickle the plan for worker processes into the results folder's logs; its path."""
    path = logs_folder(options.out) / f"plan-{os.getpid()}.pkl"
    atomic_write(path, "wb", lambda f: pickle.dump(WorkerPlan(runs, options), f))
    return path


def read_plan(path: str | Path) -> WorkerPlan:
    """The plan a parent wrote with ``write_plan``."""
    with open(path, "rb") as f:
        plan = pickle.load(f)
    if not isinstance(plan, WorkerPlan):
        raise UserError(f"{path}: not a worker plan of this toolkit")
    return plan


def worker_command(plan_path: Path) -> list[str]:
    """The command line of one worker process."""
    return [sys.executable, "-m", "ablations.run.worker_process", str(plan_path)]


def run_workers(runs: list[PlannedRun], options: ExecuteOptions, jobs: int) -> None:
    """Start ``jobs`` workers on ``runs`` (each with ``options.threads`` threads) and wait;
    raise ``UserError`` if one fails."""
    from tqdm.auto import tqdm

    store = Store(options.out)
    todo = [r.hash for r in runs if store.finished(r.hash) is None]
    if not todo:
        return
    logs = logs_folder(options.out)
    plan_path = write_plan(runs, replace(options, progress=False))
    procs = []
    for k in range(min(jobs, len(todo))):
        log = open(logs / f"worker-{k}.log", "a")
        procs.append((subprocess.Popen(worker_command(plan_path), stdout=log,
                                       stderr=subprocess.STDOUT), log))
        time.sleep(0.5)  # staggered: each worker claims a different first run
    pending = [r for r in runs if r.hash in set(todo)]
    work = {r.hash: run_work(r) for r in pending} if options.progress else {}
    # percent of the work (epochs x images x GFLOPs), so that the time left shows after
    # the first epoch of the first runs; the runs finished are counted beside it
    bar = tqdm(total=100.0, desc=f"{len(procs)} workers x {options.threads} threads",
               disable=not options.progress, dynamic_ncols=True, unit="%",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]")

    def update() -> None:
        if not options.progress:
            return
        bar.n = round(100.0 * fraction_done(store, pending, work), 2)
        finished = sum(store.finished(h) is not None for h in todo)
        bar.set_postfix_str(f"{finished}/{len(todo)} runs", refresh=False)
        bar.refresh()

    try:
        while any(p.poll() is None for p, _ in procs):
            update()
            time.sleep(2.0)
        update()
    except KeyboardInterrupt as e:  # each worker keeps its last checkpoint and says so
        for p, _ in procs:
            p.terminate()
        for p, _ in procs:
            p.wait()
        raise Stopped(getattr(e, "code", 130), f"workers stopped (their logs: {logs}); "
                      "finished runs and the last epoch checkpoints are kept; rerun the "
                      "same command to resume") from None
    finally:
        bar.close()
        for _, log in procs:
            log.close()
        plan_path.unlink(missing_ok=True)
    failed = [(k, p.returncode) for k, (p, _) in enumerate(procs) if p.returncode != 0]
    if failed:
        k, rc = failed[0]
        raise UserError(f"worker {k} exited with code {rc}; see {logs / f'worker-{k}.log'} "
                        "(finished runs are kept; rerun the same command to resume)")
