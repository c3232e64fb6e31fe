"""Does a fresh run reproduce the committed results? (``replay --reference DIR``)

A fresh replay trains some seeds from scratch; the other seeds are taken from a reference
results folder (the committed ``results/quick``). Each fresh top-1 is then tested against
the reference seeds of the same step: is it inside their 95% prediction interval
(``mean +- t * sd * sqrt(1 + 1/n)``), with Holm's correction over the steps? And is it
bit-identical to the reference run of the same seed (expected on the same machine, torch
and thread count)?
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..errors import UserError
from .stats import ALPHA, holm, ok_rows
from ..run.store import Store, load


def resolve_reference(text: str, given: bool) -> Path | None:
    """The reference folder of ``replay --reference`` (None: 'none', or the default folder
    missing, which is said on stdout); a folder the user named must hold results."""
    reference = None if text in ("", "none") else Path(text)
    if reference is not None and not (reference / "labels.jsonl").exists():
        if given:
            raise UserError(f"--reference {reference}: not a results folder (no labels.jsonl)")
        print(f"no committed results in {reference}: nothing to compare with")
        return None
    return reference


def expectation(reference: pd.DataFrame, torch_version: str, cpu: str, capability: str) -> str:
    """What a fresh CPU replay can expect against the reference's rows, said before training:
    bit-identical where every reference run names this torch, CPU model and vector extension;
    otherwise within noise, with what differs (or that the rows do not record it)."""
    rows = reference[reference.get("device", pd.Series("cpu", index=reference.index))
                     .astype(str).eq("cpu")]
    here = {"torch": torch_version, "cpu_model": cpu, "cpu_capability": capability}
    missing = [k for k in here if k not in rows or rows[k].isna().any()]
    if rows.empty or missing:
        return (f"expect: within noise; bit-identical only if the committed runs were made on "
                f"this CPU ({cpu}, {capability}) with torch {torch_version}: their rows do not "
                f"record {', '.join(missing) or 'a CPU'}")
    differ = {k: sorted(set(rows[k].astype(str))) for k in here
              if set(rows[k].astype(str)) != {here[k]}}
    if not differ:
        return f"expect: bit-identical (torch {torch_version}, {cpu}, {capability}, as committed)"
    said = "; ".join(f"{k} {', '.join(v)} there, {here[k]} here" for k, v in differ.items())
    return f"expect: within noise, not bit-identical ({said})"


def import_reference(reference: str | Path, out: str | Path, hashes: set[str]) -> int:
    """Copy the reference's finished runs whose config hash is in ``hashes`` (runs that
    today's code would train to the same numbers) into ``out``, with their table rows;
    returns how many rows were imported. Runs already in ``out`` are kept."""
    ref, dst = Store(reference), Store(out)
    df = load(reference)
    rows = df[df.config_hash.isin(hashes)]
    if "status" in rows:
        rows = rows[rows.status == "ok"]
    for row in rows.to_dict("records"):
        dst.copy_finished_run(ref, row["config_hash"])
        dst.add_label({k: v for k, v in row.items() if not _is_nan(v)})
    return len(rows)


def _is_nan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


def reproduction(fresh: pd.DataFrame, reference: pd.DataFrame, study: str,
                 preset: str) -> pd.DataFrame:
    """Per step and fresh seed: the fresh top-1 against the reference seeds."""
    from scipy import stats

    f, r = ok_rows(fresh, study, preset), ok_rows(reference, study, preset)
    out = []
    for row in f.sort_values(["seed", "step"]).itertuples():
        ref = r[r.step_name == row.step_name]
        others = ref[ref.seed != row.seed].top1 if len(ref) > 2 else ref.top1
        same = ref[ref.seed == row.seed]
        n = len(others)
        mean = float(others.mean()) if n else math.nan
        sd = float(others.std(ddof=1)) if n > 1 else math.nan
        p = math.nan
        if n > 1 and sd > 0:
            z = (row.top1 - mean) / (sd * math.sqrt(1 + 1 / n))
            p = float(2 * stats.t.sf(abs(z), n - 1))
        out.append({"step": row.step, "step_name": row.step_name, "seed": row.seed,
                    "fresh_top1": row.top1, "reference_mean": mean, "reference_sd": sd,
                    "reference_seeds": n,
                    "reference_same_seed": float(same.top1.iloc[0]) if len(same) else math.nan,
                    "identical": bool(len(same) and same.top1.iloc[0] == row.top1
                                      and same.config_hash.iloc[0] == row.config_hash),
                    "p": p})
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table["p_holm"] = holm(table.p.tolist())
    table["verdict"] = ["too few reference seeds" if n < 2
                        else "outside noise" if v < ALPHA else "within noise"
                        for v, n in zip(table.p_holm.fillna(1.0), table.reference_seeds)]
    return table


def summary_line(table: pd.DataFrame) -> str:
    """One sentence: does the fresh replay reproduce the reference?"""
    if table.empty or (table.verdict == "too few reference seeds").all():
        return ("nothing to compare: the reference has no runs (or fewer than two seeds) of "
                "this study and preset")
    few = int((table.verdict == "too few reference seeds").sum())
    compared = len(table) - few
    inside = int((table.verdict == "within noise").sum())
    same = int(table.identical.sum())
    verdict = ("reproduces within noise" if inside == compared
               else "does NOT reproduce within noise")
    return (f"fresh replay {verdict}: {inside}/{compared} steps inside the committed seeds' "
            f"95% prediction interval (Holm over steps); {same}/{len(table)} bit-identical to "
            f"the committed run of the same seed"
            + (f"; {few} step(s) not compared (fewer than two reference seeds)" if few else ""))


def write(table: pd.DataFrame, out: str | Path) -> Path:
    """``<out>/reproduction.csv``."""
    path = Path(out) / "reproduction.csv"
    from ..system.files import atomic_write_text

    atomic_write_text(path, table.round(4).to_csv(index=False))  # whole or not at all
    return path


__all__ = ["resolve_reference", "import_reference", "reproduction", "summary_line", "write"]
