"""Data parallel training with 2 gloo processes (torchrun), gradient accumulation, submitit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ablations.train import distributed
from ablations.__main__ import main
from ablations.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
# ConvNeXt-T (LayerNorm): per-process batches give the same gradients as one big batch.
BASE = ["run", "--preset", "smoke", "--steps=layer-scale", "--no-progress", "--device", "cpu",
        "--threads", "1"]


def _cli(args, env_extra=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "ablations", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def _history(out: Path) -> pd.DataFrame:
    (run,) = list((out / "runs").iterdir())
    return pd.read_csv(run / "history.csv")


def test_two_gloo_processes_match_one_process(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    # No stochastic depth: the only per-rank randomness; everything else (data order,
    # flips) is drawn from the same global stream, so the two runs can agree exactly.
    exact = BASE + ["--recipe-set", "drop_path=0.0"]
    p1 = _cli(exact + ["--out", str(one)])
    assert p1.returncode == 0, p1.stderr
    p2 = _cli(exact + ["--out", str(two), "--nproc", "2"])
    assert p2.returncode == 0, p2.stderr[-3000:]
    # written once, by rank 0
    labels = (two / "labels.jsonl").read_text().splitlines()
    assert len(labels) == 1
    assert len(pd.read_csv(two / "results.csv")) == 1
    assert p2.stdout.count("layer-scale s0: top-1") == 1
    h1, h2 = _history(one), _history(two)
    assert len(h1) == len(h2) == 2
    # same global batch, same data order: the same training up to float summation order
    # (measured: 6e-8 apart)
    assert h2["train_loss"].tolist() == pytest.approx(h1["train_loss"].tolist(), abs=1e-5)
    for col in ("test_top1", "test_top5"):
        assert h2[col].tolist() == h1[col].tolist(), col
    r1 = json.loads(next((one / "runs").iterdir()).joinpath("result.json").read_text())
    r2 = json.loads(next((two / "runs").iterdir()).joinpath("result.json").read_text())
    assert r1["config_hash"] == r2["config_hash"]  # the number of processes is not a config
    # the ranks' test predictions are gathered in the test set's order: they pair with the
    # one-process run image by image (so stats' McNemar test works on DDP runs)
    import numpy as np

    p1, p2 = (np.load(next((d / "runs").iterdir()) / "predictions.npz") for d in (one, two))
    assert np.array_equal(p1["label"], p2["label"]) and len(p2["label"]) == 512
    assert (p1["pred"] == p2["pred"]).mean() > 0.99


def test_gradient_accumulation_matches_the_full_batch(tmp_path):
    full, acc = tmp_path / "full", tmp_path / "acc"
    assert main(BASE + ["--out", str(full)]) == 0
    assert main(BASE + ["--out", str(acc), "--batch-per-device", "8"]) == 0  # 4 micro-batches
    h1, h2 = _history(full), _history(acc)
    assert h2["train_loss"].tolist() == pytest.approx(h1["train_loss"].tolist(), rel=2e-3)
    # Summation order differs (4 means of 8 vs one of 32): after two epochs a borderline
    # test image or two of 512 may flip (measured: 0.39 points); a gradient made of only
    # some micro-batches moves the loss well past 2e-3.
    assert h2["test_top1"].tolist() == pytest.approx(h1["test_top1"].tolist(), abs=0.5)


def test_micro_batches_split_exactly():
    assert distributed.micro_batches(4096, 8, None) == (512, 1)
    assert distributed.micro_batches(4096, 8, 128) == (512, 4)
    with pytest.raises(UserError, match="multiple of 3"):
        distributed.micro_batches(4096, 3, None)
    # the limit is an upper bound: the largest micro-batch that splits the share exactly
    assert distributed.micro_batches(4096, 8, 100) == (512, 8)  # 64
    assert distributed.micro_batches(256, 8, 128) == (32, 1)  # step -1's batch on 8 GPUs
    assert distributed.micro_batches(4096, 1, 128, mix_batch=128) == (4096, 32)
    assert distributed.micro_batches(4096, 1, 300, mix_batch=128) == (4096, 16)  # 256
    with pytest.raises(UserError, match="--batch-per-device=64.*mix_batch=128"):
        distributed.micro_batches(4096, 1, 64, mix_batch=128)
    with pytest.raises(UserError, match="recipe.mix_batch=128.*32 = 256 / 8"):
        distributed.micro_batches(256, 8, 128, mix_batch=128)


def test_single_process_context_without_torchrun(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = distributed.from_environment("cpu")
    assert ctx.world_size == 1 and ctx.is_main and not ctx.enabled


def test_submitit_local_launcher_runs_each_step_once(tmp_path, capsys):
    pytest.importorskip("submitit")
    out = tmp_path / "res"
    args = ["run", "--preset", "smoke", "--steps=modern-recipe,layer-scale", "--out", str(out), "--no-progress",
            "--launcher", "local", "--threads", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.count("ok, top-1") == 2
    df = pd.read_csv(out / "results.csv")
    assert sorted(df.step_name) == ["layer-scale", "modern-recipe"]
    assert (df.status == "ok").all()
    assert any((out / "jobs").iterdir())  # submitit's logs
    # nothing left to do: no job is submitted again
    assert main(args) == 0
    assert "nothing to submit" in capsys.readouterr().out


def test_submitit_job_resubmits_itself_on_preemption(tmp_path):
    submitit = pytest.importorskip("submitit")
    from ablations.run.jobs import RunJob
    from ablations.run import runner
    from ablations.train.recipe import run_preset
    from models.roadmap import chain

    run = runner.plan("c", [chain("resnet50-to-convnext-t")[-1]], run_preset("smoke"), [0])[0]
    job = RunJob(run, runner.ExecuteOptions(str(tmp_path), threads=1))
    again = job.checkpoint()
    assert isinstance(again, submitit.helpers.DelayedSubmission)
    assert again.function is job  # the same run: it resumes from its epoch checkpoint


def test_replay_under_torchrun_plots_once_after_the_ranks(tmp_path):
    # The ranks train; only the parent that relaunched them draws the figures, once.
    out = tmp_path / "replay"
    p = _cli(["replay", "--preset", "smoke", "--steps=bn-to-ln,separate-downsampling", "--no-progress", "--device",
              "cpu", "--threads", "1", "--jobs", "1", "--reference", "none", "--out",
              str(out), "--nproc", "2"])
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.count(f"wrote {out / 'roadmap.png'}") == 1
    assert (out / "roadmap.png").exists()


def test_a_damaged_checkpoint_under_two_processes_is_moved_aside_once(tmp_path):
    out = tmp_path / "out"
    first = _cli(BASE + ["--out", str(out)])
    assert first.returncode == 0, first.stderr
    (run,) = list((out / "runs").iterdir())
    (run / "result.json").unlink()  # unfinished again, with a damaged last checkpoint
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    again = _cli(BASE + ["--out", str(out), "--nproc", "2"])
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("unreadable") == 1  # rank 0 alone moved it
    assert (run / "checkpoint.corrupt").read_bytes() == b"not a checkpoint"
    assert (run / "result.json").exists()


def test_the_paper_preset_on_two_gloo_processes_and_an_image_folder(tmp_path):
    """The GPU path on CPUs: a folder, two ranks, micro-batches of 128 (batch 256 = 2 x 128),
    no flag; the ranks serve equal steps and DDP's spurious stride warning is not printed."""
    from ablations.data import folders

    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=150, size=40,
                                     val_per_class=9)
    out = tmp_path / "r"
    p = _cli(["run", "--preset", "paper", "--data-dir", str(root), "--steps", "modern-recipe",
              "--set", "resolution=32", "--set", "width_multiplier=0.0625", "--set",
              "batch_size=256", "--set", "epochs=2", "--nproc", "2", "--workers", "1",
              "--out", str(out), "--no-progress"])
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Grad strides" not in p.stderr and "Traceback" not in p.stderr
    (run,) = list((out / "runs").iterdir())
    result = json.loads((run / "result.json").read_text())
    assert (result["processes"], result["micro_batch"], result["accumulation"]) == (2, 128, 1)
    assert "batch 256 = 2 processes x 1 micro-batch of 128" in (run / "train.log").read_text()
