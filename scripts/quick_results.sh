#!/usr/bin/env bash
# The committed quick results (results/quick): the main chain with 5 seeds; ResNet-50 with
# ConvNeXt's init (the init study's other end is the chain's last step) with 5 seeds; the
# one-at-a-time and leave-one-out studies with STUDY_SEEDS seeds (5, the chain's); the scale
# study (steps 0 and 14 over the quick preset's cells, 3 seeds); then the statistics and
# figures. 2 one-thread workers on the 2-core machine. Resumable: rerun to finish what is
# missing; finished runs are never trained again.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/quick}
run=(python -m ablations run --preset quick --jobs 2 --threads 1 --no-progress --out "$OUT")
"${run[@]}" --seeds "${SEEDS:-5}"
"${run[@]}" --study one-at-a-time --steps modern-recipe,only-trunc-normal-init --seeds "${SEEDS:-5}"
"${run[@]}" --study one-at-a-time --seeds "${STUDY_SEEDS:-5}"
"${run[@]}" --study scale --seeds "${SCALE_SEEDS:-3}"
"${run[@]}" --study leave-one-out --seeds "${STUDY_SEEDS:-5}"
python -m ablations plot --results "$OUT"
python -m ablations stats --results "$OUT" --write
