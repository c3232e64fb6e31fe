"""A bar over several runs counts work (epochs x images x GFLOPs), not whole runs: its time
left shows after the first epoch (issue 37), from the epoch lines the training loop logs."""

import pytest

from ablations.__main__ import main
from ablations.run.progress import epochs_done, fraction_done, run_work
from ablations.run.runner import plan
from ablations.run.store import Store
from ablations.train.recipe import run_preset
from models.roadmap import chain, find_step

CHAIN = "resnet50-to-convnext-t"


def test_a_trained_run_logs_each_epoch_and_counts_whole(tmp_path):
    out = tmp_path / "res"
    assert main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--out", str(out),
                 "--no-progress"]) == 0
    run = plan(CHAIN, [find_step(CHAIN, "modern-recipe")], run_preset("smoke"), [0])[0]
    store = Store(out)
    assert epochs_done(store, run.hash) == run.recipe.epochs == 2
    assert fraction_done(store, [run], {run.hash: run_work(run)}) == 1.0


def test_a_run_in_flight_counts_its_epochs_done_weighted_by_its_work(tmp_path):
    steps = [find_step(CHAIN, "modern-recipe"), find_step(CHAIN, "depthwise-conv")]
    runs = plan(CHAIN, steps, run_preset("smoke"), [0])
    work = {r.hash: run_work(r) for r in runs}
    assert work[runs[0].hash] > 1.5 * work[runs[1].hash]  # 4.1 vs 2.4 GFLOPs at 224 px
    store = Store(tmp_path)
    assert fraction_done(store, runs, work) == 0.0
    log = store.paths(runs[0].hash).log
    log.parent.mkdir(parents=True)
    log.write_text("2026-01-01T00:00:00 pid 1 start at epoch 0/2; batch 32\n"
                   "2026-01-01T00:00:09 pid 1 epoch 1/2 done (9 s)\n")
    expected = 0.5 * work[runs[0].hash] / sum(work.values())
    assert fraction_done(store, runs, work) == pytest.approx(expected)
