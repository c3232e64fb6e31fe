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
# # 06 · Lesson: from ResNet-50 to ConvNeXt-T, one change at a time (90 minutes)
#
# *A ConvNet for the 2020s* (Liu et al., 2022) starts from a ResNet-50 and changes one design
# decision at a time until it reaches ConvNeXt-T, measuring ImageNet accuracy at each step.
# In this lab you replay a shortened version of that walk on real Fashion-MNIST, on a laptop.
#
# **The one rule of this lesson.** An accuracy difference between two models is a
# *measurement*: train each model with several seeds (seed *s* of both models sees the same
# data order), take the per-seed differences, and report their mean **with its 95% interval**.
# If the interval contains 0, the difference is *within noise*, however large the mean looks.
# Every result printed below follows this rule; none is a single-seed difference.
#
# Plan (about 90 minutes):
# 1. 10 min: the design space, and start the lab's training (it runs while you read on).
# 2. 45 min: the five phases of the roadmap. For each: why the paper tried it, your prediction,
#    then the measured verdict.
# 3. 25 min: exercises (solutions are hidden; click a cell's left bar to reveal one).
# 4. 10 min: your class's numbers beside the committed replay and the paper's.

# %%
import os
from pathlib import Path
import torch
torch.set_num_threads(2)  # the lab trains small models on the CPU: more threads add little
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
# %matplotlib inline

# %%
# Parameters: SMOKE=1 (the test suite) makes the lab tiny (seconds); the real lab preset is the
# default (about 10 minutes on 2 cores: the measured minutes are in results/README.md).
SMOKE = os.environ.get("NOTEBOOK_SMOKE") == "1"

# %% [markdown]
# ## 1. The design space
# Every step of the roadmap is one field of one frozen dataclass. Here are the steps this
# lab trains (the `lab` preset's lesson set) and their costs at the paper's 224 px.

# %%
import pandas as pd
pd.set_option("display.width", 200)
from models import costs
from models.roadmap import DEFAULT_CHAIN, find_step
from ablations.train.recipe import run_preset
lab = run_preset("lab")
lesson = [find_step(DEFAULT_CHAIN, name) for name in lab.steps]
pd.DataFrame([{"step": s.index, "name": s.name, "what changes": s.title, "phase": s.phase,
               "GFLOPs (224 px)": round(costs(s.design, with_fvcore=False).gflops, 2),
               "paper top-1": s.paper_top1} for s in lesson])

# %% [markdown]
# **Predict first.** Which of these steps do you expect to *lose* accuracy on a small,
# grey 32-pixel data set trained for 4 epochs? Write down your guess for each phase before
# running the next cell.

# %% [markdown]
# ### Start the lab's training
# 8 steps x 3 paired seeds. The cell prints one line per finished run; read on while it
# trains. (The same command from a terminal: `python -m ablations run --preset lab --seeds 3
# --jobs 2 --out runs/lab`.)

# %% tags=["live"]
import tempfile
from ablations.run import ExecuteOptions, plan, run
from ablations.data import load as load_images
try:
    load_images("fashion-mnist", "test")
    dataset = "fashion-mnist"
except Exception:  # no Fashion-MNIST files on this machine and no internet
    dataset = "synthetic"
preset = lab.replace(dataset=dataset, channels=3 if dataset != "synthetic" else 1)
SEEDS = [0, 1, 2]
if SMOKE:
    preset = preset.replace(train_subset=256, epochs=1)
    SEEDS = [0, 1]
# A results folder that already holds these runs is reused (LESSON_OUT, e.g. the committed
# results/lab): nothing is trained twice. By default the class trains its own, in a new folder.
OUT = os.environ.get("LESSON_OUT") if not SMOKE else None
OUT = OUT or tempfile.mkdtemp(prefix="lab-")
rows = run(plan(DEFAULT_CHAIN, lesson, preset, SEEDS), ExecuteOptions(OUT, progress=False))
print(f"{len(rows)} runs on {dataset}; mean top-1 per step:")
rows.groupby("step_name", sort=False).top1.mean().round(2)

# %% [markdown]
# The helper below prints a comparison the way this lesson reads it: the mean paired
# difference, its 95% interval and the verdict (`gain` / `loss` when seed noise and test-set
# noise are both ruled out, Holm-corrected over the lab's comparisons; else `within noise`).

# %% tags=["live"]
from ablations.analysis import stats
from ablations.run.store import Store, load


def verdicts(folder, preset_name):
    """The lab's comparisons: each lesson step against the one before it."""
    return stats.study_stats(load(folder), DEFAULT_CHAIN, preset_name, Store(folder))


