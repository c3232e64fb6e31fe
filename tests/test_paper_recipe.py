"""The paper's recipe as the official code trains it: timm's transform and Mixup with the
official arguments, augmentation per image before mixing, live curves, bad input."""

import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

from ablations.data import datasets as data
from ablations.data import LoaderOptions, folders
from ablations.__main__ import main
from ablations.run.store import run_paths
from ablations.train.curves import read_scalars
from ablations.errors import UserError
from ablations.train.official import OFFICIAL_CONVNEXT_T, markdown_table, ours
from ablations.train.recipe import Recipe, recipe, run_preset
from ablations.train.augment import BatchAugment

ROOT = Path(__file__).resolve().parent.parent
PAPER = run_preset("paper").scale_recipe(recipe("convnext"))


def _official_train_transform(**kw):
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, create_transform

    # facebookresearch/ConvNeXt datasets.py build_transform, with main.py's defaults.
    return create_transform(input_size=224, is_training=True, color_jitter=0.4,
                            auto_augment="rand-m9-mstd0.5-inc1", interpolation="bicubic",
                            re_prob=0.25, re_mode="pixel", re_count=1,
                            mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD, **kw)


def test_paper_training_transform_is_the_official_one():
    ours_tf = folders.folder_transform(224, True, PAPER.loader_options(256, 0))
    official = _official_train_transform().transforms
    # The workers run the official ops up to the tensor; normalising and erasing, the
    # official last two, run on the device (timm's own prefetcher split).
    assert [repr(t) for t in ours_tf.transforms[:-1]] == [repr(t) for t in official[:-3]]
    assert repr(ours_tf) == repr(_official_train_transform(use_prefetcher=True))
    assert "RandAugment(n=2" in repr(ours_tf) and "m=9, mstd=0.5" in repr(ours_tf)
    assert "interpolation=bicubic" in repr(ours_tf.transforms[0])
    erase = BatchAugment(PAPER, 1000, torch.device("cpu")).erase
    assert repr(erase) == repr(official[-1]) == "RandomErasing(p=0.25, mode=pixel, count=(1, 1))"
    normalize = official[-2]
    assert tuple(normalize.mean.tolist()) == pytest.approx(data.STATS["imagefolder"][0])


def test_paper_eval_transform_resizes_256_bicubic_and_crops_224():
    tf = folders.folder_transform(224, False, PAPER.loader_options(256, 0))
    text = repr(tf)
    assert "Resize(size=256, interpolation=bicubic" in text and "CenterCrop(size=(224, 224))" in text


def test_paper_mixup_has_the_official_arguments():
    mix = BatchAugment(PAPER, 1000, torch.device("cpu")).mix
    assert (mix.mixup_alpha, mix.cutmix_alpha, mix.mix_prob, mix.switch_prob, mix.mode,
            mix.label_smoothing, mix.num_classes) == (0.8, 1.0, 1.0, 0.5, "batch", 0.1, 1000)
    assert mix.cutmix_minmax is None


@pytest.mark.parametrize("arg", OFFICIAL_CONVNEXT_T, ids=lambda a: a.flag.split()[0])
def test_every_official_argument_is_what_the_paper_preset_sets(arg):
    assert ours(arg.field) == arg.value, f"{arg.flag}: ours {ours(arg.field)!r}"


def test_the_docs_list_every_official_argument():
    assert markdown_table() in (ROOT / "docs" / "paper-scale-and-gpus.md").read_text()


