"""The scale study: cells one axis at a time, paired per cell, the gap per axis."""

import math
from pathlib import Path

import pandas as pd
import pytest

from ablations.analysis import scale as scale_gaps
from ablations.defaults import RESULTS
from ablations.studies import scale
from ablations.__main__ import main
from ablations.errors import UserError
from ablations.train.recipe import run_preset

ROOT = Path(__file__).resolve().parent.parent


def test_grid_parses_and_refuses_what_it_cannot_read():
    assert scale.parse_grid("train_images=7500,15000; width=0.25") == [
        {"train_images": [7500, 15000]}, {"width": [0.25]}]
    assert scale.parse_grid("regularisation=paper x epochs=6,24") == [
        {"regularisation": ["paper"], "epochs": [6, 24]}]
    for bad, msg in (("images=1", "AXIS one of"), ("epochs=twelve", "integers"),
                     ("epochs=", "no values"), ("epochs", "AXIS one of"),
                     ("regularisation=heavy", "off, paper"),
                     ("epochs=6 x epochs=24", "named twice")):
        with pytest.raises(UserError, match=msg):
            scale.parse_grid(bad)


def test_cells_change_one_field_each_and_skip_the_base_value():
    quick = run_preset("quick")
    cells = scale.cells(quick, {"epochs": [6, 12], "width": [0.25]})
    assert [c.label for c in cells] == ["quick", "quick+epochs=12", "quick+width=0.25"]
    assert cells[1].preset.epochs == 12 and cells[1].preset.width_multiplier == quick.width_multiplier
    assert cells[2].preset.width_multiplier == 0.25 and cells[2].preset.epochs == quick.epochs
    assert scale.cell_of("quick+width=0.25", quick) == {"width": 0.25}


def test_crossed_cells_are_every_combination_labelled_by_what_differs_from_the_base():
    quick = run_preset("quick")
    cells = scale.cells(quick, scale.parse_grid("regularisation=off,paper x epochs=6,24"))
    assert [c.label for c in cells] == ["quick", "quick+epochs=24", "quick+regularisation=paper",
                                        "quick+epochs=24+regularisation=paper"]
    crossed = cells[-1]
    assert crossed.preset.epochs == 24 and scale.regularisation_of(crossed.preset) == "paper"
    assert scale.cell_of(crossed.label, quick) == {"epochs": 24, "regularisation": "paper"}
    # the paper's regularisation replaces the short-training switches, nothing else
    shared = crossed.preset.recipe_overrides["*"]
    assert shared["mixup"] == 0.8 and shared["auto_augment"].startswith("rand-m9")
    assert crossed.preset.recipe_overrides["convnext"] == quick.recipe_overrides["convnext"]
    # a cell planned again from its label is the same runs (resumable, same hashes)
    from ablations.studies.steps import select_steps
    _, steps = select_steps("scale", "resnet50-to-convnext-t", ["modern-recipe"], False)
    again = scale.plan_scale("resnet50-to-convnext-t", steps, quick,
                             [{a: [v] for a, v in scale.cell_of(crossed.label, quick).items()}], [0])
    first = scale.plan_scale("resnet50-to-convnext-t", steps, quick,
                             scale.parse_grid("regularisation=off,paper x epochs=6,24"), [0])
    assert {r.hash for r in again if r.preset.name == crossed.label} == {
        r.hash for r in first if r.preset.name == crossed.label}


def test_crossing_is_found_between_a_gain_and_a_loss_only():
    rows = pd.DataFrame({"value": [7500, 15000, 30000], "gap": [1.0, -1.0, -2.0],
                         "verdict": ["gain", "loss", "loss"]})
    assert scale_gaps.crossing(rows) == pytest.approx(math.sqrt(7500 * 15000))  # midway in log2
    assert scale_gaps.crossing(rows.assign(gap=[-1.0, -0.5, -2.0],
                                           verdict=["loss"] * 3)) is None
    # a sign change of the mean gaps with a cell within noise is not a crossing
    noisy = rows.assign(verdict=["gain", "within noise", "loss"], gap=[0.13, -0.37, -1.1])
    assert scale_gaps.crossing(noisy) is None


def test_estimates_order_cells_cheapest_first():
    from models.roadmap import find_step

    quick = run_preset("quick")
    steps = [find_step("resnet50-to-convnext-t", s) for s in scale.DEFAULT_STEPS]
    runs = scale.plan_scale("resnet50-to-convnext-t", steps, quick,
                            {"epochs": [12], "train_images": [15000]}, [0])
    assert [r.preset.name for r in runs] == ["quick+train_images=15000"] * 2 + ["quick"] * 2 \
        + ["quick+epochs=12"] * 2
    table = scale.estimate_table(runs, quick, {"modern-recipe": 100.0, "trunc-normal-init": 100.0})
    minutes = dict(zip(table.cell, table.cpu_minutes))
    assert minutes["quick+epochs=12"] == pytest.approx(2 * minutes["quick"], rel=0.03)
    assert minutes["quick+train_images=15000"] == pytest.approx(minutes["quick"] / 4, rel=0.05)


