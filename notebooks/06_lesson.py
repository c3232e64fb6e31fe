# ---
# jupyter:
#   jupytext:
#     formats: py:percent
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
# # 06 · Lesson: from ResNet-50 to ConvNeXt-T, one change at a time
#
# *A ConvNet for the 2020s* (Liu et al., 2022) starts from a ResNet-50 and changes one design
# decision at a time until it reaches ConvNeXt-T, measuring ImageNet accuracy at each step.
# In this lab you replay a shortened version of that walk on real Fashion-MNIST, on a laptop.
#
# **The one rule of this lesson.** An accuracy difference between two models is a
# *measurement*: train each model with several seeds (seed *s* of both models sees the same
# data order), take the per-seed differences, and report their mean **with its interval**.
# A difference is a gain or a loss only when its interval excludes 0; otherwise it is
# *within noise*, however large the mean looks. No single-seed difference is ever printed.
#
# Plan, 90 minutes (the 45-minute variant: `SHORT = True` below, 4 steps instead of 8):
# 1. 10 min: the design space; start the training (it runs while you read on).
# 2. 40 min: the phases of the roadmap. For each: why the paper tried it, **your prediction**
#    (type it in the cell below the prompt), then the measured verdict.
# 3. 15 min: ConvNeXt-T against the modern ResNet-50, and why the climb does not appear here.
# 4. 15 min: exercises.
# 5. 10 min: pool the class's seeds and watch the intervals narrow.

# %% [markdown] tags=["teacher"]
# **Teacher's key.** This copy holds the expected verdicts (computed from the committed
# `results/lab`, trained on an AMD EPYC) with the reason for each, and the exercises' solutions
# with their outputs. Students get `06_lesson_student.ipynb`: no outputs, no solutions, no
# expected verdicts. Both are generated from `notebooks/06_lesson.py` by
# `python notebooks/run_notebooks.py 06_lesson`.
#
# *When a class's CPU gives another verdict.* Runs repeat bit for bit only on the same CPU
# model, PyTorch build and thread count. On an Intel Xeon, 9 of the committed 24 top-1 values
# (AMD EPYC) came out the same; the BatchNorm steps moved by up to 1.96 points for one seed,
# and `patchify-stem` went from within noise to a loss. Say so: a verdict is a statement about
# one setup and its seeds; an effect within noise can change sign on another machine; pooling
# the class's seeds (part 5) is how to settle it. Plan B (`USE_COMMITTED = True`) shows the
# committed numbers when training is too slow.

# %%
import os
import time
from pathlib import Path

import pandas as pd

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
LAB = ROOT / "results" / "lab"  # the committed lab: plan B, and the teacher's expectations
pd.set_option("display.width", 200)
# %matplotlib inline


class LessonStop(Exception):
    """A mistake or a missing data set: shown as one error line, not a traceback."""

    def _render_traceback_(self):
        return ["error: " + " ".join(str(self).split())]  # one line


# %%
# The switches of the lesson (edit them, then run the notebook from the top):
USE_COMMITTED = False  # plan B: True reads the committed results/lab instead of training
MY_SEEDS = "0-2"       # your seeds: each student other ones ("3-5", "6-8", ...), pooled in part 5
SHORT = False          # the 45-minute variant: 4 steps instead of 8
DATA_DIR = None        # a folder holding the four Fashion-MNIST idx(.gz) files, e.g. copied
                       # from a USB stick; None: Debian's package, else one download
USE_COMMITTED = USE_COMMITTED or os.environ.get("LESSON_PLAN_B") == "1"  # the tests set it
PREDICTION = {}        # your predictions, filled in the cells below each "Predict first"

# %% [markdown]
# ## 1. The design space
# Every step of the roadmap is one field of one frozen dataclass. The lab trains 8 of the
# paper's 16 steps; each comparison below is a step against the one before it, so some
# comparisons **bundle several changes** (listed in full). Costs are at the paper's 224 px;
# the paper's top-1 is its ImageNet-1K accuracy (ours will be Fashion-MNIST: another scale).

# %%
from models import costs
from models.roadmap import DEFAULT_CHAIN, chain, find_step
from ablations.train.recipe import run_preset

lab = run_preset("lab")
SHORT_STEPS = ("resnet50-original", "modern-recipe", "inverted-bottleneck", "trunc-normal-init")
STEPS = [name for name in lab.steps if not SHORT or name in SHORT_STEPS]
lesson = [find_step(DEFAULT_CHAIN, name) for name in STEPS]


