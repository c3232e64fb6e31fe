"""The table of claims of a results folder, computed once: every comparison the toolkit
states, each with its seeds, estimate, the verdict's interval, verdict, MDE and, where the
paper has the comparison, the verdict against the paper and the seeds that would resolve
it. ``stats``, ``show``, ``compare``, the figures, the report and the README's tables read
this table (``stats --write`` stores it as ``stats.csv``); one rule, ``stats.RULE``.

The comparisons (column ``kind``), each kind of each study one family of the rule:

- ``step``: each step against its control as ``stats.pairs_of`` has it (a chain: the step
  before; one-at-a-time, leave-one-out, sweeps, Transformers, FCMAE: their own controls);
  in a scale study, ConvNeXt-T against ResNet-50 in each cell (all cells one family);
- ``paper step``: a chain's last paper row paired by design (the paper's separate
  downsampling also turns on layer scale and ConvNeXt's init: our last step against the step
  before that row; the sub-steps the paper folds into it have no paper value of their own);
- ``vs first``: each chain step against the chain's step 0 (the modern-recipe ResNet); its
  last row is ConvNeXt-T against ResNet-50 (``endpoint`` True);
- ``gap change``: a scale cell's gap against the gap of the cell that differs from it in one
  axis only (the base cell for a one-axis cell), paired by seed;
- ``trend``: per axis of a scale study, the mean over seeds of each seed's least-squares
  slope of the gap on log2 of the axis value (points per doubling), along each line of 3 or
  more cells that differ in that axis only (the one-axis cells; in crossed cells, e.g. the
  epochs at 7,500 images with the regularisation on, named "... at train_images=7500, ...");
- ``cell step``, ``cell paper step``, ``cell vs first``: where a scale cell holds the whole
  chain, the chain's ``step``, ``paper step`` and ``vs first`` there (its Figure 2).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..studies.names import parse_study
from .paper import paper_by_design
from .stats import STATS_COLUMNS, apply_rule, compare, ok_rows, per_seed_rows, study_stats

CLAIM_COLUMNS = ["kind", "endpoint", "axis"] + STATS_COLUMNS
"""The claims table's columns: the comparison's kind, whether it is a chain's endpoint
(ConvNeXt-T vs ResNet-50), a scale axis, then ``stats.STATS_COLUMNS``."""


def _pair_rows(df: pd.DataFrame, study: str, preset: str, pairs: list[tuple], store: Any,
               kind: str) -> list[dict]:
    """Raw comparison rows (before the rule) of (treatment, control, step, paper_delta,
    paper_control) pairs of one study at one preset."""
    from .stats import _predictions

    per_seed = per_seed_rows(ok_rows(df, study, preset))
    out = []
    for treatment, control, step, paper_delta, paper_control in pairs:
        if treatment not in per_seed or control not in per_seed:
            continue
        t, c = per_seed[treatment], per_seed[control]
        common = sorted(set(t.index) & set(c.index))
        r = compare(t.top1, c.top1, _predictions(store, t, c, common))
        out.append({"kind": kind, "study": study, "preset": preset, "step": step,
                    "step_name": treatment, "treatment": treatment, "control": control,
                    "paper_delta": paper_delta, "paper_control": paper_control,
                    "control_top1": float(c.top1.loc[common].mean()) if common else math.nan,
                    **r})
    return out


def _family(rows: list[dict]) -> pd.DataFrame:
    return apply_rule(pd.DataFrame(rows)) if rows else pd.DataFrame()


def chain_claims(df: pd.DataFrame, study: str, preset: str, store: Any) -> list[pd.DataFrame]:
    """A chain's step rows (the paper paired by design), its paper-step row and its
    vs-first rows (the last one the endpoint)."""
    from models.roadmap import CHAINS, chain

    steps = study_stats(df, study, preset, store)
    if study not in CHAINS:
        return [steps.assign(kind="step")]
    top1, folded = paper_by_design(study)
    names = [s.name for s in chain(study)]
    parts = [steps.assign(kind="step")]  # study_stats pairs the paper by design already
    if folded:
        final = names[-1]
        before = names[names.index(next(iter(folded))) - 1]
        parts.append(_family(_pair_rows(df, study, preset, [(
            final, before, chain(study)[-1].index, top1[final] - top1[before], top1[before])],
            store, "paper step")))
    first = next((s for s in chain(study) if s.index == 0), None)
    if first is not None:
        later = [s for s in chain(study) if s.index > 0]
        pairs = [(s.name, first.name, s.index,
                  top1[s.name] - top1[first.name] if s.name in top1 else None,
                  top1[first.name]) for s in later]
        vs_first = _family(_pair_rows(df, study, preset, pairs, store, "vs first"))
        if not vs_first.empty:
            vs_first["endpoint"] = vs_first.treatment == names[-1]
            parts.append(vs_first)
    return parts


def scale_claims(df: pd.DataFrame, study: str, store: Any) -> list[pd.DataFrame]:
    """A scale study's gaps (every cell one family), gap changes and trends."""
    from ..studies.scale import DEFAULT_STEPS, base_of, base_value, cell_of

    rows = df[df.study == study]
    presets = sorted(rows.preset.unique())
    base = base_of(presets)
    treatment, control = DEFAULT_STEPS[1], DEFAULT_STEPS[0]
    gaps = []
    for p in presets:
        gaps += _pair_rows(df, study, p, [(treatment, control, None, None, None)], store, "step")
    gap_table = _family(gaps)
    parts = [gap_table] if not gap_table.empty else []
    per_cell = {}  # preset -> per-seed gap
    for p in presets:
        seeds = per_seed_rows(ok_rows(df, study, p))
        if treatment in seeds and control in seeds:
            t, c = seeds[treatment].top1, seeds[control].top1
            common = sorted(set(t.index) & set(c.index))
            per_cell[p] = (t.loc[common] - c.loc[common]).astype(float)
    settings = {p: cell_of(p, base) for p in per_cell}
    changes = []
    for p, s in settings.items():
        for axis in s:
            twin = {a: v for a, v in s.items() if a != axis}
            q = next((k for k, v in settings.items() if v == twin), None)
            if q is None:
                continue
            r = compare(per_cell[p], per_cell[q])
            changes.append({"kind": "gap change", "axis": axis, "study": study, "preset": p,
                            "step": None, "step_name": treatment, "treatment": p,
                            "control": q, "paper_delta": None, "paper_control": None,
                            "control_top1": math.nan, **r})
    if changes:
        parts.append(_family(changes))
    trends = []
    for axis in sorted({a for s in settings.values() for a in s if a != "regularisation"}):
        lines: dict[tuple, dict[str, Any]] = {}  # the other axes' settings -> cells along axis
        for p, s in settings.items():
            context = tuple(sorted((a, v) for a, v in s.items() if a != axis))
            lines.setdefault(context, {})[p] = s.get(axis, base_value(base, axis))
        for context, line in lines.items():
            if len(set(line.values())) < 3:
                continue
            common = sorted(set.intersection(*(set(per_cell[p].index) for p in line)))
            x = np.log2([float(v) for v in line.values()])
            slopes = pd.Series({seed: float(np.polyfit(x, [per_cell[p][seed] for p in line],
                                                       1)[0]) for seed in common}, dtype=float)
            r = compare(slopes, pd.Series(0.0, index=slopes.index))
            at = ", ".join(f"{a}={v}" for a, v in context)
            trends.append({"kind": "trend", "axis": axis, "study": study,
                           "preset": f"{len(line)} cells" + (f" at {at}" if at else ""),
                           "step": None, "step_name": treatment,
                           "treatment": f"gap per doubling of {axis}" + (f" at {at}" if at else ""),
                           "control": "0", "paper_delta": None, "paper_control": None,
                           "control_top1": math.nan, **r})
    if trends:
        parts.append(_family(trends))
    parts += cell_chain_claims(df, study, store)
    return parts


