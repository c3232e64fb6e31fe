"""The paper recipe at GPU scale, tested on a CPU: micro-batches of the official 128 with no
flag, bounded host memory, one Mixup draw per 128 images, every step of the chain split on
1 to 8 processes."""

import json

import pytest

from ablations.__main__ import main
from ablations.data import folders
from ablations.errors import UserError
from ablations.run.runner import micro_batch_limit, plan
from ablations.train.distributed import micro_batches, mix_unit
from ablations.train.recipe import recipe, run_preset
from models.roadmap import chain

# The paper preset, shrunk so that one step trains in seconds: the batch (256), not the
# micro-batch, is what changes.
SMALL = ["--set", "resolution=32", "--set", "width_multiplier=0.0625", "--set",
         "batch_size=256", "--set", "epochs=1"]


def test_the_paper_preset_trains_in_micro_batches_of_128_with_no_flag(tmp_path, monkeypatch):
    from timm.data import Mixup

    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=160, size=40,
                                     val_per_class=8)
    steps, draws = [], []
    real_steps, real_mix = folders.FolderLoader.steps, Mixup.__call__

    def recorded_steps(self):
        def recorded(step):
            for x, y in step:
                steps[-1].append(len(y))
                yield x, y

        for step in real_steps(self):
            steps.append([])
            yield recorded(step)

    def recorded_mix(self, x, target):
        draws.append(len(x))
        return real_mix(self, x, target)

    monkeypatch.setattr(folders.FolderLoader, "steps", recorded_steps)
    monkeypatch.setattr(Mixup, "__call__", recorded_mix)
    out = tmp_path / "r"
    assert main(["run", "--preset", "paper", "--data-dir", str(root), "--steps",
                 "modern-recipe", "--out", str(out), "--no-progress", *SMALL]) == 0
    # 320 images, batch 256: one step of two micro-batches of 128, one Mixup draw each
    assert steps == [[128, 128]]
    assert draws == [128, 128]
    result = json.loads(next((out / "runs").iterdir()).joinpath("result.json").read_text())
    assert (result["micro_batch"], result["accumulation"]) == (128, 2)


def test_host_memory_in_flight_is_bounded_by_the_micro_batch(tmp_path):
    from ablations.data.loading import DataSpec, load_data

    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=40, size=40)
    r = run_preset("paper").replace(batch_size=64, recipe_overrides={}).scale_recipe(
        recipe("convnext"))
    loaded = load_data(DataSpec("imagefolder", 32, 3), str(root), r.loader_options(16, 0),
                       workers=2)
    whole = loaded.train.host_bytes_in_flight(3, 224)
    loaded.train.set_micro_batch(16)
    assert loaded.train.loader().batch_size == 16
    bound = loaded.train.host_bytes_in_flight(3, 224)
    assert bound == (2 * folders.FolderLoader.PREFETCH + 1) * 16 * 3 * 224 * 224
    assert whole == 4 * bound  # what a whole-share loader would hold
    sizes = [[len(y) for _, y in step] for step in loaded.train.steps()]  # read lazily
    assert sizes == [[16] * 4]  # 80 images: one whole step of 64, the rest dropped
    with pytest.raises(UserError, match="micro-batch 24 does not divide"):
        loaded.train.set_micro_batch(24)


