"""A run's epoch checkpoint: the model, optimizer, schedule, EMA, the random generators'
states and the history, so that a resumed run continues the same random streams and ends
with the numbers an uninterrupted one would. Loaded with ``weights_only=True``."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..system.files import atomic_write

if TYPE_CHECKING:
    from .loop import Trainer


def save(trainer: "Trainer", path: Path) -> None:
    """Write the trainer's state after its last finished epoch (atomically)."""
    state = {"model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
             "scheduler": trainer.scheduler.state_dict(),
             "ema": trainer.ema.state_dict() if trainer.ema is not None else None,
             "rng": _rng_state(), "history": trainer.history, "epoch": trainer.epoch,
             "train_seconds": trainer.train_seconds}
    atomic_write(path, "wb", lambda f: torch.save(state, f))


def resume(trainer: "Trainer", path: Path, dev: torch.device) -> None:
    """Load the checkpoint at ``path`` into ``trainer`` (raises if it is unreadable).

    Read onto the CPU: the random generators' states must stay CPU tensors (loaded onto a
    GPU, ``torch.set_rng_state`` refuses them and every resume would start over);
    ``load_state_dict`` moves weights and optimizer state to ``dev``'s parameters."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    if trainer.ema is not None and state.get("ema") is not None:
        trainer.ema.load_state_dict(state["ema"])
    _set_rng_state(state["rng"])
    trainer.history = list(state["history"])
    trainer.epoch = int(state["epoch"])
    trainer.train_seconds = float(state.get("train_seconds", 0.0))


def move_aside(path: Path) -> Path:
    """Set an unreadable checkpoint aside (never trusted, never deleted); returns where."""
    bad = path.with_suffix(".corrupt")
    os.replace(path, bad)
    return bad


def _rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    # NumPy's state as tensors and numbers: checkpoints load with weights_only=True.
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss)}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("python") is not None:
        random.setstate(state["python"])
    if state.get("numpy") is not None:
        kind, keys, pos, has_gauss, gauss = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
