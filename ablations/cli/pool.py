"""``pool``: merge results folders (a class's students, each with other seeds) into one,
then print the paired verdicts over all their seeds."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """The ``pool`` sub-command's options."""
    p = sub.add_parser("pool", help="merge results folders (e.g. a class's seeds) into one and "
                                    "print the paired verdicts over all their seeds",
                       description="Merge results folders into --out: the same run (hash and "
                                   "seed) counted once, a run with another top-1 in two "
                                   "folders reported as a conflict (the first folder's kept), "
                                   "rows of another numerics version refused.")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="results folders to pool")
    p.add_argument("--out", required=True, help="the pooled results folder (created; what it "
                                                "already holds is pooled too)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Pool the folders, say what was merged, print the verdicts over the union of seeds."""
    from ..run.pool import pool
    from ..run.store import load
    from .run import print_verdicts

    from .common import writable_folder

    writable_folder(args.out, "--out")  # before any folder is read or copied
    report = pool(args.folders, args.out)
    for line in report.conflicts:
        print(f"conflict: {line}")
    print(report.summary())
    print_verdicts(load(args.out))
