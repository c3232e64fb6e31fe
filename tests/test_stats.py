"""Paired statistics: intervals, tests, corrections and verdicts on constructed data."""

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from ablations.analysis import agreement
from ablations.analysis import stats
from ablations.__main__ import main


def _series(values):
    return pd.Series(values, index=range(len(values)), dtype=float)


def _preds(n, correct_ctrl, correct_treat, seed=0):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 10, n).astype(np.int16)
    wrong = ((label + 1) % 10).astype(np.int16)
    return ({"label": label, "pred": np.where(correct_treat, label, wrong)},
            {"label": label, "pred": np.where(correct_ctrl, label, wrong)})


def test_paired_t_interval_and_pvalue_are_the_paired_ones():
    ctrl = _series([85.0, 86.0, 84.5, 85.5, 86.5])
    treat = ctrl + _series([0.9, 1.1, 0.7, 1.3, 1.0])  # a steady gain despite the seed spread
    r = stats.compare(treat, ctrl)
    assert r["delta"] == pytest.approx(1.0)
    for level in (0.95, 1 - 0.05 / 15):
        ci = sps.ttest_rel(treat, ctrl).confidence_interval(level)
        assert stats.interval(r["delta"], r["sd"], 5, 1 - level) == pytest.approx((ci.low, ci.high))
    # unpaired, the same numbers would be noise: pairing is what makes the gain visible
    assert sps.ttest_ind(treat, ctrl).pvalue > 0.05 > r["p_t"]
    assert math.isnan(r["boot_lo"])  # no bootstrap interval below 8 seeds
    assert r["p_signflip"] == pytest.approx(2 / 2 ** 5)  # all five signs agree: the floor
    eight = stats.compare(_series(list(ctrl + 1) + [86.0, 85.2, 85.9]),
                          _series(list(ctrl) + [85.1, 84.0, 85.0]))
    assert 0 < eight["boot_lo"] < eight["delta"] < eight["boot_hi"]


def test_mcnemar_counts_discordant_images_over_seeds():
    n = 1000
    ctrl_ok = np.arange(n) % 10 != 0                   # 90% right
    treat_ok = ctrl_ok.copy()
    treat_ok[np.arange(0, 300, 10)] = True             # 30 images fixed...
    treat_ok[501:506] = False                          # ...and 5 broken, per seed
    pair = _preds(n, ctrl_ok, treat_ok)
    r = stats.mcnemar([pair, pair])
    assert (r["images_b"], r["images_c"]) == (10, 60)
    assert r["p_mcnemar"] < 1e-6
    same = stats.mcnemar([_preds(n, ctrl_ok, ctrl_ok)])
    assert same["p_mcnemar"] == 1.0


def test_holm_matches_the_step_down_rule():
    assert stats.holm([0.01, 0.04, 0.03, math.nan]) == pytest.approx(
        [0.03, 0.06, 0.06, math.nan], nan_ok=True)


def test_mde_has_80_percent_power():
    d = stats.mde(5, 1.0)
    crit = sps.t.ppf(0.975, 4)
    power = sps.nct.sf(crit, 4, d * math.sqrt(5)) + sps.nct.cdf(-crit, 4, d * math.sqrt(5))
    assert power == pytest.approx(0.8, abs=1e-3)
    assert stats.mde(10, 1.0) < d  # more seeds detect smaller effects


def _table(deltas, noise, seeds=5, rng_seed=1):
    rng = np.random.default_rng(rng_seed)
    rows = []
    level = 85.0
    names = ["a", "b", "c", "d"]
    levels = [level]
    for d in deltas:
        levels.append(levels[-1] + d)
    for s in range(seeds):
        for i, name in enumerate(names[:len(levels)]):
            rows.append({"study": "chain", "preset": "p", "step": i, "step_name": name,
                         "seed": s, "top1": levels[i] + rng.normal(0, noise),
                         "config_hash": f"{name}{s}", "status": "ok",
                         "paper_top1": 70 + i * (1 if i != 2 else -1)})
    return pd.DataFrame(rows)


