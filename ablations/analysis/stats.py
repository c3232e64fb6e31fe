"""Which step differences are real: paired statistics over seeds and test images.

Every comparison is a *treatment* against a *control* trained on the same seeds (seed s
of every step sees the same data order, augmentation stream and training subset), so the
per-seed differences are paired. For each comparison:

- ``delta``: mean over paired seeds of top-1(treatment) - top-1(control), in points;
- ``lo``/``hi``: **the verdict's interval** (``RULE``): the paired-t interval at level
  1 - 0.05/m, m the comparisons of its family (the study at one preset; Bonferroni), so
  that it excludes 0 exactly when the verdict is gain or loss; ``level`` and ``family``
  say which;
- ``p_t``: paired t-test (``scipy.stats.ttest_rel``); ``p_adj``: ``min(1, m * p_t)``, below
  0.05 exactly when the interval excludes 0;
- ``p_signflip``: exact sign-flip permutation test over seeds (with n seeds its smallest
  possible value is 2 / 2**n, 0.0625 for 5 seeds); ``p_mcnemar``: McNemar's test on the
  per-image predictions pooled over seeds (``statsmodels``), test-set noise: a column of its
  own, not part of the verdict;
- ``boot_lo``/``boot_hi``: a percentile bootstrap interval over seeds, only from
  ``BOOTSTRAP_MIN_SEEDS`` seeds (below that it is far narrower than the t interval and makes
  noise look like an effect);
- ``mde``: the smallest |delta| this rule detects with 80% power at these seeds, from the
  family's pooled seed-to-seed sd of differences (``statsmodels``);
- ``verdict``: ``gain`` / ``loss`` when the interval excludes 0, else ``within noise``
  (``too few seeds`` below 2);
- against the paper (where it has the comparison, ``paper_delta``): ``paper_scaled``, the
  paper's gain as the same relative change in error at our control's accuracy;
  ``vs_paper``: ``reproduces`` (the interval excludes 0 on the paper's side),
  ``contradicts`` (it excludes 0 on the other side, or excludes the paper's scaled gain),
  ``cannot tell`` (it holds both 0 and the paper's scaled gain); ``seeds_needed``: the seeds
  at which this rule detects the paper's scaled gain with 80% power.

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

from models.roadmap import CHAINS

from ..run.store import Store
from ..studies.names import parse_study
from .paper import paper_by_design

ALPHA = 0.05
POWER = 0.8
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_MIN_SEEDS = 8
"""No bootstrap interval below this many seeds."""
SEEDS_NEEDED_CAP = 1000
"""``seeds_needed`` above this is reported as infinite (no practical number of seeds)."""
RULE = ("A verdict is gain or loss when its interval excludes 0: the paired-t interval over "
        "seeds at level 1 - 0.05/m, m the comparisons of its study (Bonferroni); that "
        "interval is the one printed beside it.")
"""The one rule for a verdict, the sentence every view repeats."""
STATS_COLUMNS = ["study", "preset", "step", "step_name", "treatment", "control", "seeds",
                 "delta", "lo", "hi", "level", "family", "p_t", "p_adj", "p_signflip",
                 "p_mcnemar", "boot_lo", "boot_hi", "mde", "verdict", "paper_delta",
                 "paper_scaled", "vs_paper", "seeds_needed", "images_b", "images_c"]


@dataclass(frozen=True)
class Pair:
    """One comparison: labels of the treatment and the control step of a study."""

    step: int
    treatment: str
    control: str
    paper_delta: float | None = None
    paper_control: float | None = None
    """The paper's top-1 of the control (what ``paper_scaled`` scales the error from)."""


def pairs_of(study: str, steps: pd.DataFrame) -> list[Pair]:
    """The comparisons of ``study`` given its step rows (``step``, ``step_name``, paper)."""
    rows = steps.sort_values("step", kind="stable").to_dict("records")
    if not rows:
        return []

    def paper(a: dict, b: dict) -> float | None:
        pa, pb = a.get("paper_top1"), b.get("paper_top1")
        ok = all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in (pa, pb))
        return float(pb) - float(pa) if ok else None

    def pair(step: int, t: dict, c: dict) -> Pair:
        d = paper(c, t)
        return Pair(step, t["step_name"], c["step_name"], d,
                    float(c["paper_top1"]) if d is not None else None)

    kind = parse_study(study).kind
    if kind in ("one-at-a-time", "one-at-a-time-matched", "scale"):
        base = rows[0]
        return [Pair(r["step"], r["step_name"], base["step_name"]) for r in rows[1:]]
    if kind == "transformers":  # each Transformer against the chain's endpoint
        base = rows[0]
        return [pair(r["step"], r, base) for r in rows[1:]]
    if kind == "leave-one-out":
        full = rows[0]
        return [Pair(r["step"], full["step_name"], r["step_name"]) for r in rows[1:]]
    if kind == "sweep":
        return [Pair(r["step"], r["step_name"], rows[0]["step_name"]) for r in rows[1:]]
    if kind == "fcmae":  # the co-design study's fixed comparisons (studies.fcmae)
        from ..studies.fcmae import COMPARISONS

        by_name = {r["step_name"]: r for r in rows}
        return [pair(by_name[t]["step"], by_name[t], by_name[c])
                for t, c, _ in COMPARISONS if t in by_name and c in by_name]
    main = [r for r in rows if not r.get("branch_of")]
    if study in CHAINS:  # the paper paired by design (paper.paper_by_design)
        top1, folded = paper_by_design(study)
        main = [{**r, "paper_top1": None if r["step_name"] in folded else top1.get(r["step_name"])}
                for r in main]
    return [pair(b["step"], b, a) for a, b in zip(main, main[1:])]


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
    out.update(boot_lo=math.nan, boot_hi=math.nan, p_t=math.nan, p_signflip=math.nan,
               sd=math.nan)
    if len(d) >= 2:
        sd = float(d.std(ddof=1))
        out["sd"] = sd
        if sd == 0.0:  # identical differences: no seed noise to test against
            out.update(p_t=1.0 if out["delta"] == 0 else 0.0)
        else:
            out.update(p_t=float(stats.ttest_rel([treat[s] for s in seeds],
                                                 [ctrl[s] for s in seeds]).pvalue))
            if len(d) >= BOOTSTRAP_MIN_SEEDS:
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


