"""Compare result sets (presets, datasets, recipes, seeds) with each other and the paper."""

from __future__ import annotations

import pandas as pd

from models.roadmap import chain

from ..errors import UserError
from .summary import summary_table
from .agreement import paper_agreement


def step_table(results: dict[str, pd.DataFrame], chain_name: str) -> pd.DataFrame:
    """Per main step: each set's mean top-1 and its gain over the previous step, the
    paper's top-1 and gain, and each set's difference of gains to the paper."""
    steps = chain(chain_name)
    out = pd.DataFrame({"step": [s.index for s in steps], "step_name": [s.name for s in steps],
                        "paper_top1": [s.paper_top1 for s in steps]})
    out["paper_gain"] = out.paper_top1.diff()
    for label, df in results.items():
        s = summary_table(df[df.study == chain_name]).set_index("step_name").top1_mean
        out[f"{label}_top1"] = out.step_name.map(s)
        out[f"{label}_gain"] = out[f"{label}_top1"].diff()
        out[f"{label}_gain_minus_paper"] = out[f"{label}_gain"] - out.paper_gain
    return out


def agreements(results: dict[str, pd.DataFrame], chain_name: str) -> dict[str, dict]:
    """Each set's agreement with the paper (``agreement.paper_agreement`` of its chain rows)."""
    out = {}
    for label, df in results.items():
        presets = sorted(set(df[df.study == chain_name].preset))
        if len(presets) > 1:
            raise UserError(f"compare: {label} holds chain {chain_name} at several presets "
                            f"({', '.join(presets)}); compare one preset per folder")
        out[label] = paper_agreement(df, chain_name, presets[0] if presets else "")
    return out


