#!/usr/bin/env bash
# results/bench_data_cpu.csv: loader vs training step on a generated 64 px JPEG folder
# (4 classes x 512 training images), ConvNeXt-T at widths / 8, batch 128, 2 threads,
# without augmentation and with the paper's. Run it on a machine with nothing else running.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/jpg4}
rm -rf "$DIR" && python -c "from ablations.folders import write_jpeg_folder; write_jpeg_folder('$DIR', classes=4, per_class=512, size=64)"
rm -f results/bench_data_cpu.csv
COMMON="--data-dir $DIR --set resolution=64 --set width_multiplier=0.125 --threads 2 --batch-size 128 --batches 12 --workers 1,2 --append-csv results/bench_data_cpu.csv"
python -m ablations bench-data $COMMON --recipe-set "auto_augment=''" --recipe-set random_erasing=0 --recipe-set mixup=0 --recipe-set cutmix=0
python -m ablations bench-data $COMMON
