"""Optimizer and learning-rate schedule of a recipe: weight decay on weights only (as the
official code), SGD with momentum or AdamW at the scaled learning rate, linear warmup then
cosine or step decay, per iteration."""

from __future__ import annotations

import math

import torch
from torch import nn

from .recipe import Recipe


def layer_id(name: str, depths: tuple[int, ...]) -> int:
    """Layer index of parameter ``name`` of a ConvNet for layer-wise lr decay (ConvNeXt V2's
    'single' rule): stem 1, stage s's downsampling 1 + blocks before it, block b of stage s
    1 + blocks before it + b, everything else (head) sum(depths) + 1."""
    parts = name.split(".")
    if parts[0] == "stem":
        return 1
    if parts[0] == "stages":
        stage = int(parts[1])
        before = sum(depths[:stage])
        return before + 1 + (int(parts[3]) if parts[2] == "blocks" else 0)
    return sum(depths) + 1


def param_groups(model: nn.Module, weight_decay: float, decay_1d: bool,
                 layer_decay: float = 1.0, depths: tuple[int, ...] | None = None,
                 decay_grn: bool = False) -> list[dict]:
    """Weight decay on weights; none on norms, biases and scales unless ``decay_1d`` (GRN's
    scale and shift are decayed with ``decay_grn``, as the official FCMAE pretraining does).
    With ``layer_decay`` < 1 (and the ConvNet's ``depths``), one group per layer and decay
    kind, at lr scale ``layer_decay ** (sum(depths) + 1 - layer_id)``."""
    groups: dict[tuple[int, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decayed = p.ndim > 1 or decay_1d or (decay_grn and ".grn." in f".{name}")
        layer = layer_id(name, depths) if layer_decay < 1 and depths else 0
        groups.setdefault((layer, decayed), []).append(p)
    top = sum(depths) + 1 if depths else 0
    out = []
    for (layer, decayed), params in sorted(groups.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
        group = {"params": params, "weight_decay": weight_decay if decayed else 0.0}
        if layer_decay < 1 and depths:
            group["lr_scale"] = layer_decay ** (top - layer)
        out.append(group)
    return out


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW, at the recipe's scaled learning rate (times each group's
    ``lr_scale`` under layer-wise decay)."""
    depths = getattr(getattr(model, "design", None), "depths", None)
    groups = param_groups(model, recipe.weight_decay, recipe.decay_norm_and_bias,
                          recipe.layer_decay, depths, decay_grn=recipe.task == "fcmae")
    for g in groups:
        g["lr"] = recipe.scaled_lr * g.get("lr_scale", 1.0)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=recipe.scaled_lr, momentum=recipe.momentum)
    return torch.optim.AdamW(groups, lr=recipe.scaled_lr, betas=recipe.betas)


def lr_factor(recipe: Recipe, iteration: int, iters_per_epoch: int) -> float:
    """Multiplier of the peak lr at ``iteration``: linear warmup, then cosine or step."""
    total = recipe.epochs * iters_per_epoch
    warmup = int(recipe.warmup_epochs * iters_per_epoch)
    if iteration < warmup:
        return (iteration + 1) / warmup
    if recipe.schedule == "step":
        return recipe.step_gamma ** int(iteration // (recipe.step_every * iters_per_epoch))
    progress = (iteration - warmup) / max(1, total - warmup)
    floor = recipe.min_lr / recipe.scaled_lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
