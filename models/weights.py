"""Load weights saved by the reference implementations into a built network.

Accepted layouts (detected from the keys): this toolkit's own, torchvision's ResNet (also
timm's ResNet, same names), torchvision's ConvNeXt, timm's ConvNeXt / ConvNeXt V2, and the
official ConvNeXt / ConvNeXt V2 repositories (``{"model": state_dict}`` wrappers too).
Linear weights map onto 1x1 convs, and scale vectors of any singleton shape onto ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch
from torch import nn

from .design import DesignError

_RESNET_UNITS = {"conv1": "conv1.conv", "bn1": "conv1.norm", "conv2": "conv2.conv",
                 "bn2": "conv2.norm", "conv3": "conv3.conv", "bn3": "conv3.norm",
                 "downsample.0": "shortcut.conv", "downsample.1": "shortcut.norm"}


class WeightLoadError(DesignError):
    """A state dict does not fit the model: lists missing, unexpected and mis-shaped keys."""


def _resnet(key: str) -> str:
    m = re.fullmatch(r"layer(\d)\.(\d+)\.(conv\d|bn\d|downsample\.[01])\.(.+)", key)
    if m:
        stage, block, unit, rest = m.groups()
        return f"stages.{int(stage) - 1}.blocks.{block}.{_RESNET_UNITS[unit]}.{rest}"
    key = re.sub(r"^conv1\.", "stem.conv.", key)
    key = re.sub(r"^bn1\.", "stem.norm.", key)
    return re.sub(r"^fc\.", "head.fc.", key)


_BLOCK_PARTS = {  # official / timm / torchvision names inside a ConvNeXt block
    "dwconv": "conv1.conv", "conv_dw": "conv1.conv", "block.0": "conv1.conv",
    "norm": "conv1.norm", "block.2": "conv1.norm",
    "pwconv1": "conv2.conv", "mlp.fc1": "conv2.conv", "block.3": "conv2.conv",
    "pwconv2": "conv3.conv", "mlp.fc2": "conv3.conv", "block.5": "conv3.conv",
    "grn": "conv2.grn", "mlp.grn": "conv2.grn",
    "gamma": "layer_scale.gamma", "layer_scale": "layer_scale.gamma",
}
_GRN_PARAMS = {"gamma": "weight", "beta": "bias", "weight": "weight", "bias": "bias"}


def _block_part(prefix: str, part: str) -> str:
    for name in sorted(_BLOCK_PARTS, key=len, reverse=True):
        if part == name or part.startswith(name + "."):
            rest = part[len(name) + 1:]
            target = _BLOCK_PARTS[name]
            if target.endswith("grn"):
                rest = _GRN_PARAMS.get(rest, rest)
            return f"{prefix}.{target}" + (f".{rest}" if rest else "")
    return f"{prefix}.{part}"


def _convnext_key(patterns: tuple[str, str, str], key: str) -> str | None:
    """Map a key of a ConvNeXt layout whose stem, downsampling layers and blocks match the
    three ``patterns`` (groups: stem unit + rest; stage, unit, rest; stage, block, rest)."""
    stem, down, block = patterns
    if m := re.fullmatch(stem, key):
        return f"stem.{('conv', 'norm')[int(m[1])]}.{m[2]}"
    if m := re.fullmatch(down, key):
        return f"stages.{m[1]}.downsample.{('norm', 'conv')[int(m[2])]}.{m[3]}"
    if m := re.fullmatch(block, key):
        return _block_part(f"stages.{m[1]}.blocks.{m[2]}", m[3])
    return None


_OFFICIAL = (r"downsample_layers\.0\.([01])\.(.+)", r"downsample_layers\.(\d)\.([01])\.(.+)",
             r"stages\.(\d)\.(\d+)\.(.+)")
_TIMM = (r"stem\.([01])\.(.+)", r"stages\.(\d)\.downsample\.([01])\.(.+)",
         r"stages\.(\d)\.blocks\.(\d+)\.(.+)")


def _official(key: str) -> str:
    if mapped := _convnext_key(_OFFICIAL, key):
        return mapped
    key = re.sub(r"^norm\.", "head.norm.", key)
    return re.sub(r"^head\.(weight|bias)$", r"head.fc.\1", key)


def _timm(key: str) -> str:
    return _convnext_key(_TIMM, key) or key  # head.norm.*, head.fc.* already match


def _torchvision_convnext(key: str) -> str:
    if m := re.fullmatch(r"features\.0\.([01])\.(.+)", key):
        return f"stem.{('conv', 'norm')[int(m[1])]}.{m[2]}"
    if m := re.fullmatch(r"features\.(\d)\.(\d+)\.(.+)", key):
        index, sub, rest = int(m[1]), m[2], m[3]
        if index % 2 == 0:  # features.2/4/6 are the downsampling layers
            return f"stages.{index // 2}.downsample.{('norm', 'conv')[int(sub)]}.{rest}"
        return _block_part(f"stages.{index // 2}.blocks.{sub}", rest)
    if m := re.fullmatch(r"classifier\.([02])\.(.+)", key):
        return f"head.{'norm' if m[1] == '0' else 'fc'}.{m[2]}"
    return key


_LAYOUTS: dict[str, tuple[str, Callable[[str], str]]] = {
    # layout name: (a key that identifies it, key mapper)
    "toolkit": ("stem.conv.weight", lambda k: k),
    "torchvision/timm resnet": ("layer1.0.conv1.weight", _resnet),
    "torchvision convnext": ("features.0.0.weight", _torchvision_convnext),
    "timm convnext": ("stages.0.blocks.0.conv_dw.weight", _timm),
    "official convnext": ("downsample_layers.0.0.weight", _official),
}


def detect_layout(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Name of the layout of ``state_dict`` (see module docstring)."""
    for name, (marker, _) in _LAYOUTS.items():
        if marker in state_dict:
            return name
    raise WeightLoadError(
        "state dict layout not recognised; expected one of: "
        + "; ".join(f"{n} (has {m!r})" for n, (m, _) in _LAYOUTS.items())
        + f"; first keys given: {list(state_dict)[:3]}"
    )


def convert_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module
) -> dict[str, torch.Tensor]:
    """Rename (and reshape where only singleton dims differ) ``state_dict`` for ``model``.

    Raises ``WeightLoadError`` listing missing, unexpected and mis-shaped keys.
    """
    if "model" in state_dict and isinstance(state_dict["model"], Mapping):
        state_dict = state_dict["model"]  # the official checkpoints wrap the weights
    mapper = _LAYOUTS[detect_layout(state_dict)][1]
    target = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    unexpected, misshaped, seen = [], [], set()
    for key, value in state_dict.items():
        new = mapper(key)
        if new not in target:
            unexpected.append(key)
            continue
        seen.add(new)
        want = target[new].shape
        if value.shape != want:
            if _squeezed(value.shape) == _squeezed(want):
                value = value.reshape(want)
            else:
                misshaped.append(f"{key} -> {new}: {tuple(value.shape)} vs {tuple(want)}")
                continue
        out[new] = value
    missing = [k for k in target if k not in seen]
    if missing or unexpected or misshaped:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected),
                            ("mis-shaped", misshaped)):
            if keys:
                shown = ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8
                                               else "")
                parts.append(f"{label}: {shown}")
        raise WeightLoadError("weights do not fit the model; " + "; ".join(parts))
    return out


def load_reference_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Copy ``state_dict`` (any accepted layout) into ``model`` in place and return it."""
    model.load_state_dict(convert_state_dict(state_dict, model), strict=True)
    return model


def _squeezed(shape: torch.Size) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)