def say(table, step):
    """One comparison as a sentence: delta [95% interval] verdict."""
    r = table[table.step_name == step].iloc[0]
    print(f"{r.treatment} vs {r.control}: {r.delta:+.2f} points, 95% interval "
          f"[{r.t_lo:+.2f}, {r.t_hi:+.2f}] over {r.seeds} paired seeds -> {r.verdict}")


ours = verdicts(OUT, preset.name)

# %% [markdown]
# ## 2. The five phases
#
# ### Training recipe
# *Why.* Before touching the architecture, the paper trains ResNet-50 the way Transformers are
# trained (AdamW, a long cosine schedule, label smoothing, heavy augmentation). The recipe alone
# moved ResNet-50 from 76.1% to 78.8% on ImageNet: a fair baseline must share the recipe.
#
# **Predict first:** does the modern recipe help at 4 epochs on Fashion-MNIST?

# %% tags=["live"]
say(ours, "modern-recipe")

# %% [markdown]
# ### Macro design: stage ratio and the patchify stem
# *Why.* Swin-T spends its compute 1:1:3:1 over its four stages, ResNet-50 3:4:6:3; and a
# Transformer cuts the image into non-overlapping patches instead of a 7x7 convolution and a
# max-pool. The lab's `patchify-stem` step holds both changes (stage ratio first).
#
# **Predict first:** gain, loss or within noise?

# %% tags=["live"]
say(ours, "patchify-stem")

# %% [markdown]
# ### ResNeXt-ify: depthwise convolution, then width 96
# *Why.* A depthwise convolution mixes pixels within each channel only, as self-attention mixes
# positions per head; it cuts the FLOPs to about half, and widening the network to 96 channels
# spends them again. The lab's `width-96` step holds both.
#
# **Predict first:** the two together, against the patchify step?

# %% tags=["live"]
say(ours, "width-96")

# %% [markdown]
# ### Inverted bottleneck
# *Why.* A Transformer's MLP is four times wider inside than outside; ResNet's bottleneck is the
# opposite. Swapping the roles of the two widths is the "inverted bottleneck".
#
# **Predict first:** at this small scale?

# %% tags=["live"]
say(ours, "inverted-bottleneck")

# %% [markdown]
# ### Large kernel and micro design (up to LayerNorm)
# *Why.* Swin attends within 7x7 windows: the paper moves the depthwise conv to the top of the
# block and grows its kernel to 7x7, then copies the Transformer's small habits: GELU instead of
# ReLU, one activation and one norm per block, and LayerNorm instead of BatchNorm. The lab's
# `bn-to-ln` step holds all six changes.
#
# **Predict first:** six changes at once: what happens?

# %% tags=["live"]
say(ours, "bn-to-ln")

# %% [markdown]
# ### Separate downsampling, and ConvNeXt-T
# *Why.* ResNet downsamples inside its blocks; Swin has separate patch-merging layers. The paper
# adds separate 2x2 stride-2 convolutions with a LayerNorm before each, the step that made the
# biggest micro-design gain (+0.5 on ImageNet). ConvNeXt-T then adds layer scale and the
# truncated-normal init of its official code.
#
# **Predict first:** which of the two last comparisons is a gain?

# %% tags=["live"]
say(ours, "separate-downsampling")
say(ours, "trunc-normal-init")

# %% [markdown]
# ## 3. Exercises
#
# **Exercise 1: change a toggle.** Take ConvNeXt-T (`find_step(DEFAULT_CHAIN,
# "trunc-normal-init").design`) and set its kernel size to 11. How many GFLOPs does it cost at
# 224 px, against 7x7? Predict first: more or less than 10% more?

# %% tags=["solution"] jupyter={"source_hidden": true}
# Solution
t = find_step(DEFAULT_CHAIN, "trunc-normal-init").design
for k in (7, 11):
    print(f"kernel {k}: {costs(t.replace(kernel_size=k), with_fvcore=False).gflops:.3f} GFLOPs")
# The depthwise conv is a small share of the FLOPs: 11x11 costs only a few percent more.

# %% [markdown]
# **Exercise 2: build your own chain.** The paper's order is one of many. Write a chain that
# applies the inverted bottleneck *before* the depthwise conv, as a list of
# `previous.replace(field=value)` steps from the modern-recipe ResNet-50, and print each step's
# GFLOPs. (Training it: `python -m ablations run --study custom --custom my_chain.yaml
# --preset lab`.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Solution
r = find_step(DEFAULT_CHAIN, "modern-recipe").design
mine = [("ResNet-50", r)]
mine.append(("inverted bottleneck first", mine[-1][1].replace(block="inverted")))
mine.append(("then depthwise conv", mine[-1][1].replace(groups="depthwise")))
for name, d in mine:
    print(f"{name:28s} {costs(d, with_fvcore=False).gflops:6.2f} GFLOPs")
