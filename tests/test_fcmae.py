"""FCMAE with dense masked convolutions: no leak, loss on masked patches only, exact masks."""

import pytest
import torch

from models import named_design
from models.design import DesignError
from models.fcmae import (FCMAE, masked_stage_outputs, random_mask, reconstruction_loss,
                          stage_visibility, upsample_mask)

# Small V1 and V2 designs at stem stride 1: a 4 x 4 last-stage grid at 32 px.
V2 = named_design("convnextv2_atto").replace(widths=(8, 16, 32, 64), stem_stride=1)
V1 = named_design("convnext_tiny").replace(depths=(2, 2, 6, 2), widths=(8, 16, 32, 64),
                                            stem_stride=1, drop_path=0.0, layer_scale=0.5)


def _perturbed_masked_pixels(images, mask, patch):
    pixel_mask = upsample_mask(mask, patch)  # (N, 1, H, W), 1 = masked
    noise = torch.randn_like(images) * 3
    return images + noise * pixel_mask


def _randomised(model):
    # GRN and layer scale start as identities / tiny: give every parameter a random value
    # so that a leak through any of them shows.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize("design", [V1, V2], ids=["v1", "v2"])
def test_no_leak_masked_pixels_leave_visible_features_unchanged_at_every_stage(design):
    torch.manual_seed(0)
    model = _randomised(FCMAE(design, in_chans=3, decoder_width=16))
    images = torch.randn(3, 3, 32, 32)
    mask = random_mask(3, model.grid(images), 0.6)
    changed = _perturbed_masked_pixels(images, mask, model.patch)
    with torch.no_grad():
        before = masked_stage_outputs(model.encoder, images, mask)
        after = masked_stage_outputs(model.encoder, changed, mask)
    for stage, (vis, a, b) in enumerate(zip(stage_visibility(mask), before, after)):
        assert vis.sum() > 0
        assert torch.allclose(a * vis, b * vis, atol=1e-5), f"stage {stage + 1} leaks"
        assert (a * (1 - vis)).abs().max() == 0  # masked positions stay empty
    # The reconstruction of visible and masked cells alike depends on visible pixels only.
    with torch.no_grad():
        assert torch.allclose(model.reconstruct(images, mask), model.reconstruct(changed, mask),
                              atol=1e-5)


@pytest.mark.parametrize("design", [V1, V2], ids=["v1", "v2"])
def test_leak_check_fails_with_encoder_masking_off(design):
    torch.manual_seed(0)
    model = _randomised(FCMAE(design, in_chans=3, decoder_width=16, encoder_masking=False))
    images = torch.randn(3, 3, 32, 32)
    mask = random_mask(3, model.grid(images), 0.6)
    changed = _perturbed_masked_pixels(images, mask, model.patch)
    visible = 1 - mask.unsqueeze(1)
    with torch.no_grad():
        a, b = model.encode(images, mask), model.encode(changed, mask)
    assert not torch.allclose(a * visible, b * visible, atol=1e-3)


def test_loss_counts_masked_patches_only():
    torch.manual_seed(0)
    images = torch.randn(2, 3, 32, 32)
    mask = random_mask(2, (4, 4), 0.6)
    pred = torch.randn(2, 8 * 8 * 3, 4, 4)
    base = reconstruction_loss(images, pred, mask)
    visible = (mask == 0).nonzero()[0]
    n, i, j = visible.tolist()
    moved = pred.clone()
    moved[n, :, i, j] += 100.0  # a visible patch's prediction
    assert torch.equal(reconstruction_loss(images, moved, mask), base)
    masked = (mask == 1).nonzero()[0].tolist()
    moved[masked[0], :, masked[1], masked[2]] += 1.0
    assert reconstruction_loss(images, moved, mask) > base


