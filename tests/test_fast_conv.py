"""The shortcuts of models.fast_conv.Conv keep nn.Conv2d's outputs and gradients exactly."""

import pytest
import torch
from torch import nn

from models import build
from models.fast_conv import Conv, plain_convolutions
from models.complexity import paper_gflops
from models.named import named_design

CASES = [
    # (in, out, kernel, groups, map size): pointwise, depthwise and dense convs on maps
    # larger than, equal to and smaller than the kernel.
    (8, 16, 1, 1, 4), (8, 8, 7, 8, 1), (8, 8, 7, 8, 2), (8, 8, 7, 8, 3), (8, 8, 7, 8, 4),
    (8, 8, 7, 8, 9), (6, 6, 3, 6, 2), (6, 6, 5, 6, 4), (8, 12, 3, 1, 1), (8, 12, 3, 1, 2),
    (8, 8, 3, 2, 1), (4, 4, 7, 4, 5),
]


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("cin,cout,k,groups,size", CASES)
def test_conv_matches_conv2d(cin, cout, k, groups, size, bias, channels_last):
    torch.manual_seed(0)
    fast = Conv(cin, cout, k, padding=k // 2, groups=groups, bias=bias).double()
    ref = nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=bias).double()
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(3, cin, size, size + 1 if size > 2 else size, dtype=torch.double)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x_fast, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_fast, y_ref = fast(x_fast), ref(x_ref)
    assert y_fast.shape == y_ref.shape
    torch.testing.assert_close(y_fast, y_ref, rtol=0, atol=1e-12)
    grad = torch.randn_like(y_ref)
    y_fast.backward(grad)
    y_ref.backward(grad)
    torch.testing.assert_close(x_fast.grad, x_ref.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(fast.weight.grad, ref.weight.grad, rtol=0, atol=1e-12)
    if bias:
        torch.testing.assert_close(fast.bias.grad, ref.bias.grad, rtol=0, atol=1e-12)


def test_whole_model_same_training_step_with_and_without_shortcuts():
    # ConvNeXt-T at 1/8 width on 32 px: every shortcut fires (1x1 maps, 2x2 maps, 1x1 convs).
    design = named_design("convnext_tiny").replace(widths=(12, 24, 48, 96), drop_path=0.0)
    torch.manual_seed(0)
    model = build(design, num_classes=10).double().to(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 32, 32, dtype=torch.double).contiguous(memory_format=torch.channels_last)
    out = model(x)
    out.square().sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with plain_convolutions(model):
        ref = model(x)
        ref.square().sum().backward()
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)
    for g, p in zip(grads, model.parameters()):
        torch.testing.assert_close(g, p.grad, rtol=0, atol=1e-10)


def test_flops_count_every_tap_at_small_resolution():
    # At 32 px the shortcuts skip taps that meet only padding; the paper's count keeps them.
    model = build(named_design("convnext_tiny"), num_classes=10)
    counted = paper_gflops(model, resolution=32)
    # Same count as torch.nn.Conv2d would give: compare with a model built of plain convs.
    plain = build(named_design("convnext_tiny"), num_classes=10)
    for name, m in list(plain.named_modules()):
        for child_name, child in list(m.named_children()):
            if type(child) is Conv:
                new = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size,
                                child.stride, child.padding, groups=child.groups,
                                bias=child.bias is not None)
                setattr(m, child_name, new)
    assert counted == pytest.approx(paper_gflops(plain, resolution=32), rel=1e-12)
    assert counted > 0.09  # 4.456 GFLOPs / (224/32)^2 = 0.091 + the 10-class head


def test_plain_convolutions_is_scoped_to_one_model_and_restores_it():
    from models.fast_conv import use_shortcuts

    design = named_design("convnext_tiny").replace(widths=(8, 16, 32, 64), depths=(1, 1, 1, 1))
    a, b = build(design, num_classes=3), build(design, num_classes=3)
    use_shortcuts(a.stages[0], False)  # one part of a set off by hand (a build option)
    states = lambda m: [c.shortcuts for c in m.modules() if isinstance(c, Conv)]  # noqa: E731
    before = states(a)
    assert False in before and True in before
    with plain_convolutions(a):
        assert not any(states(a))
        assert all(states(b))  # another model (another thread's, say) keeps its shortcuts
    assert states(a) == before and all(states(b))
