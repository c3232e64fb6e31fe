"""Optimizer and learning-rate schedule of a recipe: weight decay on weights only (as the
official code), SGD with momentum or AdamW at the scaled learning rate, linear warmup then
cosine or step decay, per iteration."""

from __future__ import annotations

import math

import torch
from torch import nn

from .recipe import Recipe


def param_groups(model: nn.Module, weight_decay: float, decay_1d: bool) -> list[dict]:
    """Weight decay on weights; none on norms, biases and scales unless ``decay_1d``."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 or decay_1d else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW, at the recipe's scaled learning rate."""
    groups = param_groups(model, recipe.weight_decay, recipe.decay_norm_and_bias)
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
