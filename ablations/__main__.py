"""Command line: ``python -m ablations <command> ...`` (also installed as ``convnext-ablations``).

Each command lives in ``ablations/cli/<command>.py`` (``bench-data`` in ``bench_data.py``;
its options beside its handler); this module builds the parser from them and dispatches,
turning bad input into one line."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import warnings
from typing import Any

from models.design import DesignError

from .cli import COMMANDS
from .errors import Stopped, UserError, raise_stopped


DESCRIPTION = """\
Walk from ResNet-50 to ConvNeXt-T one design change at a time: train every step, test
which differences are real (paired over seeds), and draw them against the paper.

  replay           the main job: one fresh seed of the chain beside the committed ones
  run              train steps of a study (stored runs are reused; resumable)
  stats, show      verdicts and intervals; the results table
  plot, diagram    figures of a results folder; a step's block before -> after

`python -m ablations COMMAND --help` lists a command's options."""


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (``ablations.cli.<command>.add_parser``)."""
    parser = argparse.ArgumentParser(prog="python -m ablations", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f".cli.{name}", __package__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and return 2."""
    warnings.formatwarning = _one_line_warnings  # every entry point: -m, the script, tests
    argv = list(sys.argv[1:] if argv is None else argv)
    args = make_parser().parse_args(argv)
    args.argv = argv
    if getattr(args, "device", "") is None and not getattr(args, "plan", None):
        # resolved here: --help needs no torch, and --plan prices GPUs, not this machine
        from .cli.common import cuda_available

        args.device = "cuda" if cuda_available() else "cpu"
    previous = signal.signal(signal.SIGTERM, raise_stopped)
    try:
        if getattr(args, "device", None) is not None:  # every command with --device
            from .cli.common import check_device

            # a job submitted to a cluster finds its GPUs there, not on this login node
            check_device(args.device, need_present=getattr(args, "launcher", "none") == "none")
        args.func(args)
    except (UserError, DesignError) as e:  # bad input: one line; anything else is a bug
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`: not an error of the user's
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (a Stopped)
        code = e.code if isinstance(e, Stopped) else 130
        detail = e.detail if isinstance(e, Stopped) and e.detail else "finished results are kept"
        print(f"stopped ({'SIGTERM' if code == 143 else 'SIGINT'}): {detail}", file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _one_line_warnings(message: Any, category: type, *_args: Any, **_kw: Any) -> str:
    """Warnings (deprecations) on the command line read as one line, like its errors."""
    return f"warning: {message} ({category.__name__})\n"


if __name__ == "__main__":
    sys.exit(main())
