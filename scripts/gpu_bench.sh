#!/usr/bin/env bash
# The GPU benchmark of issue #5, as run on a lent H100: step 0 and the last step of the
# main chain next to torchvision's resnet50 and timm's convnext_tiny, eager and compiled,
# TF32 and bf16, infer and train, channels_last; then the whole chain, eager bf16 infer.
# Each setting is merged into $OUT/bench_<tag>.csv as soon as it is done, so a run cut
# short keeps what it finished. Usage: OUT=results scripts/gpu_bench.sh [tag]
set -uo pipefail
tag=${1:-h100}
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, torchvision, timm; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'timm', timm.__version__)"
B="python3 -m ablations bench --device cuda --out $OUT --tag $tag --windows 5 --min-window-s 0.3 --no-plot"
$B --mode infer --batch-size 256 --dtype bfloat16 --no-memory
$B --steps modern-recipe,separate-downsampling --mode infer --batch-size 256 --dtype float32,bfloat16 --plain-convs
$B --steps modern-recipe,separate-downsampling --mode train --batch-size 128 --dtype float32,bfloat16 --plain-convs
$B --steps modern-recipe,separate-downsampling --mode infer --batch-size 256 --dtype bfloat16 --compile --no-memory
$B --steps modern-recipe,separate-downsampling --mode train --batch-size 128 --dtype bfloat16 --compile --no-memory
$B --steps modern-recipe,separate-downsampling --mode infer --batch-size 256 --dtype float32 --compile --no-memory
$B --steps modern-recipe,separate-downsampling --mode train --batch-size 128 --dtype float32 --compile --no-memory
