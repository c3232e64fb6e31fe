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
                   help="which study: the chain; one-at-a-time (each change alone), "
                        "one-at-a-time-matched (the same at ResNet-50's GFLOPs), "
                        "leave-one-out (each change undone); custom (--custom FILE); sweep "
                        "(--sweep FIELD=V1,V2); transformers (Swin-T, ViT beside the chain); "
                        "scale (cells, --grid); fcmae (ConvNeXt V2 pretraining)")
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
                                   "first step (default: all; the lab preset: its eight; "
                                   "the scale study: modern-recipe,trunc-normal-init)")
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


def request_of(args: argparse.Namespace, seeds: list[int] | None = None) -> Any:
    """The ``StudyRequest`` of the run/replay options (``seeds``: the options' own where None)."""
    from ..studies.planning import StudyRequest

    changes = parse_overrides(args.set, "set")
    if getattr(args, "dataset", None):
        changes["dataset"] = args.dataset
    if getattr(args, "epochs", None):
        changes["epochs"] = args.epochs
    if args.steps is not None and not comma_list(args.steps):
        raise UserError(f"--steps={args.steps!r} names no step; allowed: comma-separated step "
                        "names or indices (leave --steps out for all)")
    return StudyRequest(
        study=args.study, chain=args.chain, steps=tuple(comma_list(args.steps or "")),
        branches=args.branches, custom=args.custom, sweep=args.sweep,
        sweep_base=args.sweep_base, grid=args.grid, preset=args.preset,
        preset_changes=changes, recipe_changes=parse_overrides(args.recipe_set, "recipe-set"),
        seeds=tuple(seed_list(args.seeds) if seeds is None else seeds))


def execute_options(args: argparse.Namespace) -> Any:
    """The ``ExecuteOptions`` of the run/replay options."""
    from ..run.planned import ExecuteOptions

    return ExecuteOptions(args.out, args.data_dir, args.device, not args.no_progress,
                          args.retry_failed, args.batch_per_device, args.sync_bn,
                          args.threads, getattr(args, "workers", None))


def launch_of(args: argparse.Namespace) -> Any:
    """The ``Launch`` of the run/replay options."""
    from ..studies.planning import Launch

    return Launch(args.jobs, args.nproc, args.launcher, args.partition, args.nodes,
                  args.gpus_per_node, args.cpus_per_task, args.timeout_min, args.jobs_dir,
                  args.wait)


def train(args: argparse.Namespace, seeds: list[int]) -> Any:
    """Train what the options ask for at ``seeds`` (``studies.planning.train``)."""
    from ..studies.planning import train as train_study

    return train_study(request_of(args, seeds), execute_options(args), launch_of(args),
                       say=None if args.no_progress else print)


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

    from ..studies.planning import prepare

    target = parse_target(args.plan)
    plan, _ = prepare(request_of(args), execute_options(args), launch_of(args),
                      gpu_priced=True, estimate=not args.no_progress)  # as `run` refuses
    if plan.estimate is not None:
        print(plan.describe_estimate())
    results = Path(__file__).resolve().parents[2] / "results"
    df, notes = plan_costs(plan.runs, target, results, args.chain, args.data_dir)
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
