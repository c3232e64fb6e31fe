"""A block runs its convs in the order of its plan, by role, with unchanged state-dict keys;
the FLOPs of a ConvNet split into parts that sum to its count (issue #26, items 6-8)."""

import hashlib
import inspect
import warnings

import pytest
import torch

from models import (ROLES, Block, block_plan, build, costs, gflops_by_part, named_design,
                    stage_plan)
from models.roadmap import DEFAULT_CHAIN, chain
from models.weights import convert_state_dict

torchvision = pytest.importorskip("torchvision")

FIRST, LAST = chain(DEFAULT_CHAIN)[0], chain(DEFAULT_CHAIN)[-1]  # ResNet-50, ConvNeXt-T
# Each design's block, named from both ends: ResNet's bottleneck, ConvNeXt's inverted one.
ORDERS = {"resnet50": ("to_hidden", "spatial", "from_hidden"),
          "convnext_tiny": ("spatial", "to_hidden", "from_hidden")}
# sha256 of the sorted state-dict keys of build(step.design), computed before the block was
# rewritten (roles renamed, forward without lookups): checkpoints of past runs still load.
KEYS_BEFORE = {
    FIRST.name: (320, "96d19d7eb770681db6bdf3ea5ed3ec0135dd91b75e92f00437afc3be9abf2d96"),
    LAST.name: (182, "85e8958f5285db5e42274651a54ef74022f46e025dd3ca19eff61c09fdf6e345"),
}


def _first_block_of_stage(design, stage: int = 1) -> tuple[Block, list]:
    """The first block of ``stage`` (it strides, or follows a downsampling layer) and the
    plan it was built from."""
    with torch.device("meta"):
        model = build(design, num_classes=10)
    plan = stage_plan(design)[stage]
    return (model.stages[stage].blocks[0],
            block_plan(design, plan.in_ch, plan.out_ch, plan.stride))


def _roles_run(block: Block, specs: list, x: torch.Tensor) -> list[str]:
    """The roles of the conv units of ``block`` in the order its forward pass calls them."""
    called = []
    hooks = [block.get_submodule(spec.name).register_forward_hook(
        lambda m, i, o, role=spec.role: called.append(role)) for spec in specs]
    try:
        with torch.no_grad():
            block.eval()(x)
    finally:
        for h in hooks:
            h.remove()
    return called


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_the_forward_pass_runs_the_units_in_the_order_of_the_plan(name):
    design = named_design(name)
    block, specs = _first_block_of_stage(design)
    assert tuple(s.role for s in specs) == ORDERS[name] == block.roles
    assert [s.name for s in specs] == ["conv1", "conv2", "conv3"]
    real = build(design, num_classes=10).stages[1].blocks[0]
    x = torch.randn(1, specs[0].in_ch, 16, 16)
    assert _roles_run(real, specs, x) == list(ORDERS[name])


@pytest.mark.parametrize("step", chain(DEFAULT_CHAIN), ids=lambda s: s.name)
def test_every_step_runs_its_plan(step):
    block, specs = _first_block_of_stage(step.design)
    real = build(step.design, num_classes=10).stages[1].blocks[0]
    x = torch.randn(1, specs[0].in_ch, 8, 8)
    assert _roles_run(real, specs, x) == [s.role for s in specs] == list(block.roles)


def test_each_role_names_what_its_conv_does_in_both_designs():
    resnet, _ = _first_block_of_stage(named_design("resnet50"), stage=2)
    convnext, _ = _first_block_of_stage(named_design("convnext_tiny"), stage=2)
    for block, spatial_kernel, depthwise, ratio in ((resnet, 3, False, 1 / 4),
                                                    (convnext, 7, True, 4)):
        spatial = block.unit("spatial").conv
        assert spatial.kernel_size == (spatial_kernel, spatial_kernel)
        assert (spatial.groups == spatial.in_channels) is depthwise
        to_hidden, from_hidden = block.unit("to_hidden").conv, block.unit("from_hidden").conv
        assert to_hidden.kernel_size == from_hidden.kernel_size == (1, 1)
        width = from_hidden.out_channels  # the block's (residual) width
        assert to_hidden.out_channels == width * ratio == from_hidden.in_channels
    assert convnext.unit("to_hidden").act is not None  # the MLP's GELU: collapse is read here


