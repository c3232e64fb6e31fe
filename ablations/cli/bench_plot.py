"""``bench-plot``: redraw the figures of a bench table made by ``bench``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import read_table, writable_folder

BENCH_COLUMNS = ("model", "kind", "gflops", "images_per_s")
"""What the figures read of a bench table besides its setting columns."""


def add_parser(sub: Any) -> None:
    """The ``bench-plot`` sub-command's options."""
    p = sub.add_parser("bench-plot", help="redraw the figures of a bench_<tag>.csv")
    p.add_argument("--from-csv", default="results/bench_cpu.csv",
                   help="the bench table to draw (default: %(default)s)")
    p.add_argument("--out", help="folder of the figures (default: the table's)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Redraw the figures of a bench CSV."""
    from ..figures.bench import bench_figures
    from ..measure.bench_settings import SETTING_COLUMNS

    path = Path(args.from_csv)
    out = writable_folder(args.out if args.out is not None else path.parent, "--out")
    table = read_table(path, "--from-csv", (*SETTING_COLUMNS, *BENCH_COLUMNS),
                       "`python -m ablations bench` (bench_<tag>.csv)")
    tag = path.stem.removeprefix("bench_")
    for p in bench_figures(table, out, tag):
        print(f"wrote {p}")
