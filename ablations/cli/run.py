"""``run``: train and evaluate the steps of a study (stored runs are reused)."""

from __future__ import annotations

import argparse
from typing import Any

from ..defaults import RESULTS, SCALE_GRID
from ..errors import UserError
from .common import (SEED_FORMS, add_chain, add_device, comma_list,
                     model_names, parse_overrides, positive_int, seed_list)


def add_parser(sub: Any) -> None:
    """The ``run`` sub-command's options."""
    p = sub.add_parser("run", help="train and evaluate steps of a chain (stored runs are reused)")
    add_run_options(p, out=RESULTS)  # where show, stats and plot read by default
    p.set_defaults(func=handle)


def add_run_options(p: argparse.ArgumentParser, out: str, jobs: int = 1,
                    threads: int | None = None) -> None:
    """The options of ``run`` and ``replay`` (each with its defaults of ``out``, ``jobs``
    and ``threads``, shown in its help): what to train, at which scale, where, how."""
    from ..studies.steps import STUDIES
    from ..train.recipe import RUN_PRESETS

    add_chain(p)
    p.add_argument("--study", default="chain", choices=STUDIES,
                   help="which study: the chain, one-at-a-time, leave-one-out, a custom "
                        "chain (--custom FILE), a sweep (--sweep FIELD=V1,V2), transformers, "
                        "or the scale study (--grid)")
    p.add_argument("--custom", metavar="FILE", help="custom chain, YAML or TOML")
    p.add_argument("--sweep", metavar="FIELD=V1,V2,...", help="e.g. kernel_size=3,5,7,9")
    p.add_argument("--grid", metavar="AXIS=V1,V2;...", default=SCALE_GRID,
                   help="--study scale: cells besides the preset itself, blocks separated "
                        "by ';', each one axis at a time or axes crossed with ' x ' (axes: "
                        "train_images, epochs, width, resolution, regularisation=off|paper; "
                        "default '%(default)s')")
    p.add_argument("--sweep-base", default="convnext_tiny",
                   help=f"the named model the sweep varies: {model_names()}")
    p.add_argument("--preset", default="quick", choices=list(RUN_PRESETS),
                   help="run preset: the training scale (data, resolution, epochs, width)")
    p.add_argument("--seeds", default="1", metavar="N|A-B|A,B",
                   help=f"which seeds: {SEED_FORMS}; default %(default)s (seed 0)")
    p.add_argument("--steps", help="comma-separated step names or indices, -1 the chain's "
                                   "first step (default: all)")
    p.add_argument("--branches", action="store_true", help="also the side branches")
    p.add_argument("--dataset", help="override the preset's dataset")
    p.add_argument("--data-dir", help="where the dataset lives")
    p.add_argument("--epochs", type=positive_int, help="override the preset's epochs")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a preset field (repeatable)")
    p.add_argument("--recipe-set", action="append", metavar="FIELD=VALUE",
                   help="override a recipe field for every step (repeatable)")
    p.add_argument("--out", default=out, metavar="DIR",
                   help="results folder written (default: %(default)s"
                        + (", the folder show, stats and plot read by default)"
                           if out == RESULTS else ")"))
    add_device(p)
    p.add_argument("--threads", type=int, default=threads,
                   help="intra-op threads per process (default: "
                        + ("%(default)s" if threads else "the cores / --jobs") + ")")
    p.add_argument("--jobs", type=positive_int, default=jobs,
                   help="local worker processes that share out the runs (each claims "
                        "a run before training it; default: %(default)s)")
    p.add_argument("--retry-failed", action="store_true", help="train failed runs again")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_scale_out_options(p)


def _add_scale_out_options(p: argparse.ArgumentParser) -> None:
    """Several processes, several GPUs, a cluster."""
    p.add_argument("--nproc", type=positive_int,
                   help="data-parallel processes on this machine (starts torchrun)")
    p.add_argument("--batch-per-device", type=positive_int,
                   help="most images per forward pass and process (default: the preset's, "
                        "128 for paper); gradient accumulation makes up the recipe's batch")
    p.add_argument("--plan", nargs="?", const="a100x8", metavar="GPU[xN]",
                   help="print the GPU-hours of what the options would train and exit: "
                        "per run from measured images/s, the chain's two ends first "
                        "(GPU: v100, a100, h100, h200; default a100x8)")
    p.add_argument("--workers", type=positive_int,
                   help="image-folder loader workers per process (default: this process's "
                        "cores / the processes on this machine, at most 8)")
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


