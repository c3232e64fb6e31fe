"""Run a list of roadmap steps at a preset's scale: train what is not stored yet, store it."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from models import Design, costs
from models.complexity import AnyDesign
from models.roadmap import Step

from . import data as datasets
from . import folders
from .distributed import SINGLE, DistContext, device_for
from .errors import Stopped, UserError
from .loading import DataSpec, LoadedData, load_data, loader_key
from .recipe import AUGMENTATION_VERSION, Recipe, RunPreset, recipe as named_recipe
from .store import NUMERICS_VERSION, Store, config_hash
from .train import TrainingDiverged, apply_recipe, train_run


def scale_design(design: AnyDesign, multiplier: float) -> AnyDesign:
    """``design`` with every width multiplied (``Design.scaled``; a Transformer keeps its
    head counts, its heads get narrower)."""
    return design if multiplier == 1.0 else design.scaled(multiplier)


@dataclass(frozen=True)
class PlannedRun:
    """One (step, seed) at a preset's scale, with everything that defines it."""

    study: str
    step: Step
    seed: int
    design: AnyDesign
    recipe: Recipe
    data: DataSpec
    preset: RunPreset

    @property
    def spec(self) -> dict[str, Any]:
        """What the run's hash is made of (labels such as chain and step names are not)."""
        # A Transformer's dict names its family ("model"), so it never hashes like a Design.
        # Stored names: a renamed Design field keeps every stored run's hash.
        recipe = _non_default(self.recipe.to_stored_dict(), Recipe().to_stored_dict())
        if self.recipe.augments_per_image or self.recipe.mixes:
            # Runs that augment or mix name the code that did it: never reused across it.
            recipe["augmentation_version"] = AUGMENTATION_VERSION
        return {"design": _non_default(self.design.to_stored_dict(), Design().to_stored_dict()),
                "recipe": recipe, "data": self.data.to_dict(), "seed": self.seed}

    @property
    def hash(self) -> str:
        return config_hash(self.spec)


