"""The numbers in the prose of README.md, the docs/ pages and results/README.md that the
results determine are checked against the committed tables: each claim below is a sentence fragment whose numbers
are computed here from results.csv / stats.csv / the scale tables and must appear verbatim
(whitespace aside). A stale number fails the test; one rounding path per number (2 decimals,
as the tables print them)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import importlib.util

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

ROOT = Path(__file__).resolve().parents[1]
CHAIN = "resnet50-to-convnext-t"
# Where each part of the former long README lives now.
REPLAY = "docs/replay-and-statistics.md"
PAPER_SCALE = "docs/paper-scale-and-gpus.md"
RESULTS = "docs/results-and-reproducibility.md"
RELIABILITY = "docs/reliability.md"


@lru_cache(maxsize=None)
def _rows(folder: str) -> pd.DataFrame:
    df = pd.read_csv(ROOT / folder / "results.csv")
    return df[df.status == "ok"]


@lru_cache(maxsize=None)
def _stats(folder: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / folder / "stats.csv")


@lru_cache(maxsize=None)
def _scale(folder: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / folder / f"scale_{CHAIN}.csv")


def mean(step: str, study: str = CHAIN, preset: str = "quick", folder: str = "results/quick"
         ) -> float:
    r = _rows(folder)
    top1 = r[(r.study == study) & (r.preset == preset) & (r.step_name == step)].top1
    assert len(top1), (study, preset, step)
    return round(float(top1.mean()), 2)


def seeds(step: str, study: str = CHAIN, preset: str = "quick") -> int:
    r = _rows("results/quick")
    return int(((r.study == study) & (r.preset == preset) & (r.step_name == step)).sum())


def step_index(step: str) -> int:
    r = _rows("results/quick")
    return int(r[(r.study == CHAIN) & (r.step_name == step)].step.iloc[0])


def interval(study: str, treatment: str, preset: str = "quick",
             folder: str = "results/quick") -> str:
    """The comparison's estimate, the interval printed beside its verdict and the verdict, as
    stats.csv holds them: the claims table (issue 35: ``kind`` step, the verdict's interval
    ``lo``/``hi``) or, in a folder written before it, the 95% paired-t ``t_lo``/``t_hi``."""
    s = _stats(folder)
    s = s[s.kind == "step"] if "kind" in s else s
    row = s[(s.study == study) & (s.preset == preset) & (s.treatment == treatment)].iloc[0]
    lo, hi = (row.lo, row.hi) if "lo" in row else (row.t_lo, row.t_hi)
    return f"{row.delta:+.2f} [{lo:+.2f}, {hi:+.2f}] ({row.verdict})"


def paired_interval(treatment: str, control: str, study: str = CHAIN) -> str:
    """Mean of top1(treatment) - top1(control) over the seeds both have, with its 95%
    paired-t interval, as the README prints it."""
    r = _rows("results/quick")
    r = r[(r.study == study) & (r.preset == "quick")]
    a, b = (r[r.step_name == s].set_index("seed").top1 for s in (treatment, control))
    d = (a - b).dropna()
    half = st.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"paired over {len(d)} seeds {d.mean():+.2f} [{d.mean() - half:+.2f}, {d.mean() + half:+.2f}]"


def gap(axis: str, value: float, folder: str = "results/quick", full: bool = True) -> str:
    t = _scale(folder)
    row = t[(t.axis == axis) & (t["value"] == value)].iloc[0]
    return f"{row.gap:+.2f} [{row.lo:+.2f}, {row.hi:+.2f}]" if full else f"{row.gap:+.2f}"


def _cell_mean(step: str, cell: str, folder: str) -> float:
    return mean(step, f"scale:{CHAIN}", cell, folder)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def claims() -> list[tuple[str, str]]:
    """(file, fragment): the fragment with the numbers computed from the tables."""
    t, r = mean("trunc-normal-init"), mean("modern-recipe")
    sep = mean("separate-downsampling")
    swin = mean("swin_t", f"transformers:{CHAIN}")
    kaiming_to_trunc = interval(CHAIN, "trunc-normal-init")
    alone = interval(f"one-at-a-time:{CHAIN}", "only-trunc-normal-init")
    gpu_r, gpu_c = (_cell_mean(s, "quick", "results/quick-gpu")
                    for s in ("modern-recipe", "trunc-normal-init"))
    cpu_r, cpu_c = (_cell_mean(s, "quick", "results/quick")
                    for s in ("modern-recipe", "trunc-normal-init"))
    return [
        ("README.md", f"ConvNeXt-T ({_fmt(t)}% top-1, mean of {seeds('trunc-normal-init')} "
                      f"seeds) ends {_fmt(r - t)} points below the modern-recipe ResNet-50 it "
                      f"starts from ({_fmt(r)}%), "
                      + paired_interval("trunc-normal-init", "modern-recipe")),
        ("results/README.md", f"ConvNeXt-T (step {step_index('trunc-normal-init')}, ConvNeXt's "
                              f"truncated-normal init) ends {_fmt(r - t)} points below the "
                              f"modern-recipe ResNet-50 ({_fmt(t)} vs {_fmt(r)})"),
        ("results/README.md", f"ends {_fmt(r - sep)} below it ({_fmt(sep)})"),
        ("results/README.md", "Kaiming -> truncated normal "
                              + kaiming_to_trunc.replace(" (loss)", "") + " (loss)"),
        ("results/README.md", alone.replace(" (within noise)", "") + ", within noise ("
                              f"{_fmt(mean('only-trunc-normal-init', f'one-at-a-time:{CHAIN}'))}"
                              f" vs {_fmt(r)})"),
        ("results/README.md", f"separate downsampling ({_fmt(sep)}, still with the Kaiming "
                              f"init), is {_fmt(sep - swin)} above Swin-T ({_fmt(swin)})"),
        ("results/README.md", f"moves from {gap('train_images', 7500)} at 7.5k"),
        ("results/README.md", f"to {gap('train_images', 60000)} at 60k"),
        ("results/README.md", f"{gap('epochs', 12)} at 12 and {gap('epochs', 24)} at 24"),
        ("results/README.md", f"At 48 px instead of 32 the gap widens to "
                              f"{gap('resolution', 48)} (loss)"),
        ("results/README.md", f"ResNet-50 {_fmt(gpu_r)} and ConvNeXt-T {_fmt(gpu_c)} (3-seed "
                              f"means; CPU {_fmt(cpu_r)} and {_fmt(cpu_c)}), a gap of "
                              f"{gap('resolution', 32, 'results/quick-gpu')} against the CPU's "
                              f"{gap('train_images', 60000)}"),
        ("results/README.md", f"{gap('resolution', 64, 'results/quick-gpu', False)} at 64 px "
                              f"and {gap('resolution', 96, 'results/quick-gpu', False)} at 96 px"),
    ]


def minutes_per_seed() -> tuple[str, str, str]:
    """(min, max, median) minutes per seed of the chain: its 16 runs' wall times of a seed
    summed and halved (two one-thread workers)."""
    r = _rows("results/quick")
    per = r[(r.study == CHAIN) & (r.preset == "quick")].groupby("seed").wall_seconds.sum()
    per = per / 2 / 60
    return f"{per.min():.1f}", f"{per.max():.1f}", f"{per.median():.1f}"


def lab_and_fcmae_claims() -> list[tuple[str, str]]:
    def bare(study, treatment, preset, folder):
        return interval(study, treatment, preset, folder).rsplit(" (", 1)[0]

    fc = "fcmae:convnextv2_atto"
    return [
        (RESULTS, f"the modern recipe ({bare(CHAIN, 'modern-recipe', 'lab', 'results/lab')},"
                      " gain) and separate"),
        (RESULTS, f"downsampling ({bare(CHAIN, 'separate-downsampling', 'lab', 'results/lab')}"
                      ", gain)"),
        (RESULTS, f"the init step ({bare(CHAIN, 'trunc-normal-init', 'lab', 'results/lab')})"),
        ("results/README.md", "V2 + FCMAE beats V2 from scratch, "
                              + bare(fc, "v2-fcmae", "fcmae-quick", "results/fcmae")),
        ("results/README.md", bare(fc, "v1-fcmae", "fcmae-quick", "results/fcmae")
         + ": within noise"),
        ("results/README.md", "at fine-tuning costs " + bare(fc, "v2-fcmae-grn-dropped-at-ft",
                                                            "fcmae-quick", "results/fcmae")),
        ("results/README.md", "fine-tuning from it is no worse, " + bare(
            fc, "v1-fcmae-no-masking", "fcmae-quick", "results/fcmae")),
    ]


def timing_claims() -> list[tuple[str, str]]:
    lo, hi, median = minutes_per_seed()
    return [("README.md", f"{lo}-{hi} minutes per seed for the committed seeds on this "
                          f"project's 2-core machine, median {median}"),
            (REPLAY, f"{lo}-{hi} minutes per seed for the committed seeds (median "
                          f"{median}: the 16 runs' wall times of a seed summed and halved)")]


def _plan_total(preset: str, target: str) -> tuple[float, float, float]:
    """(GPU-hours, wall hours, the two ends' GPU-hours) of the whole chain's ``--plan``."""
    from ablations.measure.plan import parse_target, plan_costs
    from ablations.run.runner import plan
    from ablations.train.recipe import run_preset
    from models.roadmap import chain

    runs = plan(CHAIN, chain(CHAIN), run_preset(preset), [0])
    df, _ = plan_costs(runs, parse_target(target), ROOT / "results", CHAIN)
    ends = df[df.step_name.isin(["modern-recipe", "trunc-normal-init"])]
    return df.gpu_hours.sum(), df.wall_hours.sum(), ends.gpu_hours.sum()


def plan_claims() -> list[tuple[str, str]]:
    paper8, paper1, a3_8, a3_1 = (_plan_total(p, t) for p, t in (
        ("paper", "a100x8"), ("paper", "h200"), ("a3", "a100x8"), ("a3", "h200")))
    return [
        (PAPER_SCALE, f"total: {paper8[0]:,.0f} GPU-hours, {paper8[1]:,.1f} h = "
                      f"{paper8[1] / 24:,.1f} days on 8 x A100"),
        (PAPER_SCALE, f"On one H200: {paper1[0]:,.0f} GPU-hours, {paper1[1] / 24:,.1f} days, the "
                      f"two ends {paper1[2]:,.0f} hours"),
        (PAPER_SCALE, f"Its plan: {a3_8[0]:,.0f} A100 GPU-hours, {a3_8[1]:,.1f} h "
                      f"({a3_8[1] / 24:,.1f} days) on 8 A100s; on one H200, {a3_1[1]:,.0f} hours "
                      f"({a3_1[1] / 24:,.1f} days)"),
    ]


def bad_input_claims() -> list[tuple[str, str]]:
    """How many bad-input cases tests/test_bad_input.py runs through the CLI, and how many of
    them also as real subprocesses (every sixth)."""
    spec = importlib.util.spec_from_file_location("_bad_input", ROOT / "tests" / "test_bad_input.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = module.CASES
    return [(RELIABILITY, f"runs {len(cases)} such cases through the CLI, {len(cases[::6])} of "
                          "them also as real subprocesses")]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("file, fragment", claims() + timing_claims() + lab_and_fcmae_claims()
                         + plan_claims() + bad_input_claims())
def test_prose_number_matches_the_tables(file, fragment):
    text = _normalised((ROOT / file).read_text())
    assert _normalised(fragment) in text, f"{file}: expected the fragment {fragment!r}"
