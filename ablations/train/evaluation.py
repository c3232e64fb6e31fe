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
    and with ``predict`` (single process only) the ``Predictions`` of the whole test set."""
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
    if predict and parts:
        label, pred, p_true = (torch.cat(t).cpu() for t in zip(*parts))
        predictions = Predictions(label, pred, p_true)
    return 100.0 * c1 / max(n, 1), 100.0 * c5 / max(n, 1), predictions
