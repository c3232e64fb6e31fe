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
# Order matters? One-at-a-time (each change alone on ResNet-50) against the chain, a custom chain in YAML, a sweep, and a comparison plot. Live runs here use the `lab` preset (real Fashion-MNIST, 10k images, 4 epochs) with 3 paired seeds, and every result is printed as a paired difference with the verdict's interval (gain or loss exactly when it excludes 0) and the verdict; the committed quick runs are made with `python -m ablations run --study one-at-a-time --preset quick`, and `results/quick/order_effects_resnet50-to-convnext-t.png` shows each change in the chain, alone and removed.

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
from ablations.studies import steps
from ablations.run import ExecuteOptions, plan, run
from ablations.train.recipe import run_preset
from ablations.run.store import load
from ablations.studies import study_id
from models.roadmap import DEFAULT_CHAIN, find_step
pd.DataFrame(steps.as_step_list(steps.one_at_a_time()))

# %%
pd.DataFrame(steps.as_step_list(steps.leave_one_out()))

# %% [markdown]
# ## Run a few of them (lab preset, 3 paired seeds)
# Each change alone on the modern-recipe ResNet-50, against it: the verdict needs paired seeds
# (seed s of both designs sees the same data order), never a single run of each.

# %% tags=["live"]
from ablations.analysis import stats
from ablations.data import load as load_images
from ablations.run.store import Store
try:
    load_images('fashion-mnist', 'test'); dataset = 'fashion-mnist'
except Exception:  # no Fashion-MNIST files here and no internet: generated images
    dataset = 'synthetic'
p = run_preset('lab').replace(dataset=dataset, channels=3 if dataset != 'synthetic' else 1)
SEEDS = [0, 1, 2]
if SMOKE:
    p, SEEDS = p.replace(train_subset=256, epochs=1), [0, 1]
out = tempfile.mkdtemp()
opts = ExecuteOptions(out, progress=False, threads=1)


def verdicts(study):
    """Each comparison of ``study`` in ``out``: delta [the verdict's interval] and verdict."""
    t = stats.study_stats(load(out), study, p.name, Store(out))
    return pd.DataFrame({'comparison': t.treatment + ' - ' + t.control, 'seeds': t.seeds,
                         'delta [interval]': [f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                                            for d, lo, hi in zip(t.delta, t.lo, t.hi)],
                         'verdict': t.verdict})


names = ['modern-recipe', 'only-bn-to-ln', 'only-separate-downsampling']
alone = [s for s in steps.one_at_a_time() if s.name in names]
run(plan(study_id('one-at-a-time', DEFAULT_CHAIN), alone, p, SEEDS), opts, 'workers', 2)
verdicts(study_id('one-at-a-time', DEFAULT_CHAIN))

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
custom = steps.load_custom_chain(f)
run(plan(custom[0].source, custom, p, SEEDS), opts, 'workers', 2)
print(verdicts(custom[0].source).to_string(index=False))
f.write_text(yaml_text.replace('activation: gelu', 'activaton: gelu'))
try:
    steps.load_custom_chain(f)
except ValueError as e:
    print(e)

# %% [markdown]
# ## A sweep
# Kernel sizes of ConvNeXt-T's depthwise conv, each against 3x3 on the same seeds.

# %% tags=["live"]
sw = steps.sweep('kernel_size', [3, 7])
run(plan(sw[0].source, sw, p, SEEDS), opts, 'workers', 2)  # 'sweep:kernel_size@convnext_tiny'
from ablations.figures.studies import study_figures
from IPython.display import Image, display
for path in study_figures(load(out), out):
    if path.suffix == '.png':
        display(Image(filename=str(path)))
verdicts(sw[0].source)