def test_loss_of_a_perfect_prediction_is_zero():
    images = torch.randn(2, 3, 32, 32)
    mask = random_mask(2, (4, 4), 0.6)
    from models.fcmae import patchify
    t = patchify(images, 8)
    t = (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6) ** 0.5
    pred = t.transpose(1, 2).reshape(2, -1, 4, 4)
    assert reconstruction_loss(images, pred, mask) < 1e-10


def test_mask_ratio_and_upsampling_are_exact():
    torch.manual_seed(1)
    mask = random_mask(64, (4, 4), 0.6)
    assert mask.shape == (64, 4, 4)
    assert (mask.sum(dim=(1, 2)) == 16 - int(16 * 0.4)).all()  # 10 masked, 6 kept per image
    assert len({tuple(m.flatten().tolist()) for m in mask}) > 50  # a mask per image
    assert (random_mask(8, (7, 7), 0.6).sum(dim=(1, 2)) == 30).all()  # the paper's 224 px
    up = upsample_mask(mask, 8)
    assert up.shape == (64, 1, 32, 32)
    for i in range(4):
        for j in range(4):
            block = up[:, 0, 8 * i:8 * i + 8, 8 * j:8 * j + 8]
            assert (block == mask[:, i, j, None, None]).all()
    maps = stage_visibility(mask)
    assert [m.shape[-1] for m in maps] == [32, 16, 8, 4]


def test_mask_and_design_errors_are_one_line():
    with pytest.raises(DesignError, match="mask_ratio"):
        random_mask(1, (4, 4), 1.0)
    with pytest.raises(DesignError, match="keeps no cell"):
        random_mask(1, (1, 1), 0.6)
    with pytest.raises(DesignError, match="downsample"):
        FCMAE(V2.replace(downsample="in_block"))
    with pytest.raises(DesignError, match="norm"):
        FCMAE(V2.replace(norm="batch"))
    with pytest.raises(DesignError, match="stem_stride"):
        V2.replace(stem_stride=3)
    with pytest.raises(DesignError, match="stem_stride"):
        named_design("resnet50").replace(stem_stride=1)


def test_stem_stride_sets_the_grid_and_is_counted_in_flops():
    from models import costs
    from models.network import build
    net = build(V2, num_classes=10)
    assert net.stage_strides == (1, 2, 4, 8)
    assert net.forward_features(torch.randn(1, 3, 32, 32)).shape[-1] == 4
    at4 = costs(V2.replace(stem_stride=4), resolution=32, num_classes=10, with_fvcore=False)
    at1 = costs(V2, resolution=32, num_classes=10, with_fvcore=False)
    assert 14 < at1.gflops / at4.gflops < 17  # 16x the positions (the head aside)


def test_forward_returns_a_finite_loss_and_trains():
    torch.manual_seed(0)
    model = FCMAE(V2, decoder_width=16)
    images = torch.randn(4, 3, 32, 32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        torch.manual_seed(0)  # the same mask each time
        loss = model(images)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]


def test_no_leak_through_grn_statistics():
    from models.blocks import GlobalResponseNorm
    torch.manual_seed(0)
    grn = GlobalResponseNorm(6)
    with torch.no_grad():
        grn.weight.normal_()
        grn.bias.normal_()
    x = torch.randn(2, 6, 4, 4)
    visible = (random_mask(2, (4, 4), 0.5) == 0).float().unsqueeze(1)
    changed = x + torch.randn_like(x) * (1 - visible) * 5
    assert torch.allclose(grn(x, visible) * visible, grn(changed, visible) * visible)
    assert not torch.allclose(grn(x) * visible, grn(changed) * visible)  # unmasked stats leak


# --- the study and its recipes -------------------------------------------------------------

def _study_runs(**preset_changes):
    from ablations.studies.fcmae import plan_fcmae, steps
    from ablations.train.recipe import run_preset
    preset = run_preset("fcmae-quick").replace(**preset_changes)
    return plan_fcmae(steps(), preset, [0, 1])


