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
# # 04 · ConvNeXt V2 and Global Response Normalization
#
# ConvNeXt V2 adds GRN after the GELU of each block: per channel, the L2 norm over space, divided by the mean of those norms over channels; `out = x + γ·(x·N(x)) + β`. It was introduced against *feature collapse*: many dead or redundant channels in the wide hidden layer.

# %%
import os
from pathlib import Path
import torch
torch.set_num_threads(2)  # the live cells train small models on the CPU: more threads add little
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()  # results/ is read from it
# %matplotlib inline

# %%
# Parameters: SMOKE=1 (the test suite) makes every live run tiny; BIG=1 makes them bigger.
SMOKE = os.environ.get("NOTEBOOK_SMOKE") == "1"
BIG = os.environ.get("NOTEBOOK_BIG") == "1"

# %%
import pandas as pd
from models import CONVNETS, costs, named_design, build
from models.named import PUBLISHED
names = [n for n in CONVNETS if n.startswith('convnextv2')]
rows = []
for n in names:
    c = costs(named_design(n), with_fvcore=False)
    rows.append({'model': n, 'params_M': round(c.params_m, 2), 'GFLOPs (MACs)': round(c.gflops, 2),
                 'published params_M': PUBLISHED[n][0], 'published GFLOPs': PUBLISHED[n][1]})
pd.DataFrame(rows)

# %% [markdown]
# ## What GRN does to channel statistics
# Train two small ConvNeXts (V1: layer scale, no GRN; V2: GRN, no layer scale) for a few steps on synthetic data, then measure each block's hidden (4C) features after GELU (and GRN) with the same function `python -m ablations collapse` uses: the *feature cosine distance* between channels (low = redundant) and the share of near-dead channels.

# %% tags=["live"]
import torch.nn.functional as F
from ablations.analysis.collapse import block_feature_stats
from ablations.data import make_synthetic
data = make_synthetic('train', n=256, size=32, channels=3, num_classes=4)
x = data.images.float() / 255
y = data.labels
base = named_design('convnext_tiny').replace(widths=(16, 32, 64, 128), drop_path=0.0)
results = {}
for name, d in {'V1 (layer scale)': base, 'V2 (GRN)': base.replace(grn=True, layer_scale=0.0)}.items():
    torch.manual_seed(0)
    m = build(d, num_classes=4, in_chans=3)
    opt = torch.optim.AdamW(m.parameters(), 2e-3)
    for it in range(10 if SMOKE else 60):
        i = torch.randint(0, len(x), (32,))
        loss = F.cross_entropy(m(x[i]), y[i]); opt.zero_grad(); loss.backward(); opt.step()
    m.eval()
    per_block = block_feature_stats(m, x[:64])
    results[name] = per_block[['cosine_distance', 'dead_share']].mean()
pd.DataFrame(results).T.round(3)

# %% [markdown]
# These numbers come from a toy problem after a short training: they show how to measure collapse, not the paper's result (which needs FCMAE pre-training at scale). Change the widths, steps or data above and watch the two statistics.
#
# ## Feature collapse in trained quick models
# The V2 paper's picture (its Figure 4): the *feature cosine distance* of each block's hidden (4×) activations, 1/C² Σᵢⱼ (1 − cos(Xᵢ, Xⱼ))/2 over the channel maps Xᵢ of a test image, averaged over images; low = redundant channels. Measured on the committed quick runs (Fashion-MNIST) of ConvNeXt-T (V1: layer scale) and of the same network with the V2 block (GRN, no layer scale), by `python -m ablations collapse --results results/quick` from their checkpoints (`results/quick/collapse.csv`).

# %%
import tempfile
from IPython.display import Image, display
from ablations.figures.collapse import collapse_figure
collapse = pd.read_csv(ROOT / 'results' / 'quick' / 'collapse.csv')
paths = collapse_figure(collapse, Path(tempfile.mkdtemp()) / 'collapse')
display(Image(filename=str(paths[0])))
collapse.groupby(['model', 'seed'])[['cosine_distance', 'dead_share']].mean().round(4)

# %% [markdown]
# Per stage, over the seeds both models have (the blocks of a stage from ConvNeXt-T's depths):

# %%
import numpy as np
depths = named_design('convnext_tiny').depths
collapse['stage'] = np.searchsorted(np.cumsum(depths), collapse.block, side='left') + 1
models = list(collapse.model.unique())
common = sorted(set.intersection(*(set(collapse[collapse.model == m].seed) for m in models)))
paired = collapse[collapse.seed.isin(common)]
per_stage = paired.pivot_table(index='stage', columns='model', values=['cosine_distance', 'dead_share'])
print(f"seeds of each model: {collapse.groupby('model').seed.nunique().to_dict()}; compared on seeds {common}")
per_model = paired.groupby(['model', 'seed']).cosine_distance.mean().unstack(0)[models]
print('V2 - V1 mean cosine distance, per seed:', (per_model[models[1]] - per_model[models[0]]).round(4).tolist())
per_stage.round(3)

# %% [markdown]
# The paper's collapse appears after FCMAE pre-training of large models; a short supervised run of a ÷8 model is not that setting. The measure is the point: run `python -m ablations collapse` on your own runs.
#
# ## GRN alone
# GRN's normalisation gives each channel its share of the total energy; with γ = β = 0 (its initial value) it is the identity.

# %%
from models.blocks import GlobalResponseNorm
g = GlobalResponseNorm(8)
torch.manual_seed(0)
t = torch.randn(2, 8, 5, 5) * torch.linspace(0.1, 3, 8).view(1, -1, 1, 1)
print('identity at init:', torch.equal(g(t), t))
with torch.no_grad(): g.weight.fill_(1.0)
gx = t.norm(dim=(2, 3)); nx = gx / gx.mean(1, keepdim=True)
pd.DataFrame({'channel energy': gx[0].numpy().round(2), 'N(x) (relative energy)': nx[0].numpy().round(2)})
