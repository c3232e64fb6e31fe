"""``paper-table``: the paper's per-step numbers with their sources."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_format, print_table


def add_parser(sub: Any) -> None:
    """The ``paper-table`` sub-command's options."""
    p = sub.add_parser("paper-table", help="the paper's per-step numbers with their sources")
    add_format(p, default="csv")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print the paper's reference table."""
    from ..analysis.paper import paper_reference

    print_table(paper_reference(), args.format)