def preset_of(args: argparse.Namespace) -> Any:
    """The run preset the options name, with ``--set``, ``--dataset`` and ``--epochs``."""
    from ..train.recipe import run_preset

    changes = parse_overrides(args.set, "set")
    if getattr(args, "dataset", None):
        changes["dataset"] = args.dataset
    if getattr(args, "epochs", None):
        changes["epochs"] = args.epochs
    preset = run_preset(args.preset)
    return preset.replace(**changes) if changes else preset


def plan(args: argparse.Namespace, seeds: list[int]) -> tuple[Any, list]:
    """(preset, runs) of the run/replay options for ``seeds``."""
    from ..run import runner
    from ..studies.steps import select_steps

    preset = preset_of(args)
    recipe_changes = parse_overrides(args.recipe_set, "recipe-set")
    keys = comma_list(args.steps or "")
    if not keys and args.study == "chain" and preset.steps:  # the preset's own set (lab)
        keys = list(preset.steps)
    study, steps = select_steps(args.study, args.chain, keys,
                                args.branches, custom=args.custom, sweep_spec=args.sweep,
                                sweep_base=args.sweep_base)
    if args.study == "scale":
        return preset, _plan_scale(args, steps, preset, seeds, recipe_changes)
    if args.study == "fcmae":
        from ..studies.fcmae import estimate_table, plan_fcmae
        from ..studies.scale import TRAIN_SIZES

        runs = plan_fcmae(steps, preset, seeds, recipe_changes)
        if not args.no_progress:
            images = preset.train_subset or TRAIN_SIZES.get(preset.dataset, 50000)
            print(f"fcmae study: {len(runs)} runs (pretraining runs shared by the cells that "
                  f"start from them), estimated CPU minutes (one step timed per model on "
                  f"this machine; training only):\n"
                  f"{estimate_table(runs, images).to_string(index=False)}")
        return preset, runs
    return preset, runner.plan(study, steps, preset, seeds, recipe_changes)


def _plan_scale(args: argparse.Namespace, steps: list, preset: Any, seeds: list[int],
                recipe_changes: dict) -> list:
    """The scale study's runs, cheapest cell first; prints the estimated CPU cost per cell."""
    from ..run.store import Store
    from ..studies import scale

    measured = scale.measured_seconds(Store(args.out).table(), preset.name)
    runs = scale.plan_scale(args.chain, steps, preset, scale.parse_grid(args.grid), seeds,
                            recipe_changes, measured)
    if not args.no_progress:
        est = scale.estimate_table(runs, preset, measured)
        print(f"scale study: {len(runs)} runs, estimated CPU minutes per cell (one thread; "
              f"from the base cell's measured runs):\n{est.to_string(index=False)}")
    return runs


def execute_options(args: argparse.Namespace) -> Any:
    """The ``ExecuteOptions`` of the run/replay options."""
    from ..run.runner import ExecuteOptions

    return ExecuteOptions(args.out, args.data_dir, args.device, not args.no_progress,
                          args.retry_failed, args.batch_per_device, args.sync_bn,
                          args.threads, getattr(args, "workers", None))


def backend_of(args: argparse.Namespace) -> tuple[str, int, Any]:
    """(backend, processes, submit options) the options ask for."""
    from ..run.jobs import SubmitOptions

    if args.launcher != "none" and args.nproc:
        raise UserError("--nproc and --launcher: choose one (a launched job sets its own "
                        "processes with --gpus-per-node)")
    if args.launcher == "slurm" and not (args.partition or "").strip():
        raise UserError(f"--partition={args.partition or ''!r}: --launcher slurm needs "
                        "--partition NAME; allowed: a SLURM partition of the cluster")
    if args.gpus_per_node < 0:
        raise UserError(f"--gpus-per-node={args.gpus_per_node}; allowed: >= 0 (0: one CPU "
                        "process per job)")
    if args.launcher != "none":
        from .common import writable_folder

        if args.jobs_dir is not None:
            writable_folder(args.jobs_dir, "--jobs-dir")
        return "submitit", 1, SubmitOptions(args.launcher, args.partition, args.nodes,
                                            args.gpus_per_node, args.cpus_per_task,
                                            args.timeout_min, args.jobs_dir, args.wait)
    if args.nproc and args.nproc > 1:
        return "torchrun", args.nproc, None
    if args.jobs > 1:
        return "workers", args.jobs, None
    return "inprocess", 1, None