def test_a_fine_tuned_runs_hash_changes_with_its_pretraining_run():
    runs = {(r.step.name, r.seed): r for r in _study_runs()}
    ft = runs[("v2-fcmae", 0)]
    assert ft.pretrain is not None and ft.spec["pretrained"] == ft.pretrain.hash
    assert ft.pretrain is runs[("pretrain-v2", 0)]
    # The same fine-tuning from another pretraining run (other epochs) is another run.
    other = {(r.step.name, r.seed): r for r in _study_runs()}[("v2-fcmae", 0)]
    assert other.hash == ft.hash  # planning is deterministic
    from ablations.run.runner import PlannedRun
    longer = ft.pretrain.recipe.replace(epochs=ft.pretrain.recipe.epochs + 1)
    pt2 = PlannedRun(ft.pretrain.study, ft.pretrain.step, 0, ft.pretrain.design, longer,
                     ft.pretrain.data, ft.pretrain.preset)
    ft2 = PlannedRun(ft.study, ft.step, 0, ft.design, ft.recipe, ft.data, ft.preset, pt2)
    assert pt2.hash != ft.pretrain.hash and ft2.hash != ft.hash
    # Supervised and fine-tuned cells of one design differ (start and layer decay).
    assert runs[("v2-supervised", 0)].hash != ft.hash
    assert runs[("v2-supervised", 0)].pretrain is None


def test_the_study_plans_pretraining_first_and_shares_it():
    runs = _study_runs()
    names = [(r.step.name, r.seed) for r in runs]
    assert len(names) == len(set(names))
    pretraining = [r for r in runs if r.pretraining]
    assert sorted({r.step.name for r in pretraining}) == ["pretrain-v1", "pretrain-v1-no-masking",
                                                         "pretrain-v2"]
    assert len(pretraining) == 3 * 2  # one per pretraining and seed, shared by its cells
    for i, r in enumerate(runs):
        if r.pretrain is not None:
            assert runs.index(r.pretrain) < i and r.pretrain.seed == r.seed
    leak = next(r for r in pretraining if r.step.name == "pretrain-v1-no-masking")
    assert leak.recipe.encoder_masking is False
    assert all(r.design.stem_stride == 1 for r in runs)  # 32 px: a 4 x 4 mask grid
    grn_added = next(r for r in runs if r.step.name == "v1-fcmae-grn-added-at-ft")
    assert grn_added.design.grn and not grn_added.pretrain.design.grn


def test_pretraining_recipe_and_its_parameter_groups():
    from ablations.train.optim import make_optimizer
    from ablations.train.recipe import recipe
    from models.fcmae import FCMAE
    r = recipe("fcmae-pretrain")
    assert (r.betas, r.lr, r.base_batch, r.warmup_epochs, r.min_lr, r.task) == \
        ((0.9, 0.95), 1.5e-4, 256, 40.0, 0.0, "fcmae")
    assert r.random_resized_crop == 0.2 and r.flip and not r.mixes
    model = FCMAE(V2, decoder_width=16)
    opt = make_optimizer(model, r)
    decay = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    named = dict(model.named_parameters())
    assert id(named["mask_token"]) in decay  # official: the mask token is decayed
    assert id(named["encoder.stages.0.blocks.0.conv2.grn.weight"]) in decay  # GRN too
    assert id(named["encoder.stem.norm.weight"]) not in decay  # 1-D params are not
    assert id(named["proj.bias"]) not in decay
    assert all(g["lr"] == r.scaled_lr for g in opt.param_groups)


