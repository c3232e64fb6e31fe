"""The numbers in the prose of README.md, the docs/ pages and results/README.md that the
results determine are checked against the committed tables: each claim below is a sentence
fragment whose numbers are computed here from results.csv, the claims table (stats.csv, or
where a folder's stats.csv predates it, ``claims.folder_claims`` computed from its
results.csv) and the scale tables, and must appear verbatim (whitespace aside). Every interval
is the verdict's interval of the claims table (``lo``/``hi``: paired t at 1 - 0.05/m,
``stats.RULE``). A stale number fails the test; one rounding path per number (2 decimals, as
the tables print them)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import importlib.util

import numpy as np
import pandas as pd
import pytest

from ablations.analysis import agreement
from ablations.run.store import load

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
    """The folder's claims table: its stats.csv where that has the claims table's columns,
    else (a stats.csv written before issue 35) the claims computed from its results.csv."""
    from ablations.analysis.claims import CLAIM_COLUMNS, folder_claims

    table = pd.read_csv(ROOT / folder / "stats.csv")
    if list(table.columns) == CLAIM_COLUMNS:
        return table
    return folder_claims(ROOT / folder)


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


def claim(study: str, treatment: str, preset: str = "quick", folder: str = "results/quick",
          kind: str = "step", control: str | None = None) -> pd.Series:
    """One row of the claims table, by its step name (the treatment, or in leave-one-out the
    design without the change)."""
    s = _stats(folder)
    s = s[(s.kind == kind) & (s.study == study) & (s.preset == preset) & (s.step_name == treatment)]
    if control is not None:
        s = s[s.control == control]
    assert len(s) == 1, (folder, study, kind, treatment, control, len(s))
    return s.iloc[0]


def bare_interval(row: pd.Series) -> str:
    """``+d [+lo, +hi]``: the estimate and the verdict's interval, as the tables print them."""
    return f"{row.delta:+.2f} [{row.lo:+.2f}, {row.hi:+.2f}]"


def interval(study: str, treatment: str, preset: str = "quick",
             folder: str = "results/quick", kind: str = "step", control: str | None = None
             ) -> str:
    """The comparison's estimate, the verdict's interval (the claims table's ``lo``/``hi``)
    and the verdict."""
    row = claim(study, treatment, preset, folder, kind, control)
    return f"{bare_interval(row)} ({row.verdict})"


def endpoint(study: str = CHAIN, folder: str = "results/quick") -> pd.Series:
    """The claims table's endpoint: ConvNeXt-T against ResNet-50 (kind 'vs first')."""
    s = _stats(folder)
    rows = s[(s.study == study) & (s.kind == "vs first") & s.endpoint.astype(bool)]
    assert len(rows) == 1, len(rows)
    row = rows.iloc[0]
    assert (row.treatment, row.control) == ("trunc-normal-init", "modern-recipe"), row
    return row


def gap(axis: str, value: float, folder: str = "results/quick", full: bool = True) -> str:
    t = _scale(folder)
    row = t[(t.axis == axis) & (t["value"] == value)].iloc[0]
    return f"{row.gap:+.2f} [{row.lo:+.2f}, {row.hi:+.2f}]" if full else f"{row.gap:+.2f}"


def _cell_mean(step: str, cell: str, folder: str) -> float:
    return mean(step, f"scale:{CHAIN}", cell, folder)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def paired_delta(treatment: str, control: str, study: str = CHAIN) -> float:
    """Mean of top1(treatment) - top1(control) over the seeds both have, from results.csv."""
    r = _rows("results/quick")
    r = r[(r.study == study) & (r.preset == "quick")]
    a, b = (r[r.step_name == s].set_index("seed").top1 for s in (treatment, control))
    return float((a - b).dropna().mean())


def headline() -> str:
    """README.md's headline: ConvNeXt-T against ResNet-50 with the claims table's endpoint
    interval (kind 'vs first', endpoint True), its level and family."""
    t, r = mean("trunc-normal-init"), mean("modern-recipe")
    e = endpoint()
    assert round(e.delta, 2) == round(paired_delta("trunc-normal-init", "modern-recipe"), 2)
    return (f"ConvNeXt-T ({_fmt(t)}% top-1, mean of {seeds('trunc-normal-init')} seeds) ends "
            f"{_fmt(r - t)} points below the modern-recipe ResNet-50 it starts from "
            f"({_fmt(r)}%), paired over {e.seeds} seeds {bare_interval(e)} (ConvNeXt-T vs "
            f"ResNet-50, a {e.verdict}: the verdict's interval, paired t at "
            f"{100 * e.level:.2f}% = 1 - 0.05/{e.family}")


