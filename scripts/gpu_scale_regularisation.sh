#!/usr/bin/env bash
# Issue 38, for a session lent one GPU (one call under 10 minutes): does the paper's
# regularisation, with room to see, make ConvNeXt-T overtake ResNet-50 at full width?
# The quick preset (real Fashion-MNIST), ResNet-50 (modern recipe) and ConvNeXt-T, 3 paired
# seeds, in the order that answers first: full width (x1) at 64 px with and without the
# paper's regularisation at 6 and 24 epochs, then 96 px. Training stops at a deadline
# (BUDGET seconds); rerun on the same machine to resume (finished runs are skipped).
# Writes $OUT/gpu_scale.tar.gz (unpack into results/quick-gpu on a CPU machine) and
# $OUT/scale_regularisation_<gpu>.csv (the gap per cell with the verdict's interval).
# Usage: OUT=/tmp/x scripts/gpu_scale_regularisation.sh   (needs data/fashion-mnist/*.gz)
set -uo pipefail
cd "$(dirname "$0")/.."
export OUT=${OUT:-/tmp/gpu_scale_out}
export FOLDER=${FOLDER:-/tmp/quick-gpu}
export BUDGET=${BUDGET:-480}
export GRIDS=${GRIDS:-"width=1 x resolution=64 x regularisation=off,paper x epochs=6,24|width=1 x resolution=96 x regularisation=off,paper"}
scripts/gpu_scale.sh
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 | tr 'A-Z ' 'a-z_' | tr -cd 'a-z0-9_')
python3 - "$FOLDER" "$OUT/scale_regularisation_${gpu:-cpu}.csv" <<'PY'
import sys
from ablations.analysis.scale import cell_table
from ablations.run.store import Store, load
folder, path = sys.argv[1:]
table = cell_table(load(folder), "resnet50-to-convnext-t", Store(folder))
table.round(3).to_csv(path, index=False)
print(table.round(2).to_string(index=False))
PY
ls -la "$OUT"
