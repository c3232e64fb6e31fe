"""Does order matter? Each change of a chain in its contexts: its gain in the chain, alone
on the modern-recipe ResNet (one-at-a-time), alone at the ResNet's GFLOPs (one-at-a-time,
compute-matched), and at the end (the chain's last design minus that design with the change
removed: leave-one-out). Every context reads as the gain from adding the change (> 0: it
helps), a paired difference over seeds with its verdict, beside the GFLOPs and parameters
(224 px, full width) of both sides."""

from __future__ import annotations

import pandas as pd

from ..run.store import Store
from ..studies.names import alone, removed, study_id

CONTEXTS = ("in chain", "alone (on ResNet)", "alone, FLOP-matched", "at the end (vs removed)")
"""The table's contexts, in the order the figure draws them."""
COST_COLUMNS = ("gflops", "params_m")
"""Per context and side: '<context> gflops' (the changed design's) and '<context> ref
gflops' (what it is compared with), the same for params_m."""


def across_contexts(verdicts: list[str]) -> str:
    """One word for a change's verdicts in its contexts (in the chain, alone, removed):
    ``same gain`` / ``same loss`` (that verdict wherever measured), ``opposite`` (a gain in
    one, a loss in another), ``noise everywhere``, ``depends`` (real in some, within noise in
    others), or ``not measured``."""
    seen = [v for v in verdicts if v in ("gain", "loss", "within noise")]
    if not seen:
        return "not measured"
    if "gain" in seen and "loss" in seen:
        return "opposite"
    if all(v == seen[0] for v in seen):
        return "noise everywhere" if seen[0] == "within noise" else f"same {seen[0]}"
    return "depends"


def order_table(df: pd.DataFrame, chain_name: str, preset: str,
                store: Store | None = None) -> pd.DataFrame:
    """Per change (a chain step after the modern recipe), indexed by its title: for each
    context the mean difference, the verdict's interval (``<context> lo``/``hi``), verdict
    and paired seeds (NaN / '' / 0 where not measured), and the word ``across contexts``."""
    from models.roadmap import chain

    from .stats import study_stats

    def by_name(study: str) -> pd.DataFrame:
        t = study_stats(df, study, preset, store)
        return t.set_index("step_name") if not t.empty else t

    studies = (chain_name, study_id("one-at-a-time", chain_name),
               study_id("one-at-a-time-matched", chain_name), study_id("leave-one-out", chain_name))
    names = (str, alone, alone, removed)
    tables = [by_name(study) for study in studies]  # each study's statistics, once
    rows = []
    for s in chain(chain_name)[2:]:
        row = {"change": s.title}
        for col, study, name_in, t in zip(CONTEXTS, studies, names, tables):
            name = name_in(s.name)
            ok = not t.empty and name in t.index
            for suffix, key in (("", "delta"), (" lo", "lo"), (" hi", "hi")):
                row[col + suffix] = float(t.loc[name, key]) if ok else float("nan")
            row[col + " verdict"] = t.loc[name, "verdict"] if ok else ""
            row[col + " seeds"] = int(t.loc[name, "seeds"]) if ok else 0
            # the changed design: the step itself, or the variant with the change added /
            # without it removed; its reference: the step before, the base, the full design
            changed, ref = ((t.loc[name, "treatment"], t.loc[name, "control"]) if ok else ("", ""))
            if study == studies[3]:
                changed, ref = ref, changed
            for key in COST_COLUMNS:
                row[f"{col} {key}"] = _cost(df, study, preset, changed, key)
                row[f"{col} ref {key}"] = _cost(df, study, preset, ref, key)
        row["across contexts"] = across_contexts([row[c + " verdict"] for c in CONTEXTS])
        rows.append(row)
    return pd.DataFrame(rows).set_index("change")


def _cost(df: pd.DataFrame, study: str, preset: str, step_name: str, key: str) -> float:
    """GFLOPs or parameters (224 px, full width) of a study's step, as its runs stored them."""
    rows = df[(df.study == study) & (df.preset == preset) & (df.step_name == step_name)]
    return float(rows[key].iloc[0]) if len(rows) and key in rows else float("nan")


__all__ = ["CONTEXTS", "COST_COLUMNS", "across_contexts", "order_table"]
