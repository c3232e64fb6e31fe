"""End to end on the smoke preset: a 3-step chain runs, stores, skips, resumes, plots."""

import json

import pandas as pd
import pytest
import torch

from ablations.__main__ import main
from ablations.data import DataSpec, load_data
from ablations.figures.chain import all_figures
from ablations.run import runner
from ablations.run import store as store_mod
from ablations.run.store import run_paths
from ablations.train import TrainContext, TrainOptions, train_run
from ablations.train.recipe import RECIPES, run_preset
from models.roadmap import chain

CHAIN = "resnet50-to-convnext-t"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _steps():
    steps = chain(CHAIN)
    return [steps[0], steps[1], steps[-1]]  # original recipe, modern recipe, ConvNeXt-T


def test_three_step_chain_end_to_end(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", "--preset", "smoke", "--steps=resnet50-original,modern-recipe,separate-downsampling", "--out", str(out),
            "--no-progress", "--seeds", "2", "--device", "cpu"]
    assert main(args) == 0
    df = store_mod.load(out)
    assert len(df) == 6
    assert set(df.step_name) == {"resnet50-original", "modern-recipe", "separate-downsampling"}
    assert (df.status == "ok").all()
    # 10 synthetic classes: chance is 10% top-1, 50% top-5; the modern recipe's runs are
    # well above it after 2 smoke epochs (the original SGD recipe, step -1, is not yet)
    modern = df[df.step >= 0]
    assert len(modern) == 4 and (modern.top1 > 20).all(), df.top1.tolist()
    assert ((df.top5 >= df.top1) & (df.top5 <= 100)).all()
    # paper-scale costs are recorded next to the as-trained ones
    row = df[df.step_name == "separate-downsampling"].iloc[0]
    assert row.gflops == pytest.approx(4.456, abs=1e-3)
    assert row.trained_gflops < 0.01
    first = capsys.readouterr().out
    # a second run trains nothing and prints the same table
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    assert main(args) == 0
    second = capsys.readouterr().out
    lines = second.splitlines()  # the summary table, then the paired verdicts
    assert lines == first.splitlines()[-len(lines):] and lines[0].split()[:3] == [
        "study", "step", "step_name"]
    assert "paired over seeds" in second
    after = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    assert before == after
    # histories exist, one row per epoch
    h = store_mod.Store(out).history(row.config_hash)
    assert list(h.epoch) == [1, 2]
    # plots are valid PNGs
    paths = all_figures(df, out, CHAIN)
    pngs = [p for p in paths if p.suffix == ".png"]
    assert sorted(p.name for p in pngs) == ["accuracy_vs_gflops.png", "gain_vs_paper.png",
                                            "roadmap.png", "training_curves.png"]
    for p in pngs:
        assert p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 10_000
    assert main(["show", "--results", str(out), "--format", "csv"]) == 0
    shown = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(shown.seeds) == [2, 2, 2]


def test_same_design_in_another_study_is_not_retrained(tmp_path):
    preset = run_preset("smoke")
    steps = _steps()[1:2]
    runs = runner.plan(CHAIN, steps, preset, [0])
    runner.execute(runs, runner.ExecuteOptions(tmp_path, progress=False), log=lambda *_: None)
    other = runner.plan("my-study", steps, preset, [0])
    assert other[0].hash == runs[0].hash
    df = runner.execute(other, runner.ExecuteOptions(tmp_path, progress=False),
                        log=lambda *_: pytest.fail("trained again"))
    assert len(list((tmp_path / "runs").iterdir())) == 1
    assert set(store_mod.load(tmp_path).study) == {CHAIN, "my-study"}
    assert df.iloc[0].top1 == store_mod.load(tmp_path).iloc[0].top1


class _Interrupt(Exception):
    pass


class _InterruptingLoader:
    """Wraps a loader; raises at the start of epoch ``at`` once (like a killed process)."""

    def __init__(self, inner, at):
        self.inner, self.at, self.fired, self.epoch = inner, at, False, 0
        self.passes: list[int] = []  # the epochs actually iterated (trained)

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.inner.set_epoch(epoch)

    def __len__(self):
        return len(self.inner)

    def steps(self):  # what training iterates: an epoch's optimizer steps
        if self.epoch == self.at and not self.fired:
            self.fired = True
            raise _Interrupt()
        return self._pass()

    def _pass(self):
        self.passes.append(self.epoch)  # counted when the epoch's first step is drawn
        yield from self.inner.steps()

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _train(design, recipe, data, folder):
    return train_run(TrainContext(design, recipe, data, 0, run_paths(folder),
                                  TrainOptions(progress=False)))


