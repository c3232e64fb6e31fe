"""Test accuracy of a model, and its per-example predictions (for McNemar's test)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .distributed import SINGLE, DistContext


@dataclass
class Predictions:
    """Per-example test predictions of one run, in test-set order (compact dtypes)."""

    label: torch.Tensor
    """True class (int16)."""
    pred: torch.Tensor
    """Predicted class (int16)."""
    p_true: torch.Tensor
    """Softmax probability of the true class (float16)."""


def evaluate(model: nn.Module, loader, device: torch.device, bf16: bool = False,
             dist: DistContext = SINGLE, predict: bool = False
             ) -> tuple[float, float, "Predictions | None"]:
    """Top-1 and top-5 accuracy (%) of ``model`` on ``loader`` (counts summed over ranks),
    and with ``predict`` the ``Predictions`` of the whole test set in its order (under
    several processes gathered from every rank onto rank 0; None on the others)."""
    model.eval()
    correct1 = torch.zeros((), dtype=torch.long, device=device)
    correct5 = torch.zeros((), dtype=torch.long, device=device)
    n = 0
    parts: list[tuple[torch.Tensor, ...]] = []
    with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        for x, y in loader:
            x, y = loader.to_device(x, y, device)
            logits = model(x)
            top = logits.topk(min(5, logits.shape[1]), dim=1).indices
            hit = top == y.view(-1, 1)
            correct1 += hit[:, 0].sum()  # counted on the device: one sync at the end
            correct5 += hit.any(dim=1).sum()
            n += len(y)
            if predict:
                p_true = logits.float().softmax(1).gather(1, y.view(-1, 1)).view(-1)
                parts.append((y.short(), top[:, 0].short(), p_true.half()))
    counts = dist.all_reduce_sum(torch.stack([correct1, correct5,
                                              torch.tensor(n, device=device)]))
    c1, c5, n = (int(v) for v in counts.tolist())
    predictions = None
    if predict and (parts or dist.enabled):  # every rank gathers, even one with no items
        empty = (torch.zeros(0, dtype=torch.int16),) * 2 + (torch.zeros(0, dtype=torch.float16),)
        label, pred, p_true = ((torch.cat(t).cpu() for t in zip(*parts)) if parts else empty)
        predictions = Predictions(label, pred, p_true)
        if dist.enabled:
            predictions = _gathered(predictions, loader.item_indices(), dist)
    return 100.0 * c1 / max(n, 1), 100.0 * c5 / max(n, 1), predictions


def _gathered(mine: Predictions, indices: torch.Tensor, dist: DistContext
              ) -> "Predictions | None":
    """Every rank's predictions on rank 0, put back in the test set's order by the data set
    index of each item (so that runs on any number of processes pair image by image)."""
    import torch.distributed as tdist

    shards: list = [None] * dist.world_size
    tdist.all_gather_object(shards, (indices[:len(mine.label)], mine))
    if not dist.is_main:
        return None
    index = torch.cat([i for i, _ in shards])
    order = index.argsort()
    return Predictions(*(torch.cat([getattr(p, f) for _, p in shards])[order]
                         for f in ("label", "pred", "p_true")))
