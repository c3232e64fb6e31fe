"""The scale study read back: per cell the paired gap ConvNeXt-T - ResNet-50 with its
interval and verdict (``gap_table``), and where the gap changes sign along an axis."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..studies.names import study_id
from ..studies.scale import AXES, DEFAULT_STEPS, base_of, base_value, cell_of
from ..train.recipe import RunPreset


def gap_table(stats: pd.DataFrame, results: pd.DataFrame, chain_name: str, base: RunPreset,
              treatment: str = DEFAULT_STEPS[1], control: str = DEFAULT_STEPS[0]) -> pd.DataFrame:
    """One row per (axis, value): the paired gap treatment - control with its 95% interval,
    verdict, seeds, the minutes its runs trained (summed) and the device(s) they trained on.
    The base cell appears on every axis."""
    study = study_id("scale", chain_name)
    s = stats[(stats.study == study) & (stats.treatment == treatment) & (stats.control == control)]
    r = results[results.study == study]
    rows = []
    for rec in s.to_dict("records"):
        settings = cell_of(rec["preset"], base)
        if len(settings) > 1 or "regularisation" in settings:
            continue  # crossed and categorical cells: ``cell_table``
        (axis, value), = settings.items() if settings else (("base", None),)
        runs = r[r.preset == rec["preset"]]
        minutes = float(runs.train_seconds.sum()) / 60
        device = " + ".join(sorted(runs.device.dropna().astype(str).unique())) or "unknown"
        targets = NUMERIC_AXES if axis == "base" else [axis]
        for a in targets:
            rows.append({"axis": a, "value": base_value(base, a) if axis == "base" else value,
                         "cell": rec["preset"], "seeds": int(rec["seeds"]),
                         "gap": rec["delta"], "lo": rec["lo"], "hi": rec["hi"],
                         "verdict": rec["verdict"], "train_minutes": round(minutes, 1),
                         "device": device})
    table = pd.DataFrame(rows, columns=["axis", "value", "cell", "seeds", "gap", "lo", "hi",
                                        "verdict", "train_minutes", "device"])
    present = table.groupby("axis").cell.transform("nunique") > 1  # an axis with cells of its own
    return table[present].sort_values(["axis", "value"]).reset_index(drop=True)


def claims_by_kind(df: pd.DataFrame, chain_name: str, store: Any = None
                   ) -> dict[str, pd.DataFrame]:
    """The scale study's claims (``claims.scale_claims``) by kind: step (the gap per cell),
    gap change, trend; computed once, for ``study_gaps`` and ``cell_table`` to share."""
    from .claims import scale_claims

    study = study_id("scale", chain_name)
    if (df.study != study).all():
        return {}
    return {p.kind.iat[0]: p for p in scale_claims(df, study, store) if not p.empty}


def study_gaps(df: pd.DataFrame, chain_name: str, store: Any = None,
               claims: dict[str, pd.DataFrame] | None = None,
               ) -> tuple[RunPreset | None, pd.DataFrame]:
    """(base preset, ``gap_table``) of the scale study of ``chain_name`` in a results table
    (None and an empty table where the study has no comparisons yet); ``claims``: its
    ``claims_by_kind`` where already computed."""
    study = study_id("scale", chain_name)
    rows = df[df.study == study]
    if rows.empty:
        return None, pd.DataFrame()
    base = base_of(list(rows.preset.unique()))
    parts = claims_by_kind(df, chain_name, store) if claims is None else claims
    if "step" not in parts:
        return base, pd.DataFrame()
    return base, gap_table(parts["step"], rows, chain_name, base)


CELL_COLUMNS = ["cell", *AXES, "seeds", "gap", "lo", "hi", "verdict", "reg_change",
                "reg_lo", "reg_hi", "reg_verdict", "train_minutes"]


def cell_table(df: pd.DataFrame, chain_name: str, store: Any = None,
               claims: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per cell of the scale study of ``chain_name`` (crossed cells too): every
    axis's value (the base's where the cell leaves it), the gap ConvNeXt-T - ResNet-50
    with the verdict's interval and verdict (``claims``, all cells one family), and where
    the cell has the paper's regularisation, the gap's change against its twin without it
    (``reg_*``, paired by seed; the claims' ``gap change`` family); ``claims``: the study's
    ``claims_by_kind`` where already computed."""
    study = study_id("scale", chain_name)
    rows = df[df.study == study]
    if rows.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    base = base_of(list(rows.preset.unique()))
    parts = claims_by_kind(df, chain_name, store) if claims is None else claims
    gaps = parts.get("step", pd.DataFrame())
    changes = parts.get("gap change", pd.DataFrame())
    out = []
    for rec in gaps.to_dict("records"):
        settings = cell_of(rec["preset"], base)
        row = {"cell": rec["preset"], **{a: settings.get(a, base_value(base, a)) for a in AXES},
               "seeds": int(rec["seeds"]), "gap": rec["delta"], "lo": rec["lo"],
               "hi": rec["hi"], "verdict": rec["verdict"],
               "train_minutes": round(float(rows[rows.preset == rec["preset"]]
                                            .train_seconds.sum()) / 60, 1)}
        reg = changes[(changes.preset == rec["preset"]) & (changes.axis == "regularisation")] \
            if not changes.empty else changes
        if len(reg):
            r = reg.iloc[0]
            row.update(reg_change=r.delta, reg_lo=r.lo, reg_hi=r.hi, reg_verdict=r.verdict)
        out.append(row)
    return pd.DataFrame(out).reindex(columns=CELL_COLUMNS)


NUMERIC_AXES = [a for a in AXES if a != "regularisation"]
"""The axes along which a gap can be drawn against a number (log2 scale)."""

RESOLVED = {"gain": 1, "loss": -1}
"""The verdicts that resolve a sign (``stats.RULE``: the verdict's interval excludes zero)."""


def crossing(axis_rows: pd.DataFrame) -> float | None:
    """Where the gap changes sign along one axis, only where the data resolve it: between
    two neighbouring cells whose verdicts are of opposite sign (a gain beside a loss),
    linear in log2 of the value between their mean gaps; None otherwise, also where the
    mean gaps change sign but an interval includes zero (a cell within noise)."""
    rows = axis_rows.sort_values("value")
    v, g = rows.value.to_numpy(float), rows.gap.to_numpy(float)
    sign = [RESOLVED.get(verdict, 0) for verdict in rows.verdict]
    for i in range(len(v) - 1):
        if sign[i] * sign[i + 1] < 0:
            x0, x1 = math.log2(v[i]), math.log2(v[i + 1])
            return float(2 ** (x0 + (x1 - x0) * g[i] / (g[i] - g[i + 1])))
    return None


__all__ = ["gap_table", "study_gaps", "claims_by_kind", "crossing", "cell_table", "CELL_COLUMNS"]