CELL_KINDS = {"step": "cell step", "paper step": "cell paper step", "vs first": "cell vs first"}
"""The kinds of a scale cell's chain claims (``cell_chain_claims``): those of the chain, kept
apart from the scale study's own (its gaps are kind ``step``)."""


def cell_chain_claims(df: pd.DataFrame, study: str, store: Any) -> list[pd.DataFrame]:
    """Where a scale cell other than the base holds the whole chain (3 steps or more): the
    chain's claims there, each family as the chain's own (``chain_claims`` of the cell's
    rows), kinds ``CELL_KINDS``; what that cell's Figure 2 draws. The base cell's chain is
    the chain study's own runs, whose claims the chain has."""
    from ..studies.scale import base_of

    chain_name = parse_study(study).subject
    rows = df[df.study == study]
    base = base_of(sorted(rows.preset.unique())).name
    parts = []
    for preset in dict.fromkeys(rows.preset):
        cell = rows[rows.preset == preset]
        if preset == base or cell.step_name.nunique() < 3:  # the base: the chain's own
            continue
        for part in chain_claims(cell.assign(study=chain_name), chain_name, preset, store):
            if not part.empty:
                parts.append(part.assign(kind=part["kind"].map(CELL_KINDS), study=study,
                                         endpoint=False))
    return parts