def diagram(before, after, stage=0):
    """The first block of a stage (0: the first) before and after a phase, side by side:
    absolute channel counts, what changed outlined, the stages before it named."""
    import tempfile

    from IPython.display import Image, display

    from ablations.figures.diagram import draw_step

    a, b = find_step(DEFAULT_CHAIN, before), find_step(DEFAULT_CHAIN, after)
    out = Path(tempfile.mkdtemp()) / f"{before}_to_{after}"
    display(Image(filename=str(draw_step(a.design, b.design, a.title, b.title, out, stage)[0]),
                  width=720))
order = [s.name for s in chain(DEFAULT_CHAIN)]
NAMES = {"trunc-normal-init": "ConvNeXt-T", "modern-recipe": "ResNet-50 (modern recipe)",
         "resnet50-original": "ResNet-50 (original recipe)"}


def changes(control, treatment):
    """The paper's steps between two lesson steps: what one comparison bundles."""
    between = chain(DEFAULT_CHAIN)[order.index(control) + 1:order.index(treatment) + 1]
    return "; ".join(s.title for s in between)


table = [{"step": s.index, "model": NAMES.get(s.name, s.name),
          "changes against the row above": changes(p.name, s.name) if p else "",
          "GFLOPs (224 px)": round(costs(s.design, with_fvcore=False).gflops, 2),
          "paper, ImageNet top-1": s.paper_top1}
         for p, s in zip([None] + lesson, lesson)]
with pd.option_context("display.max_colwidth", 120):
    print(pd.DataFrame(table).to_string(index=False))

# %% [markdown]
# **Predict first.** Which of these comparisons do you expect to *lose* accuracy on a small,
# grey 32-pixel data set trained for 4 epochs? Which will be within noise? Write one line.

# %% tags=["prediction"]
PREDICTION["overall"] = ""  # your guess, e.g. "only the recipe matters at 4 epochs"

# %% [markdown]
# ### Start the training
# 8 steps x 3 paired seeds, trained exactly as the command line does it (2 worker processes
# of 1 thread each; the same numbers as the terminal command for the same seeds):
# `python -m ablations run --preset lab --seeds 0-2 --jobs 2 --out runs/lab-seeds-0-2`.
# The bar shows the runs done and the time left. Nothing is printed per step: the numbers
# come after your predictions.

# %% tags=["live"]
from ablations.errors import UserError
from ablations.run.runner import ExecuteOptions
from ablations.run.store import load
from ablations.studies import Launch, StudyRequest, seed_list, train

started = time.perf_counter()
if USE_COMMITTED:
    OUT = LAB
    print(f"plan B: reading the committed {OUT.relative_to(ROOT)} (nothing is trained)")
else:
    OUT = ROOT / "runs" / f"lab-seeds-{MY_SEEDS}"
    try:  # the library call behind `run`: the same plan, checks and worker processes
        request = StudyRequest(preset="lab", steps=tuple(STEPS), seeds=tuple(seed_list(MY_SEEDS)))
        train(request, ExecuteOptions(OUT, DATA_DIR, "cpu", threads=1), Launch(jobs=2), say=None)
    except UserError as e:  # e.g. no Fashion-MNIST: one line that says how to get it
        raise LessonStop(e) from None
rows = load(OUT)
rows = rows[rows.step_name.isin(STEPS) & (rows.preset == "lab")]
print(f"{len(rows)} runs ready ({rows.seed.nunique()} seeds x {len(STEPS)} steps) in "
      f"{(time.perf_counter() - started) / 60:.1f} minutes")

# %% [markdown]
# The helper below prints a comparison the way this lesson reads it: the mean paired
# difference, its interval and the verdict, beside your prediction. The interval is wider
# than a plain 95% one because the lab makes several comparisons at once (the level is
# printed: 1 - 0.05 / comparisons), so that the whole set of verdicts is right 95% of the time.

# %%
from ablations.analysis import stats


def verdicts(table):
    """The lab's comparisons: each lesson step against the one before it."""
    return stats.study_stats(table, DEFAULT_CHAIN, "lab")


