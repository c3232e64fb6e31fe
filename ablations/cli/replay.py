"""``replay``: the main job - one seed of the main chain trained from scratch beside the
committed seeds, then its test against them, the statistics and the figures."""

from __future__ import annotations

import argparse
from typing import Any

from ..defaults import RESULTS
from ..errors import UserError
from . import run as run_command
from .common import seed_list
from .stats import print_stats

REPLAY_JOBS, REPLAY_THREADS = 2, 1
"""Two one-thread workers: on the 2-core machine more runs per hour than one process with
both cores (small models use threads poorly)."""


def add_parser(sub: Any) -> None:
    """The ``replay`` sub-command's options (``run``'s, and the reference)."""
    p = sub.add_parser("replay", help="the main job: train one seed of the main chain from "
                                      "scratch, beside the committed seeds, then statistics "
                                      "and plots",
                       description=f"Train --seeds fresh seeds of the chain (default: seed 0) and "
                                   f"test them against the committed ones. Defaults differ "
                                   f"from run's: --jobs {REPLAY_JOBS} --threads "
                                   f"{REPLAY_THREADS} --out runs/replay.")
    run_command.add_run_options(p, out="runs/replay", jobs=REPLAY_JOBS,
                                threads=REPLAY_THREADS)
    p.add_argument("--reference", default=None,
                   help="committed results whose other seeds join the fresh ones, and which "
                        f"the fresh seeds are tested against (default: {RESULTS}; "
                        "'none')")
    p.set_defaults(func=handle)


def _has_runs(committed: Any, args: argparse.Namespace) -> bool:
    """Whether the reference table holds finished runs of the replayed chain and preset."""
    if committed.empty or not {"study", "preset"} <= set(committed.columns):
        return False
    mine = committed[(committed.study == args.chain) & (committed.preset == args.preset)]
    if "status" in mine:
        mine = mine[mine.status == "ok"]
    return not mine.empty


def handle(args: argparse.Namespace) -> None:
    """Join the reference's other seeds, train the fresh ones, report."""
    from ..analysis import reproduce
    from ..analysis.claims import folder_claims
    from ..figures.folder import draw_results
    from ..run.store import load

    fresh = seed_list(args.seeds)
    if args.plan:  # the GPU-hours of the fresh seeds, nothing trained (as `run --plan`)
        run_command.print_plan(args)
        return
    from ..studies.planning import plan_study, prepare

    prepare(run_command.request_of(args, fresh), run_command.execute_options(args),
            run_command.launch_of(args), estimate=False)  # run's checks, before any copy
    reference = reproduce.resolve_reference(args.reference or RESULTS,
                                            given=args.reference is not None)
    committed = load(reference) if reference is not None else None  # read once
    if reference is not None and not _has_runs(committed, args):
        if args.reference is not None:
            raise UserError(f"--reference {reference}: no finished runs of {args.chain} at "
                            f"preset {args.preset} to compare the fresh seeds with; allowed: a "
                            f"results folder with such runs, or --reference none")
        print(f"{reference} holds no runs of {args.chain} at preset {args.preset}: nothing "
              "to compare with")
        reference = committed = None
    if reference is not None:
        others = sorted(set(committed.seed.astype(int)) - set(fresh))
        runs = plan_study(run_command.request_of(args, others), args.out, estimate=False).runs
        n = reproduce.import_reference(reference, args.out, {r.hash for r in runs})
        print(f"seeds {', '.join(map(str, others)) or '-'} from {reference} ({n} runs); "
              f"seed(s) {', '.join(map(str, fresh))} trained here from scratch")
        if not str(args.device).startswith("cuda"):
            import torch

            from ..system.machine import cpu_capability, cpu_model

            print(reproduce.expectation(committed[committed.study == args.chain],
                                        torch.__version__, cpu_model(), cpu_capability()))
    if run_command.train(args, fresh) is None:  # queued jobs: report once they are done
        run_command.say_jobs_submitted(args.out)
        return
    df = load(args.out)
    for path in draw_results(df, args.out, args.chain):
        print(f"wrote {path}")
    claims = folder_claims(args.out, df)  # stats' table of claims, the chain's part
    print_stats(df[df.study == args.chain], claims[claims.study == args.chain])
    if reference is not None:
        table = reproduce.reproduction(df[df.seed.isin(fresh)], committed, args.chain,
                                       args.preset)
        if not table.empty:
            cols = ["step", "step_name", "seed", "fresh_top1", "reference_same_seed",
                    "reference_mean", "reference_sd", "reference_seeds", "p_holm", "verdict"]
            print(table[cols].round(3).to_string(index=False))
            print(f"wrote {reproduce.write(table, args.out)}")
        print(reproduce.summary_line(table))
