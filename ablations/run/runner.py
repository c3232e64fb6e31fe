"""Run a plan in this process: train each planned run that is not stored yet, store it.

A plan is a list of ``PlannedRun`` (``plan``: steps x seeds at a preset's scale). ``execute``
walks it in order; each run is claimed in the store first, so that several processes on
one results folder (``run.workers``, SLURM jobs) train each run once. Other backends
(worker processes, torchrun, submitit) are in ``run.backends``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from models import costs
from models.complexity import AnyDesign
from models.design import DesignError
from models.roadmap import Step

from ..data.loading import DataSpec, LoadedData, LoaderOptions, load_data
from ..errors import UserError
from ..train.distributed import SINGLE, DistContext, device_for
from ..train.loop import RunResult, TrainContext, TrainingDiverged, TrainOptions, train_run
from ..train.recipe import Recipe, RunPreset, recipe as named_recipe
from . import identity
from .planned import (ExecuteOptions, PlannedRun, check_schedule, plan,  # noqa: F401
                      scale_design)  # the plan's names, read here by the backends
from .store import Store


def micro_batch_limit(options_limit: int | None, run: PlannedRun) -> int | None:
    """The most images per forward pass for ``run``: ``--batch-per-device`` where given,
    else its preset's ``micro_batch`` (the paper's 128), else None (a whole share)."""
    return options_limit if options_limit is not None else run.preset.micro_batch


def for_run(options: TrainOptions, run: PlannedRun) -> TrainOptions:
    """``options`` with the micro-batch limit of ``run`` (``micro_batch_limit``)."""
    return dataclasses.replace(options,
                               batch_per_device=micro_batch_limit(options.batch_per_device, run))


def execute(runs: list[PlannedRun], options: ExecuteOptions, dist: DistContext = SINGLE,
            log: Callable[[str], Any] = print) -> pd.DataFrame:
    """Train every run not yet stored; return the rows of ``runs`` (stored ones included).

    Under torchrun (``dist`` of several ranks) every rank walks the same plan and trains
    each run together; only rank 0 writes to the store.
    """
    from tqdm.auto import tqdm

    store = Store(options.out)
    if dist.is_main:
        check_writable(store.root)
    dist.barrier()
    log = log if dist.is_main else _silent
    train_options = TrainOptions(device_for(dist, options.device), dist,
                                 options.batch_per_device, options.sync_bn,
                                 options.progress and dist.is_main)
    stored = {r.hash: store.finished(r.hash) for r in runs}  # read each result once
    todo = sum(not is_done(stored[r.hash], options.retry_failed) for r in runs)
    bar = tqdm(total=todo, desc="runs", disable=not train_options.progress or not todo,
               dynamic_ncols=True)
    loaded: dict[tuple, LoadedData] = {}  # one data set in memory at a time
    commit, rows = git_commit(), {}
    claimed = _claimed(store, runs, stored, options.retry_failed, dist, bar)
    with contextlib.closing(claimed):  # claims are released even when training raises
        for i, run, result in claimed:
            if result is None:  # this process trains it now (its claim is held)
                key = (run.data, run.loader_options)
                if key not in loaded:
                    try:
                        loaded = {key: load_data(run.data, options.data_dir,
                                                 run.loader_options, options.workers)}
                    except UserError:  # bad data or preset: leave no trace of the run
                        if dist.is_main:
                            store.discard_unstarted(run.hash)
                        raise
                if dist.is_main:
                    store.begin(run.hash, {**run.spec, "labels": _identity(run)})
                bar.set_postfix_str(run.name)
                init_from = _pretrained_weights(store, run, options, dist, log)
                t0 = time.perf_counter()
                try:
                    res, status, reason = train_run(TrainContext(
                        run.design, run.recipe, loaded[key], run.seed, store.paths(run.hash),
                        for_run(train_options, run), run.name, _hparams(run), init_from)), \
                        "ok", ""
                except (UserError, DesignError):  # bad input found while training (an
                    if dist.is_main:                # unreadable image): leave no trace of it
                        store.discard_unstarted(run.hash)
                    raise
                except TrainingDiverged as e:
                    res, status, reason = RunResult({}), "failed", str(e)
                    log(f"step {run.step.name} seed {run.seed} failed: {e}; the chain goes on")
                result = _result(run, res, status, reason, time.perf_counter() - t0, commit)
                if dist.is_main:
                    store.finish(run.hash, result, res.history, _predictions(res))
                dist.barrier()
                bar.update(1)
                if status == "ok" and run.pretraining:
                    log(f"{run.name}: held-out reconstruction loss "
                        f"{result.get('test_loss', float('nan')):.4f}  "
                        f"({result['wall_seconds']:.0f} s)")
                elif status == "ok":
                    log(f"{run.name}: top-1 {result['top1']:.2f}%  "
                        f"({result['wall_seconds']:.0f} s)")
            if run.pretraining:  # kept in its run folder, named by the runs it starts
                continue
            rows[i] = _table_row(run, result, _pretrain_fields(store, run))
            if dist.is_main:
                store.add_label(rows[i])
    bar.close()
    return pd.DataFrame([rows[i] for i in sorted(rows)])


def _pretrained_weights(store: Store, run: PlannedRun, options: ExecuteOptions,
                        dist: DistContext, log: Callable[[str], Any]) -> Path | None:
    """The encoder weights ``run`` starts from, training its pretraining run first if no
    process has (another process holding it is waited for)."""
    if run.pretrain is None:
        return None
    path = store.paths(run.pretrain.hash).encoder

    def ready() -> bool:
        done = store.finished(run.pretrain.hash)
        return done is not None and done.get("status") == "ok" and path.exists()

    if not ready():
        execute([run.pretrain], options, dist, log)
    if not ready():
        done = store.finished(run.pretrain.hash)
        raise UserError(f"{run.name}: its pretraining run {run.pretrain.hash} did not finish "
                        f"({(done or {}).get('reason', 'no encoder weights')}); allowed: a "
                        "finished pretraining run (rerun the command)")
    return path


def _pretrain_fields(store: Store, run: PlannedRun) -> dict[str, Any]:
    """What a fine-tuning row says of its pretraining run (hash, minutes, final loss)."""
    if run.pretrain is None:
        return {}
    done = store.finished(run.pretrain.hash) or {}
    return {"pretrain_hash": run.pretrain.hash,
            "pretrain_seconds": done.get("train_seconds", float("nan")),
            "pretrain_test_loss": done.get("test_loss", float("nan"))}


def _claimed(store: Store, runs: list[PlannedRun], stored: dict[str, Any], retry_failed: bool,
             dist: DistContext, bar: Any) -> Iterator[tuple[int, PlannedRun, Any]]:
    """``(index, run, stored result)`` for every run; a result of None means "train it
    now": this process holds the run's claim until the next item is asked for. A run that
    another process holds is come back to at the end, waiting for its claim."""
    deferred = []
    for i, run in enumerate(runs):
        if is_done(stored[run.hash], retry_failed):
            yield i, run, stored[run.hash]
        elif dist.enabled:  # all ranks train every run together: no claims between them
            yield i, run, None
        else:
            with store.claim(run.hash) as mine:
                if not mine:
                    deferred.append((i, run))  # another process trains it
                    continue
                done = store.finished(run.hash)  # it may have finished since we looked
                if is_done(done, False) and done.get("status") == "ok":
                    bar.update(1)
                    yield i, run, done
                else:
                    yield i, run, None
    for i, run in deferred:
        bar.set_postfix_str(f"waiting for {run.name}")
        with store.claim(run.hash, wait=True):
            done = store.finished(run.hash)
            if done is not None:
                bar.update(1)
            yield i, run, done  # None: its owner stopped before finishing; train it here


def _result(run: PlannedRun, res: RunResult, status: str, reason: str, wall: float,
            commit: str) -> dict[str, Any]:
    """What a finished (or failed) run stores: status, costs, provenance, metrics."""
    gflops, params_m = _paper_scale_costs(run.step.design)
    return {"config_hash": run.hash, "status": status, "reason": reason,
            "gflops": gflops, "params_m": params_m, "wall_seconds": wall,
            "git_commit": commit, "numerics_version": identity.NUMERICS_VERSION,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **res.metrics}


def _predictions(res: RunResult) -> dict[str, Any] | None:
    p = res.predictions
    if p is None:
        return None
    return {"label": p.label.numpy(), "pred": p.pred.numpy(), "p_true": p.p_true.numpy()}


def _silent(*_: Any) -> None:
    pass


@functools.lru_cache(maxsize=4)
def _paper_scale_costs(design: AnyDesign) -> tuple[float, float]:
    c = costs(design, with_fvcore=False)
    return c.gflops, c.params_m


def git_commit() -> str:
    """The commit of the code that ran, '+dirty' when ``models/`` or ``ablations/`` differ
    from it (or 'unknown' outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]  # the checkout: models/ and ablations/

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=root,
                              timeout=5).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if commit and git("status", "--porcelain", "--untracked-files=no", "--",
                          "models", "ablations"):
            commit += "+dirty"
        return commit or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_writable(root: Path, min_free_mb: float = 200.0) -> None:
    """Fail before any training when ``root`` cannot be written or its disk is full."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"0" * 4096)
        probe.unlink()
    except OSError as e:
        raise UserError(f"results folder {root} is not writable ({e.strerror or e}); allowed: "
                        "a folder this user can create and write") from None
    free_mb = shutil.disk_usage(root).free / 2**20
    if free_mb < min_free_mb:
        raise UserError(f"results folder {root}: only {free_mb:.0f} MiB free on its disk; "
                        f"allowed: at least {min_free_mb:.0f} MiB (checkpoints and results)")


def is_done(result: dict[str, Any] | None, retry_failed: bool) -> bool:
    """A stored result counts as done unless it failed and failures are to be retried."""
    return result is not None and not (retry_failed and result.get("status") == "failed")


def _identity(run: PlannedRun) -> dict[str, Any]:
    """Which run this is: study, step, preset, recipe, seed, data set (its table labels)."""
    s = run.step
    return {"study": run.study, "step": s.index, "step_name": s.name, "title": s.title,
            "branch_of": s.branch_of or "", "preset": run.preset.name, "recipe": run.recipe.name,
            "seed": run.seed, "dataset": run.data.dataset}


def _hparams(run: PlannedRun) -> dict[str, Any]:
    """What TensorBoard shows beside a run's curves: its labels and the design and recipe
    fields that differ from the defaults (as hashed)."""
    spec = run.spec
    return {**_identity(run), "config_hash": run.hash,
            **{f"design.{k}": v for k, v in spec["design"].items()},
            **{f"recipe.{k}": v for k, v in spec["recipe"].items()}}


def _table_row(run: PlannedRun, result: dict[str, Any],
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results-table row of a finished run: its identity, the paper's numbers, its result
    (and ``extra``: its pretraining run's)."""
    s = run.step
    return {**_identity(run), "paper_top1": s.paper_top1, "paper_gflops": s.paper_gflops,
            **result, **(extra or {})}
