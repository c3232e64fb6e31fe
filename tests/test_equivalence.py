"""Our networks equal the reference implementations on the same (random) weights."""

import re

import pytest
import torch

from models import WeightLoadError, build, count_params, load_reference_weights, named_design
from models.roadmap import chain

timm = pytest.importorskip("timm")
torchvision = pytest.importorskip("torchvision")

CHAIN = "resnet50-to-convnext-t"


def _perturb(model: torch.nn.Module) -> torch.nn.Module:
    """Make zero/tiny-initialised scales (layer scale 1e-6, GRN 0) matter, and BN stats too."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if re.search(r"(gamma|layer_scale|grn\.(weight|bias|gamma|beta))$", name):
                t.copy_(torch.randn(t.shape, generator=g) * 0.5)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model.eval()


def _max_diff(ours: torch.nn.Module, ref: torch.nn.Module, size: int = 64) -> float:
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        return (ours.eval()(x) - ref(x)).abs().max().item()


def _check(design, ref, state_dict=None):
    ref = _perturb(ref)
    ours = build(design)
    assert count_params(ours) == count_params(ref)
    load_reference_weights(ours, state_dict if state_dict is not None else ref.state_dict())
    assert _max_diff(ours, ref) <= 1e-5


@pytest.mark.parametrize("design", [named_design("resnet50"), chain(CHAIN)[0].design,
                                    chain(CHAIN)[1].design], ids=["preset", "step-1", "step0"])
def test_resnet50_equals_torchvision(design):
    _check(design, torchvision.models.resnet50())


def test_resnet101_equals_torchvision():
    _check(named_design("resnet101"), torchvision.models.resnet101())


@pytest.mark.parametrize("design", [named_design("convnext_tiny"), chain(CHAIN)[-1].design],
                         ids=["preset", "last-step"])
@pytest.mark.parametrize("source", ["torchvision", "timm"])
def test_convnext_tiny_equals_references(design, source):
    ref = (torchvision.models.convnext_tiny() if source == "torchvision"
           else timm.create_model("convnext_tiny"))
    _check(design, ref)


@pytest.mark.parametrize("name", ["convnext_small", "convnext_base"])
@pytest.mark.parametrize("source", ["torchvision", "timm"])
def test_bigger_convnexts_equal_references(name, source):
    ref = getattr(torchvision.models, name)() if source == "torchvision" else timm.create_model(name)
    _check(named_design(name), ref)


@pytest.mark.parametrize("name", ["convnextv2_atto", "convnextv2_femto", "convnextv2_pico",
                                  "convnextv2_nano", "convnextv2_tiny"])
def test_convnext_v2_equals_timm(name):
    _check(named_design(name), timm.create_model(name))


def _official_layout(timm_sd: dict, v2: bool) -> dict:
    """The official repositories' key layout, built from a timm state dict by hand."""
    out = {}
    for k, v in timm_sd.items():
        k2 = k
        k2 = re.sub(r"^stem\.", "downsample_layers.0.", k2)
        k2 = re.sub(r"^stages\.(\d)\.downsample\.", r"downsample_layers.\1.", k2)
        k2 = re.sub(r"^stages\.(\d)\.blocks\.", r"stages.\1.", k2)
        k2 = k2.replace("conv_dw", "dwconv").replace("mlp.fc1", "pwconv1")
        k2 = k2.replace("mlp.fc2", "pwconv2")
        k2 = re.sub(r"^head\.norm\.", "norm.", k2)
        k2 = re.sub(r"^head\.fc\.", "head.", k2)
        if "pwconv" in k2 and v.ndim == 4:
            v = v.flatten(1)  # the official code uses nn.Linear
        if v2 and ".mlp.grn." in k2:
            k2 = k2.replace("mlp.grn.weight", "grn.gamma").replace("mlp.grn.bias", "grn.beta")
            v = v.reshape(1, 1, 1, -1)  # official GRN params are (1, 1, 1, C)
        out[k2] = v
    return {"model": out}  # official checkpoints wrap the weights


@pytest.mark.parametrize("name", ["convnext_tiny", "convnextv2_atto"])
def test_official_layout_loads(name):
    ref = _perturb(timm.create_model(name))
    sd = _official_layout(ref.state_dict(), v2="v2" in name)
    assert "downsample_layers.0.0.weight" in sd["model"]
    _check(named_design(name), ref, state_dict=sd)


def test_mismatch_lists_missing_unexpected_and_misshaped_keys():
    ref = torchvision.models.resnet50().state_dict()
    ref["extra.weight"] = torch.zeros(1)
    del ref["fc.bias"]
    ref["fc.weight"] = torch.zeros(10, 2048)
    with pytest.raises(WeightLoadError) as err:
        load_reference_weights(build(named_design("resnet50")), ref)
    msg = str(err.value)
    assert "missing: head.fc.bias" in msg
    assert "unexpected: extra.weight" in msg
    assert "mis-shaped: fc.weight" in msg


def test_unknown_layout_is_named():
    with pytest.raises(WeightLoadError, match="layout not recognised"):
        load_reference_weights(build(named_design("resnet50")), {"foo.weight": torch.zeros(1)})


def test_wrong_model_for_weights():
    with pytest.raises(WeightLoadError, match="missing"):
        load_reference_weights(build(named_design("convnext_small")),
                               torchvision.models.convnext_tiny().state_dict())
