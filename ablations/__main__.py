"""Command line: ``python -m ablations <command> ...`` (also installed as ``convnext-ablations``)."""

from __future__ import annotations

import argparse
import sys

from .errors import UserError


def _costs(args: argparse.Namespace) -> None:
    from .costs import chain_costs, preset_costs

    if args.preset:
        df = preset_costs(args.preset.split(","), args.resolution, not args.no_fvcore)
    else:
        df = chain_costs(args.chain, args.resolution, not args.no_branches, not args.no_fvcore)
    _print_table(df, args.format)


def _paper_table(args: argparse.Namespace) -> None:
    from .paper import paper_reference

    _print_table(paper_reference(), args.format)


def _print_table(df, fmt: str) -> None:
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1) + "\n")
    else:
        with __import__("pandas").option_context("display.max_colwidth", 40,
                                                  "display.width", 200):
            print(df.drop(columns=[c for c in ("note", "source") if c in df]).to_string(
                index=False))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from models.presets import PRESETS
    from models.roadmap import CHAINS

    parser = argparse.ArgumentParser(prog="python -m ablations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("costs", help="params and GFLOPs of every step of a chain, or presets")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--chain", default="resnet50-to-convnext-t", choices=list(CHAINS))
    group.add_argument("--preset", help=f"comma-separated preset names: {', '.join(PRESETS)}")
    p.add_argument("--resolution", type=_positive_int, default=224)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--no-branches", action="store_true", help="main steps only")
    p.add_argument("--no-fvcore", action="store_true", help="skip fvcore's count (faster)")
    p.set_defaults(func=_costs)

    p = sub.add_parser("paper-table", help="the paper's per-step numbers with their sources")
    p.add_argument("--format", choices=("table", "csv", "json"), default="csv")
    p.set_defaults(func=_paper_table)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and return 2."""
    args = make_parser().parse_args(argv)
    try:
        args.func(args)
    except (UserError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished results are kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