def say(table, step):
    """One comparison as a sentence: delta [interval] verdict (and your prediction)."""
    hit = table[table.step_name == step]
    if hit.empty:
        print(f"{step}: not trained in this variant")
        return
    r = hit.iloc[0]
    name = f"{NAMES.get(r.treatment, r.treatment)} vs {NAMES.get(r.control, r.control)}"
    if r.seeds < 2:  # no interval: the difference is not printed (the rule)
        print(f"{name}: {r.seeds} seed, no interval yet: pool more seeds (part 5)")
        return
    print(f"{name}: {r.delta:+.2f} points, {100 * r.level:.1f}% interval [{r.lo:+.2f}, "
          f"{r.hi:+.2f}] over {r.seeds} paired seeds -> {r.verdict}   (you predicted: "
          f"{PREDICTION.get(step) or '-'})")


ours = verdicts(rows)

# %% tags=["teacher"]
committed = verdicts(load(LAB))
REASONS = {}


def expect(step, reason):
    """Teacher: the committed lab's verdict for ``step``, and why."""
    REASONS[step] = reason
    hit = committed[committed.step_name == step]
    if not hit.empty:
        r = hit.iloc[0]
        print(f"expected (committed results/lab, {r.seeds} seeds, AMD EPYC): {r.delta:+.2f} "
              f"[{r.lo:+.2f}, {r.hi:+.2f}] -> {r.verdict}")
    print(f"why: {reason}")


# %% [markdown]
# ## 2. The phases
#
# ### Training recipe
# *Why.* Before touching the architecture, the paper trains ResNet-50 the way Transformers are
# trained (AdamW, a warmup and cosine schedule, label smoothing, heavy augmentation). The
# recipe alone moved ResNet-50 from 76.1% to 78.8% on ImageNet: a fair baseline must share it.
#
# **Predict first:** does the modern recipe help at 4 epochs on Fashion-MNIST?

# %% tags=["prediction"]
PREDICTION["modern-recipe"] = ""  # gain, loss or within noise

# %%
say(ours, "modern-recipe")

# %% tags=["teacher"]
expect("modern-recipe", "AdamW with warmup, cosine decay and label smoothing trains a small "
       "network much further in 4 epochs than SGD with the original schedule; the lab turns "
       "the heavy augmentation off (it would slow 4 epochs down), so this is the optimiser and "
       "schedule. It is the largest effect of the lab, and the committed quick replay (60k "
       "images, 6 epochs) finds it too.")

# %%
diagram("modern-recipe", "patchify-stem")

# %% [markdown]
# ### Macro design: stage ratio and the patchify stem
# *Why.* Swin-T spends its compute 1:1:3:1 over its four stages, ResNet-50 3:4:6:3; and a
# Transformer cuts the image into non-overlapping patches instead of a 7x7 convolution and a
# max-pool. This comparison holds both changes (stage ratio first).
#
# **Predict first:** gain, loss or within noise?

# %% tags=["prediction"]
PREDICTION["patchify-stem"] = ""

# %%
say(ours, "patchify-stem")

# %% tags=["teacher"]
expect("patchify-stem", "at 32 px a 4x4 patchify stem leaves an 8x8 map after the stem, and "
       "the stage ratio moves blocks to stage 3; neither has much to work with at this size. "
       "Within noise here; on another CPU it came out as a loss: a small effect near 0 can "
       "change sign with the machine.")

# %%
diagram("patchify-stem", "width-96")

# %% [markdown]
# ### ResNeXt-ify: depthwise convolution, then width 96
# *Why.* A depthwise convolution mixes pixels within each channel only, as self-attention mixes
# positions per head; it cuts the FLOPs to about half, and widening the network from 64 to 96
# channels spends them again. This comparison holds both.
#
# **Predict first:** the two together, against the patchify step?

# %% tags=["prediction"]
PREDICTION["width-96"] = ""

# %%
say(ours, "width-96")

# %% tags=["teacher"]
expect("width-96", "the depthwise conv halves the FLOPs and the wider stages spend them "
       "again (see the GFLOPs column of the first table); at widths / 8 and 4 epochs the two "
       "changes leave accuracy where it was: expect within noise.")

# %%
diagram("width-96", "inverted-bottleneck")

# %% [markdown]
# ### Inverted bottleneck
# *Why.* A Transformer's MLP is four times wider inside than outside (96 -> 384 -> 96 channels
# in ConvNeXt-T's first stage); ResNet's bottleneck is the opposite (256 -> 64 -> 256).
# Swapping the roles of the two widths is the "inverted bottleneck".
#
# **Predict first:** at this small scale?

