"""Feature collapse as the ConvNeXt V2 paper measures it, on stored runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from ablations.__main__ import main
from ablations.analysis.collapse import block_feature_stats
from models import build, named_design

ROOT = Path(__file__).resolve().parent.parent


def _tiny():
    torch.manual_seed(0)
    return build(named_design("convnext_tiny").replace(depths=(1, 1, 1, 1), widths=(8, 16, 32, 64)),
                 num_classes=3)


def test_copied_channels_have_zero_cosine_distance_and_random_ones_do_not():
    model, x = _tiny(), torch.randn(4, 3, 32, 32)
    healthy = block_feature_stats(model, x)
    assert list(healthy.block) == [1, 2, 3, 4]
    assert list(healthy.channels) == [32, 64, 128, 256]  # the 4x hidden layers
    assert (healthy.cosine_distance > 0.05).all()
    with torch.no_grad():  # block 3's expanding conv: every output channel a copy of one
        conv = model.stages[2].blocks[0].conv2.conv
        conv.weight.copy_(conv.weight[:1].expand_as(conv.weight))
        conv.bias.fill_(0.1)
    collapsed = block_feature_stats(model, x)
    assert collapsed.cosine_distance[2] == pytest.approx(0.0, abs=1e-6)
    assert collapsed.cosine_distance[0] == healthy.cosine_distance[0]


def test_dead_channels_are_counted():
    model, x = _tiny(), torch.randn(4, 3, 32, 32)
    with torch.no_grad():  # silence half of block 1's hidden channels
        conv = model.stages[0].blocks[0].conv2.conv
        conv.weight[:16].zero_()
        conv.bias[:16].zero_()
    assert block_feature_stats(model, x).dead_share[0] == 0.5


def test_collapse_cli_on_a_smoke_store(tmp_path, capsys):
    study = ROOT / "examples" / "convnext_v2_grn.yaml"
    assert main(["run", "--study", "custom", "--custom", str(study), "--preset", "smoke",
                 "--seeds", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert main(["collapse", "--results", str(tmp_path), "--steps", "V1=start,V2=grn",
                 "--images", "32"]) == 0
    df = pd.read_csv(tmp_path / "collapse.csv")
    assert set(df.model) == {"V1", "V2"} and len(df) == 2 * 18  # 18 blocks of ConvNeXt-T
    assert (tmp_path / "collapse.png").exists()
    assert main(["collapse", "--results", str(tmp_path), "--steps", "nope"]) == 2
    assert "no finished run of step 'nope'" in capsys.readouterr().err