def test_verdicts_separate_real_steps_from_noise(monkeypatch):
    df = _table([3.0, -3.0, 0.0], noise=0.2)
    t = stats.study_stats(df, "chain", "p")
    assert list(t.step_name) == ["b", "c", "d"]
    assert list(t.verdict) == ["gain", "loss", "within noise"]
    assert (t.p_adj >= t.p_t).all() and (t.family == 3).all()
    # one rule: the printed interval excludes 0 exactly where the verdict is gain or loss
    assert list((t.lo > 0) | (t.hi < 0)) == [v in ("gain", "loss") for v in t.verdict]
    assert list(t.p_adj < 0.05) == [v in ("gain", "loss") for v in t.verdict]
    monkeypatch.setattr(stats, "BOOTSTRAP_RESAMPLES", 199)  # verdicts do not use it
    # With no real effect, a chain is wrongly given a verdict in at most ~5% of replays
    # (Bonferroni keeps the family-wise error at alpha); 60 null chains of 3 steps each.
    false = sum(set(stats.study_stats(_table([0.0, 0.0, 0.0], noise=1.0, rng_seed=k),
                                      "chain", "p").verdict) != {"within noise"}
                for k in range(60))
    assert false <= 7  # binomial(60, 0.05): P(X > 7) < 0.01
    one_seed = stats.study_stats(_table([3.0, -3.0, 0.0], noise=0.2, seeds=1), "chain", "p")
    assert set(one_seed.verdict) == {"too few seeds"}


def test_paper_agreement_rank_correlation_and_signs():
    df = _table([3.0, -3.0, 0.5], noise=0.1)  # paper gains: +1, -3, +3
    a = agreement.paper_agreement(df, "chain", "p")
    assert a["steps"] == 3 and a["seeds"] == 5
    assert a["signs_agree"] == 3
    assert a["spearman"] == pytest.approx(sps.spearmanr([3.0, -3.0, 0.5], [1, -3, 3]).statistic)
    assert a["spearman_lo"] <= a["spearman"] <= a["spearman_hi"]


def test_leave_one_out_delta_is_what_the_change_is_worth():
    rows = []
    for s in range(3):
        rows += [{"study": "leave-one-out:x", "preset": "p", "step": 0, "step_name": "full",
                  "seed": s, "top1": 90.0 + s * 0.1, "config_hash": f"f{s}", "status": "ok"},
                 {"study": "leave-one-out:x", "preset": "p", "step": 5, "step_name": "without-k",
                  "seed": s, "top1": 88.0 + s * 0.1, "config_hash": f"w{s}", "status": "ok"}]
    t = stats.study_stats(pd.DataFrame(rows), "leave-one-out:x", "p")
    assert t.step_name.tolist() == ["without-k"] and t.delta.iloc[0] == pytest.approx(2.0)


def test_stats_command_prints_a_verdict_per_step(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "--preset", "smoke", "--steps=modern-recipe,stage-ratio,patchify-stem", "--seeds", "2", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out  # run ends with the same verdicts stats prints
    assert main(["stats", "--results", str(out), "--write"]) == 0
    text = capsys.readouterr().out
    for name in ("stage-ratio - modern-recipe", "patchify-stem - stage-ratio"):
        line = next(line for line in text.splitlines() if name in line)
        assert any(v in line for v in ("gain", "loss", "within noise"))
    view = stats.format_stats(stats.all_stats(pd.read_csv(out / "results.csv")))
    for row in view.itertuples():
        run_line = next(line for line in printed.splitlines() if row.comparison in line)
        for value in (row.delta, row.interval, row.verdict):  # the verdict's interval
            assert value in run_line
            assert value in next(line for line in text.splitlines() if row.comparison in line)
    written = pd.read_csv(out / "stats.csv")
    steps = written[written.kind == "step"]
    assert len(steps) == 2 and steps.p_mcnemar.notna().all()  # predictions were stored
    assert set(written.kind) == {"step", "vs first"}


def test_stale_claims_are_computed_once_then_read_from_the_cache_and_a_new_result_misses_it(
        tmp_path, monkeypatch):
    from ablations.analysis import claims as claims_module

    folder = tmp_path / "res"
    folder.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "results/quick/results.csv", folder)
    monkeypatch.setenv("CONVNEXT_ABLATIONS_CACHE", str(tmp_path / "cache"))
    first = claims_module.folder_claims(folder)  # no stats.csv here: computed, then cached
    assert len(list((tmp_path / "cache/claims").glob("*.csv"))) == 1
    monkeypatch.setattr(claims_module, "claims", lambda *a, **k: pytest.fail("recomputed"))
    again = claims_module.folder_claims(folder)
    assert again.treatment.tolist() == first.treatment.tolist() and len(first) > 10
    assert np.allclose(again.lo.astype(float), first.lo.astype(float), atol=1e-6,
                       equal_nan=True)  # stored at 6 decimals
    with open(folder / "results.csv", "a") as f:  # another result: another key, computed
        f.write((folder / "results.csv").read_text().splitlines()[-1] + "\n")
    with pytest.raises(pytest.fail.Exception, match="recomputed"):
        claims_module.folder_claims(folder)


