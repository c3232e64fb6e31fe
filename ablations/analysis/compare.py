"""Compare result sets (presets, datasets, recipes, seeds) with each other and the paper."""

from __future__ import annotations

import pandas as pd

from models.roadmap import chain

from ..errors import UserError
from .summary import summary_table
from .agreement import paper_agreement
from .paper import paper_by_design


def step_table(results: dict[str, pd.DataFrame], chain_name: str) -> pd.DataFrame:
    """Per main step: each set's mean top-1 and its gain over the previous step, the
    paper's top-1 and gain, and each set's difference of gains to the paper."""
    steps = chain(chain_name)
    by_design, _ = paper_by_design(chain_name)  # the paper's last row beside our last step
    out = pd.DataFrame({"step": [s.index for s in steps], "step_name": [s.name for s in steps],
                        "paper_top1": [by_design.get(s.name) for s in steps]})
    out["paper_gain"] = out.paper_top1.diff()
    for label, df in results.items():
        s = summary_table(df[df.study == chain_name]).set_index("step_name").top1_mean
        out[f"{label}_top1"] = out.step_name.map(s)
        out[f"{label}_gain"] = out[f"{label}_top1"].diff()
        out[f"{label}_gain_minus_paper"] = out[f"{label}_gain"] - out.paper_gain
    return out


SHARED_KEYS = ["study", "preset", "step", "step_name"]


def shared_steps(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every (study, preset, step) that all result sets hold, in any study (scale cells too):
    each set's mean top-1, seeds and device; with two sets, the difference of the second
    minus the first over the seeds whose run is the same (hash and seed) in both, with its
    95% paired-t interval (NaN where fewer than two such seeds)."""
    from .stats import t_quantile

    labels = list(results)
    rows = {label: df[df.status == "ok"] if "status" in df else df
            for label, df in results.items()}
    keys = None
    for df in rows.values():
        k = set(map(tuple, df[SHARED_KEYS].drop_duplicates().to_numpy().tolist()))
        keys = k if keys is None else keys & k
    out = []
    for key in sorted(keys or [], key=lambda k: (k[0], k[1], k[2])):
        rec = dict(zip(SHARED_KEYS, key))
        parts = {label: df[(df.study == key[0]) & (df.preset == key[1]) & (df.step == key[2])
                              & (df.step_name == key[3])] for label, df in rows.items()}
        for label, part in parts.items():
            rec[f"{label}_top1"] = part.top1.mean()
            rec[f"{label}_seeds"] = part.seed.nunique()
            rec[f"{label}_device"] = " + ".join(sorted(set(part.get("device", pd.Series(
                dtype=str)).dropna().astype(str)))) or "unknown"
        if len(labels) == 2:
            a, b = (parts[label].set_index(["config_hash", "seed"]).top1 for label in labels)
            common = a.index.intersection(b.index)
            d = (b.loc[common] - a.loc[common]).to_numpy(float)
            rec["paired_seeds"] = len(d)
            rec["difference"] = d.mean() if len(d) else float("nan")
            half = (t_quantile(0.975, len(d) - 1) * d.std(ddof=1) / len(d) ** 0.5
                    if len(d) > 1 else float("nan"))
            rec["lo"], rec["hi"] = rec["difference"] - half, rec["difference"] + half
        out.append(rec)
    return pd.DataFrame(out)


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


