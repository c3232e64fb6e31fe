"""Files written whole or not at all: the one atomic writer of the toolkit (results,
predictions, checkpoints, CSVs, bench tables)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (never half-written)."""
    atomic_write(path, "w", lambda f: f.write(text))


def atomic_write(path: Path, mode: str, write: Callable[[Any], Any]) -> None:
    """``write(file)`` into a temporary file beside ``path`` (one per writer), fsync it,
    then rename it over ``path``: readers see the old or the new file, never half of one.
    The one atomic writer of the toolkit (results, predictions, checkpoints, CSVs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; a written file gets the usual mode (0666 - umask)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class RunPaths:
    """Where one run keeps its state (made by the run store, ``Store.paths``)."""

    folder: Path
    checkpoint: Path
    log: Path
    curves: Path
    """Folder of the TensorBoard event files."""
    encoder: Path
    """A pretraining run's encoder weights, written when it finishes."""
    weights: Path
    """The model weights alone, where kept (``collapse --keep-weights``)."""
