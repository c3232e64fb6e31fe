"""``report``: one self-contained HTML page of a results folder (``report.html``)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import add_chain, add_results_folder


def add_parser(sub: Any) -> None:
    """The ``report`` sub-command's options."""
    p = sub.add_parser("report", help="write one self-contained HTML page of a results "
                                      "folder (report.html: the paper beside ours, a chart "
                                      "per study, every claim, the commands)")
    add_results_folder(p)
    add_chain(p)
    p.add_argument("--file", help="where to write the page (default: <results>/report.html)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Build the page and say where it is and how big."""
    from ..figures.report import build_report
    from .common import writable_file, writable_folder

    if args.file is not None:  # where the page goes, checked before it is built
        writable_file(args.file, "--file")
    else:
        writable_folder(args.results, "--results")
    start = time.monotonic()
    path = build_report(args.results, args.file, args.chain)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, built in "
          f"{time.monotonic() - start:.1f} s)")
