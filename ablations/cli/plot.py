"""``plot``: draw the figures of a results folder (``--results``), into that folder."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_chain, add_results_folder, comma_list, writable_folder


def add_parser(sub: Any) -> None:
    """The ``plot`` sub-command's options."""
    p = sub.add_parser("plot", help="draw the figures of a results folder")
    add_results_folder(p)
    add_chain(p)
    p.add_argument("--style", choices=("all", "paper"), default="all",
                   help="all: every figure of the folder; paper: Figure 2 in the paper's "
                        "style only (figure2.png / .pdf)")
    p.add_argument("--image-format", help="--style paper: comma-separated image file formats "
                                          "(png, svg, pdf; default png,pdf)")
    p.add_argument("--width", default="11",
                   help="--style paper: column (3.3 in), page (7 in) or a width in inches "
                        "(default: %(default)s); drawn at that width, text at least 7 pt")
    p.add_argument("--steps", help="--style paper: comma-separated step names to draw "
                                   "(default: all)")
    p.add_argument("--cell", metavar="PRESET",
                   help="--style paper: Figure 2 of one scale cell where the chain was "
                        "trained (e.g. quick+train_images=7500), as figure2_<cell>.png")
    p.set_defaults(func=handle)


FORMATS = ("png", "svg", "pdf")


def handle(args: argparse.Namespace) -> None:
    """The chain's figures (where the folder holds the chain) and every study's, or with
    ``--style paper`` Figure 2 alone."""
    from ..errors import UserError
    from ..figures.folder import draw_paper_figure, draw_results
    from ..run.store import load

    writable_folder(args.results, "--results")  # the figures go there: checked before drawing
    df = load(args.results)
    if args.cell and args.style != "paper":
        raise UserError(f"--cell {args.cell}: only with --style paper (Figure 2 of that cell)")
    if args.style == "all":
        paths = draw_results(df, args.results, args.chain)
    else:
        formats = comma_list(args.image_format or "png,pdf")
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise UserError(f"--image-format {args.image_format!r}; allowed: a comma-separated "
                            f"list of {', '.join(FORMATS)}")
        from ..figures.paper_figure import WIDTHS

        try:
            width = WIDTHS[args.width] if args.width in WIDTHS else float(args.width)
        except ValueError:
            width = float("nan")
        if not 2 <= width <= 40:
            raise UserError(f"--width {args.width}; allowed: column, page or 2 to 40 (inches)")
        if args.cell:
            from ..figures.folder import draw_cell_figure

            paths = draw_cell_figure(df, args.results, args.cell, args.chain,
                                     comma_list(args.steps or "") or None, width,
                                     tuple(f".{f}" for f in formats))
        else:
            paths = draw_paper_figure(df, args.results, comma_list(args.steps or "") or None,
                                      width, tuple(f".{f}" for f in formats))
        if not paths:
            raise UserError(f"{args.results}: no runs of a Figure 2 chain; allowed: a results "
                            "folder with runs of resnet50-to-convnext-t or "
                            "resnet200-to-convnext-b")
    for path in paths:
        print(f"wrote {path}")
