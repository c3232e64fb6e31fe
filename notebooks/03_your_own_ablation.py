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
# # 03 · Your own ablation
#
# Order matters? One-at-a-time (each change alone on ResNet-50) against the chain, a custom chain in YAML, a sweep, and a comparison plot. Live runs here use the `smoke` preset (synthetic data, seconds); the committed quick runs are made with `python -m ablations run --study one-at-a-time --preset quick`, and `results/quick/order_effects_resnet50-to-convnext-t.png` shows each change in the chain, alone and removed.

# %%
import os
import torch
torch.set_num_threads(2)  # the live cells train small models on the CPU: more threads add little
# %matplotlib inline

# %%
# Parameters: SMOKE=1 (the test suite) makes every live run tiny; BIG=1 makes them bigger.
SMOKE = os.environ.get("NOTEBOOK_SMOKE") == "1"
BIG = os.environ.get("NOTEBOOK_BIG") == "1"

# %%
import tempfile
import pandas as pd
from ablations.studies import designs
from ablations.run import ExecuteOptions, plan, run
from ablations.train.recipe import run_preset
from ablations.run.store import load
from ablations.studies import study_id
from models.roadmap import DEFAULT_CHAIN, find_step
pd.DataFrame(designs.as_step_list(designs.one_at_a_time()))

# %%
pd.DataFrame(designs.as_step_list(designs.leave_one_out()))

# %% [markdown]
# ## Run a few of them (smoke scale)

# %% tags=["live"]
out = tempfile.mkdtemp()
p = run_preset('smoke').replace(epochs=1 if SMOKE else 3)
names = ['modern-recipe', 'only-gelu', 'only-bn-to-ln', 'only-inverted-bottleneck']
alone = [s for s in designs.one_at_a_time() if s.name in names]
run(plan(study_id('one-at-a-time', DEFAULT_CHAIN), alone, p, [0]), ExecuteOptions(out, progress=False))
first_steps = [find_step(DEFAULT_CHAIN, n) for n in ('modern-recipe', 'stage-ratio', 'patchify-stem')]
run(plan(DEFAULT_CHAIN, first_steps, p, [0]), ExecuteOptions(out, progress=False))
load(out)[['study', 'step_name', 'top1']]

# %% [markdown]
# ## A custom chain
# Changes in any order, from a small YAML file (loaded safely). An unknown toggle is refused with its name.

# %% tags=["live"]
from pathlib import Path
yaml_text = '''name: micro-first
start: resnet50
steps:
  - {name: gelu, changes: {activation: gelu}}
  - {name: one-act, changes: {activation_count: one}}
  - {name: ln, changes: {norm: layer}}
'''
f = Path(out) / 'micro_first.yaml'; f.write_text(yaml_text)
custom = designs.load_custom_chain(f)
run(plan(custom[0].source, custom, p, [0]), ExecuteOptions(out, progress=False))
f.write_text(yaml_text.replace('activation: gelu', 'activaton: gelu'))
try:
    designs.load_custom_chain(f)
except ValueError as e:
    print(e)

# %% [markdown]
# ## A sweep

# %% tags=["live"]
sw = designs.sweep('kernel_size', [3, 7, 11] if SMOKE else [3, 5, 7, 9, 11])
run(plan(sw[0].source, sw, p, [0]), ExecuteOptions(out, progress=False))  # 'sweep:kernel_size@convnext_tiny'
from ablations.figures.studies import study_figures
from IPython.display import Image, display
for path in study_figures(load(out), out):
    if path.suffix == '.png':
        display(Image(filename=str(path)))

# %% [markdown]
# ## Compare result sets
# Two recipes on the same steps, overlaid with the paper.

# %% tags=["live"]
from ablations.figures.compare import compare_results
out2 = tempfile.mkdtemp()
run(plan(DEFAULT_CHAIN, first_steps, p, [0], {'lr': 1e-3}), ExecuteOptions(out2, progress=False))
table, agreement, paths = compare_results({'lr 2e-3': out, 'lr 1e-3': out2}, DEFAULT_CHAIN, Path(out) / 'cmp.png')
display(Image(filename=str(paths[0])))
table.dropna(subset=['lr 2e-3_top1']).round(2)