def checked_plan(args: argparse.Namespace, seeds: list[int]) -> tuple[list, tuple]:
    """(runs, (backend, processes, submit options)) of the run/replay options, every input
    checked before anything is created: the one validation path of ``run``, ``replay`` and
    ``--plan`` (what one refuses, the others refuse). One ``UserError`` line otherwise."""
    import os

    from ..data.loading import check_data_available
    from ..run.store import Store
    from ..train.distributed import check_environment, check_sync_bn
    from .common import writable_folder

    check_environment()
    writable_folder(args.out, "--out")
    Store(args.out).check_files()
    if args.steps is not None and not comma_list(args.steps):
        raise UserError(f"--steps={args.steps!r} names no step; allowed: comma-separated step "
                        "names or indices (leave --steps out for all)")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads={args.threads}; allowed: >= 1")
    backend = backend_of(args)
    submit = backend[2]
    cores = (args.cpus_per_task if submit else
             len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
             os.cpu_count() or 1)
    if getattr(args, "workers", None) and args.workers > cores:
        raise UserError(f"--workers={args.workers}: more loader workers than the "
                        f"{cores} cores {'of a job' if submit else 'here'}; allowed: 1 to {cores}")
    # submitted jobs train where their GPUs are, not on this (login) node; --plan prices GPUs
    gpus = args.plan or (submit and submit.gpus_per_node)
    check_sync_bn(args.sync_bn, "cuda" if gpus else args.device)
    _, runs = plan(args, seeds)
    # --plan without --data-dir prices the data where the jobs will run (docs: the bill
    # before the data is here); a --data-dir it names is checked as run checks it
    if not args.plan or args.data_dir is not None:
        for spec in dict.fromkeys(r.data for r in runs):  # fail before anything trains
            check_data_available(spec, args.data_dir)
    return runs, backend


def train(args: argparse.Namespace, seeds: list[int]) -> Any:
    """Plan the options' runs for ``seeds`` and train what is missing; the rows, or None
    where not every run is finished on return (queued jobs, a rank other than 0)."""
    from ..run.backends import run
    from ..system.machine import set_threads
    from ..run.workers import default_threads

    runs, (backend, processes, submit) = checked_plan(args, seeds)
    if backend == "workers" and args.threads is None:
        args.threads = default_threads(args.jobs)
    set_threads(args.threads)
    return run(runs, execute_options(args), backend, processes, submit)


def handle(args: argparse.Namespace) -> None:
    """Train what the options ask for and print the summary table."""
    from ..analysis.summary import summary_table

    if args.plan:
        print_plan(args)
        return
    rows = train(args, seed_list(args.seeds))
    if rows is not None:
        print(summary_table(rows).to_string(index=False))
        print_verdicts(rows)
    elif args.launcher != "none":
        say_jobs_submitted(args.out)


def print_plan(args: argparse.Namespace) -> None:
    """What ``run --plan GPU[xN]`` prints: the cost of every planned run, nothing trained."""
    from pathlib import Path

    from ..measure.plan import format_plan, parse_target, plan_costs

    target = parse_target(args.plan)
    runs, _ = checked_plan(args, seed_list(args.seeds))  # refuses what `run` refuses
    results = Path(__file__).resolve().parents[2] / "results"
    df, notes = plan_costs(runs, target, results, args.chain, args.data_dir)
    with __import__("pandas").option_context("display.width", 200):
        print(format_plan(df, notes, target, args.chain))


def print_verdicts(rows: Any) -> None:
    """Each step against its control, paired over seeds, the claims of ``stats`` (delta, the
    verdict's interval, adjusted p, verdict); nothing with fewer than two seeds."""
    import pandas as pd

    from ..analysis import stats
    from ..analysis.claims import claims

    if rows.empty or rows.groupby("step_name").seed.nunique().max() < 2:
        return
    table = claims(rows)
    table = table[table.kind == "step"]
    if table.empty:
        return
    view = stats.format_stats(table)[["comparison", "n", "delta", "interval", "p_adj",
                                      "verdict"]]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(f"\npaired over seeds, as `stats` (which adds McNemar and the paper). {stats.RULE}")
        print(view.to_string(index=False))


def say_jobs_submitted(out: str) -> None:
    """What to run once submitted jobs have finished (run and replay say the same)."""
    print(f"jobs submitted: when they have finished, `python -m ablations plot --results {out}` "
          f"and `stats --results {out}` report them")