def test_spearman_ranks_ties_as_scipy_does():
    from ablations.analysis.agreement import spearman_rows

    rng = np.random.default_rng(1)
    gains, paper = rng.integers(0, 4, (50, 9)).astype(float), rng.integers(0, 3, 9).astype(float)
    ours = spearman_rows(gains, paper)
    assert np.allclose(ours, [sps.spearmanr(g, paper).statistic for g in gains], equal_nan=True)


def test_agreement_interval_covers_the_true_correlation_of_simulated_chains():
    """Chains with a known Spearman to the paper's gains (spread and seed noise as in the
    committed replay: 0.5 and 0.3 points): the 95% interval holds it in >= 90% of them."""
    from ablations.analysis.agreement import agreement_coverage

    paper = np.array([2.69, 0.54, 0.15, -1.23, 2.22, 0.14, -0.72, 0.65, 0.05, 0.65, 0.14,
                      0.06, 0.50])
    assert agreement_coverage(paper, 0.8, gain_sd=0.5, seed_sd=0.3, chains=200) >= 0.9


def test_agreement_interval_is_not_pulled_below_the_estimate_by_resampling():
    """Well separated gains with little noise: the interval sits around the estimate
    (resampling 5 seeds with replacement had put the estimate near its top)."""
    from ablations.analysis.agreement import agreement_interval, spearman_rows

    rng = np.random.default_rng(0)
    paper = np.linspace(-1, 1, 12)
    gains = 3 * paper + rng.standard_normal(12)
    diffs = gains[:, None] + 0.05 * rng.standard_normal((12, 5))
    rho = float(spearman_rows(diffs.mean(1)[None], paper)[0])
    lo, hi = agreement_interval(diffs, paper)
    assert lo <= rho <= hi and hi - lo < 0.05


@pytest.mark.parametrize("verdicts, word", [
    (["gain", "gain", "gain"], "same gain"), (["loss", "", "loss"], "same loss"),
    (["gain", "loss", "within noise"], "opposite"), (["within noise"] * 3, "noise everywhere"),
    (["gain", "within noise", ""], "depends"), (["", "", ""], "not measured"),
])
def test_a_change_is_summarised_across_its_contexts(verdicts, word):
    from ablations.analysis.contexts import across_contexts

    assert across_contexts(verdicts) == word


def test_the_order_figure_draws_only_the_measured_contexts(tmp_path):
    import matplotlib.pyplot as plt

    from ablations.analysis.contexts import CONTEXTS
    from ablations.figures.studies import _CONTEXT_WORDS, order_figure

    nan = float("nan")
    row = {CONTEXTS[0]: 0.5, CONTEXTS[0] + " lo": 0.1, CONTEXTS[0] + " hi": 0.9,
           CONTEXTS[1]: -0.2, CONTEXTS[1] + " lo": -0.6, CONTEXTS[1] + " hi": 0.2,
           CONTEXTS[0] + " verdict": "gain", CONTEXTS[1] + " verdict": "within noise",
           CONTEXTS[0] + " gflops": 4.5, CONTEXTS[1] + " gflops": 31.5,
           CONTEXTS[0] + " seeds": 5, CONTEXTS[1] + " seeds": 3}
    for c in CONTEXTS[2:]:
        row.update({c: nan, c + " lo": nan, c + " hi": nan, c + " verdict": "", c + " seeds": 0,
                    c + " gflops": nan})
    table = pd.DataFrame([row, {**row, CONTEXTS[0]: 0.7, CONTEXTS[1] + " seeds": 2}],
                         index=["a", "b"])
    drawn = []
    real_close = plt.close
    plt.close = lambda fig=None: drawn.append(fig) or real_close(fig)  # keep the legend
    try:
        paths = order_figure(table, tmp_path / "order", "t")
    finally:
        plt.close = real_close
    assert {p.suffix for p in paths} == {".png", ".svg"}
    ax = drawn[0].axes[0]
    # the measured contexts only, each saying in words what its bar is, and its seeds
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"{_CONTEXT_WORDS[CONTEXTS[0]]}, 5 seeds", f"{_CONTEXT_WORDS[CONTEXTS[1]]}, 2-3 seeds"]
    assert all("minus" in _CONTEXT_WORDS[c] or "rescaled" in _CONTEXT_WORDS[c] for c in CONTEXTS)
    # solid where stats gives a verdict, faded where within noise
    alphas = sorted({round(p.get_alpha(), 2) for p in ax.patches})
    assert alphas == [0.35, 1.0]
    # the cost of the changed design beside its bar
    assert {t.get_text() for t in ax.texts} == {"4.5 GF", "31.5 GF"}


