"""``plot``: draw the figures of a results folder."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_chain, add_results_folder


def add_parser(sub: Any) -> None:
    """The ``plot`` sub-command's options."""
    p = sub.add_parser("plot", help="draw the figures of a results folder")
    add_results_folder(p)
    add_chain(p)
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """The chain's figures (where the folder holds the chain) and every study's."""
    from .. import plot, plot_studies
    from ..store import load

    df = load(args.out)
    if args.chain in set(df.get("study", [])):
        for path in plot.all_figures(df, args.out, chain_name=args.chain):
            print(f"wrote {path}")
    for path in plot_studies.study_figures(df, args.out):
        print(f"wrote {path}")
