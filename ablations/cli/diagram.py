"""``diagram``: a step's block before -> after (or one named model's block)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UserError
from .common import add_chain, model_names, writable_folder


def add_parser(sub: Any) -> None:
    """The ``diagram`` sub-command's options."""
    p = sub.add_parser("diagram", help="draw a step's block before -> after (or a named "
                                       "model's block)")
    add_chain(p)
    p.add_argument("--step", default="separate-downsampling", help="step name or index")
    p.add_argument("--model", help=f"draw this named model alone instead: {model_names()}")
    p.add_argument("--stage", type=int, default=2, choices=(1, 2, 3, 4),
                   help="which stage's first block to draw (2 shows in-block downsampling)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder the figure is written to (created; required: no default, so "
                        "that nothing lands in the current directory unasked)")
    p.add_argument("--name", help="file name without suffix (default: diagram_<step or model>)")
    p.add_argument("--image-format", default="png", choices=("png", "svg", "pdf"),
                   help="image file format (default: %(default)s)")
    p.add_argument("--overview", action="store_true",
                   help="every step of the chain in one figure: its network (stem, stages, "
                        "downsampling, head) and block, what it changes outlined "
                        "(default name: <chain>_changes)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Draw and say which files were written."""
    from models import named_design
    from models.roadmap import find_step, parent_step

    from pathlib import Path

    from ..errors import check_file_name
    from ..figures import diagram

    name = args.name or (f"{args.chain}_changes" if args.overview
                         else f"diagram_{args.model or args.step}")
    check_file_name(name, "--name")
    writable_folder(args.out, "--out")
    if args.model and not hasattr(named_design(args.model), "stem"):
        from models.named import MODEL_NAMES

        convnets = [m for m in MODEL_NAMES if hasattr(named_design(m), "stem")]
        raise UserError(f"--model {args.model}: a Transformer, which has no block of "
                        f"convolutions to draw; allowed: {', '.join(convnets)}")
    path, formats = Path(args.out) / name, (f".{args.image_format}",)
    if args.overview:
        paths = diagram.draw_chain_changes(args.chain, path, formats=formats)
    elif args.model:
        paths = diagram.draw_single(named_design(args.model), args.model, path, args.stage - 1,
                                    formats)
    else:
        step = find_step(args.chain, args.step)
        parent = parent_step(args.chain, step)
        paths = diagram.draw_step(parent.design, step.design, f"{parent.index} {parent.title}",
                                  f"{step.index} {step.title}", path, args.stage - 1, formats)
    for p in paths:
        print(f"wrote {p}")