# The inverted bottleneck on a dense 3x3 conv is expensive: the order decides what each change costs.

# %% [markdown]
# **Exercise 3: read a verdict.** A comparison printed `+0.62 points, 95% interval [-0.41,
# +1.65] over 3 paired seeds -> within noise`. A classmate says "it helps by 0.6 points". What
# do you answer, and what would you do to know more?

# %% tags=["solution"] jupyter={"source_hidden": true}
# Solution
print("The interval contains 0: the data are compatible with a loss of 0.4 and a gain of 1.7. "
      "It is not a gain yet. More paired seeds narrow the interval (about 1/sqrt(n)); a larger "
      "scale (more images, epochs) may change the effect itself.")

# %% [markdown]
# ## 4. Your class's numbers beside the committed replay and the paper
# The committed `results/quick` replay trains every step on all 60k images for 6 epochs, 5
# seeds; the paper is ImageNet-1K, 300 epochs. Each row: the comparison's interval here, there,
# and the paper's step gain (the paper's lab-step gains add up its steps in between).

# %%
from ablations.analysis import stats
from ablations.run.store import load
committed = load(ROOT / "results" / "quick")
chain_rows = committed[(committed.study == DEFAULT_CHAIN) & (committed.preset == "quick")]
per_seed = {n: g.set_index("seed").top1 for n, g in chain_rows.groupby("step_name")}
names = [s.name for s in lesson]
quick_rows = []
for control, treatment in zip(names, names[1:]):
    q = stats.compare(per_seed[treatment], per_seed[control])  # paired over its seeds
    quick_rows.append({"comparison": f"{treatment} - {control}",
                       "quick replay: delta [95% CI]":
                           f"{q['delta']:+.2f} [{q['t_lo']:+.2f}, {q['t_hi']:+.2f}]",
                       "seeds": q["seeds"]})
quick_table = pd.DataFrame(quick_rows)
quick_table

# %% tags=["live"]
paper = {s.name: s.paper_top1 for s in lesson}
side = quick_table.set_index("comparison")
lines = []
for r in ours.itertuples():
    key = f"{r.treatment} - {r.control}"
    pt, pc = paper.get(r.treatment), paper.get(r.control)
    lines.append({"comparison": key,
                  "this class: delta [95% CI]": f"{r.delta:+.2f} [{r.t_lo:+.2f}, {r.t_hi:+.2f}]",
                  "verdict": r.verdict,
                  "quick replay: delta [95% CI]": side.loc[key, "quick replay: delta [95% CI]"],
                  "paper (ImageNet top-1)": f"{pt:.2f} vs {pc:.2f}" if pt and pc else ""})
pd.DataFrame(lines)

# %% tags=["live"]
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(9, 4))
labels = [f"{r.treatment} - {r.control}" for r in ours.itertuples()]
for k, r in enumerate(ours.itertuples()):
    y = len(labels) - 1 - k
    ax.plot([r.t_lo, r.t_hi], [y + 0.15] * 2, color="#c44e52", lw=2.5)
    ax.plot([r.delta], [y + 0.15], "o", color="#c44e52")
    q = stats.compare(per_seed[r.treatment], per_seed[r.control])
    ax.plot([q["t_lo"], q["t_hi"]], [y - 0.15] * 2, color="#4c72b0", lw=2.5)
    ax.plot([q["delta"]], [y - 0.15], "o", color="#4c72b0")
ax.axvline(0, color="black", lw=0.8)
ax.set_yticks(range(len(labels)))
ax.set_yticklabels(labels[::-1], fontsize=8)
ax.set_xlabel("top-1 difference (points), mean and 95% paired interval")
ax.plot([], [], color="#c44e52", lw=2.5, label="this class (lab preset)")
ax.plot([], [], color="#4c72b0", lw=2.5, label="committed quick replay")
ax.legend(fontsize=8, loc="lower right")
ax.set_title("Each comparison with its interval: an interval across 0 is within noise",
             fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The quick replay's intervals here span the same steps as the lab's comparisons (paired over
# its 5 seeds; its per-step verdicts are in `results/README.md`). The paper prints a mean and a
# standard deviation per step (Table 10: 0.02-0.18 points), not paired differences: its
# column gives the two printed means.
