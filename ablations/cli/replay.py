"""``replay``: the main job - one seed of the main chain trained from scratch beside the
committed seeds, then its test against them, the statistics and the figures."""

from __future__ import annotations

import argparse
from typing import Any

from ..defaults import RESULTS
from . import plot as plot_command
from . import run as run_command
from .stats import print_stats


def add_parser(sub: Any) -> None:
    """The ``replay`` sub-command's options (``run``'s, and the reference)."""
    p = sub.add_parser("replay", help="the main job: train one seed of the main chain from "
                                      "scratch, beside the committed seeds, then statistics "
                                      "and plots")
    run_command.add_run_options(p, out="runs/replay")
    p.add_argument("--reference", default=None,
                   help="committed results whose other seeds join the fresh ones, and which "
                        f"the fresh seeds are tested against (default: {RESULTS}; "
                        "'none')")
    p.set_defaults(func=handle, jobs=2, threads=1)


def handle(args: argparse.Namespace) -> None:
    """Join the reference's other seeds, train the fresh ones, report."""
    from .. import reproduce
    from ..store import load

    reference = reproduce.resolve_reference(args.reference or RESULTS,
                                            given=args.reference is not None)
    fresh = set(range(args.seeds))
    if reference is not None:
        others = sorted(set(load(reference).seed.astype(int)) - fresh)
        _, runs = run_command.plan(args, others)
        n = reproduce.import_reference(reference, args.out, {r.hash for r in runs})
        print(f"seeds {', '.join(map(str, others)) or '-'} from {reference} ({n} runs); "
              f"seed(s) {', '.join(map(str, sorted(fresh)))} trained here from scratch")
    if not run_command.handle(args):  # a rank, or queued jobs: report once, where complete
        if args.launcher != "none":
            print(f"jobs submitted: when they have finished, `python -m ablations plot --out "
                  f"{args.out}` and `stats --out {args.out}` report them")
        return
    plot_command.handle(args)
    df = load(args.out)
    print_stats(df[df.study == args.chain], args.out)
    if reference is not None:
        _report_reproduction(df[df.seed.isin(fresh)], load(reference), args)


def _report_reproduction(fresh: Any, reference: Any, args: argparse.Namespace) -> None:
    from .. import reproduce

    table = reproduce.reproduction(fresh, reference, args.chain, args.preset)
    if not table.empty:
        cols = ["step", "step_name", "seed", "fresh_top1", "reference_same_seed",
                "reference_mean", "reference_sd", "reference_seeds", "p_holm", "verdict"]
        print(table[cols].round(3).to_string(index=False))
        print(f"wrote {reproduce.write(table, args.out)}")
    print(reproduce.summary_line(table))