def _non_default(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    # Fields at their default are left out of the hash, so that adding a new toggle (with
    # a default that keeps the old behaviour) does not invalidate every stored run.
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


def plan(study: str, steps: list[Step], preset: RunPreset, seeds: list[int],
         recipe_changes: dict[str, Any] | None = None) -> list[PlannedRun]:
    """The runs of ``steps`` x ``seeds`` at ``preset``'s scale, seed-major order."""
    spec = DataSpec(preset.dataset, preset.resolution, preset.channels, preset.train_subset)
    runs = []
    for seed in seeds:
        for step in steps:
            r = preset.scale_recipe(named_recipe(step.recipe))
            if recipe_changes:
                r = r.replace(**recipe_changes)
            design = apply_recipe(scale_design(step.design, preset.width_multiplier), r)
            design = design.at_resolution(preset.resolution)  # a ViT's size is a field
            runs.append(PlannedRun(study, step, seed, design, r, spec, preset))
    return runs


@functools.lru_cache(maxsize=4)
def _paper_scale_costs(design: AnyDesign) -> tuple[float, float]:
    c = costs(design, with_fvcore=False)
    return c.gflops, c.params_m


def git_commit() -> str:
    """The commit of the code that ran, '+dirty' when ``models/`` or ``ablations/`` differ
    from it (or 'unknown' outside a git checkout)."""
    root = Path(__file__).resolve().parent.parent

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


def execute(runs: list[PlannedRun], out_dir: str | Path, data_dir: str | None = None,
            device: str = "cpu", progress: bool = True, retry_failed: bool = False,
            log=print, dist: DistContext = SINGLE, batch_per_device: int | None = None,
            sync_bn: bool = False) -> pd.DataFrame:
    """Train every run not yet stored; return the rows of ``runs`` (stored ones included).

    Under torchrun (``dist`` of several ranks) every rank walks the same plan and trains
    each run together; only rank 0 writes to the store.
    """
    store = Store(out_dir)
    if dist.is_main:
        check_writable(store.root)
    dist.barrier()
    if not dist.is_main:
        log = _silent
        progress = False
    device = device_for(dist, device)
    from tqdm.auto import tqdm

    loaded: dict[tuple, LoadedData] = {}
    commit = git_commit()
    rows: dict[int, dict[str, Any]] = {}
    stored = {r.hash: store.finished(r.hash) for r in runs}  # read each result once
    todo = [r for r in runs if not is_done(stored[r.hash], retry_failed)]
    bar = tqdm(total=len(todo), desc="runs", disable=not progress or not todo,
               dynamic_ncols=True)

    def record(i: int, run: PlannedRun, result: dict[str, Any]) -> None:
        rows[i] = _table_row(run, result)
        if dist.is_main:
            store.add_label(rows[i])

    def train(i: int, run: PlannedRun) -> None:
        result = _train_one(run, store, loaded, data_dir, device, progress, log, dist,
                            batch_per_device, sync_bn, commit, bar)
        record(i, run, result)
        bar.update(1)

    deferred = []
    for i, run in enumerate(runs):
        if is_done(stored[run.hash], retry_failed):
            record(i, run, stored[run.hash])
        elif dist.enabled:  # all ranks train every run together: no claims between them
            train(i, run)
        elif not _train_if_free(store, i, run, record, train, bar):
            deferred.append((i, run))  # another process trains it: back to it at the end
    for i, run in deferred:
        bar.set_postfix_str(f"waiting for [{run.step.index}] {run.step.name} s{run.seed}")
        with store.claim(run.hash, wait=True):
            done = store.finished(run.hash)
            if done is not None:
                record(i, run, done)
                bar.update(1)
            else:  # its owner stopped before finishing: train it here
                train(i, run)
    bar.close()
    return pd.DataFrame([rows[i] for i in sorted(rows)])


def _train_if_free(store: Store, i: int, run: PlannedRun, record, train, bar) -> bool:
    """Train ``run`` if no other process holds its claim; False if one does."""
    with store.claim(run.hash) as mine:
        if not mine:
            return False
        done = store.finished(run.hash)  # it may have finished since we looked
        if is_done(done, False) and done.get("status") == "ok":
            record(i, run, done)
            bar.update(1)
        else:
            train(i, run)
    return True


def _train_one(run: PlannedRun, store: Store, loaded: dict, data_dir: str | None, device: str,
               progress: bool, log, dist: DistContext, batch_per_device: int | None,
               sync_bn: bool, commit: str, bar) -> dict[str, Any]:
    """Train one run (its claim held) and store its result; returns the result."""
    h = run.hash
    key = loader_key(run.data, run.recipe, run.preset.eval_batch_size, run.seed)
    if key not in loaded:
        loaded.clear()  # one data set in memory at a time
        loaded[key] = load_data(run.data, data_dir, run.recipe.batch_size,
                                run.preset.eval_batch_size, run.seed, run.recipe)
    run_dir = (store.begin(h, {**run.spec, "labels": _identity(run)}) if dist.is_main
               else store.run_dir(h))
    desc = f"[{run.step.index}] {run.step.name} s{run.seed}"
    bar.set_postfix_str(desc)
    t0 = time.perf_counter()
    predictions = None
    try:
        res = train_run(run.design, run.recipe, loaded[key], run.seed, run_dir, device,
                        progress, desc, dist, batch_per_device, sync_bn, _hparams(run))
        metrics, history, status, reason = res.metrics, res.history, "ok", ""
        if res.predictions is not None:
            p = res.predictions
            predictions = {"label": p.label.numpy(), "pred": p.pred.numpy(),
                           "p_true": p.p_true.numpy()}
    except KeyboardInterrupt as e:  # Ctrl-C / SIGTERM: say what is kept, then stop
        raise Stopped(getattr(e, "code", 130), _stopped_detail(run, run_dir)) from None
    except UserError:  # bad input found while training (an unreadable image, say)
        if dist.is_main and not (run_dir / "checkpoint.pt").exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing finished: leave no trace
        raise
    except TrainingDiverged as e:
        metrics, history, status, reason = {}, [], "failed", str(e)
        log(f"step {run.step.name} seed {run.seed} failed: {e}; the chain goes on")
    wall = time.perf_counter() - t0
    gflops, params_m = _paper_scale_costs(run.step.design)
    result = {"config_hash": h, "status": status, "reason": reason,
              "gflops": gflops, "params_m": params_m, "wall_seconds": wall,
              "git_commit": commit, "numerics_version": NUMERICS_VERSION,
              "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              **metrics}
    if dist.is_main:
        store.finish(h, result, history, predictions)
    dist.barrier()
    if status == "ok":
        log(f"{desc}: top-1 {metrics['top1']:.2f}%  ({wall:.0f} s)")
    return result


def _stopped_detail(run: PlannedRun, run_dir: Path) -> str:
    ckpt = run_dir / "checkpoint.pt"
    epoch = 0
    if ckpt.exists():
        try:
            epoch = int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"])
        except Exception:  # unreadable: the next run moves it aside and starts over
            epoch = 0
    kept = (f"its checkpoint after epoch {epoch}/{run.recipe.epochs} is kept" if epoch
            else "it had no finished epoch")
    return (f"[{run.step.index}] {run.step.name} seed {run.seed} was in flight, {kept} "
            f"({run_dir}); finished runs are kept; rerun the same command to resume")


def _silent(*_: Any) -> None:
    pass


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


def _table_row(run: PlannedRun, result: dict[str, Any]) -> dict[str, Any]:
    """The results-table row of a finished run: its identity, the paper's numbers, its result."""
    s = run.step
    return {**_identity(run), "paper_top1": s.paper_top1, "paper_gflops": s.paper_gflops,
            **result}


def check_data_available(preset: RunPreset, data_dir: str | None) -> None:
    """Fail early, before any training, when the preset's data cannot be found."""
    datasets.check_data_dir(data_dir)
    if preset.dataset == "imagefolder":
        folders.image_folder(data_dir, "train", preset.resolution, train=True)
    elif preset.dataset != "synthetic":
        datasets.load(preset.dataset, "test", data_dir)


def set_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op threads (default: all cores)."""
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads={threads}; allowed: >= 1")
        torch.set_num_threads(threads)