@pytest.mark.parametrize("processes", [1, 2, 4, 8])
def test_the_whole_chain_splits_on_1_to_8_processes(processes):
    preset = run_preset("paper")
    runs = plan("resnet50-to-convnext-t", chain("resnet50-to-convnext-t"), preset, [0])
    splits = {}
    for r in runs:
        share, accum = micro_batches(r.recipe.batch_size, processes,
                                     micro_batch_limit(128, r), mix_unit(r.recipe))
        splits[r.step.name] = (share // accum, accum)
    assert splits["resnet50-original"] == (min(128, 256 // processes),
                                           max(1, 256 // processes // 128))
    assert splits["trunc-normal-init"] == (128, 32 // processes)
    assert len(splits) == len(runs) == 16


def test_a_ddp_plan_of_the_whole_chain_with_a_micro_batch_flag_is_accepted(tmp_path):
    from ablations.run.backends import check_splits
    from ablations.run.runner import ExecuteOptions

    runs = plan("resnet50-to-convnext-t", chain("resnet50-to-convnext-t"),
                run_preset("paper"), [0])
    check_splits(runs, ExecuteOptions(tmp_path, batch_per_device=128), 8)  # no error
    with pytest.raises(UserError, match="--batch-per-device=64.*mix_batch=128"):
        check_splits(runs, ExecuteOptions(tmp_path, batch_per_device=64), 8)


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_ema_is_evaluated_beside_the_model_and_best_and_last_are_stored(tmp_path, ema):
    import pandas as pd

    out = tmp_path / "r"
    assert main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--epochs", "3",
                 "--out", str(out), "--no-progress", "--recipe-set", f"ema={ema}"]) == 0
    folder = next((out / "runs").iterdir())
    result = json.loads(folder.joinpath("result.json").read_text())
    history = pd.read_csv(folder / "history.csv")
    assert result["top1"] == history.test_top1.iloc[-1]  # the model's last epoch
    assert result["best_top1"] == history.test_top1.max()
    assert history.test_top1.iloc[result["best_epoch"] - 1] == result["best_top1"]
    if ema:
        assert result["ema_top1"] == history.ema_top1.iloc[-1]
        assert result["best_ema_top1"] == history.ema_top1.max()
        # a decay of 0.9 over 3 epochs of steps: the average is not the model
        assert not history.ema_top1.equals(history.test_top1)
    else:
        assert "ema_top1" not in history and "ema_top1" not in result


def test_the_ema_averages_batchnorm_statistics_too():
    import torch

    from ablations.data.loading import DataSpec, load_data
    from ablations.train.loop import make_trainer, train_step
    from ablations.train.recipe import Recipe

    r = Recipe(ema=0.5, epochs=1, batch_size=16, base_batch=16, mixup=0, cutmix=0,
               auto_augment="", random_erasing=0.0)
    data = load_data(DataSpec("synthetic", 32, 1), None, r.loader_options(16, 0))
    design = chain("resnet50-to-convnext-t")[1].design.scaled(1 / 16)  # BatchNorm
    trainer = make_trainer(design, r, data, 0, torch.device("cpu"))
    before = {k: v.clone() for k, v in trainer.ema.module.state_dict().items()
              if "running_mean" in k}
    trainer.model.train()
    x, y = next(iter(data.train))
    train_step(trainer, [trainer.augment(*data.train.to_device(x, y, torch.device("cpu")))], r)
    after = trainer.ema.module.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_plan_prints_the_cost_of_every_run_ends_first_and_trains_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--preset", "paper", "--plan", "a100x8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    table = lines[1:17]
    assert [line.split()[1] for line in table[:2]] == ["modern-recipe", "trunc-normal-init"]
    assert len({line.split()[1] for line in table}) == 16
    total = next(line for line in lines if line.startswith("total:"))
    wall = [float(line.split()[-1].replace(",", "")) for line in table]  # hours on 8 GPUs
    assert float(total.split(", ")[1].split()[0].replace(",", "")) == pytest.approx(
        sum(wall), abs=0.8)  # the total is the sum of the rows (16, each rounded to 0.1)
    assert "on 8 x A100" in total and "first the two ends" in text
    assert not out.exists()
    # a budget: A3's schedule (100 epochs at 160 px) costs under a third of the paper's
    assert main(["run", "--preset", "a3", "--plan", "a100x8", "--out", str(out)]) == 0
    a3 = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("total:"))
    gpu_hours = [float(t.split()[1].replace(",", "")) for t in (total, a3)]
    assert gpu_hours[1] < gpu_hours[0] / 3
    assert float(a3.split("=")[1].split()[0]) <= 1.0  # days on 8 A100s


def test_plan_rates_come_from_the_bench_table_or_say_how_they_were_scaled():
    from pathlib import Path

    from ablations.measure.plan import parse_target, plan_costs, reference_rates

    results = Path(__file__).resolve().parent.parent / "results"
    runs = plan("resnet50-to-convnext-t", chain("resnet50-to-convnext-t"), run_preset("paper"), [0])
    df, notes = plan_costs(runs, parse_target("h100"), results, "resnet50-to-convnext-t")
    measured, _ = reference_rates(results, bf16=False)  # the paper preset trains fp32
    row = df.set_index("step_name").loc["modern-recipe"]
    assert row.images_per_s_per_gpu == round(measured["modern-recipe"])
    assert row.rate_from == "measured (H100)"
    assert df.set_index("step_name").loc["gelu"].rate_from.startswith("separate-downsampling x")
    # on twice the GPUs the same GPU-hours, half the wall clock
    df8, _ = plan_costs(runs, parse_target("h100x8"), results, "resnet50-to-convnext-t")
    assert df8.gpu_hours.sum() == pytest.approx(df.gpu_hours.sum())
    assert df8.wall_hours.sum() == pytest.approx(df.wall_hours.sum() / 8)


def test_a_bad_plan_target_is_one_line(capsys):
    assert main(["run", "--preset", "paper", "--plan", "z100x8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--plan 'z100x8'; allowed:" in err[0] and "a100" in err[0]


def test_a_preset_can_evaluate_at_another_resolution(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--out", str(out),
                 "--no-progress", "--set", "eval_resolution=48"]) == 0
    spec = json.loads(next((out / "runs").iterdir()).joinpath("spec.json").read_text())
    assert spec["data"]["eval_resolution"] == 48 and spec["data"]["resolution"] == 32
    assert run_preset("a3").eval_resolution == 224 and run_preset("a3").resolution == 160


def test_bench_data_on_a_cpu_answers_at_a_small_size_and_says_how_long(tmp_path, capsys):
    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=36, size=48,
                                     val_per_class=2)
    assert main(["bench-data", "--data-dir", str(root), "--batches", "2", "--workers", "1",
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "on a CPU: timing at 64 px and widths x 0.125" in text
    assert "--set resolution=224 --set width_multiplier=1" in text
    estimate = next(line for line in text.splitlines() if line.startswith("one training step"))
    assert "(6 steps) takes about" in estimate  # 2 warm-up + 2 alone + 2 with the loader
    assert text.index("one training step") < text.index("model step alone")


def test_a_checkpoint_resumes_whatever_device_it_is_loaded_for(tmp_path):
    """The generators' states are read onto the CPU: loaded onto the training device (a
    GPU), torch.set_rng_state refused them and every GPU resume started over. 'meta' stands
    in for a device that is not the CPU."""
    import torch

    from ablations.data.loading import DataSpec, load_data
    from ablations.train import checkpoint
    from ablations.train.loop import make_trainer
    from ablations.train.recipe import Recipe

    r = Recipe(ema=0.9, epochs=2, batch_size=16, base_batch=16, mixup=0, cutmix=0,
               auto_augment="", random_erasing=0.0)
    data = load_data(DataSpec("synthetic", 32, 1), None, r.loader_options(16, 0))
    design = chain("resnet50-to-convnext-t")[-1].design.scaled(1 / 16)
    trainer = make_trainer(design, r, data, 0, torch.device("cpu"))
    trainer.epoch, trainer.history = 1, [{"epoch": 1, "test_top1": 10.0}]
    path = tmp_path / "checkpoint.pt"
    checkpoint.save(trainer, path)
    expected = torch.get_rng_state()
    torch.manual_seed(123)  # move the generator on; resume must put it back
    fresh = make_trainer(design, r, data, 0, torch.device("cpu"))
    checkpoint.resume(fresh, path, torch.device("meta"))
    assert fresh.epoch == 1 and torch.equal(torch.get_rng_state(), expected)


def test_every_rank_serves_the_same_number_of_steps(tmp_path):
    """15 images over 2 ranks, 2 per rank and step: 3 steps each (7 // 2), never 4 and 3,
    which would leave one rank waiting in an all-reduce for ever."""
    from ablations.data.loading import DataSpec, load_data

    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=3, per_class=5, size=32)
    r = run_preset("paper").replace(batch_size=4, recipe_overrides={}).scale_recipe(
        recipe("convnext"))
    counts = []
    for rank in (0, 1):
        loaded = load_data(DataSpec("imagefolder", 32, 3), str(root), r.loader_options(4, 0),
                           workers=0)
        loaded.train.shard(rank, 2)
        counts.append((len(loaded.train), sum(1 for step in loaded.train.steps()
                                              for _ in step)))
    assert counts == [(3, 3), (3, 3)]


def test_a_mixing_run_never_gets_an_odd_micro_batch():
    from ablations.train.recipe import Recipe

    mixing = Recipe(batch_size=6, base_batch=6)
    assert micro_batches(6, 1, 4, mix_unit(mixing)) == (6, 3)  # 2, not 3: Mixup pairs images
    with pytest.raises(UserError, match="recipe.mix_batch=3"):
        Recipe(mix_batch=3)
    with pytest.raises(UserError, match="6 over 2 process.*gives odd batches"):
        micro_batches(6, 2, None, mix_unit(mixing))  # shares of 3 images cannot be paired


def test_loader_workers_share_the_cores_of_the_processes_on_a_machine(monkeypatch, tmp_path):
    import os

    from ablations.data import loading
    from ablations.run import runner

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(40)), raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    assert loading.default_workers() == 5  # 40 cores / 8 processes
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert loading.default_workers() == 8  # at most 8
    seen = []
    real = runner.load_data
    monkeypatch.setattr(runner, "load_data",
                        lambda *a, **k: seen.append(a[3]) or real(*a, **k))
    assert main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--out",
                 str(tmp_path / "r"), "--no-progress", "--workers", "3"]) == 0
    assert seen == [3]
