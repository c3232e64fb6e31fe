"""Files written whole or not at all: the one atomic writer of the toolkit (results,
predictions, checkpoints, CSVs, bench tables); and the check, before any work, that a folder
or file can be written (one error line naming the option otherwise)."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError


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


def writable_folder(path: str | Path, option: str, min_free_mb: float = 10.0) -> Path:
    """Check, before any work, that a command can write into the folder ``path`` (the
    folder of ``option``): a non-empty path, no file where a folder is expected, write
    permission on it (or on the nearest existing folder above it, where it is created), and
    some free space. Creates nothing; one ``UserError`` line naming ``option`` otherwise."""
    import os
    import shutil

    text = str(path)
    allowed = "allowed: a folder this user can create and write"
    if not text.strip():
        raise UserError(f"{option}={text!r} is empty; allowed: a folder path ('.' for the "
                        "current folder)")
    folder = Path(text)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{option} {text} is not writable: {existing} is a file, not a "
                        f"folder; {allowed}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{option} {text} is not writable: no permission on {existing} (or "
                        f"a read-only disk); {allowed}")
    if existing == folder:  # writes there for real: a read-only mount answers only this
        import tempfile

        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as e:
            raise UserError(f"{option} {text} is not writable ({e.strerror or e}); "
                            f"{allowed}") from None
    free_mb = shutil.disk_usage(existing).free / 2**20
    if free_mb < min_free_mb:
        raise UserError(f"{option} {text}: only {free_mb:.0f} MiB free on its disk; allowed: "
                        f"a folder with at least {min_free_mb:.0f} MiB free")
    return folder


def writable_file(path: str | Path, option: str) -> Path:
    """Check, before any work, that a command can write the file ``path`` (of ``option``):
    not empty, not a folder, its folder writable (``writable_folder``)."""
    text = str(path)
    if not text.strip():
        raise UserError(f"{option}={text!r} is empty; allowed: a file path")
    file = Path(text)
    if file.is_dir():
        raise UserError(f"{option} {text} is a folder; allowed: a file path (its folder is "
                        "created where missing)")
    writable_folder(file.parent, option)
    return file


CACHE_ENV = "CONVNEXT_ABLATIONS_CACHE"
"""Environment variable: the folder of computed tables the read commands keep (default
``$XDG_CACHE_HOME/convnext-ablations``, else ``~/.cache/convnext-ablations``; ``off``: none)."""


def cache_file(kind: str, key: str, suffix: str) -> Path | None:
    """Where a computed table of ``kind`` named by ``key`` (a digest of everything it is
    computed from, code included, so that a change is a new name, never a stale read) is
    kept; None where caching is off."""
    import hashlib

    root = os.environ.get(CACHE_ENV) or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convnext-ablations")
    if root == "off":
        return None
    return Path(root) / kind / (hashlib.sha256(key.encode()).hexdigest()[:32] + suffix)


def keep_in_cache(path: Path | None, text: str) -> None:
    """Write ``text`` to the cache file ``path`` whole; a cache that cannot be written (a
    read-only home) only costs the next command the same time again."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:
        pass


@functools.lru_cache(maxsize=64)
def code_digest(*files: str | Path) -> str:
    """SHA-256 of the bytes of ``files`` (the code a cached table is computed by); once per
    process: a chain's costs or a report's diagrams each ask it for the same modules."""
    import hashlib

    digest = hashlib.sha256()
    for f in files:
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()