def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    preset = run_preset("smoke").replace(epochs=3)
    recipe = preset.scale_recipe(RECIPES["convnext"]).replace(drop_path=0.1)
    design = runner.scale_design(chain(CHAIN)[-1].design, preset.width_multiplier)
    spec = DataSpec("synthetic", 32, 1)
    data = load_data(spec, None, recipe.loader_options(256, 0))
    full = _train(design, recipe, data, tmp_path / "full")

    data2 = load_data(spec, None, recipe.loader_options(256, 0))
    data2.train = _InterruptingLoader(data2.train, at=2)
    with pytest.raises(_Interrupt):
        _train(design, recipe, data2, tmp_path / "cut")
    state = torch.load(run_paths(tmp_path / "cut").checkpoint, weights_only=True)
    assert state["epoch"] == 2
    assert data2.train.passes == [0, 1]
    resumed = _train(design, recipe, data2, tmp_path / "cut")
    # the checkpoint was used: the resumed call trained epoch 3 only (a retrain from
    # scratch would pass over the data three more times and could end on the same numbers)
    assert data2.train.passes == [0, 1, 2]
    assert "start at epoch 2/3" in run_paths(tmp_path / "cut").log.read_text()
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for a, b in zip(full.history, resumed.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["test_top1"] == b["test_top1"]


def test_corrupted_checkpoint_is_moved_aside(tmp_path):
    preset = run_preset("smoke").replace(epochs=1)
    recipe = preset.scale_recipe(RECIPES["convnext"])
    design = runner.scale_design(chain(CHAIN)[-1].design, preset.width_multiplier)
    data = load_data(DataSpec("synthetic", 32, 1), None, recipe.loader_options(256, 0))
    (tmp_path / "run").mkdir()
    run_paths(tmp_path / "run").checkpoint.write_bytes(b"not a checkpoint")
    res = _train(design, recipe, data, tmp_path / "run")
    assert len(res.history) == 1
    assert run_paths(tmp_path / "run").checkpoint.with_suffix(".corrupt").exists()


def test_smoke_learns_the_synthetic_task(tmp_path):
    preset = run_preset("smoke").replace(epochs=3)
    runs = runner.plan(CHAIN, [chain(CHAIN)[1]], preset, [0])
    df = runner.execute(runs, runner.ExecuteOptions(tmp_path, progress=False), log=lambda *_: None)
    assert df.iloc[0].top1 > 30  # 10 classes: chance is 10%
    assert df.iloc[0].top1 < df.iloc[0].top5 < 100  # top-5 is not 100% by construction


def test_config_hash_changes_with_any_field():
    preset = run_preset("smoke")
    a = runner.plan(CHAIN, _steps(), preset, [0, 1])
    hashes = {r.hash for r in a}
    assert len(hashes) == 6
    b = runner.plan(CHAIN, _steps(), preset, [0], recipe_changes={"lr": 1e-3})
    assert not {r.hash for r in b} & hashes


def test_results_are_written_atomically(tmp_path):
    s = store_mod.Store(tmp_path)
    s.add_label({"study": "a", "step_name": "x", "preset": "p", "seed": 0, "config_hash": "h",
                 "top1": 1.0})
    s.add_label({"study": "a", "step_name": "x", "preset": "p", "seed": 0, "config_hash": "h",
                 "top1": 2.0})
    assert len(store_mod.load(tmp_path)) == 1
    assert not list(tmp_path.glob("*.tmp"))
    assert json.loads((tmp_path / "labels.jsonl").read_text().splitlines()[0])["top1"] == 2.0


def test_rows_name_the_cpu_and_replay_says_what_to_expect(tmp_path, capsys):
    from ablations.analysis.reproduce import expectation
    from ablations.system.machine import cpu_capability, cpu_model

    out = tmp_path / "ref"
    assert main(["run", "--preset", "smoke", "--steps=modern-recipe", "--out", str(out),
                 "--no-progress"]) == 0
    row = store_mod.load(out).iloc[0]
    assert row.cpu_model == cpu_model() and row.cpu_capability == cpu_capability() != ""
    here = (torch.__version__, cpu_model(), cpu_capability())
    table = store_mod.load(out)
    assert expectation(table, *here).startswith("expect: bit-identical")
    other = expectation(table.assign(cpu_model="Another CPU"), *here)
    assert other.startswith("expect: within noise, not bit-identical") and "Another CPU" in other
    unknown = expectation(table.drop(columns=["cpu_model", "cpu_capability"]), *here)
    assert "do not record cpu_model, cpu_capability" in unknown
    capsys.readouterr()
    assert main(["replay", "--preset", "smoke", "--steps=modern-recipe", "--reference",
                 str(out), "--out", str(tmp_path / "fresh"), "--no-progress", "--seeds", "1"]) == 0
    assert "expect: bit-identical" in capsys.readouterr().out