# %% tags=["prediction"]
PREDICTION["inverted-bottleneck"] = ""

# %%
say(ours, "inverted-bottleneck")

# %% tags=["teacher"]
expect("inverted-bottleneck", "the paper gains 0.1 on ImageNet (80.5 -> 80.6), well below "
       "what 3 seeds on 10k images can resolve: within noise is the expected answer.")

# %%
diagram("inverted-bottleneck", "bn-to-ln")

# %% [markdown]
# ### Large kernel and micro design, up to LayerNorm
# *Why.* Swin attends within 7x7 windows: the paper moves the depthwise conv to the top of the
# block and grows its kernel to 7x7, then copies the Transformer's small habits: GELU instead of
# ReLU, one activation and one norm per block, and LayerNorm instead of BatchNorm. This
# comparison holds all six changes.
#
# **Predict first:** six changes at once: what happens?

# %% tags=["prediction"]
PREDICTION["bn-to-ln"] = ""

# %%
say(ours, "bn-to-ln")

# %% tags=["teacher"]
expect("bn-to-ln", "six changes whose ImageNet gains partly cancel (moving the depthwise conv "
       "up costs accuracy, the 7x7 kernel wins it back). Before this step every model uses "
       "BatchNorm, whose numbers are the most sensitive to the CPU and thread count.")

# %%
diagram("bn-to-ln", "separate-downsampling", stage=1)  # stage 2: its downsampling

# %% [markdown]
# ### Separate downsampling, and ConvNeXt-T
# *Why.* ResNet downsamples inside its blocks; Swin has separate patch-merging layers. The paper
# adds separate 2x2 stride-2 convolutions with a LayerNorm before each. ConvNeXt-T then adds
# layer scale and the truncated-normal init of its official code.
#
# **Predict first:** which of the two last comparisons is a gain?

# %% tags=["prediction"]
PREDICTION["separate-downsampling"] = ""
PREDICTION["trunc-normal-init"] = ""

# %%
say(ours, "separate-downsampling")
say(ours, "trunc-normal-init")

# %% tags=["teacher"]
expect("separate-downsampling", "the one architecture change that is a gain at this scale: "
       "LayerNorm before each downsampling layer keeps training stable, and the quick "
       "replay finds it too.")
expect("trunc-normal-init", "layer scale (1e-6) starts every block close to the identity, "
       "which suits 300 epochs, not 4: expect within noise, possibly a loss.")

# %% [markdown]
# ## 3. The payoff: ConvNeXt-T against the modern ResNet-50
# On ImageNet the whole walk is worth about 3 points over the modern ResNet-50 (78.8%), at
# the same FLOPs. This is the comparison the paper is about: the two ends of the chain, both
# with the modern recipe, paired over the same seeds.
#
# **Predict first:** does ConvNeXt-T beat the modern ResNet-50 here?

# %% tags=["prediction"]
PREDICTION["ends"] = ""

# %%
def ends(table, treatment="trunc-normal-init", control="modern-recipe"):
    """ConvNeXt-T against the modern ResNet-50: one comparison, its 95% interval, verdict."""
    per_seed = {n: g.set_index("seed").top1 for n, g in table.groupby("step_name")}
    r = stats.compare(per_seed[treatment], per_seed[control])
    lo, hi = stats.interval(r["delta"], r["sd"], r["seeds"], stats.ALPHA)
    verdict = stats.verdict({"seeds": r["seeds"], "lo": lo, "hi": hi})
    if r["seeds"] < 2:  # no interval: the difference is not printed (the rule)
        print(f"{NAMES[treatment]} vs {NAMES[control]}: {r['seeds']} seed, no interval yet")
        return
    print(f"{NAMES[treatment]} vs {NAMES[control]}: {r['delta']:+.2f} points, 95% interval "
          f"[{lo:+.2f}, {hi:+.2f}] over {r['seeds']} paired seeds -> {verdict}   "
          f"(you predicted: {PREDICTION.get('ends') or '-'})")


ends(rows)

