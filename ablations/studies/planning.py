"""Planning any study from plain values: the one path of ``run``, ``replay``, ``--plan``, the
notebooks and the lesson.

``StudyRequest`` says what to train (study, chain, steps, preset and its changes, seeds) as
the command line's options do; ``plan_study`` turns it into the planned runs, with the cost
estimate of the studies that print one (scale cells, FCMAE pairs). ``Launch`` says where the
runs train (in this process, local workers, torchrun, submitted jobs); ``prepare`` checks
every input before anything is created (what ``run`` refuses, ``--plan`` and ``replay``
refuse); ``train`` trains what the store lacks and returns the rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pandas as pd

from ..defaults import DEFAULT_CHAIN, SCALE_GRID
from ..errors import UserError
from ..run.planned import ExecuteOptions, PlannedRun
from ..train.recipe import RunPreset
from .steps import select_steps

if TYPE_CHECKING:
    from ..run.jobs import SubmitOptions

@dataclass(frozen=True)
class StudyRequest:
    """What to train, as plain values (the fields of ``run``'s options of the same names).

    ``preset_changes`` are run-preset fields (``--set``, ``--dataset``, ``--epochs``);
    ``recipe_changes`` recipe fields for every step (``--recipe-set``); ``steps`` empty means
    every step of the study (the lab preset's own eight for the chain)."""

    study: str = "chain"
    chain: str = DEFAULT_CHAIN
    steps: tuple[str, ...] = ()
    branches: bool = False
    custom: str | None = None
    sweep: str | None = None
    sweep_base: str = "convnext_tiny"
    grid: str = SCALE_GRID
    preset: str = "quick"
    preset_changes: Mapping[str, Any] = field(default_factory=dict)
    recipe_changes: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)

    def with_seeds(self, seeds: list[int] | tuple[int, ...]) -> "StudyRequest":
        """The same request for other seeds (``replay``: the reference's and the fresh)."""
        return replace(self, seeds=tuple(seeds))


@dataclass(frozen=True)
class StudyPlan:
    """The planned runs of a request, and the estimate the study prints before it trains
    (``estimate`` None where the study has none)."""

    preset: RunPreset
    runs: list[PlannedRun]
    estimate: pd.DataFrame | None = None
    estimate_title: str = ""

    def describe_estimate(self) -> str:
        """The estimate as the command line prints it ('' where there is none)."""
        if self.estimate is None:
            return ""
        return f"{self.estimate_title}\n{self.estimate.to_string(index=False)}"


@dataclass(frozen=True)
class Launch:
    """Where and how the runs train: ``jobs`` local workers, ``nproc`` torchrun ranks, or
    ``launcher`` jobs (submitit) with their cluster fields; all at their defaults, this
    process trains them in order."""

    jobs: int = 1
    nproc: int | None = None
    launcher: str = "none"
    partition: str | None = None
    nodes: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int = 8
    timeout_min: int = 60 * 24
    jobs_dir: str | None = None
    wait: bool = False


def resolve_preset(name: str, changes: Mapping[str, Any] | None = None) -> RunPreset:
    """The run preset ``name`` with ``changes`` (validated fields; one error line if not)."""
    from ..train.recipe import run_preset

    preset = run_preset(name)
    return preset.replace(**changes) if changes else preset


def plan_study(request: StudyRequest, results: str | Path | None = None,
               estimate: bool = True) -> StudyPlan:
    """The runs of ``request``, cheapest scale cell first; ``results`` is the folder whose
    measured runs price the scale cells (None: priced from nothing measured); ``estimate``
    False leaves the cost estimate out (the FCMAE study times a step per model for it)."""
    from ..run.planned import plan

    preset = resolve_preset(request.preset, request.preset_changes)
    keys = list(request.steps)
    if not keys and request.study == "chain" and preset.steps:  # the preset's own set (lab)
        keys = list(preset.steps)
    seeds = list(request.seeds)
    recipe_changes = dict(request.recipe_changes)
    study, steps = select_steps(request.study, request.chain, keys, request.branches,
                                custom=request.custom, sweep_spec=request.sweep,
                                sweep_base=request.sweep_base)
    if request.study == "scale":
        return _plan_scale(request, steps, preset, seeds, recipe_changes, results, estimate)
    if request.study == "fcmae":
        from .fcmae import estimate_table, plan_fcmae
        from .scale import TRAIN_SIZES

        runs = plan_fcmae(steps, preset, seeds, recipe_changes)
        if not estimate:
            return StudyPlan(preset, runs)
        images = preset.train_subset or TRAIN_SIZES.get(preset.dataset, 50000)
        return StudyPlan(preset, runs, estimate_table(runs, images),
                         f"fcmae study: {len(runs)} runs (pretraining runs shared by the cells "
                         "that start from them), estimated CPU minutes (one step timed per "
                         "model on this machine; training only):")
    return StudyPlan(preset, plan(study, steps, preset, seeds, recipe_changes))


def _plan_scale(request: StudyRequest, steps: list, preset: RunPreset, seeds: list[int],
                recipe_changes: dict, results: str | Path | None, estimate: bool) -> StudyPlan:
    """The scale study's runs and their estimated CPU minutes per cell."""
    from ..run.store import Store
    from . import scale

    table = Store(results).table() if results is not None else pd.DataFrame()
    measured = scale.measured_seconds(table, preset.name)
    runs = scale.plan_scale(request.chain, steps, preset, scale.parse_grid(request.grid),
                            seeds, recipe_changes, measured)
    if not estimate:
        return StudyPlan(preset, runs)
    return StudyPlan(preset, runs, scale.estimate_table(runs, preset, measured),
                     f"scale study: {len(runs)} runs, estimated CPU minutes per cell (one "
                     "thread; from the base cell's measured runs):")


def backend_of(launch: Launch) -> tuple[str, int, SubmitOptions | None]:
    """(backend, processes, submit options) of ``launch``; one error line for a launch that
    asks for two things at once or lacks a field."""
    if launch.launcher not in ("none", "local", "slurm"):
        raise UserError(f"--launcher={launch.launcher!r}; allowed: none, local, slurm")
    if launch.launcher != "none" and launch.nproc:
        raise UserError("--nproc and --launcher: choose one (a launched job sets its own "
                        "processes with --gpus-per-node)")
    if launch.launcher == "slurm" and not (launch.partition or "").strip():
        raise UserError(f"--partition={launch.partition or ''!r}: --launcher slurm needs "
                        "--partition NAME; allowed: a SLURM partition of the cluster")
    if launch.gpus_per_node < 0:
        raise UserError(f"--gpus-per-node={launch.gpus_per_node}; allowed: >= 0 (0: one CPU "
                        "process per job)")
    if launch.launcher != "none":
        from ..run.jobs import SubmitOptions
        from ..system.files import writable_folder

        if launch.jobs_dir is not None:
            writable_folder(launch.jobs_dir, "--jobs-dir")
        return "submitit", 1, SubmitOptions(launch.launcher, launch.partition, launch.nodes,
                                            launch.gpus_per_node, launch.cpus_per_task,
                                            launch.timeout_min, launch.jobs_dir, launch.wait)
    if launch.nproc and launch.nproc > 1:
        return "torchrun", launch.nproc, None
    if launch.jobs > 1:
        return "workers", launch.jobs, None
    return "inprocess", 1, None


def prepare(request: StudyRequest, execute: ExecuteOptions, launch: Launch = Launch(),
            gpu_priced: bool = False, estimate: bool = True,
            ) -> tuple[StudyPlan, tuple[str, int, SubmitOptions | None]]:
    """(plan, backend) with every input checked before anything is created: the one
    validation path of ``run``, ``replay`` and ``--plan`` (``gpu_priced``: the plan prices
    GPUs, so CUDA-only options pass and the data is checked only where ``execute.data_dir``
    names it; ``estimate``: as ``plan_study``). One ``UserError`` line otherwise."""
    from ..run.store import Store
    from ..system.files import writable_folder
    from ..train.distributed import check_environment, check_sync_bn

    check_environment()
    writable_folder(execute.out, "--out")
    Store(execute.out).check_files()
    if execute.threads is not None and execute.threads < 1:
        raise UserError(f"--threads={execute.threads}; allowed: >= 1")
    backend = backend_of(launch)
    submit = backend[2]
    cores = (launch.cpus_per_task if submit else
             len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
             os.cpu_count() or 1)
    if execute.workers and execute.workers > cores:
        raise UserError(f"--workers={execute.workers}: more loader workers than the {cores} "
                        f"cores {'of a job' if submit else 'here'}; allowed: 1 to {cores}")
    # submitted jobs train where their GPUs are, not on this (login) node
    gpus = gpu_priced or (submit and submit.gpus_per_node)
    check_sync_bn(execute.sync_bn, "cuda" if gpus else execute.device)
    plan = plan_study(request, execute.out, estimate)
    # a GPU price without --data-dir prices the data where the jobs will run (the bill
    # before the data is here); a --data-dir it names is checked as run checks it
    if not gpu_priced or execute.data_dir is not None:
        from ..data.loading import check_data_available  # decodes or scans: torch

        for spec in dict.fromkeys(r.data for r in plan.runs):  # fail before anything trains
            check_data_available(spec, execute.data_dir)
    return plan, backend


def train(request: StudyRequest, execute: ExecuteOptions, launch: Launch = Launch(),
          say: Any = print) -> pd.DataFrame | None:
    """Plan ``request``, check it, train what the store at ``execute.out`` lacks and return
    the rows; None where not every run is finished on return (queued jobs, a rank other
    than 0). ``say`` prints the study's estimate (None: silent)."""
    from ..run.backends import run
    from ..run.workers import default_threads
    from ..system.machine import set_threads

    plan, (backend, processes, submit) = prepare(request, execute, launch,
                                                 estimate=say is not None)
    if say is not None and plan.estimate is not None:
        say(plan.describe_estimate())
    if backend == "workers" and execute.threads is None:
        execute = replace(execute, threads=default_threads(processes))
    set_threads(execute.threads)
    return run(plan.runs, execute, backend, processes, submit)


__all__ = ["StudyRequest", "StudyPlan", "Launch", "resolve_preset", "plan_study",
           "backend_of", "prepare", "train"]