def t_quantile(q: float, df: float) -> float:
    """Student's t quantile ``q`` at ``df`` degrees of freedom (scipy.special's: the read
    commands then never import scipy.stats, a second of start-up)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, q))


def t_half_width(values: np.ndarray | pd.Series, alpha: float = ALPHA) -> float:
    """Half the width of the two-sided 1 - ``alpha`` t interval of the mean of ``values``
    (two or more numbers: seeds, or paired differences over seeds)."""
    n = len(values)
    return t_quantile(1 - alpha / 2, n - 1) * float(np.std(values, ddof=1)) / math.sqrt(n)


def interval(delta: float, sd: float, n: int, alpha: float) -> tuple[float, float]:
    """The two-sided 1 - ``alpha`` paired-t interval of a mean difference ``delta`` with
    seed-to-seed sd ``sd`` over ``n`` seeds (the point where sd is 0; NaNs below 2 seeds)."""
    if n < 2 or not math.isfinite(sd):
        return math.nan, math.nan
    half = t_quantile(1 - alpha / 2, n - 1) * sd / math.sqrt(n)
    return delta - half, delta + half


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


def mde(seeds: int, sd: float, alpha: float = ALPHA) -> float:
    """Smallest |mean difference| a paired t-test at ``alpha`` on ``seeds`` seeds detects
    with 80% power."""
    from statsmodels.stats.power import TTestPower

    if seeds < 2 or not math.isfinite(sd) or sd <= 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = TTestPower().solve_power(effect_size=None, nobs=seeds, alpha=alpha,
                                          power=POWER, alternative="two-sided")
    return float(np.asarray(effect).item()) * sd


def seeds_needed(effect: float, sd: float, alpha: float = ALPHA) -> float:
    """The fewest seeds at which a paired t-test at ``alpha`` detects a true mean difference
    ``effect`` with 80% power (``inf`` beyond ``SEEDS_NEEDED_CAP``; NaN without an effect
    or an sd)."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or effect == 0 or sd <= 0:
        return math.nan
    lo, hi = 2, SEEDS_NEEDED_CAP  # mde falls with the seeds: bisect for the first n that detects
    if mde(hi, sd, alpha) > abs(effect):
        return math.inf
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if mde(mid, sd, alpha) <= abs(effect) else (mid + 1, hi)
    return float(lo)


def verdict(row: dict) -> str:
    """``gain`` / ``loss`` where the verdict's interval (``lo``, ``hi``) excludes 0, else
    ``within noise``; ``too few seeds`` below 2 (see ``RULE``)."""
    if row["seeds"] < 2 or math.isnan(row["lo"]):
        return "too few seeds"
    if row["lo"] > 0:
        return "gain"
    if row["hi"] < 0:
        return "loss"
    return "within noise"


def scaled_paper_delta(paper_delta: float | None, paper_control: float | None,
                       control_top1: float) -> float:
    """The paper's gain as the same relative change in error at our control's accuracy:
    ``paper_delta`` x (100 - ``control_top1``) / (100 - ``paper_control``) (NaN where the
    paper has no number). Accuracies of different data sets are compared on this scale:
    a change that removes 5% of the errors on ImageNet removes 5% of ours."""
    if paper_delta is None or paper_control is None or not math.isfinite(float(paper_delta)):
        return math.nan
    return float(paper_delta) * (100.0 - control_top1) / (100.0 - float(paper_control))


def vs_paper(lo: float, hi: float, expected: float) -> str:
    """``reproduces``, ``contradicts`` or ``cannot tell`` for an interval and the paper's
    scaled gain (see the module docstring); '' where the paper has no number."""
    if not math.isfinite(expected) or math.isnan(lo):
        return ""
    if lo > 0 or hi < 0:
        same_side = (lo > 0 and expected > 0) or (hi < 0 and expected < 0)
        return "reproduces" if same_side else "contradicts"
    return "contradicts" if not lo <= expected <= hi else "cannot tell"


