# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · ConvNeXt against the Transformers
#
# The paper's question: can a pure ConvNet match hierarchical Transformers? Its roadmap walks towards Swin-T's line (81.3 %, 4.5 GFLOPs). Here torchvision's own Swin and ViT (not reimplemented) sit beside ResNet-50 and ConvNeXt-T: parameters, FLOPs (attention counted), speed, how cost grows with resolution, and our quick Swin-T against our quick ConvNeXt-T.

# %%
import os
from pathlib import Path
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()  # results/ is read from it
# %matplotlib inline

# %%
# Parameters: SMOKE=1 (the test suite) makes every live run tiny; BIG=1 makes them bigger.
SMOKE = os.environ.get("NOTEBOOK_SMOKE") == "1"
BIG = os.environ.get("NOTEBOOK_BIG") == "1"

# %%
import pandas as pd
from ablations.measure.costs import model_costs
names = ['resnet50', 'convnext_tiny', 'swin_t', 'swin_s', 'swin_b', 'vit_s_16', 'vit_b_16']
model_costs(names, with_fvcore=False)[['name', 'params_m', 'gflops', 'attention_gflops',
    'published_params_m', 'published_gflops', 'source']]

# %% [markdown]
# `gflops` counts every multiply-add, the two matmuls of attention too (queries × keys, weights × values), as torchvision, timm and the Swin/DeiT papers do; `attention_gflops` is that part. A conv + linear count would miss it:

# %%
counted = model_costs(['vit_b_16'], with_fvcore=False).iloc[0]
print(f"ViT-B/16: {counted.gflops:.1f} GFLOPs with attention, "
      f"{counted.gflops - counted.attention_gflops:.1f} without")

# %% [markdown]
# ## The target line
# The paper's Figure 2 draws Swin-T across the roadmap; Table 1 sets DeiT beside it. Our roadmap figure draws both the printed Swin-T and our own Swin-T, trained by the same runner, recipe and preset as every step.

# %%
from models.roadmap import DEFAULT_CHAIN, get_chain
pd.DataFrame([vars(r) for r in get_chain(DEFAULT_CHAIN).references])

# %%
from IPython.display import Image, display
display(Image(filename=str(ROOT / 'results' / 'quick' / 'roadmap.png')))

# %% [markdown]
# ## Our quick Swin-T against our quick ConvNeXt-T
# Same data, preset, recipe and seeds (paired): the statistics of `python -m ablations stats` (the verdict's interval: paired t at level 1 - 0.05/m; McNemar on the test images as a column of its own). torchvision's Swin pads a feature map smaller than its 7×7 window (the original Swin code shrinks the window instead): at 32 px, stages 2–4 (4×4, 2×2, 1×1 tokens) attend over zero padding.

# %%
from ablations.run.store import Store, load
from ablations.analysis import stats
from ablations.analysis.summary import summary_table
from ablations.studies import study_id
df = load(ROOT / 'results' / 'quick')
study = study_id('transformers', DEFAULT_CHAIN)
part = df[df.study == study]
display(summary_table(part)[['step', 'step_name', 'seeds', 'top1_mean', 'top1_std', 'gflops', 'paper_top1']])
table = stats.study_stats(df, study, 'quick', Store(ROOT / 'results' / 'quick'))
table[['treatment', 'control', 'seeds', 'delta', 'lo', 'hi', 'p_mcnemar', 'p_adj', 'verdict', 'paper_delta']].round(4)

# %% [markdown]
# ## Speed
# Inference throughput on one H200 (batch 64, 224 px), measured by `python -m ablations bench` (`results/bench_h200_transformers.csv`). The paper's V100 numbers for comparison: ConvNeXt-T 774.7, Swin-T 757.9, DeiT-S 978.5, DeiT-B 302.1 img/s.

# %%
bench = pd.read_csv(ROOT / 'results' / 'bench_h200_transformers.csv')
bench.pivot_table(index='model', columns='dtype', values='images_per_s').round(0)

# %% [markdown]
# ## Resolution scaling
# GFLOPs (counted), peak activation memory (counted tensor by tensor on the kernels that ran) and batch-1 latency from 224 to 2240 px, fitted as cost ∝ pixels^k (`python -m ablations scaling`, `results/scaling/`).

# %%
from ablations.measure.resolution_costs import fit_exponents
from ablations.figures.resolution_costs import scaling_figure
import tempfile
scal = pd.read_csv(ROOT / 'results' / 'scaling' / 'scaling_h200.csv')
fits = fit_exponents(scal)
paths = scaling_figure(scal, fits, Path(tempfile.mkdtemp()) / 'scaling')
display(Image(filename=str(paths[0])))
fits.pivot(index='model', columns='metric', values='exponent_largest').round(2)

# %% [markdown]
# The exponent between the two largest sizes (above): ResNet-50, ConvNeXt-T and Swin-T grow linearly in pixels in FLOPs and memory; ViT-B/16's FLOPs grow faster (the attention term ∝ tokens²) while its memory stays linear, because the fused attention kernel never holds the tokens × tokens matrix.

# %% [markdown]
# ## Try it
# Count any model or step at any size (on the meta device: no memory).

# %% tags=["live"]
from ablations.measure.resolution_costs import resolve_models, scaling_table
models = resolve_models(['convnext_tiny', 'vit_s_16', 'step:move-up-dwconv'])
sizes = [224, 448] if SMOKE else [224, 448, 896, 1792]
live = scaling_table(models, sizes, [], memory=False, log=lambda *_: None)
live.pivot(index='resolution', columns='model', values='gflops').round(2)
