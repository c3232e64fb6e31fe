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
    from ..figures.folder import draw_results
    from ..run.store import load

    for path in draw_results(load(args.out), args.out, args.chain):
        print(f"wrote {path}")
