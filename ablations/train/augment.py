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


def random_resized_crop(x: torch.Tensor, min_area: float,
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """torchvision's RandomResizedCrop per image of a device batch (N, C, H, W): a box of
    area share U(min_area, 1) and log-uniform aspect ratio (clamped to the image), resized
    back to H x W bilinearly (``torchvision.ops.roi_align``)."""
    import math

    from torchvision.ops import roi_align

    n, _, h, w = x.shape
    dev = x.device
    area = torch.empty(n, device=dev).uniform_(min_area, 1.0) * h * w
    log_r = torch.empty(n, device=dev).uniform_(math.log(ratio[0]), math.log(ratio[1]))
    r = log_r.exp()
    bw = (area * r).sqrt().clamp(max=w)
    bh = (area / r).sqrt().clamp(max=h)
    x0 = torch.rand(n, device=dev) * (w - bw)
    y0 = torch.rand(n, device=dev) * (h - bh)
    boxes = torch.stack([torch.arange(n, device=dev, dtype=x.dtype), x0, y0, x0 + bw, y0 + bh],
                        dim=1).to(x.dtype)
    out = roi_align(x.contiguous(), boxes, output_size=(h, w), spatial_scale=1.0,
                    sampling_ratio=2, aligned=True)
    return out.contiguous(memory_format=torch.channels_last) if x.is_contiguous(
        memory_format=torch.channels_last) and not x.is_contiguous() else out


class BatchAugment:
    """What the training step does to a batch on the device, in the official order: random
    erasing per image (timm's ``RandomErasing``; RandAugment ran per image in the loader),
    then Mixup / CutMix (timm's ``Mixup``, which also smooths the labels) -> soft targets."""

    def __init__(self, recipe: Recipe, num_classes: int, device: torch.device) -> None:
        from timm.data import Mixup
        from timm.data.random_erasing import RandomErasing

        self.num_classes, self.smoothing = num_classes, recipe.label_smoothing
        self.crop_scale = recipe.random_resized_crop
        self.mix_batch = recipe.mix_batch
        self.erase = (RandomErasing(probability=recipe.random_erasing, mode=recipe.re_mode,
                                    max_count=recipe.re_count, device=str(device))
                      if recipe.random_erasing > 0 else None)
        self.mix = (Mixup(mixup_alpha=recipe.mixup, cutmix_alpha=recipe.cutmix,
                          prob=recipe.mixup_prob, switch_prob=recipe.mixup_switch_prob,
                          mode=recipe.mixup_mode, label_smoothing=recipe.label_smoothing,
                          num_classes=num_classes) if recipe.mixes else None)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, soft targets) for one (micro-)batch; Mixup / CutMix draw once per
        ``recipe.mix_batch`` images of it (once for the whole batch where that is 0)."""
        if self.crop_scale > 0:
            x = random_resized_crop(x, self.crop_scale)
        if self.erase is not None:
            x = self.erase(x)
        if self.mix is not None and self.mix_batch and len(x) > self.mix_batch:
            groups = [self.mix(xg, yg) for xg, yg in zip(x.split(self.mix_batch),
                                                           y.split(self.mix_batch))]
            x = torch.cat([g[0] for g in groups])
            if not x.is_contiguous() and groups[0][0].is_contiguous(
                    memory_format=torch.channels_last):
                x = x.contiguous(memory_format=torch.channels_last)
            return x, torch.cat([g[1] for g in groups])
        if self.mix is not None:
            return self.mix(x, y)
        return x, _soft_targets(y, self.num_classes, self.smoothing)
