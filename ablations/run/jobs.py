"""One job per planned run, through submitit (``backend="submitit"``): SLURM job arrays, or
local processes. Each job trains one (step, seed) with ``runner.execute`` (so it skips a
finished run and resumes an interrupted one from its epoch checkpoint). On SLURM a job that
is preempted or reaches its time limit is requeued by submitit and continues from its last
checkpoint. A job with several GPUs runs one process per GPU (DDP, set up from SLURM's
environment).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import UserError
from .runner import ExecuteOptions, PlannedRun, check_writable, is_done
from .store import Store

LAUNCHERS = ("local", "slurm")


@dataclass(frozen=True)
class SubmitOptions:
    """Where and with what resources submitit runs the jobs."""

    launcher: str = "local"
    """'slurm': a job array on a cluster; 'local': one local process at a time."""
    partition: str | None = None
    nodes: int = 1
    gpus_per_node: int = 0
    """GPUs (= processes) per node and job; 0: one CPU process."""
    cpus_per_task: int = 8
    timeout_min: int = 60 * 24
    jobs_dir: str | None = None
    """submitit's logs (default: <out>/jobs)."""
    wait: bool = False
    """Wait for the jobs and report each."""


class RunJob:
    """A picklable job: train one planned run into ``options.out`` (rank 0 writes)."""

    def __init__(self, run: PlannedRun, options: ExecuteOptions) -> None:
        self.run, self.options = run, options

    def __call__(self) -> dict[str, Any]:
        import os

        from ..system.machine import set_threads
        from ..train.distributed import from_environment
        from .runner import execute

        try:  # under SLURM (or a multi-task local job), torch.distributed's env from submitit
            import submitit

            env = submitit.JobEnvironment()
            if env.num_tasks > 1:
                submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        except RuntimeError:  # not inside a submitit job: a plain call
            pass
        set_threads(self.options.threads)
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        df = execute([self.run], self.options, dist=from_environment(self.options.device))
        row = df.iloc[0].to_dict()
        return {k: row.get(k) for k in ("step_name", "seed", "status", "top1", "reason")}

    def checkpoint(self) -> Any:
        """Preempted or timed out: submit the same job again; it resumes from its checkpoint."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


def make_executor(submit: SubmitOptions, folder: Path) -> Any:
    """A submitit executor for ``submit.launcher`` with the job's resources."""
    try:
        import submitit
    except ImportError:
        raise UserError("--launcher needs submitit: pip install submitit") from None
    tasks = max(1, submit.gpus_per_node)
    if submit.launcher not in LAUNCHERS:
        raise UserError(f"launcher={submit.launcher!r}; allowed: {', '.join(LAUNCHERS)}")
    if submit.launcher == "slurm":
        if not submit.partition:
            raise UserError("--launcher slurm needs --partition NAME")
        executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
        executor.update_parameters(
            slurm_partition=submit.partition, nodes=submit.nodes, tasks_per_node=tasks,
            gpus_per_node=submit.gpus_per_node or None, cpus_per_task=submit.cpus_per_task,
            timeout_min=submit.timeout_min, slurm_signal_delay_s=120,
            name="convnext-ablations")
    else:
        if submit.nodes != 1:
            raise UserError(f"--nodes={submit.nodes} with --launcher local; allowed: 1")
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=submit.timeout_min, tasks_per_node=tasks,
                                   gpus_per_node=submit.gpus_per_node)
    return executor


def launch(runs: list[PlannedRun], options: ExecuteOptions, submit: SubmitOptions) -> list[Any]:
    """Submit one job per run that is not finished yet; return the submitit jobs.

    SLURM: one job array, all at once. Local: one job at a time (jobs side by side on one
    machine would only fight over its cores), waiting for each.
    """
    store = Store(options.out)
    check_writable(store.root)
    todo = [r for r in runs if not is_done(store.finished(r.hash), options.retry_failed)]
    if not todo:
        print(f"all {len(runs)} runs are stored in {options.out}; nothing to submit")
        return []
    folder = Path(submit.jobs_dir or Path(options.out) / "jobs")
    executor = make_executor(submit, folder)
    job_options = replace(options, out=str(options.out), progress=False,
                          device="cuda" if submit.gpus_per_node else "cpu")
    make = [RunJob(r, job_options) for r in todo]
    jobs = []
    if submit.launcher == "slurm":
        with executor.batch():
            jobs = [executor.submit(job) for job in make]
        print(f"submitted {len(jobs)} jobs (array {jobs[0].job_id.split('_')[0]}); logs in "
              f"{folder}")
        if submit.wait:
            _report(jobs)
        return jobs
    for job in make:
        submitted = executor.submit(job)
        jobs.append(submitted)
        print(f"job {submitted.job_id}: {job.run.step.name} seed {job.run.seed}")
        _report([submitted])
    return jobs


def _report(jobs: list[Any]) -> None:
    import math

    failed = []
    for job in jobs:
        try:
            r = job.result()
            top1 = r.get("top1")
            ok = top1 is not None and not math.isnan(top1)
            print(f"  {r['step_name']} seed {r['seed']}: {r['status']}"
                  + (f", top-1 {top1:.2f}%" if ok else f" ({r.get('reason')})"))
        except Exception as e:  # a job's own traceback is in its log file
            failed.append(job.job_id)
            print(f"  job {job.job_id} failed: {str(e).strip().splitlines()[-1][:200]}")
    if failed:
        raise UserError(f"{len(failed)} job(s) failed ({', '.join(failed)}); see their logs")
