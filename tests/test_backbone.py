"""Every roadmap step as a backbone: four stage maps, torch.fx, torch.export, torch.compile."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.detection import FasterRCNN
from torchvision.models.feature_extraction import create_feature_extractor

from models import build
from models.backbone import DesignBackbone
from models.roadmap import chain

STEPS = chain("resnet50-to-convnext-t")


def _small(design):
    return design.replace(widths=tuple(max(1, w // 16) for w in design.widths), drop_path=0.0)


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_every_step_gives_four_stage_maps_and_traces_with_torch_fx(step):
    torch.manual_seed(0)
    model = build(_small(step.design)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        maps = model.forward_stages(x)
        assert [m.shape[1] for m in maps] == list(model.stage_channels)
        assert [64 // m.shape[-1] for m in maps] == list(model.stage_strides) == [4, 8, 16, 32]
        # torchvision's feature tool (torch.fx): the shape-dependent conv shortcuts are a
        # leaf of the trace, so it works on every step and gives the same maps
        extractor = create_feature_extractor(
            model, {f"stages.{i}": f"c{i + 2}" for i in range(4)}).eval()
        traced = extractor(x)
    for i, m in enumerate(maps):
        assert torch.equal(traced[f"c{i + 2}"], m)


@pytest.mark.parametrize("index", [0, 6, 13])
def test_export_and_compile_capture_one_graph(index):
    torch.manual_seed(0)
    model = build(_small(STEPS[index + 1].design)).eval()
    x = torch.randn(1, 3, 64, 64)
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        assert torch.allclose(exported.module()(x), model(x), atol=1e-5)
    explanation = torch._dynamo.explain(model)(x)
    assert explanation.graph_count == 1 and explanation.graph_break_count == 0


def test_a_step_is_a_faster_rcnn_backbone_forward_and_backward():
    torch.manual_seed(0)
    backbone = DesignBackbone(_small(STEPS[7].design), fpn_channels=16)
    assert backbone.stage_channels == (6, 12, 24, 48) and backbone.out_channels == 16
    detector = FasterRCNN(backbone, num_classes=3, min_size=64, max_size=64).train()
    images = [torch.rand(3, 64, 64), torch.rand(3, 64, 64)]
    targets = [{"boxes": torch.tensor([[4.0, 4.0, 30.0, 40.0]]), "labels": torch.tensor([1])},
               {"boxes": torch.tensor([[10.0, 8.0, 60.0, 50.0]]), "labels": torch.tensor([2])}]
    losses = detector(images, targets)
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_objectness",
                           "loss_rpn_box_reg"}
    sum(losses.values()).backward()
    stem_grad = backbone.stem.conv.weight.grad
    assert stem_grad is not None and stem_grad.abs().sum() > 0


def test_backbone_without_fpn_returns_the_stage_maps():
    backbone = DesignBackbone(_small(STEPS[-1].design), fpn_channels=None).eval()
    maps = backbone(torch.randn(1, 3, 64, 64))
    assert list(maps) == ["0", "1", "2", "3"]
    assert tuple(m.shape[1] for m in maps.values()) == backbone.out_channels