def claims(df: pd.DataFrame, store: Any = None) -> pd.DataFrame:
    """The table of claims of a results table (columns ``CLAIM_COLUMNS``), studies in the
    order they first appear, each study's kinds in the order of the module docstring."""
    if df.empty:
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    parts: list[pd.DataFrame] = []
    for study in dict.fromkeys(df.study):
        kind = parse_study(study).kind
        if kind == "scale":
            parts += scale_claims(df, study, store)
            continue
        for preset in dict.fromkeys(df[df.study == study].preset):
            if kind == "chain":
                parts += chain_claims(df, study, preset, store)
            else:
                parts.append(study_stats(df, study, preset, store).assign(kind="step"))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    for col in ("endpoint", "axis"):
        if col not in table:
            table[col] = None
    table["endpoint"] = table.endpoint.fillna(False).astype(bool)
    return table.reindex(columns=CLAIM_COLUMNS)


CLAIMS_FILE = "stats.csv"
"""The claims table of a results folder, as ``stats --write`` stores it."""
SOURCE_FILE = "stats.source"
"""Beside it: the SHA-256 of the ``results.csv`` it was computed from (a stale table is
recomputed, never read)."""


def _source_digest(folder: Path) -> str:
    import hashlib

    return hashlib.sha256((folder / "results.csv").read_bytes()).hexdigest()


def _cache_file(folder: Path) -> Path | None:
    """Where the claims of ``folder``'s results, as today's code computes them, are cached
    (``system.files.cache_file``): named by the digest of its ``results.csv``, of the
    analysis layer and of the paper's numbers. None where caching is off."""
    from models import roadmap  # the paper's numbers the claims carry

    from ..system.files import cache_file, code_digest

    code = code_digest(*sorted(Path(__file__).parent.glob("*.py")), roadmap.__file__)
    return cache_file("claims", _source_digest(folder) + code, ".csv")


