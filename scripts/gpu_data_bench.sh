#!/usr/bin/env bash
# Issue 29, for a session lent one GPU (one call, at most 8 minutes): does the paper recipe's
# data path keep one GPU busy? On a generated 224 px JPEG folder (20 classes x 1,000 training
# images at 256 px, written once to local disk), for steps 0 (modern-recipe ResNet-50) and 14
# (ConvNeXt-T) of the `paper` preset at bf16, `bench-data` measures the loader's images/s for
# each worker count, the training step alone on one device batch (model-only), and loader +
# training together, in micro-batches of 128 (the official per-GPU batch). Rows are appended
# to $OUT/bench_data_paper_<gpu>.csv; the target: loader + training >= 90% of model-only.
# Usage: OUT=results scripts/gpu_data_bench.sh [gpu-tag] [workers]
set -uo pipefail
tag=${1:-$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | awk '{print tolower($2)}')}
workers=${2:-8,12,16}
OUT=${OUT:-results}
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"
DIR=/tmp/jpeg224
[ -d $DIR/train ] || time python3 -c "from ablations.data.folders import write_jpeg_folder; write_jpeg_folder('$DIR', classes=20, per_class=1000, size=256, val_per_class=8)"
for step in modern-recipe trunc-normal-init; do
  python3 -m ablations bench-data --device cuda --data-dir $DIR --preset paper --step $step \
      --batch-size 128 --batches 150 --workers "$workers" --recipe-set bf16=true \
      --no-progress --append-csv "$OUT/bench_data_paper_$tag.csv"
done