def test_layer_decay_scales_each_layers_lr():
    from ablations.train.optim import layer_id, make_optimizer
    from ablations.train.recipe import recipe
    from models.network import build
    depths = V2.depths  # (2, 2, 6, 2): 12 blocks, head at 13
    assert layer_id("stem.conv.weight", depths) == 1
    assert layer_id("stages.0.blocks.1.conv1.conv.weight", depths) == 2
    assert layer_id("stages.1.downsample.conv.weight", depths) == 3
    assert layer_id("stages.2.blocks.0.conv1.conv.weight", depths) == 5
    assert layer_id("head.fc.weight", depths) == 13
    r = recipe("fcmae-finetune-atto")
    assert r.layer_decay == 0.9 and r.ema == 0.9999
    model = build(V2, num_classes=10)
    opt = make_optimizer(model, r)
    lr_of = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["head.fc.weight"])] == pytest.approx(r.scaled_lr)
    assert lr_of[id(named["stem.conv.weight"])] == pytest.approx(r.scaled_lr * 0.9 ** 12)
    assert lr_of[id(named["stages.3.blocks.1.conv1.conv.weight"])] == pytest.approx(
        r.scaled_lr * 0.9)


def test_random_resized_crop_keeps_the_shape_and_crops():
    from ablations.train.augment import random_resized_crop
    torch.manual_seed(0)
    x = torch.arange(32.0).repeat(2, 3, 32, 1)  # the column index as value
    out = random_resized_crop(x, 0.2)
    assert out.shape == x.shape
    assert not torch.allclose(out, x)
    assert out.min() >= 0 and out.max() <= 31
    same = random_resized_crop(x, 0.999999, ratio=(1.0, 1.0))  # (almost) the whole image
    assert torch.allclose(same, x, atol=0.6)


def test_pretrain_then_finetune_end_to_end(tmp_path):
    from ablations.run.runner import ExecuteOptions, execute
    from ablations.studies.fcmae import plan_fcmae, steps
    from ablations.train.recipe import run_preset
    preset = run_preset("fcmae-quick").replace(
        dataset="synthetic", train_subset=64, epochs=1, eval_batch_size=64,
        recipe_overrides={"*": {"auto_augment": "", "random_erasing": 0.0, "mixup": 0.0,
                                "cutmix": 0.0, "batch_size": 32, "ema": 0.0},
                          "fcmae-pretrain": {"epochs": 1, "decoder_width": 16}})
    cells = [s for s in steps() if s.name in ("v2-fcmae-grn-dropped-at-ft", "v2-fcmae",
                                                 "v1-supervised")]
    runs = plan_fcmae(cells, preset, [0])
    pretraining = [r for r in runs if r.pretraining]
    assert len(pretraining) == 1  # shared by both V2 cells
    fine_tuning = [r for r in runs if not r.pretraining]
    rows = execute(fine_tuning, ExecuteOptions(tmp_path, progress=False), log=lambda *_: None)
    assert len(rows) == 3  # the pretraining run was trained first, but is not a table row
    tuned = rows[rows.step_name != "v1-supervised"]
    assert (tuned.pretrain_hash == pretraining[0].hash).all() and (rows.status == "ok").all()
    assert (tmp_path / "runs" / pretraining[0].hash / "encoder.pt").exists()
    assert (tuned.pretrain_test_loss > 0).all()
    # The collapse measure reads the pretrained encoder and the supervised checkpoint.
    from ablations.analysis.collapse import fcmae_collapse_table
    collapse = fcmae_collapse_table(tmp_path, images=16)
    assert set(collapse.model) == {"FCMAE V2 (pretrained)", "supervised V1"}
    # Without checkpoints (a fresh clone), the kept weights are enough.
    from ablations.analysis.collapse import keep_weights
    kept = keep_weights(tmp_path, ["v1-supervised"])
    assert len(kept) == 1
    for ckpt in (tmp_path / "runs").glob("*/checkpoint.pt"):
        ckpt.unlink()
    again = fcmae_collapse_table(tmp_path, images=16)
    assert again.cosine_distance.tolist() == collapse.cosine_distance.tolist()
    assert len(collapse) == 2 * sum(V2.depths) and collapse.cosine_distance.between(0, 1).all()
