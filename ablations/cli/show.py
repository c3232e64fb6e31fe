"""``show``: the results table of a results folder (and, as a table, its statistics)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_format, add_results_folder, print_table
from .stats import print_stats


def add_parser(sub: Any) -> None:
    """The ``show`` sub-command's options."""
    p = sub.add_parser("show", help="print the results table of a results folder")
    add_results_folder(p)
    add_format(p)
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print the per-step summary; as a table, the statistics after it."""
    from ..analysis.summary import summary_table
    from ..run.store import load

    df = load(args.out)
    print_table(summary_table(df), args.format)
    if args.format == "table":
        print_stats(df, args.out)