# %% [markdown]
# **Discuss (10 minutes).** The paper's climb does not appear at 32 px and 4 epochs. Why not?
# Four differences between this lab and the paper, each a hypothesis you can test:
# - **resolution**: 32 px instead of 224 px. The patchify stem leaves an 8x8 map; a 7x7 kernel
#   then covers almost all of it, and the last stage is 1x1;
# - **data**: 10 000 grey 28-pixel images of 10 classes instead of 1.28 million colour images
#   of 1000 classes;
# - **schedule**: 4 epochs instead of 300. Layer scale, LayerNorm and AdamW designs are made
#   for long training;
# - **regularisation**: the lab turns off RandAugment, Mixup, CutMix, random erasing and
#   stochastic depth, which the paper uses and which matter more for bigger models.
#
# The toolkit's **scale study** varies exactly these axes one at a time (training images,
# epochs, width, resolution, regularisation) and measures whether the gap between the two ends
# changes: `python -m ablations run --study scale --preset quick --jobs 2` (it prints its
# estimated CPU minutes per cell before training; `python -m ablations show --study
# scale:resnet50-to-convnext-t` reads the committed one).

# %% tags=["teacher"]
print("expected on the committed lab:")
ends(load(LAB))
print("why: at this scale the two ends are within a point of each other; on another CPU "
      "(an Intel Xeon) ConvNeXt-T ended below the modern ResNet-50. Either way the interval "
      "is the answer: no climb is resolved here, and the scale study is where it is looked for.")

# %% [markdown]
# ## 4. Exercises
#
# **Exercise 1: change a toggle.** Take ConvNeXt-T (`find_step(DEFAULT_CHAIN,
# "trunc-normal-init").design`) and set its kernel size to 11 (`.replace(kernel_size=11)`).
# How many GFLOPs does it cost at 224 px, against 7x7? Predict first: more or less than 10%
# more?

# %% tags=["prediction"]
PREDICTION["exercise 1"] = ""

# %% tags=["solution"]
# Solution
t = find_step(DEFAULT_CHAIN, "trunc-normal-init").design
for k in (7, 11):
    print(f"kernel {k}: {costs(t.replace(kernel_size=k), with_fvcore=False).gflops:.3f} GFLOPs")
# The depthwise conv is a small share of the FLOPs: 11x11 costs only a few percent more.

# %% [markdown]
# **Exercise 2: build your own order.** The paper's order is one of many. Starting from the
# modern-recipe ResNet-50 (`find_step(DEFAULT_CHAIN, "modern-recipe").design`), apply the
# inverted bottleneck *before* the depthwise conv: `d.replace(block="inverted")`, then
# `.replace(groups="depthwise")`, and print each step's GFLOPs. Predict first: is the inverted
# bottleneck cheaper or dearer on a dense 3x3 conv?

# %% tags=["prediction"]
PREDICTION["exercise 2"] = ""

# %% tags=["solution"]
# Solution
r = find_step(DEFAULT_CHAIN, "modern-recipe").design
mine = [("ResNet-50", r)]
mine.append(("inverted bottleneck first", mine[-1][1].replace(block="inverted")))
mine.append(("then depthwise conv", mine[-1][1].replace(groups="depthwise")))
for name, d in mine:
    print(f"{name:28s} {costs(d, with_fvcore=False).gflops:6.2f} GFLOPs")
# The inverted bottleneck on a dense 3x3 conv is expensive: the order decides what each change costs.

# %% [markdown]
# **Exercise 3: a verdict that trains (after class, or in plan A with time left).** Does the
# 7x7 kernel beat 3x3 in ConvNeXt-T at this scale? Write your prediction, then train both on
# the lab preset with your seeds and read the verdict by the rule:
# `python -m ablations run --study sweep --sweep kernel_size=3,7 --preset lab --seeds 0-2
# --jobs 2 --out runs/kernels` (the last lines are the verdict).

# %% tags=["prediction"]
PREDICTION["exercise 3"] = ""

# %% [markdown] tags=["solution"]
# *Solution.* Read the line `kernel_size=7 - kernel_size=3`: a gain only if its interval
# excludes 0. At 32 px a 7x7 kernel covers most of an 8x8 map: a within-noise answer is as
# instructive as a gain. More seeds (pool them) narrow the interval.

# %% [markdown]
# **Exercise 4: read a verdict.** A comparison printed `+0.62 points, 95% interval [-0.41,
# +1.65] over 3 paired seeds -> within noise`. A classmate says "it helps by 0.6 points". What
# do you answer, and what would you do to know more?

# %% tags=["prediction"]
PREDICTION["exercise 4"] = ""

