import random

import pytest
import torch

from models import Design, build, count_params, named_design
from models.design import (ACTIVATIONS, BLOCKS, COUNTS, DOWNSAMPLINGS, NORMS,
                           SPATIAL_POSITIONS, STEMS)


def random_design(rng: random.Random) -> Design:
    block = rng.choice(BLOCKS)
    base = rng.choice([8, 12, 16])
    widths = tuple(base * 2**i for i in range(4))
    groups = rng.choice([1, 2, 4, "depthwise"])
    return Design(
        depths=tuple(rng.randint(1, 2) for _ in range(4)),
        widths=widths,
        stem=rng.choice(STEMS),
        groups=groups,
        block=block,
        expansion=rng.choice([1, 2, 4]),
        spatial_position=rng.choice(SPATIAL_POSITIONS),
        kernel_size=rng.choice([1, 3, 5, 7]),
        activation=rng.choice(ACTIVATIONS),
        activation_count=rng.choice(COUNTS),
        norm_count=rng.choice(COUNTS),
        norm=rng.choice(NORMS),
        downsample=rng.choice(DOWNSAMPLINGS),
        layer_scale=rng.choice([0.0, 1e-6, 0.1]),
        drop_path=rng.choice([0.0, 0.2]),
        head_norm=rng.choice([True, False]),
        grn=rng.choice([True, False]),
    )


def test_fifty_random_designs_run_forward_and_backward():
    rng = random.Random(1234)
    seen = set()
    while len(seen) < 50:
        try:
            d = random_design(rng)
        except ValueError:
            continue  # e.g. groups that do not divide a width: validation's job, tested there
        if d in seen:
            continue
        seen.add(d)
        model = build(d, num_classes=5, in_chans=rng.choice([1, 3]))
        model.train()
        x = torch.randn(2, model.stem.conv.in_channels, 32, 32)
        out = model(x)
        assert out.shape == (2, 5), d
        out.square().mean().backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), d


def test_build_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        build(Design(), num_classes=0)
    with pytest.raises(TypeError, match="Design"):
        build({"depths": (3, 4, 6, 3)})  # type: ignore[arg-type]


def test_toggles_change_the_model():
    base = named_design("convnext_tiny").replace(widths=(8, 16, 32, 64))
    n = count_params(build(base))
    assert count_params(build(base.replace(kernel_size=3))) < n
    assert count_params(build(base.replace(grn=True))) > n
    assert count_params(build(base.replace(layer_scale=0.0))) < n


def test_drop_path_rates_rise_linearly():
    model = build(named_design("convnext_tiny").replace(widths=(8, 16, 32, 64)))
    rates = [m.rate for m in model.modules() if type(m).__name__ == "DropPath"]
    # 18 blocks (3, 3, 9, 3): block i of 0..17 drops at 0.1 * i / 17, as torch.linspace(0,
    # 0.1, 18) in the official code; the first block's rate is 0, so it has no module
    assert len(rates) == 17
    assert rates == pytest.approx([0.1 * i / 17 for i in range(1, 18)], abs=1e-12)


def test_block_repr_reads_like_the_papers_figure():
    from models.roadmap import chain

    steps = {s.name: s.design for s in chain("resnet50-to-convnext-t")}
    expected = {
        "modern-recipe": "conv1x1 /4 -> BN -> ReLU -> conv3x3 -> BN -> ReLU -> conv1x1 4x -> BN"
                         " -> (+) -> ReLU",
        "inverted-bottleneck": "conv1x1 4x -> BN -> ReLU -> dwconv3x3 -> BN -> ReLU -> "
                               "conv1x1 /4 -> BN -> (+) -> ReLU",
        "separate-downsampling": "dwconv7x7 -> LN -> conv1x1 4x -> GELU -> conv1x1 /4 -> (+)",
        "layer-scale": "dwconv7x7 -> LN -> conv1x1 4x -> GELU -> conv1x1 /4 -> layer scale -> (+)",
    }
    for name, ops in expected.items():
        with torch.device("meta"):
            block = build(steps[name]).stages[1].blocks[1]
        assert block.ops == ops
        assert f"ops: {ops}" in repr(block)
    with torch.device("meta"):
        v2 = build(named_design("convnextv2_atto")).stages[0].blocks[0]
    assert v2.ops == "dwconv7x7 -> LN -> conv1x1 4x -> GELU -> GRN -> conv1x1 /4 -> (+)"


def test_a_block_names_each_conv_by_its_role_and_runs_them_in_that_order():
    from models import ROLES, Block

    cases = {"resnet50": ("to_hidden", "spatial", "from_hidden"),
             "convnext_tiny": ("spatial", "to_hidden", "from_hidden")}
    for name, roles in cases.items():
        block = next(m for m in build(named_design(name), num_classes=10).modules()
                     if isinstance(m, Block))
        assert block.roles == roles and set(roles) == set(ROLES)
        called = []
        hooks = [block.unit(r).register_forward_hook(lambda m, i, o, r=r: called.append(r))
                 for r in ROLES]
        block(torch.randn(1, block.unit("to_hidden")[0].in_channels, 16, 16))
        for h in hooks:
            h.remove()
        assert tuple(called) == roles, name  # the forward pass follows the plan's order
    spatial = block.unit("spatial")[0]  # ConvNeXt-T's: the depthwise 7x7 conv
    assert spatial.kernel_size == (7, 7) and spatial.groups == spatial.in_channels
    with pytest.raises(ValueError, match="role='mlp'; allowed: spatial, to_hidden, from_hidden"):
        block.unit("mlp")
