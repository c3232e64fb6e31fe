"""``run``: train and evaluate the steps of a study (stored runs are reused)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..argv import without_option
from ..defaults import SCALE_GRID
from ..errors import UserError
from .common import (add_chain, add_device, comma_list, deprecated_alias, model_names,
                     parse_overrides, positive_int)


def add_parser(sub: Any) -> None:
    """The ``run`` sub-command's options."""
    p = sub.add_parser("run", help="train and evaluate steps of a chain (stored runs are reused)")
    add_run_options(p, out="runs/quick")
    p.set_defaults(func=handle)


def add_run_options(p: argparse.ArgumentParser, out: str) -> None:
    """The options of ``run`` and ``replay``: what to train, at which scale, where, how."""
    from ..designs import STUDIES
    from ..recipe import RUN_PRESETS

    add_chain(p)
    p.add_argument("--study", default="chain", choices=STUDIES,
                   help="which study: the chain, one-at-a-time, leave-one-out, a custom "
                        "chain (--custom FILE), a sweep (--sweep FIELD=V1,V2) or transformers")
    deprecated_alias(p, "--design", "--study", choices=STUDIES)
    p.add_argument("--custom", metavar="FILE", help="custom chain, YAML or TOML")
    p.add_argument("--sweep", metavar="FIELD=V1,V2,...", help="e.g. kernel_size=3,5,7,9")
    p.add_argument("--grid", metavar="AXIS=V1,V2;...", default=SCALE_GRID,
                   help="--study scale: cells besides the preset itself, one axis at a time "
                        "(axes: train_images, epochs, width, resolution; default "
                        "'%(default)s')")
    p.add_argument("--sweep-base", default="convnext_tiny",
                   help=f"the named model the sweep varies: {model_names()}")
    p.add_argument("--preset", default="quick", choices=list(RUN_PRESETS),
                   help="run preset: the training scale (data, resolution, epochs, width)")
    p.add_argument("--seeds", type=positive_int, default=1, help="seeds 0..N-1")
    p.add_argument("--steps", help="comma-separated step names or indices (default: all)")
    p.add_argument("--branches", action="store_true", help="also the side branches")
    p.add_argument("--dataset", help="override the preset's dataset")
    p.add_argument("--data-dir", help="where the dataset lives")
    p.add_argument("--epochs", type=positive_int, help="override the preset's epochs")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a preset field (repeatable)")
    p.add_argument("--recipe-set", action="append", metavar="FIELD=VALUE",
                   help="override a recipe field for every step (repeatable)")
    p.add_argument("--out", default=out, help="results folder")
    add_device(p)
    p.add_argument("--threads", type=int,
                   help="intra-op threads per process (default: the cores / --jobs)")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="local worker processes that share out the runs (each claims "
                        "a run before training it)")
    p.add_argument("--retry-failed", action="store_true", help="train failed runs again")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_scale_out_options(p)


def _add_scale_out_options(p: argparse.ArgumentParser) -> None:
    """Several processes, several GPUs, a cluster."""
    p.add_argument("--nproc", type=positive_int,
                   help="data-parallel processes on this machine (starts torchrun)")
    p.add_argument("--batch-per-device", type=positive_int,
                   help="micro-batch per process; gradient accumulation makes up the "
                        "recipe's global batch")
    p.add_argument("--sync-bn", action="store_true",
                   help="SyncBatchNorm across processes for BatchNorm designs")
    p.add_argument("--launcher", choices=("none", "local", "slurm"), default="none",
                   help="submit one job per step and seed (submitit)")
    p.add_argument("--partition", help="SLURM partition (--launcher slurm)")
    p.add_argument("--nodes", type=positive_int, default=1, help="nodes per job")
    p.add_argument("--gpus-per-node", type=int, default=0,
                   help="GPUs (= processes) per node and job; 0: one CPU process")
    p.add_argument("--cpus-per-task", type=positive_int, default=8)
    p.add_argument("--timeout-min", type=positive_int, default=60 * 24,
                   help="job time limit; a job past it is requeued and resumes")
    p.add_argument("--jobs-dir", default=None,
                   help="submitit logs (default: <out>/jobs)")
    p.add_argument("--wait", action="store_true", help="wait for the jobs and report")