def test_erasing_happens_per_image_before_mixing():
    """Erasing sees the images as the loader served them, one rectangle per image, and
    mixing sees the erased ones (the old order erased mixed batches)."""
    torch.manual_seed(0)
    r = Recipe(random_erasing=1.0, re_mode="const", mixup=0.8, cutmix=0.0, label_smoothing=0.0)
    aug = BatchAugment(r, 10, torch.device("cpu"))
    seen = {}
    erase, mix = aug.erase, aug.mix

    def spy_erase(t):
        seen["erase_in"] = t.clone()
        seen["erase_out"] = erase(t).clone()
        return t

    def spy_mix(t, y):
        seen["mix_in"] = t.clone()
        return mix(t, y)
    aug.erase, aug.mix = spy_erase, spy_mix
    x = 1.0 + torch.rand(8, 3, 32, 32)
    out, targets = aug(x.clone(), torch.arange(8))
    assert torch.equal(seen["erase_in"], x)  # un-mixed images
    assert torch.equal(seen["mix_in"], seen["erase_out"])  # mixing gets the erased batch
    assert all((img == 0).any() for img in seen["erase_out"])  # one rectangle per image
    zeros = seen["erase_out"] == 0
    # batch-mode Mixup blends image i with image 7 - i: a pixel stays 0 only where both
    # were erased, so the mixed batch's zeros are exactly those intersections.
    assert torch.equal(out == 0, zeros & zeros.flip(0))
    assert targets.shape == (8, 10) and torch.allclose(targets.sum(1), torch.ones(8))


def test_in_memory_randaugment_is_per_image_and_reproducible():
    d = data.make_synthetic("train", n=64, size=32, channels=3)
    def batches(policy):
        options = LoaderOptions(16, seed=3, flip=False, auto_augment=policy)
        loader = data.TensorLoader(d.images, d.labels, (0.5,), (0.25,), True, options)
        return [x for x, _ in loader]
    plain, a, b = batches(""), batches(PAPER.auto_augment), batches(PAPER.auto_augment)
    assert all(torch.equal(x1, x2) for x1, x2 in zip(a, b))
    changed = [(p != x).flatten(1).any(1) for p, x in zip(plain, a)]
    frac = torch.cat(changed).float().mean().item()
    assert 0.5 < frac <= 1.0  # most images changed, each on its own draw


def test_folder_stream_does_not_depend_on_workers_and_resumes(tmp_path):
    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=6, size=40)
    ds = folders.image_folder(str(root), "train", 32, True, PAPER.loader_options(256, 0))

    def epoch(workers, e):
        options = LoaderOptions(4, seed=5, channels_last=False)
        loader = folders.FolderLoader(ds, (0.5,) * 3, (0.2,) * 3, True, options, workers,
                                      pin_memory=False)
        loader.set_epoch(e)
        return [x for x, _ in loader]
    one, two = epoch(0, 1), epoch(2, 1)
    assert all(x.dtype == torch.uint8 for x in one)
    assert all(torch.equal(a, b) for a, b in zip(one, two))  # same images, any workers
    assert not all(torch.equal(a, b) for a, b in zip(epoch(0, 0), one))  # epochs differ


def test_smoke_epoch_on_a_jpeg_folder_with_the_paper_augmentation_and_curves(tmp_path):
    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=4, per_class=16, size=48)
    out = tmp_path / "r"
    argv = ["run", "--preset", "smoke", "--set", "dataset=imagefolder", "--set", "channels=3",
            "--set", "resolution=32", "--data-dir", str(root), "--steps", "layer-scale", "--out",
            str(out), "--no-progress", "--device", "cpu"]
    for field, value in (("auto_augment", PAPER.auto_augment), ("random_erasing", "0.25"),
                         ("mixup", "0.8"), ("cutmix", "1.0")):
        argv += ["--recipe-set", f"{field}={value}"]
    assert main(argv) == 0
    (run_dir,) = [p for p in (out / "runs").iterdir() if (p / "result.json").exists()]
    spec = (run_dir / "spec.json").read_text()
    assert '"augmentation_version": 2' in spec and '"pipeline": 2' in spec
    scalars = read_scalars(run_paths(run_dir).curves)
    assert [s for s, _ in scalars["test/top1"]] == [1, 2]  # smoke: 2 epochs, one point each
    assert {"train/loss", "train/lr", "train/img_per_s", "test/top5"} <= set(scalars)


