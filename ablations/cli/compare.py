"""``compare``: overlay result sets and the paper; a table of deltas."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_chain, labelled, writable_folder


def add_parser(sub: Any) -> None:
    """The ``compare`` sub-command's options."""
    p = sub.add_parser("compare", help="overlay result sets and the paper; table of deltas")
    p.add_argument("results", nargs="+", metavar="[LABEL=]FOLDER", help="results folders")
    add_chain(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder the figure and table are written to (created; required: no "
                        "default, so that nothing lands in the current directory unasked)")
    p.add_argument("--name", default="comparison",
                   help="file name of both, without suffix: NAME.png and NAME.csv "
                        "(default: %(default)s)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print each result set's top-1 per step beside the paper's, and the agreement."""
    from pathlib import Path

    from ..analysis.agreement import format_agreement
    from ..errors import check_file_name
    from ..figures.compare import compare_results

    check_file_name(args.name, "--name")
    writable_folder(args.out, "--out")  # before any folder is read or figure drawn
    import pandas as pd

    labels = labelled(args.results)
    table, agreement, written = compare_results(labels, args.chain, Path(args.out) / args.name)
    cols = ["step", "step_name", "paper_top1"] + [c for c in table if c.endswith("_top1")
                                                   and c != "paper_top1"]
    if table[cols[3:]].notna().any().any():
        print(table[cols].round(2).to_string(index=False))
    for label, a in agreement.items():
        print(f"{label}: {format_agreement(a)}")
    shared = pd.read_csv(written[-1])
    if shared.empty:
        print("no step is in every result set")
    else:
        print(f"steps in every result set ({len(shared)}), any study; difference = "
              f"{list(labels)[-1]} - {list(labels)[0]} over the same runs (hash and seed):")
        keep = [c for c in shared if not c.endswith("_device") and c != "step"]
        print(shared[keep].round(2).to_string(index=False))
    for p in written:
        print(f"wrote {p}")
    png = (Path(args.out) / args.name).with_suffix(".png")
    if png not in written:
        print(f"{png} already draws these numbers (not redrawn)")
