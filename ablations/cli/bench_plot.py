"""``bench-plot``: redraw the figures of a bench table made by ``bench``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UserError
from .common import deprecated_alias


def add_parser(sub: Any) -> None:
    """The ``bench-plot`` sub-command's options."""
    p = sub.add_parser("bench-plot", help="redraw the figures of a bench_<tag>.csv")
    p.add_argument("--from-csv", default="results/bench_cpu.csv",
                   help="the bench table to draw (default: %(default)s)")
    deprecated_alias(p, "--csv", "--from-csv")
    p.add_argument("--out", help="folder of the figures (default: the table's)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Redraw the figures of a bench CSV."""
    import pandas as pd

    from ..figures.bench import bench_figures

    path = Path(args.from_csv)
    if not path.is_file():
        raise UserError(f"--from-csv {path}: no such file (made by `python -m ablations bench`)")
    tag = path.stem.removeprefix("bench_")
    for p in bench_figures(pd.read_csv(path), Path(args.out or path.parent), tag):
        print(f"wrote {p}")
