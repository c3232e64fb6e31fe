#!/usr/bin/env bash
# Accuracy vs CPU minutes of candidate quick presets, measured on the modern-recipe ResNet-50,
# depthwise conv and separate downsampling, seed 0, on real Fashion-MNIST.
# One recipe for every step of a candidate (AdamW, lr 4e-3 at the candidate's batch).
# Resumable: rerun to finish what is missing. Then:
#   python scripts/frontier_table.py runs/frontier results/frontier
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/frontier}
JOBS=${JOBS:-2}
STEPS=${STEPS:-modern-recipe,depthwise-conv,separate-downsampling}
common=(--chain resnet50-to-convnext-t --steps="$STEPS" --seeds 1 --jobs "$JOBS" --no-progress)
cand() {  # name, then --set / --recipe-set options
  local name=$1; shift
  echo "== $name: $*"
  python -m ablations run --preset quick "${common[@]}" --out "$OUT/$name" "$@"
}
cand v1-20k-4ep-b128
for ep in 4 6 8 10; do
  cand "60k-${ep}ep-b512" --set train_subset=null --set epochs=$ep --set batch_size=512 \
       --recipe-set lr=4e-3 --recipe-set base_batch=512
done
cand 60k-4ep-b512-w4 --set train_subset=null --set epochs=4 --set batch_size=512 \
     --set width_multiplier=0.25 --recipe-set lr=4e-3 --recipe-set base_batch=512