def test_the_order_table_reads_each_change_in_its_three_contexts():
    from ablations.analysis.contexts import CONTEXTS, order_table
    from models.roadmap import DEFAULT_CHAIN, find_step

    levels = {DEFAULT_CHAIN: [("modern-recipe", 90.0), ("stage-ratio", 91.0)],
              f"one-at-a-time:{DEFAULT_CHAIN}": [("modern-recipe", 90.0),
                                                 ("only-stage-ratio", 92.5)],
              f"one-at-a-time-matched:{DEFAULT_CHAIN}": [("modern-recipe", 90.0),
                                                         ("only-stage-ratio", 90.5)],
              f"leave-one-out:{DEFAULT_CHAIN}": [("trunc-normal-init", 93.0),
                                                 ("without-stage-ratio", 89.0)]}
    gflops = {"modern-recipe": 4.09, "stage-ratio": 4.53, "only-stage-ratio": 4.53,
              "trunc-normal-init": 4.46, "without-stage-ratio": 3.99}
    rows = [{"study": study, "preset": "p", "step": i, "step_name": name, "seed": s,
             "top1": top1 + 0.1 * s * (i + 1), "config_hash": f"{study}{name}{s}",
             "status": "ok", "params_m": 25.0,
             "gflops": 4.10 if "matched" in study and i else gflops[name]}
            for study, steps in levels.items() for i, (name, top1) in enumerate(steps)
            for s in range(3)]
    table = order_table(pd.DataFrame(rows), DEFAULT_CHAIN, "p")
    row = table.loc[find_step(DEFAULT_CHAIN, "stage-ratio").title]
    # every context is the gain from adding the change: treatment - control
    assert [round(row[c], 6) for c in CONTEXTS] == [1.1, 2.6, 0.6, 3.9]
    assert [row[c + " seeds"] for c in CONTEXTS] == [3, 3, 3, 3]
    # the changed design's GFLOPs beside its reference's, in each context
    assert [(row[c + " gflops"], row[c + " ref gflops"]) for c in CONTEXTS] == [
        (4.53, 4.09), (4.53, 4.09), (4.10, 4.09), (3.99, 4.46)]
    assert table.drop(index=row.name)[list(CONTEXTS)].isna().all().all()  # nothing else run


def test_the_results_markdown_says_n_where_a_context_has_fewer_seeds(tmp_path):
    import importlib.util
    from pathlib import Path

    from ablations.analysis.contexts import CONTEXTS
    from models.roadmap import DEFAULT_CHAIN

    script = Path(__file__).resolve().parents[1] / "scripts" / "results_markdown.py"
    spec = importlib.util.spec_from_file_location("results_markdown", script)
    markdown = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(markdown)
    from ablations.studies.names import alone, removed

    studies = (DEFAULT_CHAIN, f"one-at-a-time:{DEFAULT_CHAIN}",
               f"one-at-a-time-matched:{DEFAULT_CHAIN}", f"leave-one-out:{DEFAULT_CHAIN}")
    measured = [(0.5, 5, "gain", 4.15), (0.1, 5, "within noise", 12.31), None,
                (-0.3, 1, "too few seeds", 4.37)]
    claims, rows = [], []
    for study, name, m in zip(studies, (str, alone, alone, removed), measured):
        if m is None:  # a context not measured: an empty cell
            continue
        delta, seeds, verdict, gflops = m
        step = name("kernel-7")
        treatment, control = (("trunc-normal-init", step) if study == studies[3]
                              else (step, "before"))
        half = 0.2 if seeds > 1 else float("nan")  # one seed: no interval
        claims.append({"kind": "step", "study": study, "preset": "quick", "step_name": step,
                       "treatment": treatment, "control": control, "seeds": seeds,
                       "delta": delta, "lo": delta - half, "hi": delta + half,
                       "verdict": verdict, "family": 14, "level": 1 - 0.05 / 14})
        rows.append({"study": study, "preset": "quick", "step_name": step if study != studies[3]
                     else step, "gflops": gflops})
    text = markdown.contexts_table(pd.DataFrame(rows), pd.DataFrame(claims), "quick")
    line = next(x for x in text.splitlines() if x.startswith("| Kernel size 7 |"))
    assert line == ("| Kernel size 7 | +0.50 [+0.30, +0.70] gain, 4.2 GF | +0.10 [-0.10, +0.30] "
                    "within noise, 12.3 GF |  | -0.30 too few seeds (n=1), 4.4 GF | depends |")


