"""Pool results folders into one (``python -m ablations pool A B ... --out DIR``): a class
whose students trained different seeds of the same steps reads them as one table.

A run is its hash (design, recipe, data, seed, numerics version: ``identity``), so the same
run stored in two folders is counted once. Two folders that hold the same run with another
top-1 (another CPU model or thread count trains the same spec to other numbers) are a
conflict: the first folder's run is kept, and the report says which. Rows of another
numerics version than this code's are refused before anything is written: their numbers
come from other code and would not pair with today's runs. Everything goes through the
``Store`` (run folders copied without checkpoints, table rows added one by one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import UserError
from .identity import NUMERICS_VERSION
from .store import Store, load

TOP1_TOLERANCE = 1e-6
"""Two stored top-1 values of one run closer than this are the same number."""


@dataclass
class PoolReport:
    """What ``pool`` did: rows read and kept, duplicates dropped, conflicts found."""

    out: Path
    read: int = 0
    """Finished rows read from all folders."""
    kept: int = 0
    """Rows of the pooled table (one per label and seed)."""
    duplicates: int = 0
    """Rows that were already there (same run, same top-1): counted once."""
    failed: int = 0
    """Rows of failed runs, left out."""
    conflicts: list[str] = field(default_factory=list)
    """One sentence per run whose top-1 (or label) differs between folders."""
    runs: int = 0
    """Distinct (hash, seed) in the pooled table."""
    seeds: list[int] = field(default_factory=list)
    """The seeds of the pooled table."""

    def summary(self) -> str:
        """One line: folders, runs, seeds, duplicates, conflicts."""
        return (f"pooled into {self.out}: {self.kept} rows, {self.runs} runs over seeds "
                f"{format_seeds(self.seeds)}; {self.duplicates} duplicate row(s) counted once, "
                f"{len(self.conflicts)} conflict(s), {self.failed} failed row(s) left out")


def format_seeds(seeds: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2, 5' (runs of consecutive seeds as ranges)."""
    parts: list[str] = []
    for s in sorted(seeds):
        if parts and parts[-1][1] == s - 1:
            parts[-1] = (parts[-1][0], s)
        else:
            parts.append((s, s))
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in parts) or "-"


def _finished_rows(folder: Path) -> tuple[pd.DataFrame, int]:
    """The ok rows of ``folder``'s table and how many failed rows it holds."""
    table = load(folder)
    if table.empty:
        return table, 0
    if "status" in table:
        ok = table.status.fillna("ok").eq("ok")
        return table[ok], int((~ok).sum())
    return table, 0


def check_numerics(table: pd.DataFrame, folder: Path) -> None:
    """One ``UserError`` line if ``folder``'s rows hold a numerics version other than this
    code's (``identity.NUMERICS_VERSION``) or none."""
    versions = pd.to_numeric(table.get("numerics_version", pd.Series([math.nan] * len(table))),
                             errors="coerce")
    other = versions.isna() | versions.ne(NUMERICS_VERSION)
    if other.any():
        seen = sorted({"none" if math.isnan(v) else str(int(v)) for v in versions[other]})
        raise UserError(f"{folder}: {int(other.sum())} row(s) of numerics version "
                        f"{', '.join(seen)}; this code is numerics version {NUMERICS_VERSION} "
                        f"and pools only its own runs (retrain them, or leave {folder} out)")


def _label(row: dict) -> tuple:
    return (row.get("study"), row.get("step_name"), row.get("preset"), int(row["seed"]))


def _clean(row: dict) -> dict:
    """A table row as the store keeps it (no NaN cells; seeds and steps as integers)."""
    out = {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
    for key in ("seed", "step"):
        if isinstance(out.get(key), float) and out[key].is_integer():
            out[key] = int(out[key])
    return out


def pool(folders: list[str | Path], out: str | Path) -> PoolReport:
    """Merge the results ``folders`` (and what ``out`` already holds) into ``out``: each
    (hash, seed) once, conflicts reported (the first folder's run kept), another numerics
    version refused with one ``UserError`` before anything is written."""
    dst = Store(out)
    if dst.root.exists() and not dst.root.is_dir():
        raise UserError(f"--out {out}: a file; allowed: a results folder (new, or one to "
                        "pool into)")
    sources = ([dst.root] if dst.labels_path().exists() else []) + [Path(f) for f in folders]
    report = PoolReport(dst.root)
    tables = []
    for folder in dict.fromkeys(sources):  # each folder once
        table, failed = _finished_rows(folder)
        check_numerics(table, folder)
        tables.append((folder, table))
        report.failed += failed
    by_label: dict[tuple, tuple[dict, Path]] = {}
    by_run: dict[tuple[str, int], tuple[float, Path]] = {}
    for folder, table in tables:
        for row in (_clean(r) for r in table.to_dict("records")):
            report.read += 1
            run, label = (row["config_hash"], int(row["seed"])), _label(row)
            if run in by_run:
                top1, first = by_run[run]
                if abs(top1 - row["top1"]) > TOP1_TOLERANCE:
                    report.conflicts.append(
                        f"run {run[0]} (seed {run[1]}, {row.get('step_name')}): top-1 "
                        f"{top1:.2f} in {first}, {row['top1']:.2f} in {folder}; kept {first}'s")
                    continue
            if label in by_label:
                kept, first = by_label[label]
                if kept["config_hash"] != row["config_hash"]:
                    report.conflicts.append(
                        f"{label[1]} ({label[0]}, {label[2]}, seed {label[3]}): run "
                        f"{kept['config_hash']} in {first}, {row['config_hash']} in {folder} "
                        f"(another configuration under the same name); kept {first}'s")
                else:
                    report.duplicates += 1
                continue
            by_run.setdefault(run, (float(row["top1"]), folder))
            by_label[label] = (row, folder)
    for row, folder in by_label.values():
        if folder != dst.root:
            dst.copy_finished_run(Store(folder), row["config_hash"])
            dst.add_label(row)
    report.kept = len(by_label)
    report.runs = len({(r["config_hash"], int(r["seed"])) for r, _ in by_label.values()})
    report.seeds = sorted({int(r["seed"]) for r, _ in by_label.values()})
    return report


__all__ = ["PoolReport", "TOP1_TOLERANCE", "check_numerics", "format_seeds", "pool"]