CANNOT_TELL_NAMES = {"stage-ratio": "stage ratio", "patchify-stem": "patchify stem",
                     "depthwise-conv": "depthwise conv", "width-96": "width 96",
                     "inverted-bottleneck": "inverted bottleneck", "move-up-dwconv":
                     "moved-up depthwise conv", "kernel-7": "kernel 7", "gelu": "GELU",
                     "fewer-activations": "fewer activations", "fewer-norms": "fewer norms",
                     "bn-to-ln": "BN -> LN"}


PAST = {"reproduces": "reproduced", "contradicts": "contradicted",
        "cannot tell": "not resolved"}
"""The verdict against the paper as the prose says it of the paper's gain."""


def seeds_text(v: float) -> str:
    return ">1000" if np.isinf(v) else str(int(v))


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
    e = endpoint()
    sep_vs_first = claim(CHAIN, "separate-downsampling", kind="vs first")
    return [
        ("README.md", headline()),
        ("results/README.md", f"ConvNeXt-T (step {step_index('trunc-normal-init')}, ConvNeXt's "
                              f"truncated-normal init) ends {_fmt(r - t)} points below the "
                              f"modern-recipe ResNet-50 ({_fmt(t)} vs {_fmt(r)}), "
                              f"{bare_interval(e)} paired over {e.seeds} seeds ({e.verdict}; "
                              f"the endpoint of the table above, m = {e.family}): the paper's "
                              f"{e.paper_delta:+.2f} over the same span ({e.paper_scaled:+.2f} "
                              f"on our scale) is {PAST[e.vs_paper]}"),
        ("results/README.md", f"ends {_fmt(r - sep)} below it ({_fmt(sep)}), "
                              f"{bare_interval(sep_vs_first)}, {sep_vs_first.verdict}"),
        ("results/README.md", "Kaiming -> truncated normal "
                              + kaiming_to_trunc.replace(" (loss)", "") + " (loss)"),
        ("results/README.md", alone.replace(" (within noise)", "") + ", within noise ("
                              f"{_fmt(mean('only-trunc-normal-init', f'one-at-a-time:{CHAIN}'))}"
                              f" vs {_fmt(r)})"),
        ("results/README.md", f"separate downsampling ({_fmt(sep)}, still with the Kaiming "
                              f"init), is {_fmt(sep - swin)} above Swin-T ({_fmt(swin)})"),
        ("results/README.md", f"7,500 training images, {gap('train_images', 7500)} at 6 epochs"),
        ("results/README.md", f"a loss at the full 60k ({gap('train_images', 60000)}, 5 seeds)"),
        ("results/README.md", f"ResNet-50 {_fmt(gpu_r)} and ConvNeXt-T {_fmt(gpu_c)} (3-seed "
                              f"means; CPU {_fmt(cpu_r)} and {_fmt(cpu_c)}, 5 seeds), a gap of "
                              f"{gap('resolution', 32, 'results/quick-gpu')} (within noise: the "
                              f"three cells are one family) against the CPU's "
                              f"{gap('train_images', 60000)} (5 seeds)"),
        ("results/README.md", f"{gap('resolution', 64, 'results/quick-gpu', False)} at 64 px "
                              f"and {gap('resolution', 96, 'results/quick-gpu', False)} at 96 px"),
    ]


