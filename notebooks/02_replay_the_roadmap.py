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
# # 02 · Replay the roadmap
#
# The committed quick replay (`results/quick`, real Fashion-MNIST) next to the paper's ImageNet numbers, with a paired interval and a verdict for every step, then a couple of steps re-run live.

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
from ablations.train.recipe import run_preset
from ablations.analysis.summary import summary_table
from ablations.run.store import Store, load
from models.roadmap import DEFAULT_CHAIN
RESULTS = ROOT / 'results' / 'quick'
df = load(RESULTS)
replay = df[(df.study == DEFAULT_CHAIN) & (df.preset == 'quick')]  # the chain alone, not the other studies
quick = run_preset('quick')
print(f"preset quick: {quick.dataset}, {quick.resolution} px, widths x {quick.width_multiplier}, "
      f"{quick.epochs} epochs; seeds per step: {sorted(replay.groupby('step_name').seed.nunique().unique())}")
summary = summary_table(replay)
summary[['step', 'step_name', 'seeds', 'top1_mean', 'top1_std', 'gflops', 'paper_top1']]

# %% [markdown]
# ## The figure, paper style

# %%
from IPython.display import Image, display
display(Image(filename=str(RESULTS / 'roadmap.png')))

# %%
display(Image(filename=str(RESULTS / 'accuracy_vs_gflops.png')))

# %% [markdown]
# ## Which steps are real, and where we agree with the paper
# Each step against the one before it on the same seeds: the mean difference with the verdict's interval (the paired-t interval at level 1 - 0.05/m, m the study's comparisons: a verdict is gain or loss exactly when it excludes 0), the verdict, and the paper's own step gain, paired by design (its last row beside our ConvNeXt-T). Then the rank correlation of our gains with the paper's, with its interval (the same numbers as `python -m ablations stats`).

# %%
from ablations.analysis import stats
from ablations.analysis.agreement import format_agreement, paper_agreement
steps = stats.study_stats(df, DEFAULT_CHAIN, 'quick', Store(RESULTS))
print(format_agreement(paper_agreement(df, DEFAULT_CHAIN, 'quick')))
steps[['step', 'step_name', 'seeds', 'delta', 'lo', 'hi', 'verdict', 'paper_delta']].round(2)

# %% [markdown]
# ## Re-run two steps live
# The same runner and store as the command line, at the `lab` preset (real Fashion-MNIST, 10k
# training images, 4 epochs) with 3 paired seeds, so that the cell ends with a verdict and its
# interval, not two single numbers (about a minute on 2 cores; set `BIG` for the quick preset).
# Without the Fashion-MNIST files on this machine it falls back to synthetic data.

# %% tags=["live"]
import tempfile
from ablations.run import ExecuteOptions, plan, run
from ablations.data import load as load_images
from models.roadmap import find_step
try:
    load_images('fashion-mnist', 'test'); dataset = 'fashion-mnist'
except Exception:
    dataset = 'synthetic'
p = (quick if BIG else run_preset('lab')).replace(dataset=dataset,
                                                 channels=3 if dataset != 'synthetic' else 1)
SEEDS = [0, 1, 2]
if SMOKE:
    p, SEEDS = p.replace(train_subset=256, epochs=1), [0, 1]
live_steps = [find_step(DEFAULT_CHAIN, n) for n in ('bn-to-ln', 'separate-downsampling')]
out = tempfile.mkdtemp()
live = run(plan(DEFAULT_CHAIN, live_steps, p, SEEDS), ExecuteOptions(out, progress=False, threads=1),
           'workers', 2)
t = stats.study_stats(load(out), DEFAULT_CHAIN, p.name, Store(out)).iloc[0]
print(f"{t.treatment} - {t.control} at preset {p.name} on {dataset}: {t.delta:+.2f} points, "
      f"the verdict's interval [{t.lo:+.2f}, {t.hi:+.2f}] over {t.seeds} paired seeds -> {t.verdict}")