def test_scale_study_end_to_end_on_smoke(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--study", "scale", "--preset", "smoke", "--grid",
                 "train_images=128;epochs=1", "--seeds", "2", "--out", str(out),
                 "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "estimated CPU minutes per cell" in printed and "smoke+epochs=1" in printed
    assert main(["stats", "--results", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "scale:resnet50-to-convnext-t: each step against its control" in printed
    assert "scale:resnet50-to-convnext-t: the gap's change along one axis" in printed
    for cell in ("smoke", "smoke+train_images=128", "smoke+epochs=1"):
        assert f" {cell} " in printed
    assert main(["plot", "--results", str(out)]) == 0
    gaps = pd.read_csv(out / "scale_resnet50-to-convnext-t.csv")
    assert set(gaps.axis) == {"train_images", "epochs"}
    assert sorted(gaps[gaps.axis == "epochs"].value) == [1, 2]  # the base cell on each axis
    assert (gaps.seeds == 2).all() and gaps.verdict.isin(["gain", "loss", "within noise"]).all()
    assert (gaps.device == "cpu").all() and (gaps.train_minutes >= 0).all()
    assert (out / "scale_resnet50-to-convnext-t.png").exists()


def test_result_rows_name_the_gpu(monkeypatch):
    import torch

    from ablations.system.machine import device_label

    assert device_label("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda dev: f"GPU {dev.index}")
    assert device_label("cuda:1") == "cuda:1 (GPU 1)"


def test_the_committed_scale_figure_draws_no_crossing_the_verdicts_do_not_support(tmp_path,
                                                                                 monkeypatch):
    import matplotlib.pyplot as plt

    from ablations.analysis.scale import study_gaps
    from ablations.figures import studies as figures
    from ablations.run.store import Store, load

    _, gaps = study_gaps(load(ROOT / RESULTS), "resnet50-to-convnext-t", Store(ROOT / RESULTS))
    assert {"train_images", "epochs"} <= set(gaps.axis)
    drawn = {}
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: drawn.setdefault("fig", fig))
    figures.scale_figure(gaps, tmp_path / "scale", "quick")
    texts = [t.get_text() for ax in drawn["fig"].axes for t in ax.texts]
    assert not any("changes sign" in t for t in texts)
    assert sum(t == "no crossing resolved" for t in texts) == len(set(gaps.axis))
    plt.close(drawn["fig"])


def _scale_rows(gaps: dict[str, list[float]]) -> pd.DataFrame:
    """A scale study's rows: per cell, ResNet-50 at 90 and ConvNeXt-T at 90 + the gap per seed."""
    rows = []
    for cell, per_seed in gaps.items():
        for seed, gap in enumerate(per_seed):
            for step, name, top1 in ((0, "modern-recipe", 90.0 + 0.1 * seed),
                                     (14, "trunc-normal-init", 90.0 + 0.1 * seed + gap)):
                rows.append({"study": "scale:resnet50-to-convnext-t", "preset": cell,
                             "step": step, "step_name": name, "seed": seed, "top1": top1,
                             "config_hash": f"{cell}{name}{seed}", "status": "ok",
                             "train_seconds": 1.0, "device": "cpu"})
    return pd.DataFrame(rows)


def test_gap_changes_are_paired_by_seed_and_the_trend_is_per_doubling():
    """Constructed gaps: a cell's change against its one-axis twin is the mean per-seed
    difference of the gaps; the trend is the mean per-seed slope per doubling."""
    from ablations.analysis.claims import scale_claims
    from ablations.analysis.scale import cell_table

    base = [-1.0, -1.2, -0.8, -1.1, -0.9]
    df = _scale_rows({
        "quick": base,
        "quick+epochs=12": [g + 0.5 for g in base],          # +0.5 per doubling, exactly
        "quick+epochs=24": [g + 1.0 + 0.01 * s for s, g in enumerate(base)],
        "quick+regularisation=paper": [g + 2.0 + 0.05 * (-1) ** s for s, g in enumerate(base)],
        "quick+epochs=24+regularisation=paper": [g + 3.0 for g in base]})
    parts = {p.kind.iat[0]: p for p in scale_claims(df, "scale:resnet50-to-convnext-t", None)}
    changes = parts["gap change"].set_index(["preset", "axis"])
    assert changes.loc[("quick+epochs=12", "epochs"), "delta"] == pytest.approx(0.5)
    assert changes.loc[("quick+epochs=12", "epochs"), "control"] == "quick"
    # the crossed cell against each twin: without regularisation, and at the base epochs
    assert changes.loc[("quick+epochs=24+regularisation=paper", "regularisation"),
                       "control"] == "quick+epochs=24"
    assert changes.loc[("quick+epochs=24+regularisation=paper", "regularisation"),
                       "delta"] == pytest.approx(2.0 - 0.02)
    assert changes.loc[("quick+epochs=24+regularisation=paper", "epochs"),
                       "control"] == "quick+regularisation=paper"
    trend = parts["trend"].set_index("axis").loc["epochs"]
    assert trend.delta == pytest.approx(0.5, abs=0.02) and trend.verdict == "gain"
    assert trend.family == 1 and (parts["step"].family == 5).all()  # every cell one family
    cells = cell_table(df, "resnet50-to-convnext-t").set_index("cell")
    assert cells.loc["quick+epochs=24+regularisation=paper", "regularisation"] == "paper"
    assert cells.loc["quick+epochs=24+regularisation=paper", "epochs"] == 24
    assert cells.loc["quick+regularisation=paper", "reg_change"] == pytest.approx(2.0, abs=0.05)
    assert math.isnan(cells.loc["quick", "reg_change"])


def test_a_cell_with_the_chain_gets_its_own_figure_2_with_the_chains_claims(tmp_path):
    """The chain's committed runs relabelled as a scale cell: Figure 2 of that cell rests on
    the same claims (each step's interval) as the chain's own, and names the cell."""
    from ablations.analysis.claims import chain_claims
    from ablations.figures.folder import draw_cell_figure
    from ablations.figures.paper_figure import regimes_of
    from ablations.run.store import Store

    chain_name = "resnet50-to-convnext-t"
    df = pd.read_csv(ROOT / RESULTS / "results.csv")
    rows = df[(df.study == chain_name) & (df.preset == "quick")]
    cell = rows.assign(study=f"scale:{chain_name}", preset="quick+train_images=7500")
    paths = draw_cell_figure(cell, tmp_path, "quick+train_images=7500", chain_name,
                             formats=(".png",))
    assert [p.name for p in paths] == ["figure2_quick_train_images-7500.png"]
    drawn = regimes_of(cell.assign(study=chain_name), (chain_name,), tmp_path,
                       "quick+train_images=7500")[0]
    own = pd.concat(chain_claims(df, chain_name, "quick", Store(tmp_path)), ignore_index=True)
    key = ["kind", "treatment", "control"]
    merged = drawn.stats.merge(own, on=key, suffixes=("_cell", "_chain"))
    assert len(merged) == len(own) > 10
    assert (merged.lo_cell - merged.lo_chain).abs().max() < 1e-9
    assert (merged.verdict_cell == merged.verdict_chain).all()
    from ablations.analysis.claims import claims

    table = claims(cell, Store(tmp_path))  # the claims table holds the same, as 'cell' kinds
    mine = table[table.kind == "cell vs first"].set_index("treatment")
    ours = drawn.stats[drawn.stats.kind == "vs first"].set_index("treatment")
    assert len(mine) == len(ours) > 10 and (mine.lo - ours.lo.loc[mine.index]).abs().max() < 1e-9
    with pytest.raises(UserError, match="2 steps"):
        draw_cell_figure(cell[cell.step_name.isin(["modern-recipe", "trunc-normal-init"])],
                         tmp_path, "quick+train_images=7500", chain_name)


def test_a_line_of_crossed_cells_has_its_own_trend_named_by_the_other_axes():
    """Epochs 6, 12, 24 at the base (slope +0.5 per doubling) and again with the paper's
    regularisation (slope -1.0): two trends along epochs, each named by where it runs."""
    from ablations.analysis.claims import scale_claims

    base = [-1.0, -1.2, -0.8, -1.1, -0.9]
    noise = [0.01, -0.02, 0.0, 0.02, -0.01]
    df = _scale_rows({
        "quick": base,
        "quick+epochs=12": [g + 0.5 + n for g, n in zip(base, noise)],
        "quick+epochs=24": [g + 1.0 for g in base],
        "quick+regularisation=paper": base,
        "quick+epochs=12+regularisation=paper": [g - 1.0 + n for g, n in zip(base, noise)],
        "quick+epochs=24+regularisation=paper": [g - 2.0 for g in base]})
    parts = {p.kind.iat[0]: p for p in scale_claims(df, "scale:resnet50-to-convnext-t", None)}
    trends = parts["trend"].set_index("treatment")
    assert set(trends.index) == {"gap per doubling of epochs",
                                 "gap per doubling of epochs at regularisation=paper"}
    assert trends.loc["gap per doubling of epochs", "delta"] == pytest.approx(0.5, abs=0.02)
    crossed = trends.loc["gap per doubling of epochs at regularisation=paper"]
    assert crossed.delta == pytest.approx(-1.0, abs=0.02) and crossed.verdict == "loss"
    assert (parts["trend"].family == 2).all()  # the trends are one family