def regularisation_claims() -> list[tuple[str, str]]:
    """Issue 38's answer as results/README.md states it, from the claims table: the gap per
    crossed cell (7,500 images: 6, 24, 48 epochs; 32 and 64 px; regularisation off and on),
    the regularisation's change of the gap, the trends along epochs and the chain in the
    cell where ConvNeXt-T is not below ResNet-50."""
    study, step = f"scale:{CHAIN}", "trunc-normal-init"
    small = "quick+train_images=7500"
    cells = {(e, px, reg): small + ("" if e == 6 else f"+epochs={e}")
             + ("" if px == 32 else f"+resolution={px}") + ("+regularisation=paper" if reg else "")
             for e in (6, 24, 48) for px in (32, 64) for reg in (False, True)}

    def g(e: int, px: int = 32, reg: bool = False) -> str:
        row = claim(study, step, cells[e, px, reg])
        return f"{bare_interval(row)} ({row.seeds} seeds, {row.verdict})"

    def change(e: int, px: int = 32) -> str:
        row = claim(study, step, cells[e, px, True], kind="gap change",
                    control=cells[e, px, False])
        return f"{bare_interval(row)} ({row.verdict})"

    def cell_mean(name: str, e: int, px: int = 32, reg: bool = False) -> str:
        return _fmt(_cell_mean(name, cells[e, px, reg], "results/quick"))

    trends = {r.treatment: bare_interval(r) for r in _stats("results/quick").query(
        "kind == 'trend'").itertuples()}
    end = claim(study, step, small, kind="cell vs first")
    fewer = claim(study, "fewer-activations", small, kind="cell vs first")
    return [
        ("results/README.md", f"the gap is {g(6)} at 6 epochs, {g(24)} at 24 and {g(48)} at 48"),
        ("results/README.md", f"at 64 px, where the last stage keeps 2x2, it is {g(6, 64)} "
                              f"(ResNet-50 {cell_mean('modern-recipe', 6, 64)}, ConvNeXt-T "
                              f"{cell_mean(step, 6, 64)})"),
        ("results/README.md", f"moves the gap by {change(6)} at 6 epochs, {change(24)} at 24, "
                              f"{change(48)} at 48 and {change(6, 64)} at 64 px"),
        ("results/README.md", f"(ResNet-50 {cell_mean('modern-recipe', 6)} -> "
                              f"{cell_mean('modern-recipe', 6, 32, True)}, ConvNeXt-T "
                              f"{cell_mean(step, 6)} -> {cell_mean(step, 6, 32, True)} at 6 "
                              "epochs)"),
        ("results/README.md", f"per doubling of epochs: {trends['gap per doubling of epochs at train_images=7500']} "
                              "without the regularisation and "
                              f"{trends['gap per doubling of epochs at regularisation=paper, train_images=7500']} "
                              f"with it (at 60k images, {trends['gap per doubling of epochs']}); per "
                              f"doubling of training images {trends['gap per doubling of train_images']}"),
        ("results/README.md", f"ConvNeXt-T against step 0 there is {bare_interval(end)} "
                              f"({end.verdict}, {end.seeds} seeds)"),
        ("results/README.md", f"fewer activations, {bare_interval(fewer)} against step 0"),
    ]


def rule_claims() -> list[tuple[str, str]]:
    """The chain's verdicts, the verdict against the paper per step (the Table-10 view) and
    the order studies, as results/README.md quotes them from the claims table."""
    def b(treatment: str, study: str = CHAIN, kind: str = "step") -> str:
        return bare_interval(claim(study, treatment, kind=kind))

    oat, loo = f"one-at-a-time:{CHAIN}", f"leave-one-out:{CHAIN}"
    matched = f"one-at-a-time-matched:{CHAIN}"
    tr = f"transformers:{CHAIN}"
    s = _stats("results/quick")
    steps = s[(s.study == CHAIN) & (s.kind == "step") & (s.preset == "quick")]
    chain_mde = steps.mde.iloc[0]
    first = claim(CHAIN, "modern-recipe")
    last = claim(CHAIN, "trunc-normal-init", kind="paper step")
    cannot = steps[steps.vs_paper == "cannot tell"]
    cannot_list = ", ".join(f"{CANNOT_TELL_NAMES[n]} ({seeds_text(v)})"
                            for n, v in zip(cannot.treatment, cannot.seeds_needed))
    agree = agreement.paper_agreement(load(ROOT / "results/quick"), CHAIN, "quick")
    spearman = (f"{agree['spearman']:+.2f}, 95% interval [{agree['spearman_lo']:+.2f}, "
                f"{agree['spearman_hi']:+.2f}]")
    matched_sep = claim(matched, "only-separate-downsampling")
    patch_loo, norms_loo = claim(loo, "without-patchify-stem"), claim(loo, "without-fewer-norms")
    return [
        ("results/README.md", f"detectable effect at 5 seeds and this seed noise is "
                              f"{chain_mde:.2f} points"),
        ("results/README.md", f"step 0, the modern recipe ({b('modern-recipe')} against the "
                              f"paper's {first.paper_delta:+.2f}, {first.paper_scaled:+.2f} on "
                              f"our scale)"),
        ("results/README.md", f"step 4, width 96 ({b('width-96')})"),
        ("results/README.md", f"a loss in both ({b('move-up-dwconv')}, paper "
                              f"{claim(CHAIN, 'move-up-dwconv').paper_delta:+.2f})"),
        ("results/README.md", f"step 10, fewer norms ({b('fewer-norms')}"),
        ("results/README.md", f"{bare_interval(last)} (m = {last.family}, its own family: a "
                              f"{100 * last.level:.0f}% interval), which excludes the paper's "
                              f"{last.paper_delta:+.2f} ({last.paper_scaled:+.2f} on our scale); "
                              f"{seeds_text(last.seeds_needed)} seeds would have detected"),
        ("results/README.md", f"with the seeds that would resolve it: {cannot_list}."),
        ("results/README.md", f"separate downsampling ({b('separate-downsampling')}: the "
                              "downsampling layers"),
        ("results/README.md", f"depthwise conv ({b('depthwise-conv')}: its McNemar p"),
        ("results/README.md", f"BN -> LN ({b('bn-to-ln')}), and layer scale ({b('layer-scale')})"),
        ("results/README.md", f"(steps 0-{agree['steps'] - 1}) {spearman}"),
        ("results/README.md", f"the signs agree in {agree['signs_agree']} of {agree['steps']}"),
        (REPLAY, f"(Spearman {spearman}) but agree in sign in only {agree['signs_agree']} of "
                 f"the {agree['steps']}"),
        ("results/README.md", f"separate downsampling ({b('separate-downsampling')} in the chain, "
                              f"{b('only-separate-downsampling', oat)} alone)"),
        ("results/README.md", f"BN -> LN is a real loss alone ({b('only-bn-to-ln', oat)})"),
        ("results/README.md", f"{b('only-move-up-dwconv', oat)} alone (its unadjusted 95%"),
        ("results/README.md", f"a real gain removed too ({b('without-separate-downsampling', loo)})"),
        ("results/README.md", f"{bare_interval(patch_loo)} (p (adj.) {patch_loo.p_adj:.4f})"),
        ("results/README.md", f"{bare_interval(norms_loo)}, p (adj.) {norms_loo.p_adj:.4f})"),
        ("results/README.md", f"{bare_interval(matched_sep)}, p (adj.) {matched_sep.p_adj:.4f}, "
                              f"{matched_sep.verdict}"),
        ("results/README.md", f"{b('only-patchify-stem', matched)} matched"),
        ("results/README.md", f"({b('only-fewer-activations', oat)} unmatched, "
                              f"{b('only-fewer-activations', matched)} here)"),
        ("results/README.md", f"real loss at ResNet-50's cost, {b('only-inverted-bottleneck', matched)}"),
        ("results/README.md", f"a real loss, {b('only-move-up-dwconv', matched)}"),
        ("results/README.md", f"ConvNeXt-T beats Swin-T at this scale, {b('swin_t', tr)} (a loss "
                              "for Swin-T)"),
        ("results/README.md", f"DeiT-S ({b('vit_s_16', tr)})"),
    ]


