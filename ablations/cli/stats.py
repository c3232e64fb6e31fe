"""``stats``: which step differences are real - paired statistics per study and preset."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_format, add_results_folder, print_table


def add_parser(sub: Any) -> None:
    """The ``stats`` sub-command's options."""
    p = sub.add_parser("stats", help="which step differences are real: paired statistics")
    add_results_folder(p)
    add_format(p)
    p.add_argument("--write", action="store_true", help="also write <out>/stats.csv")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print (and with ``--write`` store) the statistics of a results folder."""
    from ..analysis import stats
    from ..run.store import Store, load

    df = load(args.out)
    table = stats.all_stats(df, Store(args.out))
    if args.format != "table":
        print_table(table, args.format)
        return
    print_stats(df, args.out, table)
    if args.write:
        print(f"wrote {stats.write_stats(df, args.out)}")


def print_stats(df: Any, out: str, table: Any = None) -> None:
    """Per-comparison statistics, agreement with the paper, and where the rows come from."""
    import pandas as pd

    from ..analysis import agreement
    from ..analysis import stats
    from ..run.identity import NUMERICS_VERSION
    from ..run.store import Store

    if table is None:
        table = stats.all_stats(df, Store(out))
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        for (study, preset), part in table.groupby(["study", "preset"], sort=False):
            print(f"\n{study} ({preset}): paired differences over seeds, top-1 points")
            print(stats.format_stats(part).to_string(index=False))
            a = agreement.paper_agreement(df, study, preset)
            if a["steps"] >= 3 and a["seeds"]:
                print(f"agreement with the paper: {agreement.format_agreement(a)}")
    prov = stats.provenance(df, NUMERICS_VERSION)
    commits = ", ".join(f"{c} ({n})" for c, n in prov["commits"].items())
    print(f"\nrows: {prov['rows']} from commit(s) {commits}; numerics version "
          f"{NUMERICS_VERSION}" + (f"; STALE: {prov['stale']} rows from another numerics "
                                  "version (today's code would not reproduce them: rerun)"
                                  if prov["stale"] else ""))