def test_a_resumed_run_continues_its_curves_without_duplicates(tmp_path, monkeypatch):
    from ablations.data import DataSpec, load_data
    from ablations.train import TrainContext, TrainOptions, checkpoint, train_run
    from models import named_design

    r = run_preset("smoke").scale_recipe(recipe("convnext")).replace(epochs=3)
    loaded = load_data(DataSpec("synthetic", 32, 1), None, r.loader_options(256, 0))
    design = named_design("resnet50").scaled(1 / 16)
    paths = run_paths(tmp_path / "run")
    saved = checkpoint.save

    def save_and_keep_first(trainer, path):
        saved(trainer, path)
        if trainer.epoch == 1:
            shutil.copy(path, tmp_path / "epoch1.pt")
    monkeypatch.setattr(checkpoint, "save", save_and_keep_first)
    ctx = TrainContext(design, r, loaded, 0, paths, TrainOptions(progress=False))
    first = train_run(ctx)
    # As if the process died after writing epochs 2-3 but before checkpointing them.
    shutil.copy(tmp_path / "epoch1.pt", paths.checkpoint)
    again = train_run(ctx)
    assert again.metrics["top1"] == first.metrics["top1"]
    points = read_scalars(paths.curves)["test/top1"]
    assert [s for s, _ in points] == [1, 2, 3]
    assert [v for _, v in points] == pytest.approx([h["test_top1"] for h in again.history])


@pytest.mark.parametrize("field, bad", [
    ("betas", 0.9), ("betas", [0.9]), ("betas", "0.9,0.999"), ("auto_augment", 7),
    ("auto_augment", "rand-q9x"), ("auto_augment", "v0"), ("lr", "fast"), ("epochs", 2.5),
    ("flip", "yes"), ("drop_path", [0.1]), ("layer_scale", "small"), ("mixup_mode", "row"),
    ("re_mode", "noise"), ("train_interpolation", "nearest"), ("re_count", 0),
    ("crop_pct", 1.5), ("mixup_prob", 2.0), ("optimizer", "lamb"), ("name", 3),
])
def test_every_recipe_field_refuses_a_value_of_the_wrong_shape(field, bad):
    assert field in {f.name for f in dataclasses.fields(Recipe)}
    with pytest.raises(UserError, match=rf"recipe\.{field}=.*allowed: "):
        Recipe().replace(**{field: bad})


@pytest.mark.parametrize("setting, message", [
    ("randaugment=2,9", "recipe.randaugment was replaced by recipe.auto_augment"),
    ("betas=0.9", "recipe.betas=0.9; allowed: two numbers"),
    ("auto_augment=rand-q9x", "recipe.auto_augment='rand-q9x'"),
    ("re_count=[1,2]", "recipe.re_count=[1, 2]; allowed: an integer"),
])
def test_wrong_recipe_shapes_on_the_command_line_are_one_line(tmp_path, capsys, setting, message):
    out = tmp_path / "r"
    code = main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--out", str(out),
                 "--recipe-set", setting, "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"error: {err[0][7:]}"] and message in err[0]
    assert not out.exists()


def test_an_unreadable_image_is_one_line_and_leaves_nothing(tmp_path, capsys):
    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=32, size=40)
    bad = root / "train" / "class_1" / "00002.jpg"
    bad.write_text("not a jpeg")
    out = tmp_path / "r"
    code = main(["run", "--preset", "smoke", "--set", "dataset=imagefolder", "--set",
                 "channels=3", "--data-dir", str(root), "--steps", "modern-recipe", "--out", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: imagefolder: cannot read")
    assert str(bad) in err[-1]
    assert not list(out.rglob("*.json")) and not list(out.rglob("events.*"))


def test_bench_data_measures_loader_model_and_training(tmp_path):
    from ablations.measure.bench_data import DataBench, bench_data
    from models.roadmap import find_step

    root = folders.write_jpeg_folder(tmp_path / "jpg", classes=2, per_class=16, size=40)
    preset = run_preset("smoke").replace(dataset="imagefolder", channels=3, resolution=32)
    cfg = DataBench(find_step("resnet50-to-convnext-t", 13), preset, str(root), batch_size=8,
                    workers=(0, 1), batches=6)  # 4 batches an epoch: crosses one
    lines = []
    df = bench_data(cfg, log=lines.append)
    assert list(df.kind) == ["loader", "loader", "model", "train"]
    assert (df.images_per_s > 0).all() and df.loc[df.kind == "train", "host_ms_per_step"].iloc[0] > 0
    assert "limits training" in lines[-1]
