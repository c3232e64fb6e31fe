#!/usr/bin/env bash
# The GPU half of results/scaling: counted GFLOPs and activations, real CUDA peak memory and
# batch-1 latency of ResNet-50, ConvNeXt-T, Swin-T and ViT-B/16 from 224 to 2240 px
# (multiples of 224). Run on a machine with one GPU; writes into ${OUT:-results/scaling}.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/scaling}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
python3 -m ablations cost-vs-resolution --device cuda --repeats 20 --out "$OUT" \
    --resolutions 224,448,672,896,1120,1344,1792,2240 "$@"
