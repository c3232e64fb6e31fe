"""One job per planned run, through submitit: SLURM job arrays, or local processes.

Each job trains one (step, seed) with ``runner.execute`` (so it skips a finished run and
resumes an interrupted one from its epoch checkpoint). On SLURM a job that is preempted
or reaches its time limit is requeued by submitit and continues from its last checkpoint.
A job with several GPUs runs one process per GPU (DDP, set up from SLURM's environment).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .errors import UserError
from .runner import PlannedRun, check_writable, is_done
from .store import Store


class RunJob:
    """A picklable job: train one planned run into ``out`` (rank 0 writes)."""

    def __init__(self, run: PlannedRun, out: str, data_dir: str | None, device: str,
                 batch_per_device: int | None, sync_bn: bool, threads: int | None) -> None:
        self.run, self.out, self.data_dir, self.device = run, out, data_dir, device
        self.batch_per_device, self.sync_bn, self.threads = batch_per_device, sync_bn, threads

    def __call__(self) -> dict[str, Any]:
        import os

        from . import runner
        from .distributed import from_environment

        try:  # under SLURM (or a multi-task local job), torch.distributed's env from submitit
            import submitit

            env = submitit.JobEnvironment()
            if env.num_tasks > 1:
                submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        except RuntimeError:  # not inside a submitit job: a plain call
            pass
        runner.set_threads(self.threads)
        dist = from_environment(self.device)
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        df = runner.execute([self.run], self.out, self.data_dir, self.device, progress=False,
                            dist=dist, batch_per_device=self.batch_per_device,
                            sync_bn=self.sync_bn)
        row = df.iloc[0].to_dict()
        return {k: row.get(k) for k in ("step_name", "seed", "status", "top1", "reason")}

    def checkpoint(self) -> Any:
        """Preempted or timed out: submit the same job again; it resumes from its checkpoint."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


def make_executor(args: argparse.Namespace, folder: Path):
    """A submitit executor for ``--launcher local|slurm`` with the job's resources."""
    try:
        import submitit
    except ImportError:
        raise UserError("--launcher needs submitit: pip install submitit") from None
    tasks = max(1, args.gpus_per_node)
    if args.launcher == "slurm":
        if not args.partition:
            raise UserError("--launcher slurm needs --partition NAME")
        executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
        executor.update_parameters(
            slurm_partition=args.partition, nodes=args.nodes, tasks_per_node=tasks,
            gpus_per_node=args.gpus_per_node or None, cpus_per_task=args.cpus_per_task,
            timeout_min=args.timeout_min, slurm_signal_delay_s=120,
            name="convnext-ablations")
    else:
        if args.nodes != 1:
            raise UserError(f"--nodes={args.nodes} with --launcher local; allowed: 1")
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=args.timeout_min, tasks_per_node=tasks,
                                   gpus_per_node=args.gpus_per_node)
    return executor


def launch(runs: list[PlannedRun], args: argparse.Namespace) -> list[Any]:
    """Submit one job per run that is not finished yet; return the submitit jobs.

    SLURM: one job array, all at once. Local: one job at a time (jobs side by side on one
    machine would only fight over its cores), waiting for each.
    """
    store = Store(args.out)
    check_writable(store.root)
    todo = [r for r in runs if not is_done(store.finished(r.hash), args.retry_failed)]
    if not todo:
        print(f"all {len(runs)} runs are stored in {args.out}; nothing to submit")
        return []
    folder = Path(args.jobs_dir or Path(args.out) / "jobs")
    executor = make_executor(args, folder)
    device = "cuda" if args.gpus_per_node else "cpu"
    make = [RunJob(r, str(args.out), args.data_dir, device, args.batch_per_device,
                   args.sync_bn, args.threads) for r in todo]
    jobs = []
    if args.launcher == "slurm":
        with executor.batch():
            jobs = [executor.submit(job) for job in make]
        print(f"submitted {len(jobs)} jobs (array {jobs[0].job_id.split('_')[0]}); logs in "
              f"{folder}")
        if args.wait:
            _report(jobs)
        return jobs
    for job in make:
        submitted = executor.submit(job)
        jobs.append(submitted)
        print(f"job {submitted.job_id}: {job.run.step.name} seed {job.run.seed}")
        _report([submitted])
    return jobs


def _report(jobs: list[Any]) -> None:
    failed = []
    for job in jobs:
        try:
            r = job.result()
            print(f"  {r['step_name']} seed {r['seed']}: {r['status']}"
                  + (f", top-1 {r['top1']:.2f}%" if r.get("top1") == r.get("top1")
                     and r.get("top1") is not None else f" ({r.get('reason')})"))
        except Exception as e:  # a job's own traceback is in its log file
            failed.append(job.job_id)
            print(f"  job {job.job_id} failed: {str(e).strip().splitlines()[-1][:200]}")
    if failed:
        raise UserError(f"{len(failed)} job(s) failed ({', '.join(failed)}); see their logs")