def test_a_redrawn_figure_writes_the_same_svg_bytes(tmp_path):
    # Committed figures are redrawn after every study; an unchanged figure must leave no diff.
    import matplotlib.pyplot as plt

    from ablations.figures.chain import save_figure

    svgs = []
    for name in ("first", "second"):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 0, 2])
        ax.set_title("same numbers")
        paths = save_figure(fig, tmp_path / name)
        svgs += [p.read_bytes() for p in paths if p.suffix == ".svg"]
    assert len(svgs) == 2 and svgs[0] == svgs[1]


def test_the_paper_is_paired_by_design_not_by_position():
    from ablations.analysis.paper import paper_by_design

    top1, folded = paper_by_design("resnet50-to-convnext-t")
    # the paper's last row (separate downsampling + layer scale + init) is our ConvNeXt-T
    assert top1["trunc-normal-init"] == 81.97 and "separate-downsampling" not in top1
    assert folded == {"separate-downsampling": "trunc-normal-init",
                      "layer-scale": "trunc-normal-init"}
    assert top1["bn-to-ln"] == 81.47


@pytest.mark.parametrize("lo, hi, expected, word", [
    (0.2, 0.9, 0.5, "reproduces"), (-0.9, -0.2, -0.5, "reproduces"),
    (-0.9, -0.2, 0.5, "contradicts"), (-0.3, 0.2, 0.8, "contradicts"),
    (-0.3, 0.9, 0.5, "cannot tell"), (-0.3, 0.9, float("nan"), ""),
])
def test_verdict_against_the_paper(lo, hi, expected, word):
    assert stats.vs_paper(lo, hi, expected) == word


def test_seeds_needed_reach_80_percent_power_and_no_fewer_do():
    alpha = 0.05 / 15
    n = stats.seeds_needed(0.5, 0.4, alpha)
    assert stats.mde(int(n), 0.4, alpha) <= 0.5 < stats.mde(int(n) - 1, 0.4, alpha)
    assert stats.seeds_needed(1e-4, 1.0, alpha) == math.inf
    assert math.isnan(stats.seeds_needed(float("nan"), 1.0, alpha))
    # the paper's gain is scaled to our error: 1 point of 20% error is 0.5 of 10%
    assert stats.scaled_paper_delta(1.0, 80.0, 90.0) == pytest.approx(0.5)


def test_committed_claims_follow_one_rule_and_answer_the_paper():
    """results/quick/stats.csv: the verdict's interval in lo/hi, a verdict against the paper
    and the seeds that would resolve it on every chain step the paper has, no bootstrap
    interval below 8 seeds, and the endpoint ConvNeXt-T vs ResNet-50 with its interval."""
    from pathlib import Path

    from ablations.analysis.claims import CLAIM_COLUMNS, endpoint

    table = pd.read_csv(Path(__file__).resolve().parent.parent / "results/quick/stats.csv")
    assert list(table.columns) == CLAIM_COLUMNS
    judged = table[table.verdict.isin(["gain", "loss"])]
    noise = table[table.verdict == "within noise"]
    assert ((judged.lo > 0) | (judged.hi < 0)).all() and len(judged) > 5
    assert ((noise.lo <= 0) & (noise.hi >= 0)).all() and len(noise) > 5
    assert table[table.seeds < 8].boot_lo.isna().all()
    chain = table[(table.study == "resnet50-to-convnext-t") & table.kind.isin(
        ["step", "paper step"]) & table.paper_delta.notna()]
    assert len(chain) == 13  # the paper's 13 step gains, its last row paired by design
    assert chain.vs_paper.isin(["reproduces", "contradicts", "cannot tell"]).all()
    assert chain.seeds_needed.notna().all()
    end = endpoint(table.assign(endpoint=table.endpoint.astype(bool)), "resnet50-to-convnext-t")
    assert (end["treatment"], end["control"]) == ("trunc-normal-init", "modern-recipe")
    assert end["hi"] < 0 and end["verdict"] == "loss"
