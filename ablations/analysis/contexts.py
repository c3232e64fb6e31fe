"""Does order matter? Each change of a chain in its three contexts: its gain in the chain,
alone on the modern-recipe ResNet (one-at-a-time), and what removing it from the chain's
last design costs (leave-one-out), each a paired difference over seeds with its verdict."""

from __future__ import annotations

import pandas as pd

from ..run.store import Store
from ..studies.names import alone, removed, study_id

CONTEXTS = ("in chain", "alone (on ResNet)", "removing it (from the end)")
"""The table's contexts, in the order the figure draws them."""


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
    context the mean difference, its 95% paired-t interval (``<context> lo``/``hi``), verdict
    and paired seeds (NaN / '' / 0 where not measured), and the word ``across contexts``."""
    from models.roadmap import chain

    from .stats import study_stats

    def by_name(study: str) -> pd.DataFrame:
        t = study_stats(df, study, preset, store)
        return t.set_index("step_name") if not t.empty else t

    sources = {CONTEXTS[0]: (by_name(chain_name), str),
               CONTEXTS[1]: (by_name(study_id("one-at-a-time", chain_name)), alone),
               CONTEXTS[2]: (by_name(study_id("leave-one-out", chain_name)), removed)}
    rows = []
    for s in chain(chain_name)[2:]:
        row = {"change": s.title}
        for col, (t, name_in) in sources.items():
            name = name_in(s.name)
            ok = not t.empty and name in t.index
            for suffix, key in (("", "delta"), (" lo", "t_lo"), (" hi", "t_hi")):
                row[col + suffix] = float(t.loc[name, key]) if ok else float("nan")
            row[col + " verdict"] = t.loc[name, "verdict"] if ok else ""
            row[col + " seeds"] = int(t.loc[name, "seeds"]) if ok else 0
        row["across contexts"] = across_contexts([row[c + " verdict"] for c in CONTEXTS])
        rows.append(row)
    return pd.DataFrame(rows).set_index("change")


__all__ = ["CONTEXTS", "across_contexts", "order_table"]
