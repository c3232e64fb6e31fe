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
# # 01 · The design space
#
# Every step of *A ConvNet for the 2020s* is one field of one frozen dataclass, `models.Design`. A network is a function of a design. This notebook builds every step of the ResNet-50 → ConvNeXt-T roadmap, counts it, draws it, and shows where the FLOPs go.

# %%
# %matplotlib inline

# %%
from models import Design, build, costs, named_design
from models.roadmap import DEFAULT_CHAIN, chain, find_step
steps = chain(DEFAULT_CHAIN, branches=True)
step = lambda name: find_step(DEFAULT_CHAIN, name)  # steps by name, never by position
named_design('resnet50')

# %% [markdown]
# ## Every step, counted
# `gflops` follows the paper: multiply-adds of conv and linear layers (one MAC = one FLOP), at 224×224 and 1000 classes, counted on the meta device (no memory, no arithmetic).

# %%
import pandas as pd
rows = []
for s in steps:
    c = costs(s.design, with_fvcore=False)
    rows.append({'step': s.index, 'name': s.name, 'changes': '+'.join(s.changes),
                 'params_M': round(c.params_m, 2), 'GFLOPs': round(c.gflops, 3),
                 'paper GFLOPs': s.paper_gflops})
table = pd.DataFrame(rows)
table

# %% [markdown]
# Where our count and the paper's Table 10 differ by more than its printed precision (0.005 GFLOPs), and the step's note on why:

# %%
off = table[(table['GFLOPs'] - table['paper GFLOPs']).abs() > 0.005]
for _, row in off.iterrows():
    print(f"{row['name']}: ours {row['GFLOPs']}, printed {row['paper GFLOPs']}. "
          f"{step(row['name']).note}")
print(f"{len(table.dropna(subset=['paper GFLOPs'])) - len(off)} of "
      f"{len(table.dropna(subset=['paper GFLOPs']))} printed counts match.")

# %% [markdown]
# ## What a step changes
# The block of stage 2 (its first block shows how a stage downsamples), before and after a step; outlined boxes changed.

# %%
import matplotlib.pyplot as plt
from ablations.figures.diagram import draw_design
from models.roadmap import parent_step
for name in ('inverted-bottleneck', 'kernel-7', 'separate-downsampling'):
    after = step(name)
    before = parent_step(DEFAULT_CHAIN, after)
    fig, axes = plt.subplots(1, 2, figsize=(10, 7))
    draw_design(axes[0], before.design, before.title)
    draw_design(axes[1], after.design, after.title)
    plt.show()

# %% [markdown]
# ## Where the FLOPs go
# Per stage and stem/head, for the two ends of the roadmap and the patchify stem between them.

# %%
from models import gflops_by_part
ends = ['modern-recipe', 'patchify-stem', chain(DEFAULT_CHAIN)[-1].name]
parts = pd.DataFrame({name: gflops_by_part(step(name).design) for name in ends})
parts.round(3)

# %%
ax = parts.T.plot.bar(stacked=True, figsize=(8, 4), ylabel='GFLOPs', colormap='tab10')
ax.legend(title='part', fontsize=8, bbox_to_anchor=(1.01, 1), loc='upper left')
plt.xticks(rotation=0); plt.tight_layout(); plt.show()

# %% [markdown]
# The head (global pool and the 1000-way classifier) is in the table but too thin to see in the bars. The stage ratio moves compute into stage 3; the depthwise conv removes most of the 3×3 convs' cost, and the width 96 spends it again on 1×1 convs.

# %% [markdown]
# ## One toggle at a time
# The kernel size of the moved-up depthwise conv: parameters and FLOPs grow slowly because the conv is depthwise.

# %%
base = step('move-up-dwconv').design
sweep = pd.DataFrame([{'kernel': k, 'params_M': round(c.params_m, 3), 'GFLOPs': round(c.gflops, 3)}
                      for k in (3, 5, 7, 9, 11)
                      for c in [costs(base.replace(kernel_size=k), with_fvcore=False)]])
sweep

# %% [markdown]
# A bad value is refused with the field's name and what is allowed:

# %%
try:
    base.replace(kernel_size=6)
except ValueError as e:
    print(e)
