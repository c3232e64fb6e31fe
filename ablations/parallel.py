"""Train the runs of one plan in several local worker processes (``run --jobs N``).

Small models on a few cores use threads poorly (at the quick scale one thread gave
58-89% of the images per second of two, measured on the 2-core machine), so one worker
per core trains more per second than one process with every core. Each
worker walks the same plan and trains the runs nobody has claimed (``Store.claim``); the
parent shows one progress bar over all of them, with the time left, and waits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .argv import without_option
from .errors import UserError
from .runner import PlannedRun
from .store import Store


def default_threads(jobs: int) -> int:
    """Intra-op threads per worker: the cores shared out (at least one)."""
    return max(1, (os.cpu_count() or 1) // jobs)


def worker_argv(argv: list[str], jobs: int, threads: int, seeds: int, preset: str,
                out: str) -> list[str]:
    """The command line of one worker: ``run`` with the same options, one job, no bars."""
    rest = argv[1:]
    for flag in ("--jobs", "--threads", "--seeds", "--preset", "--out", "--reference"):
        rest = without_option(rest, flag)
    rest = [a for a in rest if a != "--no-progress"]
    return [sys.executable, "-m", "ablations", "run", *rest, "--jobs", "1",
            "--threads", str(threads), "--seeds", str(seeds), "--preset", preset,
            "--out", out, "--no-progress"]


def run_workers(runs: list[PlannedRun], argv: list[str], jobs: int, threads: int,
                seeds: int, preset: str, out: str, progress: bool = True) -> None:
    """Start ``jobs`` workers on ``runs`` and wait; raise ``UserError`` if one fails."""
    from tqdm.auto import tqdm

    store = Store(out)
    todo = [r.hash for r in runs if store.finished(r.hash) is None]
    if not todo:
        return
    logs = Path(out) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    cmd = worker_argv(argv, jobs, threads, seeds, preset, out)
    procs = []
    for k in range(min(jobs, len(todo))):
        log = open(logs / f"worker-{k}.log", "a")
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
        time.sleep(0.5)  # staggered: each worker claims a different first run
    bar = tqdm(total=len(todo), desc=f"runs ({len(procs)} workers x {threads} threads)",
               disable=not progress, dynamic_ncols=True)
    try:
        while any(p.poll() is None for p, _ in procs):
            bar.n = sum(store.finished(h) is not None for h in todo)
            bar.refresh()
            time.sleep(2.0)
        bar.n = sum(store.finished(h) is not None for h in todo)
        bar.refresh()
    except KeyboardInterrupt as e:  # each worker keeps its last checkpoint and says so
        for p, _ in procs:
            p.terminate()
        for p, _ in procs:
            p.wait()
        from .errors import Stopped

        raise Stopped(getattr(e, "code", 130), f"workers stopped (their logs: {logs}); "
                      "finished runs and the last epoch checkpoints are kept; rerun the "
                      "same command to resume") from None
    finally:
        bar.close()
        for _, log in procs:
            log.close()
    failed = [(k, p.returncode) for k, (p, _) in enumerate(procs) if p.returncode != 0]
    if failed:
        k, rc = failed[0]
        raise UserError(f"worker {k} exited with code {rc}; see {logs / f'worker-{k}.log'} "
                        "(finished runs are kept; rerun the same command to resume)")
