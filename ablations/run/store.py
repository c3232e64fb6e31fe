"""The results store: one row per finished run, one folder per run, atomic writes.

Layout of a results folder (a run folder's file names: ``identity.RunFiles``)::

    labels.jsonl                one row per (study label, run): the table's source
    results.csv                 the same rows as CSV, rewritten from labels.jsonl
    runs/<hash>/spec.json       everything that defines the run (what the hash is made of)
    runs/<hash>/result.json     final metrics, written last: its presence means "finished"
    runs/<hash>/history.csv     per-epoch train loss, test top-1/top-5, lr, time
    runs/<hash>/predictions.npz per test image: true class, predicted class, p(true class)
    runs/<hash>/checkpoint.pt   the last epoch's state, for resuming
    runs/<hash>/train.log       one line per start, resume, epoch done and finish
    runs/<hash>/tb/             TensorBoard event files
    runs/<hash>/.claim          an OS lock held by the process training the run

Runs are found by their hash (``identity.config_hash``), so a design already trained (in
any chain or study, under any label) is never trained again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UserError
from ..system.files import RunPaths, atomic_write, atomic_write_text
from .identity import RunFiles

RESULTS_FILE = "results.csv"
PREDICTION_KEYS = {"label", "pred", "p_true"}


class StoreWarning(UserWarning):
    """A stored file was damaged or foreign and was set aside; the rest is reported."""


class Store:
    """A results folder (see module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"

    def run_dir(self, run_hash: str) -> Path:
        """Folder of one run."""
        return self.runs / run_hash

    def paths(self, run_hash: str) -> RunPaths:
        """Where training keeps the state of one run (checkpoint, log, curves)."""
        return run_paths(self.run_dir(run_hash))

    def copy_finished_run(self, source: "Store", run_hash: str) -> None:
        """Copy a run's folder from ``source`` unless this store has it: its spec, result,
        history and predictions, not its checkpoint, claim or temporary files."""
        src, dst = source.run_dir(run_hash), self.run_dir(run_hash)
        if not dst.exists() and src.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                RunFiles.CHECKPOINT, RunFiles.CLAIM, "*.tmp"))

    def discard_unstarted(self, run_hash: str) -> None:
        """Remove a run's folder if it holds no checkpoint (nothing finished: no trace)."""
        if not self.paths(run_hash).checkpoint.exists():
            shutil.rmtree(self.run_dir(run_hash), ignore_errors=True)

    def finished(self, run_hash: str) -> dict[str, Any] | None:
        """The stored result of ``run_hash`` if it finished, else None."""
        path = self.run_dir(run_hash) / RunFiles.RESULT
        if not path.exists():
            return None
        try:
            result = json.loads(path.read_bytes().decode("utf-8"))
            if not isinstance(result, dict):
                raise ValueError(f"a JSON {type(result).__name__}, not an object")
            return result
        except ValueError as e:  # not JSON, not UTF-8, or not an object: set aside, retrain
            bad = path.with_suffix(".corrupt")
            path.replace(bad)
            warnings.warn(f"{path}: unreadable result ({_what(e)}); moved to {bad.name}, "
                          "the run counts as not finished", StoreWarning)
            return None

    def begin(self, run_hash: str, spec: dict[str, Any]) -> Path:
        """Create the run folder and record its spec; returns the folder."""
        d = self.run_dir(run_hash)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / RunFiles.SPEC, json.dumps(spec, indent=1, sort_keys=True, default=str))
        return d

    def finish(self, run_hash: str, row: dict[str, Any], history: list[dict[str, float]],
               predictions: dict[str, np.ndarray] | None = None) -> None:
        """Record a finished (or failed) run: history and predictions first, result last."""
        d = self.run_dir(run_hash)
        if history:
            atomic_write_text(d / RunFiles.HISTORY, pd.DataFrame(history).to_csv(index=False))
        if predictions is not None:
            atomic_write(d / RunFiles.PREDICTIONS, "wb",
                          lambda f: np.savez_compressed(f, **predictions))
        atomic_write_text(d / RunFiles.RESULT, json.dumps(row, indent=1, default=str))

    def predictions(self, run_hash: str) -> dict[str, np.ndarray] | None:
        """Stored test predictions of one run: ``label``, ``pred``, ``p_true`` (or None)."""
        path = self.run_dir(run_hash) / RunFiles.PREDICTIONS
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
        with open(d / RunFiles.CLAIM, "a") as handle:
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

    def spec(self, run_hash: str) -> dict[str, Any]:
        """What a stored run was: its spec and labels (``spec.json``); a missing or damaged
        one is one ``UserError`` line naming the file."""
        path = self.run_dir(run_hash) / RunFiles.SPEC
        try:
            spec = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: unreadable run spec ({_what(e)}); expected: the JSON "
                            "object `run` writes (delete the run folder to train it again)"
                            ) from None
        if not isinstance(spec, dict):
            raise UserError(f"{path}: a JSON {type(spec).__name__}, not the run spec; "
                            "expected: the JSON object `run` writes")
        return spec

    def history(self, run_hash: str) -> pd.DataFrame:
        """Per-epoch history of one run (empty if none); a damaged one (empty, not a CSV,
        not UTF-8, without an epoch column) is one ``UserError`` line naming the file."""
        path = self.run_dir(run_hash) / RunFiles.HISTORY
        if not path.exists():
            return pd.DataFrame()
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.EmptyDataError, pd.errors.ParserError) as e:
            raise UserError(f"{path}: unreadable history ({_what(e)}); expected: the per-epoch "
                            "CSV `run` writes (delete it: the run's curves are then left out)"
                            ) from None
        if "epoch" not in table.columns:
            raise UserError(f"{path}: no epoch column; expected: the per-epoch CSV `run` "
                            "writes (delete it: the run's curves are then left out)")
        return table

    def check_files(self) -> None:
        """Before a run writes here: the store's files are files and its run folder a
        folder (a ``results.csv`` that is a folder would fail after training)."""
        for name in ("labels.jsonl", RESULTS_FILE, ".lock"):
            if (self.root / name).is_dir():
                raise UserError(f"{self.root / name} is a folder; expected: the file the "
                                "results store keeps there (move the folder away)")
        if self.runs.exists() and not self.runs.is_dir():
            raise UserError(f"{self.runs} is a file; expected: the folder of the run folders")

    def labels_path(self) -> Path:
        return self.root / "labels.jsonl"

    def _rows(self) -> list[dict[str, Any]]:
        path = self.labels_path()
        if not path.exists():
            return []
        if path.is_dir():
            raise UserError(f"{path} is a folder; expected: the JSON-lines table `run` writes")
        rows = []
        for i, line in enumerate(path.read_bytes().splitlines()):
            if line.strip():
                try:
                    row = json.loads(line.decode("utf-8"))
                    if not isinstance(row, dict):
                        raise ValueError(f"a JSON {type(row).__name__}, not an object")
                except ValueError as e:  # not UTF-8, not JSON, or not a row
                    bad = path.with_suffix(".corrupt")
                    path.replace(bad)
                    raise UserError(f"{path}: line {i + 1} is not a row ({_what(e)}); expected: "
                                    f"one JSON object per line; the file was moved to "
                                    f"{bad.name} and nothing was overwritten") from None
                rows.append(row)
        return rows

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.labels_path(),
                          "".join(json.dumps(r, default=str) + "\n" for r in rows))
        atomic_write_text(self.root / RESULTS_FILE, pd.DataFrame(rows).to_csv(index=False))

    def table(self) -> pd.DataFrame:
        """All rows as a DataFrame."""
        return pd.DataFrame(self._rows())


def _what(e: Exception) -> str:
    """What was wrong with a stored file, in a few words."""
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(e, json.JSONDecodeError):
        return "not JSON"
    if isinstance(e, pd.errors.EmptyDataError):
        return "empty"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def run_paths(folder: Path) -> RunPaths:
    """The state files of the run folder ``folder`` (``Store.paths`` of its hash)."""
    folder = Path(folder)
    return RunPaths(folder, folder / RunFiles.CHECKPOINT, folder / RunFiles.LOG,
                    folder / RunFiles.CURVES, folder / RunFiles.ENCODER,
                    folder / RunFiles.WEIGHTS)


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
    if p.is_dir():
        raise UserError(f"{p} is a folder; expected: a {RESULTS_FILE} written by this toolkit")
    try:
        table = pd.read_csv(p)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as e:
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


__all__ = ["RESULTS_FILE", "Store", "StoreWarning", "load", "checked_table", "run_paths"]
