"""``costs``: params and GFLOPs of every step of a chain, or of named models."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import add_chain_or_models, add_format, comma_list, positive_int, print_table


def add_parser(sub: Any) -> None:
    """The ``costs`` sub-command's options."""
    p = sub.add_parser("costs", help="params and GFLOPs of every step of a chain, or of "
                                     "named models")
    add_chain_or_models(p)
    p.add_argument("--resolution", type=positive_int, default=224)
    add_format(p)
    p.add_argument("--no-branches", action="store_true", help="main steps only")
    p.add_argument("--fvcore", action="store_true",
                   help="also fvcore's count beside ours (a real forward pass per model: about "
                        "a minute for a whole chain on 2 cores)")
    p.add_argument("--no-fvcore", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print the cost table; notes on what was not counted go to stderr."""
    from ..measure.costs import chain_costs, model_costs

    fvcore = args.fvcore and not args.no_fvcore
    if args.models:
        df = model_costs(comma_list(args.models), args.resolution, fvcore)
    else:
        df = chain_costs(args.chain, args.resolution, not args.no_branches, fvcore)
    if not fvcore:  # not counted: no empty column
        df = df.drop(columns=["fvcore_gflops"])
    print_table(df, args.format)
    convnets = df[df.attention_gflops == 0] if "attention_gflops" in df else df
    if fvcore and convnets.fvcore_gflops.isna().any():
        print(f"note: fvcore's count is left out at {args.resolution} px (its real forward "
              "pass would need over half of this machine's memory); the paper-convention "
              "counts run on the meta device and are exact", file=sys.stderr)
    if "attention_gflops" in df and (df.attention_gflops > 0).any():
        print("note: gflops counts every multiply-add, the attention matmuls too "
              "(attention_gflops); fvcore's count is given for ConvNets only",
              file=sys.stderr)
