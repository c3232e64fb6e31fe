#!/usr/bin/env bash
# Issue #19, item 3, for a session lent one GPU: the scale study's widest cells.
# The quick preset (real Fashion-MNIST) with ResNet-50 (modern recipe) and ConvNeXt-T,
# 3 paired seeds: the base cell (its own GPU control: the same cell as the CPU base, on
# another device), full width (x1, the paper's widths, 32 px), then 64 and 96 px at widths
# x1/8. Several workers share the GPU (small models leave it idle between kernels).
# Training stops at a deadline; every finished run is packed (no checkpoints) into
# $OUT/gpu_scale.tar.gz, unpacked on a CPU machine into results/quick-gpu.
# Usage: OUT=/tmp/x scripts/gpu_scale.sh   (needs data/fashion-mnist/*.gz in the checkout)
# Rerun on the same machine to resume: finished runs are skipped, interrupted ones go on
# from their last epoch checkpoint (results/quick-gpu was made by one call with BUDGET=450
# and one with BUDGET=210 GRIDS="resolution=64,96": 465 s + 187 s of wall time on one H200).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_scale_out}
FOLDER=${FOLDER:-/tmp/quick-gpu}        # the results folder while training
PRESET=${PRESET:-quick}
DEVICE=${DEVICE:-cuda}
SEEDS=${SEEDS:-3}
JOBS=${JOBS:-6}
THREADS=${THREADS:-2}
BUDGET=${BUDGET:-400}                   # seconds of training, all cells together
GRIDS=${GRIDS:-"width=1|resolution=64,96"}   # '|' separates invocations, run in order
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
nvidia-smi -L || true
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"
end=$((SECONDS + BUDGET))
IFS='|' read -ra grids <<< "$GRIDS"
for grid in "${grids[@]}"; do
  left=$((end - SECONDS))
  [ "$left" -gt 20 ] || { echo "deadline reached before grid $grid"; break; }
  echo "== grid $grid ($left s left)"
  timeout -s INT -k 30 "$left" python3 -m ablations run --study scale --preset "$PRESET" \
      --seeds "$SEEDS" --grid "$grid" --device "$DEVICE" --jobs "$JOBS" --threads "$THREADS" \
      --data-dir data --out "$FOLDER" --no-progress
  echo "== rc $?"
done
for log in "$FOLDER"/logs/worker-*.log; do echo "== $log"; tail -n 5 "$log"; done
python3 - "$FOLDER" <<'EOF'
import glob, json, sys
for p in sorted(glob.glob(f"{sys.argv[1]}/runs/*/result.json")):
    r = json.load(open(p))
    print(p.split("/")[-2], r.get("device"), r.get("top1"), round(r.get("train_seconds", 0), 1))
EOF
# No checkpoints or temporary files: a pack that excluded only checkpoint.pt came to 30 MB
# once (over what a device call returns; which file it was was not looked into there).
tar -czf "$OUT/gpu_scale.tar.gz" -C "$FOLDER" --exclude='*.pt' --exclude='*.pt.*' \
    --exclude='*.corrupt' --exclude='*.tmp' --exclude=logs --exclude='.claim' .
ls -la "$OUT"
