"""Reference Transformers (torchvision's Swin / ViT), their costs, training and scaling."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import torch
import torchvision
from torch import nn

from ablations.__main__ import main
from ablations.studies.steps import transformers
from ablations.figures.chain import accuracy_vs_gflops, roadmap_figure, target_line
from ablations.analysis.summary import summary_table
from ablations.train.recipe import run_preset
from ablations.run.runner import plan
from ablations.measure.resolution_costs import activation_peak_bytes, fit_exponents
from models import SwinDesign, ViTDesign, build, costs, named_design
from models.roadmap import chain


@pytest.mark.parametrize("name, reference", [
    ("swin_t", torchvision.models.swin_t), ("swin_s", torchvision.models.swin_s),
    ("swin_b", torchvision.models.swin_b), ("vit_b_16", torchvision.models.vit_b_16),
])
def test_named_transformers_are_torchvisions_models(name, reference):
    with torch.device("meta"):
        ours, theirs = build(named_design(name)), reference()
    assert type(ours) is type(theirs)
    # every tensor has the same name and shape: the constructor arguments are torchvision's
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in theirs.state_dict().items()}
    relative = [m.window_size for m in ours.modules() if hasattr(m, "window_size")]
    assert all(w == [7, 7] for w in relative) or name.startswith("vit")


def test_same_weights_give_the_same_outputs_as_torchvision():
    torch.manual_seed(0)
    theirs = torchvision.models.swin_t().eval()
    ours = build(named_design("swin_t")).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_attention_is_counted_and_a_conv_linear_count_would_miss_it():
    vit, convnext = costs(named_design("vit_b_16")), costs(named_design("convnext_tiny"))
    assert convnext.attention_gflops == 0
    # queries x keys and weights x values: 2 * 12 layers * 197^2 tokens * 768 channels
    assert vit.attention_gflops == pytest.approx(2 * 12 * 197 ** 2 * 768 / 1e9, rel=1e-6)
    assert round(vit.gflops, 1) == 17.6
    assert round(vit.gflops - vit.attention_gflops, 1) != 17.6  # conv + linear alone: 16.8


def test_vit_is_counted_at_the_resolution_asked():
    at_448 = costs(named_design("vit_b_16"), resolution=448)
    tokens = (448 // 16) ** 2 + 1
    assert at_448.attention_gflops == pytest.approx(2 * 12 * tokens ** 2 * 768 / 1e9, rel=1e-6)


def test_scaled_transformers_keep_their_heads_and_take_one_channel():
    swin = SwinDesign().scaled(1 / 8)
    assert swin.embed_dim == 12 and swin.num_heads == (3, 6, 12, 24)
    vit = ViTDesign(num_heads=6, hidden_dim=384, mlp_dim=1536).scaled(1 / 8).at_resolution(32)
    assert (vit.hidden_dim, vit.mlp_dim, vit.image_size) == (48, 192, 32)
    for design in (swin, vit):
        out = build(design, num_classes=7, in_chans=1)(torch.randn(2, 1, 32, 32))
        assert out.shape == (2, 7)


@pytest.mark.parametrize("bad, message", [
    (lambda: SwinDesign(num_heads=(5, 6, 12, 24)), "swin.num_heads"),
    (lambda: SwinDesign(window_size=0), "swin.window_size"),
    (lambda: ViTDesign(image_size=100), "vit.image_size"),
    (lambda: SwinDesign().replace(kernel_size=3), "unknown field"),
])
def test_bad_transformer_fields_name_themselves(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


def test_transformers_study_pairs_with_the_chain():
    steps = transformers("resnet50-to-convnext-t")
    assert [s.name for s in steps] == ["trunc-normal-init", "swin_t", "vit_s_16"]
    assert steps[1].paper_top1 == 81.3
    quick = run_preset("quick")
    study = plan("transformers", steps[:1], quick, [0, 1])
    chain_runs = plan("chain", chain("resnet50-to-convnext-t")[-1:], quick, [0, 1])
    # the study's ConvNeXt-T runs are the chain's (same hashes: trained once, reused)
    assert [r.hash for r in study] == [r.hash for r in chain_runs]
    swin = plan("transformers", steps[1:2], quick, [0])[0]
    assert swin.design == SwinDesign(embed_dim=12, drop_path=0.0)  # quick: no drop path
    assert swin.hash not in {r.hash for r in study}


def test_transformers_study_trains_through_the_runner(tmp_path, capsys):
    assert main(["run", "--study", "transformers", "--preset", "smoke", "--seeds", "1",
                 "--steps", "swin_t", "--out", str(tmp_path), "--no-progress"]) == 0
    table = pd.read_csv(tmp_path / "results.csv")
    row = table.iloc[0]
    assert row.step_name == "swin_t" and row.status == "ok"
    assert row.gflops == pytest.approx(4.4906, abs=1e-3)  # paper-scale cost of Swin-T
    target = target_line(table, "resnet50-to-convnext-t", "smoke")
    assert target.title == "Swin-T" and target.paper_top1 == 81.3
    assert target.ours_mean == pytest.approx(row.top1) and target.ours_seeds == 1
    assert target_line(table, "resnet50-to-convnext-t", "quick").ours_mean is None
    paths = accuracy_vs_gflops(summary_table(table), tmp_path / "acc", "resnet50-to-convnext-t",
                               "ours", target)
    paths += roadmap_figure(summary_table(table), tmp_path / "roadmap",
                            "resnet50-to-convnext-t", "ours", target=target)
    assert all(p.stat().st_size > 0 for p in paths)


def test_activation_count_matches_a_hand_count():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1))
    x = torch.randn(1, 3, 16, 16)
    # conv1's output (8x16x16 floats) is alive while ReLU writes its own; then conv2 writes
    # 4x16x16 beside the ReLU output
    assert activation_peak_bytes(model, x) == 2 * 8 * 16 * 16 * 4
    model[1] = nn.ReLU(inplace=True)  # in place: no second tensor
    assert activation_peak_bytes(model, x) == (8 + 4) * 16 * 16 * 4


def test_fitted_exponents_recover_a_known_power():
    px = [224 ** 2, 448 ** 2, 896 ** 2]
    df = pd.DataFrame({"model": ["a"] * 3, "pixels": px,
                       "gflops": [p ** 1.5 for p in px], "latency_ms": [2.0, 4.0, 8.0]})
    fits = fit_exponents(df).set_index("metric")
    assert fits.loc["gflops", "exponent"] == pytest.approx(1.5)
    assert fits.loc["latency_ms", "exponent"] == pytest.approx(0.5)


def test_cost_vs_resolution_cli_shows_vit_superlinear_and_convnets_linear(tmp_path, capsys):
    assert main(["cost-vs-resolution", "--models", "convnext_tiny,vit_b_16,step:3", "--resolutions",
                 "224,448,896", "--time-resolutions", "", "--no-memory", "--out",
                 str(tmp_path), "--tag", "t"]) == 0
    fits = pd.read_csv(tmp_path / "scaling_t_exponents.csv").set_index(["model", "metric"])
    assert fits.loc[("convnext_tiny", "gflops"), "exponent"] == pytest.approx(1.0, abs=1e-3)
    assert fits.loc[("3:depthwise-conv", "gflops"), "exponent"] == pytest.approx(
        1.0, abs=1e-2)
    # attention: 2*12*N^2*768 MACs, N = tokens; from 448 to 896 px the count grows 5.7x
    # for 4x the pixels (k = 1.26): faster than linear
    assert fits.loc[("vit_b_16", "gflops"), "exponent_largest"] > 1.2
    assert (tmp_path / "scaling_t.png").exists()
    out = capsys.readouterr().out
    assert "vit_b_16" in out


def test_costs_cli_prints_the_transformers_with_their_attention(capsys):
    assert main(["costs", "--models", "swin_t,vit_b_16,resnet50", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("name")
    assert df.loc["swin_t", "params_m"] == pytest.approx(28.288, abs=1e-3)
    assert df.loc["vit_b_16", "attention_gflops"] > 0.7
    assert df.loc["resnet50", "attention_gflops"] == 0


def test_each_transformer_is_compared_with_the_chain_endpoint():
    from ablations.analysis.stats import pairs_of

    steps = pd.DataFrame({"step": [0, 1, 2], "step_name": ["trunc-normal-init", "swin_t",
                                                           "vit_s_16"],
                          "paper_top1": [81.97, 81.3, 79.8]})
    pairs = pairs_of("transformers:resnet50-to-convnext-t", steps)
    assert [(p.treatment, p.control) for p in pairs] == [
        ("swin_t", "trunc-normal-init"), ("vit_s_16", "trunc-normal-init")]
    assert pairs[0].paper_delta == pytest.approx(81.3 - 81.97)
