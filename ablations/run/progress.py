"""How much of a plan is done, in units of work, so that a bar over many runs shows the time
left after the first epoch instead of after the first whole run.

A run's work is its epochs x training images x GFLOPs per image at its trained resolution
(the step's count at 224 px scaled by the pixels); a run in flight counts the epochs its log
says are done (``EPOCH_DONE``, one line per epoch written by the training loop). The time
left is then the seconds per unit of work measured so far times the work left, the same
for a chain whose steps differ in cost.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..data.catalog import TRAIN_SIZES
from .planned import PlannedRun
from .store import Store

EPOCH_DONE = re.compile(r"epoch (\d+)/(\d+) done")
"""The training loop's log line after each epoch's checkpoint (``train.loop``)."""


@functools.lru_cache(maxsize=64)
def _gflops_224(design: Any) -> float:
    from models import costs

    return costs(design, with_fvcore=False).gflops


def run_work(run: PlannedRun) -> float:
    """The work of ``run``: epochs x training images x GFLOPs per image (trained size)."""
    images = run.data.train_subset or TRAIN_SIZES.get(run.data.dataset, 50000)
    pixels = (run.data.resolution / 224) ** 2
    return run.recipe.epochs * images * _gflops_224(run.design) * pixels


def epochs_done(store: Store, run_hash: str) -> int:
    """Epochs of a run in flight that its log says are done (0 where none yet)."""
    log = store.paths(run_hash).log
    try:
        text = log.read_text()
    except OSError:
        return 0
    found = EPOCH_DONE.findall(text)
    return int(found[-1][0]) if found else 0


def fraction_done(store: Store, runs: list[PlannedRun], work: dict[str, float]) -> float:
    """Share (0 to 1) of the work of ``runs`` done: finished runs whole, runs in flight by
    the epochs their logs say are done."""
    total = sum(work.values()) or 1.0
    done = 0.0
    for r in runs:
        if store.finished(r.hash) is not None:
            done += work[r.hash]
        else:
            done += work[r.hash] * min(1.0, epochs_done(store, r.hash) / r.recipe.epochs)
    return done / total


__all__ = ["EPOCH_DONE", "run_work", "epochs_done", "fraction_done"]
