#!/usr/bin/env bash
# More quick-preset candidates (smaller batches: more optimizer steps per image), same
# protocol as scripts/frontier.sh. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/frontier}
common=(--chain resnet50-to-convnext-t --steps="${STEPS:-modern-recipe,depthwise-conv,separate-downsampling}" --seeds 1 --jobs 2 --no-progress)
for ep in ${EPOCHS:-4 6}; do
  echo "== 60k-${ep}ep-b128"
  python -m ablations run --preset quick "${common[@]}" --out "$OUT/60k-${ep}ep-b128" \
    --set train_subset=null --set epochs=$ep
done
