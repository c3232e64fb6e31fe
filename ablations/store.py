"""The results store: one row per finished run, one folder per run, atomic writes.

Layout of a results folder::

    labels.jsonl                one row per (study label, run): the table's source
    results.csv                 the same rows as CSV, rewritten from labels.jsonl
    runs/<hash>/spec.json       everything that defines the run (what the hash is made of)
    runs/<hash>/result.json     final metrics, written last: its presence means "finished"
    runs/<hash>/history.csv     per-epoch train loss, test top-1/top-5, lr, time
    runs/<hash>/predictions.npz per test image: true class, predicted class, p(true class)
    runs/<hash>/checkpoint.pt   the last epoch's state, for resuming
    runs/<hash>/.claim          an OS lock held by the process training the run

A run is identified by the hash of its spec and of ``NUMERICS_VERSION``, so a design
already trained (in any chain or study, under any label) is never trained again, and a
result that today's code would not reproduce is never reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UserError

# Bump whenever a change to the code changes what a spec trains to (a different number
# for the same config, seed, machine and thread count). tests/test_numerics.py fails on
# such a change until this is bumped and tests/numerics_fingerprint.json is renewed.
#   1: up to commit 3828115.
#   2: Design.init (the chain holds torchvision's init until its last step), in-place
#      residual add, test predictions stored.
NUMERICS_VERSION = 2
RESULTS_FILE = "results.csv"
PREDICTIONS_FILE = "predictions.npz"
PREDICTION_KEYS = {"label", "pred", "p_true"}


class StoreWarning(UserWarning):
    """A stored file was damaged or foreign and was set aside; the rest is reported."""


def config_hash(spec: dict[str, Any]) -> str:
    """Stable short hash of a run spec (canonical JSON)."""
    blob = json.dumps({"spec": spec, "code_version": NUMERICS_VERSION}, sort_keys=True,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


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
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Store:
    """A results folder (see module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"

    def run_dir(self, run_hash: str) -> Path:
        """Folder of one run."""
        return self.runs / run_hash

    def finished(self, run_hash: str) -> dict[str, Any] | None:
        """The stored result of ``run_hash`` if it finished, else None."""
        path = self.run_dir(run_hash) / "result.json"
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            path.replace(path.with_suffix(".corrupt"))
            return None

    def begin(self, run_hash: str, spec: dict[str, Any]) -> Path:
        """Create the run folder and record its spec; returns the folder."""
        d = self.run_dir(run_hash)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / "spec.json", json.dumps(spec, indent=1, sort_keys=True, default=str))
        return d

    def finish(self, run_hash: str, row: dict[str, Any], history: list[dict[str, float]],
               predictions: dict[str, np.ndarray] | None = None) -> None:
        """Record a finished (or failed) run: history and predictions first, result last."""
        d = self.run_dir(run_hash)
        if history:
            atomic_write_text(d / "history.csv", pd.DataFrame(history).to_csv(index=False))
        if predictions is not None:
            atomic_write(d / PREDICTIONS_FILE, "wb",
                          lambda f: np.savez_compressed(f, **predictions))
        atomic_write_text(d / "result.json", json.dumps(row, indent=1, default=str))

    def predictions(self, run_hash: str) -> dict[str, np.ndarray] | None:
        """Stored test predictions of one run: ``label``, ``pred``, ``p_true`` (or None)."""
        path = self.run_dir(run_hash) / PREDICTIONS_FILE
        if not path.exists():
            return None
        try:
            with np.load(path) as f:
                out = {k: f[k] for k in f.files}
            if set(out) != PREDICTION_KEYS or len({len(v) for v in out.values()}) != 1:
                raise ValueError(f"keys {sorted(out)}, expected {sorted(PREDICTION_KEYS)}")
            return out
        except Exception as e:  # damaged or foreign: set aside, the rest is still reported
            bad = path.with_suffix(".corrupt")
            path.replace(bad)
            warnings.warn(f"{path}: unreadable predictions ({type(e).__name__}); moved to "
                          f"{bad.name}, that run's per-image test is skipped", StoreWarning)
            return None

    @contextlib.contextmanager
    def claim(self, run_hash: str, wait: bool = False) -> Iterator[bool]:
        """Hold the run's claim (an OS lock, freed by the kernel if the process dies).

        Yields True when this process holds it; False when another process does and
        ``wait`` is False. With ``wait``, blocks until the claim is free.
        """
        d = self.run_dir(run_hash)
        d.mkdir(parents=True, exist_ok=True)
        with open(d / ".claim", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add_label(self, row: dict[str, Any]) -> None:
        """Add ``row`` (a study label + a run's metrics) to the table; same label replaces.

        Jobs of a job array finish side by side: the read-modify-write holds a lock file.
        """
        with self._lock():
            rows = self._rows()
            key = _label_key(row)
            rows = [r for r in rows if _label_key(r) != key] + [row]
            self._write_rows(rows)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def history(self, run_hash: str) -> pd.DataFrame:
        """Per-epoch history of one run (empty if none)."""
        path = self.run_dir(run_hash) / "history.csv"
        return pd.read_csv(path) if path.exists() else pd.DataFrame()

    def labels_path(self) -> Path:
        return self.root / "labels.jsonl"

    def _rows(self) -> list[dict[str, Any]]:
        path = self.labels_path()
        if not path.exists():
            return []
        rows = []
        for i, line in enumerate(path.read_text().splitlines()):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    bad = path.with_suffix(".corrupt")
                    path.replace(bad)
                    raise UserError(f"{path}: line {i + 1} is not JSON; the file was moved to "
                                     f"{bad.name} and nothing was overwritten") from None
        return rows

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.labels_path(),
                          "".join(json.dumps(r, default=str) + "\n" for r in rows))
        atomic_write_text(self.root / RESULTS_FILE, pd.DataFrame(rows).to_csv(index=False))

    def table(self) -> pd.DataFrame:
        """All rows as a DataFrame."""
        return pd.DataFrame(self._rows())