def plan(args: argparse.Namespace, seeds: list[int]) -> tuple[Any, list]:
    """(preset, runs) of the run/replay options for ``seeds``."""
    from .. import runner
    from ..designs import select_steps
    from ..recipe import run_preset

    preset = run_preset(args.preset)
    preset_changes = parse_overrides(args.set, "set")
    if args.dataset:
        preset_changes["dataset"] = args.dataset
    if args.epochs:
        preset_changes["epochs"] = args.epochs
    if preset_changes:
        preset = preset.replace(**preset_changes)
    recipe_changes = parse_overrides(args.recipe_set, "recipe-set")
    study, steps = select_steps(args.study, args.chain, comma_list(args.steps or ""),
                                args.branches, custom=args.custom, sweep_spec=args.sweep,
                                sweep_base=args.sweep_base)
    if args.study == "scale":
        return preset, _plan_scale(args, steps, preset, seeds, recipe_changes)
    return preset, runner.plan(study, steps, preset, seeds, recipe_changes)


def _plan_scale(args: argparse.Namespace, steps: list, preset: Any, seeds: list[int],
                recipe_changes: dict) -> list:
    """The scale study's runs, cheapest cell first; prints the estimated CPU cost per cell."""
    from .. import scale
    from ..store import Store

    measured = scale.measured_seconds(Store(args.out).table(), preset.name)
    runs = scale.plan_scale(args.chain, steps, preset, scale.parse_grid(args.grid), seeds,
                            recipe_changes, measured)
    if not args.no_progress:  # the parent says it once (its workers run with --no-progress)
        est = scale.estimate_table(runs, preset, measured)
        print(f"scale study: {len(runs)} runs, estimated CPU minutes per cell (one thread; "
              f"from the base cell's measured runs):\n{est.to_string(index=False)}")
    return runs


def handle(args: argparse.Namespace) -> bool:
    """Train what the options ask for; True if every run is finished when it returns and
    this is the one process that should report on them (not a rank, not a job submitter)."""
    from .. import runner
    from ..distributed import (RELAUNCHED, check_sync_bn, from_environment, micro_batches,
                               relaunch_with_torchrun)
    from ..report import summary_table

    check_sync_bn(args.sync_bn, args.device)
    if args.launcher != "none" and args.nproc:
        raise UserError("--nproc and --launcher: choose one (a launched job sets its own "
                        "processes with --gpus-per-node)")
    if args.nproc and args.nproc > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        rc = relaunch_with_torchrun(args.nproc, without_option(args.argv, "--nproc"))
        if rc:
            raise UserError(f"torchrun with {args.nproc} processes exited with code {rc}")
        return True
    runner.set_threads(args.threads)
    preset, runs = plan(args, list(range(args.seeds)))
    world = args.nproc or int(os.environ.get("WORLD_SIZE", "1"))
    for r in runs:  # the global batch must split exactly, checked before anything starts
        micro_batches(r.recipe.batch_size, world, args.batch_per_device)
    runner.check_data_available(preset, args.data_dir)
    if args.launcher != "none":
        from ..launch import launch

        launch(runs, args)
        return bool(args.wait)  # without --wait the jobs are still queued or running
    if args.jobs > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        from ..parallel import default_threads, run_workers

        run_workers(runs, args.argv, args.jobs, args.threads or default_threads(args.jobs),
                    args.seeds, args.preset, args.out, progress=not args.no_progress)
    dist = from_environment(args.device)
    df = runner.execute(runs, args.out, args.data_dir, args.device,
                        progress=not args.no_progress, retry_failed=args.retry_failed,
                        dist=dist, batch_per_device=args.batch_per_device,
                        sync_bn=args.sync_bn)
    if dist.is_main:
        print(summary_table(df).to_string(index=False))
    return dist.is_main and RELAUNCHED not in os.environ
