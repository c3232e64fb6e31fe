"""Every recipe and preset field has its bounds: one out-of-bounds value per field gives one
``UserError`` naming the field and what is allowed (the class of issue 29's item 9, not a
list of cases). A field added without bounds fails the coverage test below."""

import dataclasses

import pytest

from ablations.errors import UserError
from ablations.train.recipe import Recipe, RunPreset, run_preset

BAD_RECIPE = {
    "name": 5, "optimizer": "lamb", "lr": 0, "base_batch": -1, "min_lr": 1.0,
    "momentum": 1.5, "betas": [0.9, 1.2], "weight_decay": -0.1,
    "decay_norm_and_bias": "yes", "schedule": "linear", "warmup_epochs": -1,
    "step_every": 0, "step_gamma": 2.0, "epochs": 0, "batch_size": 0,
    "label_smoothing": 1.0, "mixup": -0.5, "cutmix": -1, "mixup_prob": 1.5,
    "mixup_switch_prob": -0.1, "mixup_mode": "row", "mix_batch": 8192,
    "auto_augment": "autoaug", "color_jitter": -0.4, "train_interpolation": "nearest",
    "crop_pct": 1.5, "random_erasing": 1.5, "re_mode": "noise", "re_count": 0,
    "crop_padding": -4, "flip": 1, "drop_path": 1.0, "layer_scale": -1e-6,
    "zero_init_residual": "no", "ema": 1.0, "bf16": "on", "channels_last": 0,
    "compile": "yes", "grad_clip": -1.0, "layer_decay": 1.5, "task": "segment",
    "mask_ratio": 1.0, "decoder_width": 1, "norm_pix_loss": "true", "encoder_masking": 2,
    "random_resized_crop": 1.0,
}

BAD_PRESET = {
    "name": 3, "dataset": "imagenet-21k", "resolution": 16, "channels": 2,
    "width_multiplier": 0, "epochs": 0, "batch_size": -8, "train_subset": 0,
    "recipe_overrides": [1], "eval_batch_size": 0, "description": 7,
    "steps": "modern-recipe", "eval_resolution": 8, "micro_batch": 0,
}


def test_every_field_has_an_out_of_bounds_case():
    assert set(BAD_RECIPE) == {f.name for f in dataclasses.fields(Recipe)}
    assert set(BAD_PRESET) == {f.name for f in dataclasses.fields(RunPreset)}


@pytest.mark.parametrize("field, value", BAD_RECIPE.items())
def test_a_recipe_field_out_of_bounds_is_one_line_naming_it(field, value):
    with pytest.raises(UserError) as e:
        Recipe().replace(**{field: value})
    text = str(e.value)
    assert f"recipe.{field}=" in text and "allowed:" in text and "\n" not in text


@pytest.mark.parametrize("field, value", BAD_PRESET.items())
def test_a_preset_field_out_of_bounds_is_one_line_naming_it(field, value):
    with pytest.raises(UserError) as e:
        run_preset("quick").replace(**{field: value})
    text = str(e.value)
    assert f"preset.{field}=" in text and "allowed:" in text and "\n" not in text


def test_in_bounds_values_of_every_preset_pass():
    from ablations.train.recipe import RECIPES, RUN_PRESETS

    assert len(RUN_PRESETS) >= 6 and len(RECIPES) >= 8
    for preset in RUN_PRESETS.values():
        for base in RECIPES.values():
            scaled = preset.scale_recipe(base)  # validated: out of bounds would raise
            where = f"{preset.name} x {base.name}"
            overrides = {**preset.recipe_overrides.get("*", {}),
                         **preset.recipe_overrides.get(base.name, {})}
            assert scaled.replace() == scaled, where  # passes the bounds again, unchanged
            assert scaled.epochs == overrides.get("epochs", preset.epochs), where
            assert scaled.batch_size == overrides.get("batch_size", preset.batch_size), where
            assert 0 <= scaled.warmup_epochs <= scaled.epochs, where
            assert all(getattr(scaled, k) == v for k, v in overrides.items()), where


@pytest.mark.parametrize("argv, message", [
    (["--study", "scale", "--grid", "train_images=99999999"], "preset.train_subset=99999999"),
    (["--recipe-set", "warmup_epochs=1e9"], "recipe.warmup_epochs=1e+09"),
    (["--set", "micro_batch=0"], "preset.micro_batch=0"),
])
def test_inputs_between_fields_fail_before_anything_trains(tmp_path, capsys, argv, message):
    from ablations.__main__ import main

    out = tmp_path / "r"
    code = main(["run", "--preset", "smoke", "--steps", "modern-recipe", "--out", str(out),
                 "--no-progress", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()  # nothing trained, nothing written