def minutes_per_seed() -> tuple[str, str, str]:
    """(min, max, median) minutes per seed of the chain: its 16 runs' wall times of a seed
    summed and halved (two one-thread workers)."""
    r = _rows("results/quick")
    per = r[(r.study == CHAIN) & (r.preset == "quick")].groupby("seed").wall_seconds.sum()
    per = per / 2 / 60
    return f"{per.min():.1f}", f"{per.max():.1f}", f"{per.median():.1f}"


def lab_and_fcmae_claims() -> list[tuple[str, str]]:
    def bare(study, treatment, preset, folder, control=None):
        return interval(study, treatment, preset, folder, control=control).rsplit(" (", 1)[0]

    fc = "fcmae:convnextv2_atto"
    return [
        (RESULTS, f"the modern recipe ({bare(CHAIN, 'modern-recipe', 'lab', 'results/lab')},"
                      " gain) and separate"),
        (RESULTS, f"downsampling ({bare(CHAIN, 'separate-downsampling', 'lab', 'results/lab')}"
                      ", gain)"),
        (RESULTS, f"the init step ({bare(CHAIN, 'trunc-normal-init', 'lab', 'results/lab')})"),
        ("results/README.md", "V2 + FCMAE beats V2 from scratch, "
                              + bare(fc, "v2-fcmae", "fcmae-quick", "results/fcmae", "v2-supervised")),
        ("results/README.md", bare(fc, "v1-fcmae", "fcmae-quick", "results/fcmae")
         + ": within noise"),
        ("results/README.md", "at fine-tuning costs " + bare(fc, "v2-fcmae-grn-dropped-at-ft",
                                                            "fcmae-quick", "results/fcmae")),
        ("results/README.md", "fine-tuning from it is not measurably worse, " + bare(
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


@pytest.mark.parametrize("file, fragment", claims() + regularisation_claims() + rule_claims() + timing_claims()
                         + lab_and_fcmae_claims() + plan_claims() + bad_input_claims())
def test_prose_number_matches_the_tables(file, fragment):
    text = _normalised((ROOT / file).read_text())
    assert _normalised(fragment) in text, f"{file}: expected the fragment {fragment!r}"