def _label_key(row: dict[str, Any]) -> tuple:
    # The latest run of a label wins the table row; older runs keep their folders.
    return (row.get("study"), row.get("step_name"), row.get("preset"), row.get("seed"))


REQUIRED_COLUMNS = {"study": "str", "step_name": "str", "preset": "str", "seed": "num",
                    "config_hash": "str", "top1": "num"}
"""What every reader of a results table needs (numeric ones must read as numbers)."""
NUMERIC_COLUMNS = ("step", "seed", "top1", "top5")
"""Columns that must read as numbers where a table has them."""


def load(path: str | Path) -> pd.DataFrame:
    """The results table of a results folder (or of a ``results.csv`` file); a table that
    lacks the toolkit's columns, or whose numbers do not read as numbers, is one
    ``UserError`` naming the file and what is wrong."""
    p = Path(path)
    if p.is_dir():
        store = Store(p)
        if store.labels_path().exists():
            return checked_table(store.table(), store.labels_path())
        p = p / RESULTS_FILE
    if not p.exists():
        raise UserError(f"no results at {path}: expected a results folder or {RESULTS_FILE}")
    try:
        table = pd.read_csv(p)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise UserError(f"{p}: not a CSV table ({type(e).__name__}); allowed: a {RESULTS_FILE} "
                        f"written by this toolkit") from None
    return checked_table(table, p)


def checked_table(table: pd.DataFrame, source: Path) -> pd.DataFrame:
    """``table`` if it has the columns every reader needs, numbers as numbers."""
    if table.empty:
        return table
    missing = sorted(set(REQUIRED_COLUMNS) - set(table.columns))
    if missing:
        raise UserError(f"{source}: not a results table of this toolkit (missing column(s) "
                        f"{', '.join(missing)}); allowed: a table written by `run`")
    for column in (c for c in NUMERIC_COLUMNS if c in table.columns):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna()
        if column in ("top1", "top5") and "status" in table.columns:
            bad &= table["status"].eq("ok")  # a failed run has no accuracy
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise UserError(f"{source}: row {row + 1}: {column}={table[column].iloc[row]!r} is "
                            f"not a number; allowed: a table written by `run`")
        table[column] = values
    return table
