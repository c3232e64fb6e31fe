"""How a chain's step gains agree with the paper's: the Spearman rank correlation of the mean
gains with the paper's, the share of steps whose signs agree, and an interval for the
Spearman from a parametric bootstrap of the seed noise (``agreement_interval``; a percentile
bootstrap over resampled seeds keeps about 3.4 distinct seeds of 5 and pulls every
correlation down). ``agreement_coverage`` measures the interval on simulated chains."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .stats import ALPHA, per_seed_rows, ok_rows, pairs_of


def paper_agreement(df: pd.DataFrame, study: str, preset: str, resamples: int = 4000,
                    seed: int = 0) -> dict[str, float]:
    """How our step gains of a chain agree with the paper's.

    Returns ``spearman`` (rank correlation of mean step gains with the paper's step gains),
    ``spearman_lo``/``spearman_hi`` (its 95% interval, ``agreement_interval``),
    ``signs_agree`` out of ``steps`` (steps with a paper gain on both sides), and ``seeds``.
    """
    rows = ok_rows(df, study, preset)
    pairs = [p for p in pairs_of(study, rows.drop_duplicates("step_name"))
             if p.paper_delta is not None]
    per_seed = per_seed_rows(rows)
    pairs = [p for p in pairs if p.treatment in per_seed and p.control in per_seed]
    nan = {"spearman": math.nan, "spearman_lo": math.nan, "spearman_hi": math.nan,
           "signs_agree": 0, "steps": len(pairs), "seeds": 0}
    if len(pairs) < 3:
        return nan
    seeds = sorted(set.intersection(*(set(per_seed[p.treatment].index)
                                      & set(per_seed[p.control].index) for p in pairs)))
    if not seeds:
        return nan
    diffs = np.array([[per_seed[p.treatment].top1[s] - per_seed[p.control].top1[s]
                       for s in seeds] for p in pairs])  # steps x seeds
    paper = np.array([p.paper_delta for p in pairs])
    ours = diffs.mean(axis=1)
    rho = float(spearman_rows(ours[None], paper)[0])
    lo, hi = agreement_interval(diffs, paper, resamples, seed)
    return {"spearman": rho, "spearman_lo": lo, "spearman_hi": hi,
            "signs_agree": int(np.sum(np.sign(ours) == np.sign(paper))),
            "steps": len(pairs), "seeds": len(seeds)}


AGREEMENT_METHOD = "parametric bootstrap of the seed noise"
"""How ``agreement_interval`` is made (said in figures and the README)."""


def format_agreement(a: dict[str, float]) -> str:
    """One line for a ``paper_agreement`` result, as every command, figure and notebook
    says it: the Spearman, its interval and method, the sign agreement and the seeds."""
    if not a.get("seeds") or math.isnan(a["spearman"]):
        return (f"no rank correlation: {a['steps']} step gain(s) beside the paper's "
                "(3 needed, on common seeds)")
    interval = ("" if math.isnan(a["spearman_lo"]) else
                f" [{a['spearman_lo']:+.2f}, {a['spearman_hi']:+.2f}] (95%, {AGREEMENT_METHOD})")
    return (f"Spearman {a['spearman']:+.2f}{interval}, signs agree in {a['signs_agree']}/"
            f"{a['steps']} steps, {a['seeds']} seed(s)")


def spearman_rows(gains: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Spearman correlation of every row of ``gains`` with ``paper`` (vectorised): the
    Pearson correlation of their ranks, ties given their average rank (as scipy's
    ``spearmanr``; pandas ranks them, so no scipy import on the read commands' path)."""
    r = pd.DataFrame(gains).rank(axis=1, method="average").to_numpy()
    r = r - r.mean(axis=1, keepdims=True)
    p = pd.Series(paper).rank(method="average").to_numpy()
    p = p - p.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r @ p) / np.sqrt((r ** 2).sum(axis=1) * (p ** 2).sum())


def agreement_interval(diffs: np.ndarray, paper: np.ndarray, resamples: int = 4000,
                       seed: int = 0, level: float = 1 - ALPHA) -> tuple[float, float]:
    """Interval of the Spearman correlation between our mean step gains (``diffs``: steps x
    seeds) and the paper's: each step's mean gain is redrawn as mean + sd / sqrt(n) * T
    (Student's t, n - 1 degrees of freedom, the step's own seed sd), the correlation taken
    of every draw, and its percentiles returned.

    Why not resample seeds: with 5 seeds, drawing seeds with replacement keeps 3.4 distinct
    ones on average, which adds noise to every mean gain and pulls every resampled
    correlation down (the committed replay: median 0.72 for an estimate of 0.79). Drawing
    the means with the noise their seeds show avoids that. Coverage on simulated chains
    with a known correlation: ``agreement_coverage`` (README, results/README).
    """
    n = diffs.shape[1]
    if n < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    mean, sd = diffs.mean(axis=1), diffs.std(axis=1, ddof=1)
    draws = mean + rng.standard_t(n - 1, (resamples, len(mean))) * sd / math.sqrt(n)
    rho = spearman_rows(draws, paper)
    rho = rho[np.isfinite(rho)]
    if not len(rho):
        return math.nan, math.nan
    lo, hi = np.percentile(rho, [50 * (1 - level), 100 - 50 * (1 - level)])
    return float(lo), float(hi)


def agreement_coverage(paper: np.ndarray, correlation: float, gain_sd: float, seed_sd: float,
                       seeds: int = 5, chains: int = 500, seed: int = 0) -> float:
    """Share of simulated chains whose ``agreement_interval`` holds their true Spearman.

    Each chain's true gains are ``gain_sd * (correlation * z(paper) + sqrt(1 - c^2) * e)``
    (e standard normal, drawn per chain; its true Spearman with ``paper`` is computed, so
    it is known), each seed's gains those plus normal noise of sd ``seed_sd``.
    """
    rng = np.random.default_rng(seed)
    z = (paper - paper.mean()) / paper.std()
    hits = 0
    for k in range(chains):
        truth = gain_sd * (correlation * z + math.sqrt(1 - correlation ** 2)
                           * rng.standard_normal(len(paper)))
        true_rho = float(spearman_rows(truth[None], paper)[0])
        diffs = truth[:, None] + seed_sd * rng.standard_normal((len(paper), seeds))
        lo, hi = agreement_interval(diffs, paper, resamples=2000, seed=k)
        hits += lo <= true_rho <= hi
    return hits / chains
