"""Which step differences are real: paired statistics over seeds and test images.

Every comparison is a *treatment* against a *control* trained on the same seeds (seed s
of every step sees the same data order, augmentation stream and training subset), so the
per-seed differences are paired. For each comparison:

- ``delta``: mean over paired seeds of top-1(treatment) - top-1(control), in points;
- ``t_lo``/``t_hi``: its 95% paired-t interval; ``boot_lo``/``boot_hi``: a percentile
  bootstrap interval over seeds (``scipy.stats.bootstrap``);
- ``p_t``: paired t-test (``scipy.stats.ttest_rel``); ``p_signflip``: exact sign-flip
  permutation test over seeds (``scipy.stats.permutation_test``; with n seeds its smallest
  possible value is 2 / 2**n, 0.0625 for 5 seeds); ``p_mcnemar``: McNemar's test on the
  per-image predictions pooled over seeds (``statsmodels``), i.e. test-set noise;
- ``p_holm``: ``p_t`` after Holm's correction over the comparisons of the study;
- ``mde``: the smallest |delta| a paired t-test with these seeds detects with 80% power at
  alpha 0.05, from the study's pooled seed-to-seed sd of differences (``statsmodels``);
- ``verdict``: ``gain`` / ``loss`` when both seed noise (``p_holm``) and test-set noise
  (``p_mcnemar``) are ruled out at alpha, else ``within noise`` (``too few seeds`` below 2).

Which pairs are compared: in a chain (and a custom chain) each step against the previous
one; in one-at-a-time each single change against the base (in a scale study's cell, each
step against ResNet-50 with the modern recipe); in leave-one-out the full
design against the design without that change (so a positive delta means the change
helps); in a sweep each value against the first.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..run.store import Store
from ..studies.names import parse_study

ALPHA = 0.05
POWER = 0.8
BOOTSTRAP_RESAMPLES = 9999
STATS_COLUMNS = ["study", "preset", "step", "step_name", "treatment", "control", "seeds",
                 "delta",
                 "t_lo", "t_hi", "boot_lo", "boot_hi", "p_t", "p_signflip", "p_mcnemar",
                 "p_holm", "mde", "verdict", "paper_delta", "images_b", "images_c"]


@dataclass(frozen=True)
class Pair:
    """One comparison: labels of the treatment and the control step of a study."""

    step: int
    treatment: str
    control: str
    paper_delta: float | None = None


def pairs_of(study: str, steps: pd.DataFrame) -> list[Pair]:
    """The comparisons of ``study`` given its step rows (``step``, ``step_name``, paper)."""
    rows = steps.sort_values("step", kind="stable").to_dict("records")
    if not rows:
        return []

    def paper(a: dict, b: dict) -> float | None:
        pa, pb = a.get("paper_top1"), b.get("paper_top1")
        ok = all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in (pa, pb))
        return float(pb) - float(pa) if ok else None

    kind = parse_study(study).kind
    if kind in ("one-at-a-time", "one-at-a-time-matched", "scale"):
        base = rows[0]
        return [Pair(r["step"], r["step_name"], base["step_name"]) for r in rows[1:]]
    if kind == "transformers":  # each Transformer against the chain's endpoint
        base = rows[0]
        return [Pair(r["step"], r["step_name"], base["step_name"], paper(base, r))
                for r in rows[1:]]
    if kind == "leave-one-out":
        full = rows[0]
        return [Pair(r["step"], full["step_name"], r["step_name"]) for r in rows[1:]]
    if kind == "sweep":
        return [Pair(r["step"], r["step_name"], rows[0]["step_name"]) for r in rows[1:]]
    if kind == "fcmae":  # the co-design study's fixed comparisons (studies.fcmae)
        from ..studies.fcmae import COMPARISONS

        by_name = {r["step_name"]: r for r in rows}
        return [Pair(by_name[t]["step"], t, c, paper(by_name[c], by_name[t]))
                for t, c, _ in COMPARISONS if t in by_name and c in by_name]
    main = [r for r in rows if not r.get("branch_of")]
    return [Pair(b["step"], b["step_name"], a["step_name"], paper(a, b))
            for a, b in zip(main, main[1:])]


def compare(treat: pd.Series, ctrl: pd.Series,
            predictions: list[tuple[dict, dict]] | None = None) -> dict[str, float]:
    """Paired statistics of two per-seed top-1 series (indexed by seed).

    ``predictions``: per common seed, the stored predictions of (treatment, control), for
    McNemar's test; seeds without them are left out of that test.
    """
    from scipy import stats

    seeds = sorted(set(treat.index) & set(ctrl.index))
    d = np.array([treat[s] - ctrl[s] for s in seeds], dtype=float)
    out: dict[str, float] = {"seeds": len(d), "delta": float(d.mean()) if len(d) else math.nan}
    out.update(t_lo=math.nan, t_hi=math.nan, boot_lo=math.nan, boot_hi=math.nan,
               p_t=math.nan, p_signflip=math.nan, sd=math.nan)
    if len(d) >= 2:
        sd = float(d.std(ddof=1))
        out["sd"] = sd
        if sd == 0.0:  # identical differences: no seed noise to test against
            out.update(t_lo=out["delta"], t_hi=out["delta"], boot_lo=out["delta"],
                       boot_hi=out["delta"], p_t=1.0 if out["delta"] == 0 else 0.0)
        else:
            half = t_half_width(d)
            out.update(t_lo=out["delta"] - half, t_hi=out["delta"] + half,
                       p_t=float(stats.ttest_rel([treat[s] for s in seeds],
                                                 [ctrl[s] for s in seeds]).pvalue))
            boot = stats.bootstrap((d,), np.mean, confidence_level=1 - ALPHA,
                                   n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                                   random_state=np.random.default_rng(0))
            out.update(boot_lo=float(boot.confidence_interval.low),
                       boot_hi=float(boot.confidence_interval.high))
        flip = stats.permutation_test((d,), np.mean, permutation_type="samples",
                                      n_resamples=np.inf, alternative="two-sided")
        out["p_signflip"] = float(min(1.0, flip.pvalue))
    out.update(mcnemar(predictions or []))
    return out


def t_half_width(values: np.ndarray | pd.Series) -> float:
    """Half the width of the two-sided 1 - ``ALPHA`` t interval of the mean of ``values``
    (two or more numbers: seeds, or paired differences over seeds)."""
    from scipy import stats

    n = len(values)
    return float(stats.t.ppf(1 - ALPHA / 2, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)


def mcnemar(predictions: list[tuple[dict, dict]]) -> dict[str, float]:
    """McNemar's test on per-image correctness, pooled over seeds.

    ``b``: images the control gets right and the treatment wrong; ``c``: the reverse.
    """
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    if not predictions:
        return {"p_mcnemar": math.nan, "images_b": math.nan, "images_c": math.nan}
    table = np.zeros((2, 2), dtype=np.int64)
    for treat, ctrl in predictions:
        if not np.array_equal(treat["label"], ctrl["label"]):
            raise ValueError("predictions of a pair are not on the same test images")
        t_ok = treat["pred"] == treat["label"]
        c_ok = ctrl["pred"] == ctrl["label"]
        table += np.array([[np.sum(c_ok & t_ok), np.sum(c_ok & ~t_ok)],
                           [np.sum(~c_ok & t_ok), np.sum(~c_ok & ~t_ok)]])
    b, c = int(table[0, 1]), int(table[1, 0])
    p = 1.0 if b + c == 0 else float(sm_mcnemar(table, exact=b + c < 50, correction=True).pvalue)
    return {"p_mcnemar": p, "images_b": b, "images_c": c}


def holm(p: list[float]) -> list[float]:
    """Holm-adjusted p-values (NaNs stay NaN and are not counted)."""
    from statsmodels.stats.multitest import multipletests

    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    out = [math.nan] * len(p)
    if idx:
        adjusted = multipletests([p[i] for i in idx], alpha=ALPHA, method="holm")[1]
        for i, v in zip(idx, adjusted):
            out[i] = float(v)
    return out


def mde(seeds: int, sd: float) -> float:
    """Smallest |mean difference| a paired t-test on ``seeds`` seeds detects (80% power)."""
    from statsmodels.stats.power import TTestPower

    if seeds < 2 or not math.isfinite(sd) or sd <= 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = TTestPower().solve_power(effect_size=None, nobs=seeds, alpha=ALPHA,
                                          power=POWER, alternative="two-sided")
    return float(effect) * sd


def verdict(row: dict) -> str:
    """``gain``, ``loss``, ``within noise`` or ``too few seeds`` (see module docstring)."""
    if row["seeds"] < 2:
        return "too few seeds"
    test_noise_ruled_out = math.isnan(row["p_mcnemar"]) or row["p_mcnemar"] < ALPHA
    if row["p_holm"] < ALPHA and test_noise_ruled_out:
        return "gain" if row["delta"] > 0 else "loss"
    return "within noise"


def ok_rows(df: pd.DataFrame, study: str, preset: str) -> pd.DataFrame:
    """The finished (status ok) rows of ``study`` at ``preset``."""
    rows = df[(df.study == study) & (df.preset == preset)]
    return rows[rows.status == "ok"] if "status" in rows else rows


def per_seed_rows(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: g.drop_duplicates("seed", keep="last").set_index("seed")
            for name, g in rows.groupby("step_name", sort=False)}


def study_stats(df: pd.DataFrame, study: str, preset: str,
                store: Store | None = None) -> pd.DataFrame:
    """One row per comparison of ``study`` at ``preset`` (columns ``STATS_COLUMNS``)."""
    rows = ok_rows(df, study, preset)
    steps = rows.drop_duplicates("step_name")
    per_seed = per_seed_rows(rows)
    out = []
    for pair in pairs_of(study, steps):
        if pair.treatment not in per_seed or pair.control not in per_seed:
            continue
        t, c = per_seed[pair.treatment], per_seed[pair.control]
        preds = []
        if store is not None:
            for s in sorted(set(t.index) & set(c.index)):
                pt, pc = (store.predictions(t.loc[s, "config_hash"]),
                          store.predictions(c.loc[s, "config_hash"]))
                if pt is not None and pc is not None:
                    preds.append((pt, pc))
        r = compare(t.top1, c.top1, preds)
        removal = parse_study(study).kind == "leave-one-out"
        step_name = pair.control if removal else pair.treatment
        out.append({"study": study, "preset": preset, "step": pair.step,
                    "step_name": step_name, "treatment": pair.treatment,
                    "control": pair.control,
                    "paper_delta": pair.paper_delta, **r})
    if not out:
        return pd.DataFrame(columns=STATS_COLUMNS)
    table = pd.DataFrame(out)
    table["p_holm"] = holm(table.p_t.tolist())
    variances = table.sd.dropna() ** 2
    pooled_sd = math.sqrt(float(variances.mean())) if len(variances) else math.nan
    table["mde"] = [mde(int(n), pooled_sd) for n in table.seeds]
    table["verdict"] = [verdict(r) for r in table.to_dict("records")]
    return table[STATS_COLUMNS]


def all_stats(df: pd.DataFrame, store: Store | None = None) -> pd.DataFrame:
    """``study_stats`` of every (study, preset) of a results table."""
    if df.empty:
        return pd.DataFrame(columns=STATS_COLUMNS)
    parts = [study_stats(df, study, preset, store)
             for (study, preset), _ in df.groupby(["study", "preset"], sort=False)]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=STATS_COLUMNS)


def provenance(df: pd.DataFrame, current_version: int) -> dict[str, object]:
    """Commits and numerics versions the rows come from; ``stale`` rows of other versions."""
    versions = df.get("numerics_version", pd.Series([math.nan] * len(df)))
    stale = int((versions.fillna(-1) != current_version).sum())
    commits = df.get("git_commit", pd.Series(dtype=str)).fillna("unknown")
    return {"commits": commits.value_counts().to_dict(), "stale": stale, "rows": len(df),
            "numerics_version": current_version}


def provenance_line(df: pd.DataFrame) -> str:
    """One line for figures and tables: which commits and numerics version made the rows."""
    from ..run.identity import NUMERICS_VERSION

    prov = provenance(df, NUMERICS_VERSION)
    commits = ", ".join(f"{c} ({n})" for c, n in prov["commits"].items())
    stale = f"; {prov['stale']} STALE rows (other numerics version)" if prov["stale"] else ""
    return f"{prov['rows']} runs from commit(s) {commits}; numerics version {NUMERICS_VERSION}{stale}"


def format_stats(table: pd.DataFrame) -> pd.DataFrame:
    """A compact printable view: delta with its intervals, p-values, verdict."""
    if table.empty:
        return table
    ci, _p = format_interval, format_p
    out = pd.DataFrame({
        "step": table.step, "comparison": table.treatment + " - " + table.control,
        "n": table.seeds, "delta": table.delta.map(lambda v: f"{v:+.2f}"),
        "t 95% CI": [ci(a, b) for a, b in zip(table.t_lo, table.t_hi)],
        "boot 95% CI": [ci(a, b) for a, b in zip(table.boot_lo, table.boot_hi)],
        "p_t": table.p_t.map(_p), "p_flip": table.p_signflip.map(_p),
        "p_mcnemar": table.p_mcnemar.map(_p), "p_holm": table.p_holm.map(_p),
        "mde": table.mde.map(lambda v: "" if math.isnan(v) else f"{v:.2f}"),
        "verdict": table.verdict,
        "paper": table.paper_delta.map(lambda v: "" if v is None or
                                       (isinstance(v, float) and math.isnan(v)) else f"{v:+.2f}"),
    })
    return out


def format_interval(lo: float, hi: float) -> str:
    """``[+lo, +hi]`` to two decimals; '' where there is no interval (one seed)."""
    return "" if math.isnan(lo) else f"[{lo:+.2f}, {hi:+.2f}]"


def format_p(v: float | None) -> str:
    """A p-value to four decimals, ``<1e-4`` below that; '' where there is none."""
    if v is None or math.isnan(v):
        return ""
    return "<1e-4" if v < 1e-4 else f"{v:.4f}"


def write_stats(df: pd.DataFrame, out: str | Path) -> Path:
    """Compute ``all_stats`` of a results folder and write ``stats.csv`` beside its table."""
    out = Path(out)
    table = all_stats(df, Store(out))
    path = out / "stats.csv"
    table.round(6).to_csv(path, index=False)
    return path
