"""What the training step does to a batch on the device: timm's random erasing and Mixup /
CutMix, or plain (smoothed) one-hot targets."""

from __future__ import annotations

import torch

from .recipe import Recipe


def _soft_targets(y: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    # Built where the labels are: no host round trip (and no sync) per step on a GPU.
    off = smoothing / num_classes
    return torch.full((len(y), num_classes), off, device=y.device).scatter_(
        1, y.view(-1, 1), 1 - smoothing + off)


class BatchAugment:
    """What the training step does to a batch on the device, in the official order: random
    erasing per image (timm's ``RandomErasing``; RandAugment ran per image in the loader),
    then Mixup / CutMix (timm's ``Mixup``, which also smooths the labels) -> soft targets."""

    def __init__(self, recipe: Recipe, num_classes: int, device: torch.device) -> None:
        from timm.data import Mixup
        from timm.data.random_erasing import RandomErasing

        self.num_classes, self.smoothing = num_classes, recipe.label_smoothing
        self.erase = (RandomErasing(probability=recipe.random_erasing, mode=recipe.re_mode,
                                    max_count=recipe.re_count, device=str(device))
                      if recipe.random_erasing > 0 else None)
        self.mix = (Mixup(mixup_alpha=recipe.mixup, cutmix_alpha=recipe.cutmix,
                          prob=recipe.mixup_prob, switch_prob=recipe.mixup_switch_prob,
                          mode=recipe.mixup_mode, label_smoothing=recipe.label_smoothing,
                          num_classes=num_classes) if recipe.mixes else None)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, soft targets) for one batch."""
        if self.erase is not None:
            x = self.erase(x)
        if self.mix is not None:
            return self.mix(x, y)
        return x, _soft_targets(y, self.num_classes, self.smoothing)