def apply_rule(table: pd.DataFrame) -> pd.DataFrame:
    """Set the verdict's interval, adjusted p, MDE, verdict and the columns against the
    paper on ``table``, one family of comparisons (needs ``delta``, ``sd``, ``seeds``,
    ``p_t``, ``control_top1``, ``paper_delta``, ``paper_control``)."""
    table = table.copy()
    m = max(1, int((table.seeds >= 2).sum()))
    alpha = ALPHA / m
    table["family"], table["level"] = m, 1 - alpha
    bounds = [interval(d, sd, int(n), alpha) for d, sd, n in zip(table.delta, table.sd, table.seeds)]
    table["lo"], table["hi"] = [b[0] for b in bounds], [b[1] for b in bounds]
    table["p_adj"] = [min(1.0, p * m) if math.isfinite(p) else math.nan for p in table.p_t]
    variances = table.sd.dropna() ** 2
    pooled_sd = math.sqrt(float(variances.mean())) if len(variances) else math.nan
    table["mde"] = [mde(int(n), pooled_sd, alpha) for n in table.seeds]
    table["verdict"] = [verdict(r) for r in table.to_dict("records")]
    table["paper_scaled"] = [scaled_paper_delta(d, c, t) for d, c, t in
                             zip(table.paper_delta, table.paper_control, table.control_top1)]
    table["vs_paper"] = [vs_paper(lo, hi, e) for lo, hi, e in
                         zip(table.lo, table.hi, table.paper_scaled)]
    table["seeds_needed"] = [seeds_needed(e, pooled_sd, alpha) for e in table.paper_scaled]
    return table


def ok_rows(df: pd.DataFrame, study: str, preset: str) -> pd.DataFrame:
    """The finished (status ok) rows of ``study`` at ``preset``."""
    rows = df[(df.study == study) & (df.preset == preset)]
    return rows[rows.status == "ok"] if "status" in rows else rows


def per_seed_rows(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: g.drop_duplicates("seed", keep="last").set_index("seed")
            for name, g in rows.groupby("step_name", sort=False)}


def _predictions(store: Store | None, t: pd.DataFrame, c: pd.DataFrame,
                 seeds: list[int]) -> list[tuple[dict, dict]]:
    """The stored test predictions of (treatment, control) per seed, where both have them."""
    preds = []
    if store is not None:
        for s in seeds:
            pt, pc = (store.predictions(t.loc[s, "config_hash"]),
                      store.predictions(c.loc[s, "config_hash"]))
            if pt is not None and pc is not None:
                preds.append((pt, pc))
    return preds


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
        r = compare(t.top1, c.top1, _predictions(store, t, c, sorted(set(t.index) & set(c.index))))
        removal = parse_study(study).kind == "leave-one-out"
        step_name = pair.control if removal else pair.treatment
        common = sorted(set(t.index) & set(c.index))
        out.append({"study": study, "preset": preset, "step": pair.step,
                    "step_name": step_name, "treatment": pair.treatment,
                    "control": pair.control, "paper_delta": pair.paper_delta,
                    "paper_control": pair.paper_control,
                    "control_top1": float(c.top1.loc[common].mean()) if common else math.nan,
                    **r})
    if not out:
        return pd.DataFrame(columns=STATS_COLUMNS)
    return apply_rule(pd.DataFrame(out))[STATS_COLUMNS]


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
        "interval": [ci(a, b) for a, b in zip(table.lo, table.hi)],
        "level": table.level.map(lambda v: "" if math.isnan(v) else f"{100 * v:.2f}%"),
        "p_adj": table.p_adj.map(_p), "p_mcnemar": table.p_mcnemar.map(_p),
        "mde": table.mde.map(lambda v: "" if math.isnan(v) else f"{v:.2f}"),
        "verdict": table.verdict,
        "paper": table.paper_delta.map(lambda v: "" if v is None or
                                       (isinstance(v, float) and math.isnan(v)) else f"{v:+.2f}"),
        "vs paper": table.vs_paper.fillna(""),
        "seeds needed": table.seeds_needed.map(format_seeds),
    })
    if table.boot_lo.notna().any():  # only from BOOTSTRAP_MIN_SEEDS seeds
        out.insert(5, "boot 95%", [ci(a, b) for a, b in zip(table.boot_lo, table.boot_hi)])
    return out


def format_seeds(v: float) -> str:
    """Seeds needed as text: '' where there is no paper number, '>1000' past the cap."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f">{SEEDS_NEEDED_CAP}" if math.isinf(v) else str(int(v))


def format_interval(lo: float, hi: float) -> str:
    """``[+lo, +hi]`` to two decimals; '' where there is no interval (one seed)."""
    return "" if math.isnan(lo) else f"[{lo:+.2f}, {hi:+.2f}]"


def format_p(v: float | None) -> str:
    """A p-value to four decimals, ``<1e-4`` below that; '' where there is none."""
    if v is None or math.isnan(v):
        return ""
    return "<1e-4" if v < 1e-4 else f"{v:.4f}"
