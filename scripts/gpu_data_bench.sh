#!/usr/bin/env bash
# Issue #18, item 4, for a session lent one GPU: does the paper recipe's data path keep it
# busy? A generated JPEG folder at 224 px (20 classes x 640 training images, written by
# the machine's CPUs), then `bench-data` for ConvNeXt-T (the chain's last step) with the
# `paper` preset's recipe (timm's RandAugment, erasing, Mixup/CutMix; fp32 as the official
# command), batch 256, 300 timed iterations of the loader+step loop, 4..N workers; and
# `bench`'s model-only training images/s for the same step and batch. Rows are appended to
# $OUT/bench_data_<tag>.csv and $OUT/bench_<tag>.csv; the target: loader+step >= 90% of
# the step alone. Usage: OUT=results scripts/gpu_data_bench.sh [tag] [workers]
set -uo pipefail
tag=${1:-h200}
workers=${2:-4,8,12}
OUT=${OUT:-results}
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"
DIR=/tmp/jpeg224
[ -d $DIR/train ] || python3 -c "from ablations.folders import write_jpeg_folder; write_jpeg_folder('$DIR', classes=20, per_class=640, size=256, val_per_class=16)"
python3 -m ablations bench-data --device cuda --data-dir $DIR --preset paper --batch-size 256 \
    --batches 300 --workers "$workers" --append-csv "$OUT/bench_data_$tag.csv"
python3 -m ablations bench --device cuda --steps trunc-normal-init --mode train --batch-size 256 \
    --dtype float32 --no-references --no-memory --no-plot --out "$OUT" --tag "${tag}_data"
