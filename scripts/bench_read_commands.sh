#!/usr/bin/env bash
# How long the read-only commands take: each started REPEATS times (default 5) after one
# warm-up run that is not counted, timed from outside as a whole process (start-up and
# imports included). Prints the minimum and the median of wall seconds, CPU seconds
# (user + system) and peak memory; quote the median. This replaces a wall-clock assert in
# the tests: on a shared machine a timed test fails for reasons that are not the code's.
# The warm-up run fills the caches a first ask fills (the claims of a folder whose stats.csv
# is stale, a design's counted costs, compare's figure, the report's step diagrams): the
# medians are the answer of every ask after the first; the warm-up's own time is printed too.
#
#   bash scripts/bench_read_commands.sh            # the committed results/quick
#   RESULTS=results/quick-gpu REPEATS=9 bash scripts/bench_read_commands.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${RESULTS:-results/quick} REPEATS=${REPEATS:-5} python3 - <<'EOF'
import os
import statistics
import subprocess
import sys
import tempfile
import time

results = os.environ["RESULTS"]
repeats = int(os.environ["REPEATS"])
commands = {
    "show": ["show", "--results", results],
    "stats": ["stats", "--results", results],
    "costs --chain": ["costs", "--chain", "resnet50-to-convnext-t", "--format", "csv"],
    "compare": ["compare", "cpu=results/quick", "gpu=results/quick-gpu", "--out",
                tempfile.mkdtemp()],
    "run --plan": ["run", "--plan", "a100", "--preset", "paper", "--out", tempfile.mkdtemp()],
    "one-line error": ["show", "--results", "no/such/folder"],
    "report": ["report", "--results", results, "--file",
               os.path.join(tempfile.mkdtemp(), "report.html")],
}


def once(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of one run of the command."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "ablations", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


print(f"{repeats} run(s) each after 1 warm-up, {os.cpu_count()} cores, results {results}")
print(f"{'command':<16} {'wall min':>9} {'median':>7} {'cpu min':>8} {'median':>7} "
      f"{'peak MB':>8}")
for name, argv in commands.items():
    first = once(argv)  # warm-up: file cache, byte-compiled modules, the caches above
    runs = [once(argv) for _ in range(repeats)]
    wall, cpu, peak = zip(*runs)
    print(f"{name:<16} {min(wall):>9.2f} {statistics.median(wall):>7.2f} {min(cpu):>8.2f} "
          f"{statistics.median(cpu):>7.2f} {statistics.median(peak):>8.0f}   (first ask: "
          f"{first[1]:.2f} CPU-s)")
EOF