def test_a_block_unit_is_found_by_its_role_only():
    block, _ = _first_block_of_stage(named_design("resnet50"))
    assert set(ROLES) == {"spatial", "to_hidden", "from_hidden"}
    # 'expand' and 'project' were the role names of 0.2: gone, like any unknown role
    for role in ("expand", "project", "mlp"):
        with pytest.raises(ValueError, match=f"role='{role}'; allowed: spatial, to_hidden, "
                                             "from_hidden"):
            block.unit(role)


def test_the_forward_pass_looks_nothing_up_by_name():
    source = inspect.getsource(Block.forward)
    assert "getattr" not in source and "_unit_names" not in source


def test_zero_init_finds_the_last_conv_of_the_branch_by_its_current_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        model = build(named_design("resnet50"), num_classes=10, zero_init_residual=True)
    block = model.stages[0].blocks[0]
    assert torch.count_nonzero(block.conv3.norm.weight) == 0
    assert torch.count_nonzero(block.conv2.norm.weight) > 0


@pytest.mark.parametrize("step", [FIRST, LAST], ids=lambda s: s.name)
def test_state_dict_keys_are_those_of_before(step):
    with torch.device("meta"):
        keys = sorted(build(step.design).state_dict())
    count, digest = KEYS_BEFORE[step.name]
    assert (len(keys), hashlib.sha256("\n".join(keys).encode()).hexdigest()) == (count, digest)
    assert "stages.0.blocks.0.conv1.conv.weight" in keys
    assert "stages.3.blocks.2.conv3.conv.weight" in keys


@pytest.mark.parametrize("step, reference", [(FIRST, "resnet50"), (LAST, "convnext_tiny")],
                         ids=["resnet50", "convnext_tiny"])
def test_state_dict_keys_are_torchvisions_mapped(step, reference):
    with torch.device("meta"):
        ours = build(step.design)
        ref = getattr(torchvision.models, reference)()
    mapped = convert_state_dict(ref.state_dict(), ours)  # raises on a missing / extra key
    assert sorted(mapped) == sorted(ours.state_dict())


@pytest.mark.parametrize("step", [FIRST, LAST], ids=lambda s: s.name)
def test_the_parts_sum_to_the_flops_of_the_design(step):
    parts = gflops_by_part(step.design)
    assert list(parts) == ["stem", "stage 1", "stage 2", "stage 3", "stage 4", "head"]
    total = costs(step.design, with_fvcore=False).gflops
    assert sum(parts.values()) == pytest.approx(total, rel=1e-9)
    assert all(v > 0 for v in parts.values())


def test_the_parts_are_where_the_multiply_adds_are():
    # Counted by hand, in MACs: stem conv (output pixels x out x in x taps), classifier.
    resnet, convnext = gflops_by_part(FIRST.design), gflops_by_part(LAST.design)
    assert resnet["stem"] * 1e9 == pytest.approx(112 * 112 * 64 * 3 * 7 * 7, rel=1e-12)
    assert resnet["head"] * 1e9 == pytest.approx(2048 * 1000, rel=1e-12)
    assert convnext["stem"] * 1e9 == pytest.approx(56 * 56 * 96 * 3 * 4 * 4, rel=1e-12)
    assert convnext["head"] * 1e9 == pytest.approx(768 * 1000, rel=1e-12)
    at_112 = gflops_by_part(LAST.design, resolution=112, num_classes=10)
    assert at_112["head"] * 1e9 == pytest.approx(768 * 10, rel=1e-12)
    assert at_112["stem"] == pytest.approx(convnext["stem"] / 4, rel=1e-12)


def test_the_parts_are_for_convnets():
    with pytest.raises(TypeError, match="models.Design"):
        gflops_by_part(named_design("swin_t"))
