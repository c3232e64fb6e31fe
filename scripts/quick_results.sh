#!/usr/bin/env bash
# The committed quick results (results/quick): the main chain with 5 seeds, then the
# one-at-a-time and leave-one-out studies (2 seeds each first, then a third), then the
# statistics and figures. 2 one-thread workers on the 2-core machine. Resumable: rerun to
# finish what is missing; finished runs are never trained again.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/quick}
run=(python -m ablations run --preset quick --jobs 2 --threads 1 --no-progress --out "$OUT")
"${run[@]}" --seeds "${SEEDS:-5}"
"${run[@]}" --design one-at-a-time --seeds 2
"${run[@]}" --design leave-one-out --seeds 2
"${run[@]}" --design one-at-a-time --seeds "${STUDY_SEEDS:-3}"
"${run[@]}" --design leave-one-out --seeds "${STUDY_SEEDS:-3}"
python -m ablations plot --out "$OUT"
python -m ablations stats --out "$OUT" --write