# %% tags=["solution"]
# Solution
print("The interval contains 0: the data are compatible with a loss of 0.4 and a gain of 1.7. "
      "It is not a gain yet. More paired seeds narrow the interval (about 1/sqrt(n)); a larger "
      "scale (more images, epochs) may change the effect itself.")

# %% [markdown]
# ## 5. Pool the class's seeds
# Each student trained other seeds (`MY_SEEDS`). Put the class's results folders side by side
# (a shared drive, or copy them into `runs/`) and pool them: the same run (step and seed)
# counted once, a run with another top-1 in two folders reported as a conflict. From a
# terminal: `python -m ablations pool runs/lab-seeds-0-2 runs/lab-seeds-3-5 --out runs/class`.
# In plan B, two "students" are made from the committed lab: seeds 0-1 and seeds 1-2.

# %%
import tempfile

from ablations.analysis.reproduce import import_reference
from ablations.run.pool import pool

if USE_COMMITTED:
    demo = Path(tempfile.mkdtemp(prefix="class-"))
    CLASS = []
    for name, seeds in (("student-a", [0, 1]), ("student-b", [1, 2])):
        mine = rows[rows.seed.isin(seeds)]
        import_reference(LAB, demo / name, set(mine.config_hash))
        CLASS.append(demo / name)
    MINE, POOLED = CLASS[0], demo / "class"
else:
    CLASS = sorted(p for p in (ROOT / "runs").glob("lab-seeds-*") if p.is_dir())
    MINE, POOLED = OUT, ROOT / "runs" / "lab-class"
report = pool(CLASS, POOLED)
for line in report.conflicts:
    print(f"conflict: {line}")
print(f"{len(CLASS)} folders: {report.duplicates} duplicate run(s) counted once, "
      f"{len(report.conflicts)} conflict(s); seeds {', '.join(map(str, report.seeds))}")


def lesson_rows(folder):
    """The lesson's steps at the lab preset, from a results folder."""
    table = load(folder)
    return table[table.step_name.isin(STEPS) & (table.preset == "lab")]

# %% [markdown]
# **Predict first:** with more seeds, do the intervals get narrower, wider, or move?

# %% tags=["prediction"]
PREDICTION["pooling"] = ""

# %%
import matplotlib.pyplot as plt

alone = verdicts(lesson_rows(MINE))
together = verdicts(lesson_rows(POOLED)).set_index("step_name").loc[alone.step_name].reset_index()
fig, ax = plt.subplots(figsize=(9, 4))
labels = [f"{NAMES.get(r.treatment, r.treatment)} - {NAMES.get(r.control, r.control)}"
          for r in together.itertuples()]
for k, (a, b) in enumerate(zip(alone.itertuples(), together.itertuples())):
    y = len(labels) - 1 - k
    seen = [f"{r.seeds} seeds [{r.lo:+.2f}, {r.hi:+.2f}] {r.verdict}" if r.seeds > 1 else
            f"{r.seeds} seed, no interval" for r in (a, b)]
    print(f"{labels[k]}: {seen[0]} -> {seen[1]}")
    for r, dy, color in ((a, 0.15, "#c44e52"), (b, -0.15, "#4c72b0")):
        ax.plot([r.lo, r.hi], [y + dy] * 2, color=color, lw=2.5)
        ax.plot([r.delta], [y + dy], "o", color=color)
ax.axvline(0, color="black", lw=0.8)
ax.set_yticks(range(len(labels)))
ax.set_yticklabels(labels[::-1], fontsize=8)
ax.set_xlabel("top-1 difference (points): mean and interval (the lesson's rule)")
ax.plot([], [], color="#c44e52", lw=2.5, label=f"one student ({alone.seeds.max()} seeds)")
ax.plot([], [], color="#4c72b0", lw=2.5, label=f"the class pooled ({together.seeds.max()} seeds)")
ax.legend(fontsize=8, loc="lower right")
ax.set_title("More seeds, narrower intervals: an interval across 0 is within noise",
             fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# An interval's width shrinks about as 1/sqrt(seeds) on average, and fastest at first: with 2
# seeds the t distribution has one degree of freedom and its intervals are very wide. Not every
# interval narrows: a new seed that disagrees with the others widens its comparison's interval
# (look for one above). Pooling the class is how a within-noise effect becomes a verdict, or
# stays within noise with a narrow interval (then it is small at this scale: a result too).