def _read_claims(path: Path) -> pd.DataFrame | None:
    """A stored claims table, or None where it is not one of today's columns."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError):
        return None
    if list(table.columns) != CLAIM_COLUMNS:
        return None
    return table.assign(endpoint=table.endpoint.astype(bool))


def folder_claims(folder: str | Path, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The claims table of a results folder: its stored ``stats.csv`` where that was computed
    from today's ``results.csv`` (a read of one file); else the one computed earlier for
    these results by this code (the user's cache, ``system.files.CACHE_ENV``); else computed now
    (``claims``) and cached, so that the next read command answers at once. ``df``: the
    folder's whole table where the caller has loaded it already."""
    from ..run.store import Store, load

    folder = Path(folder)
    stored, source = folder / CLAIMS_FILE, folder / SOURCE_FILE
    if not (folder / "results.csv").is_file():
        return claims(load(folder) if df is None else df, Store(folder))
    if stored.is_file() and source.is_file():
        if source.read_text().strip() == _source_digest(folder):
            table = _read_claims(stored)
            if table is not None:
                return table
    cached = _cache_file(folder)
    if cached is not None and cached.is_file():
        table = _read_claims(cached)
        if table is not None:
            return table
    table = claims(load(folder) if df is None else df, Store(folder))
    from ..system.files import keep_in_cache

    keep_in_cache(cached, table.round(6).to_csv(index=False))
    return table


def write_claims(folder: str | Path, df: pd.DataFrame | None = None) -> Path:
    """Compute the claims table of a results folder and store it as ``stats.csv`` (with the
    digest of the results it was computed from), each file written whole."""
    from ..run.store import Store, load
    from ..system.files import atomic_write_text

    folder = Path(folder)
    table = claims(load(folder) if df is None else df, Store(folder))
    path = folder / CLAIMS_FILE
    atomic_write_text(path, table.round(6).to_csv(index=False))
    atomic_write_text(folder / SOURCE_FILE, _source_digest(folder) + "\n")
    return path


def paper_view(table: pd.DataFrame, summary: pd.DataFrame, study: str) -> pd.DataFrame:
    """Table 10 of the paper beside ours for chain ``study``: per main step the paper's top-1
    and gain (paired by design), our top-1 over seeds, our gain with the verdict's interval,
    the verdict, the verdict against the paper and the seeds that would resolve it. The
    sub-steps the paper folds into its last row say so; our last step's gain there is the
    paper's last row (against the step before it)."""
    from models.roadmap import chain

    top1, folded = paper_by_design(study)
    titles = {s.name: s.title for s in chain(study)}
    steps = table[(table.study == study) & (table.kind == "step")].set_index("treatment")
    paper_step = table[(table.study == study) & (table.kind == "paper step")].set_index("treatment")
    ours = summary[summary.study == study].set_index("step_name")
    rows = []
    for s in chain(study):
        claim = paper_step.loc[s.name] if s.name in paper_step.index else (
            steps.loc[s.name] if s.name in steps.index else None)
        mean = ours.top1_mean.get(s.name, math.nan)
        rows.append({
            "step": s.index, "change": s.title,
            "paper top-1": top1.get(s.name, math.nan),
            "paper gain": math.nan if claim is None else claim["paper_delta"],
            "paper note": f"in {titles[folded[s.name]].split(' (')[0]}" if s.name in folded else "",
            "top-1": mean, "seeds": int(ours.seeds.get(s.name, 0)),
            "gain": math.nan if claim is None else claim["delta"],
            "against": "" if claim is None else claim["control"],
            "lo": math.nan if claim is None else claim["lo"],
            "hi": math.nan if claim is None else claim["hi"],
            "verdict": "" if claim is None else claim["verdict"],
            "vs paper": "" if claim is None or not isinstance(claim["vs_paper"], str)
                        else claim["vs_paper"],
            "seeds needed": math.nan if claim is None else claim["seeds_needed"]})
    return pd.DataFrame(rows)


def endpoint(table: pd.DataFrame, study: str) -> dict | None:
    """The claim ConvNeXt-T vs ResNet-50 (modern recipe) of chain ``study``, or None."""
    rows = table[(table.study == study) & table.endpoint.astype(bool)]
    return rows.iloc[0].to_dict() if len(rows) else None


__all__ = ["CLAIM_COLUMNS", "CLAIMS_FILE", "claims", "folder_claims", "write_claims", "chain_claims", "scale_claims", "paper_by_design",
           "endpoint", "paper_view"]
