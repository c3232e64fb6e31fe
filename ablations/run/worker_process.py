"""A worker process: ``python -m ablations.run.worker_process PLAN`` executes a plan written
by ``workers.write_plan``; started by the local workers backend (one per worker) and by
torchrun (one per rank, the process group read from the environment)."""

from __future__ import annotations

import signal
import sys

from ..errors import Stopped, UserError, raise_stopped
from ..system.machine import set_threads
from ..train.distributed import from_environment
from .runner import execute
from .workers import read_plan


def main(argv: list[str] | None = None) -> int:
    """Execute the plan file named in ``argv``; bad input is one line and exit code 2."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m ablations.run.worker_process PLAN_FILE", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, raise_stopped)
    try:
        plan = read_plan(argv[0])
        set_threads(plan.options.threads)
        execute(plan.runs, plan.options, dist=from_environment(plan.options.device))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        code = e.code if isinstance(e, Stopped) else 130
        print(f"stopped: {getattr(e, 'detail', '') or 'finished results are kept'}",
              file=sys.stderr)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
