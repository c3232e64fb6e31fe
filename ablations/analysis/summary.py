"""Tables of results: per-step mean and spread over seeds, next to the paper's numbers."""

from __future__ import annotations

import pandas as pd

from models.roadmap import CHAINS

from ..studies.names import parse_study
from .paper import paper_by_design

SUMMARY_COLUMNS = ["study", "step", "step_name", "preset", "seeds", "top1_mean", "top1_std",
                   "top1_min", "top1_max", "gflops", "params_m", "paper_top1", "paper_gflops",
                   "train_minutes", "failed"]


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (study, step, preset): top-1 mean/std/min/max over seeds."""
    if df.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    df = df.copy()
    if "status" not in df:
        df["status"] = "ok"
    ok = df[df.status == "ok"]
    keys = ["study", "step", "step_name", "preset"]
    order = df.drop_duplicates(keys)[keys]
    g = ok.groupby(keys, sort=False)
    out = order.merge(g.agg(seeds=("seed", "nunique"), top1_mean=("top1", "mean"),
                            top1_std=("top1", "std"), top1_min=("top1", "min"),
                            top1_max=("top1", "max"), gflops=("gflops", "first"),
                            params_m=("params_m", "first"), paper_top1=("paper_top1", "first"),
                            paper_gflops=("paper_gflops", "first"),
                            train_minutes=("wall_seconds", lambda s: s.sum() / 60)).reset_index(),
                      on=keys, how="left")
    failed = df[df.status != "ok"].groupby(keys, sort=False).size().rename("failed")
    out = out.merge(failed.reset_index(), on=keys, how="left")
    out["failed"] = out["failed"].fillna(0).astype(int)
    out["seeds"] = out["seeds"].fillna(0).astype(int)
    for c in ("top1_mean", "top1_std", "top1_min", "top1_max", "gflops", "params_m",
              "train_minutes"):
        out[c] = out[c].astype(float).round(3 if c in ("gflops", "params_m") else 2)
    # The paper's numbers belong to the chain's own steps (and the Transformers it cites),
    # not to a variant that only borrows a step's change (31.5 GFLOPs is not the paper's 4.64).
    borrowed = ~out.study.map(lambda s: parse_study(s).kind in ("chain", "transformers"))
    out.loc[borrowed, ["paper_top1", "paper_gflops"]] = float("nan")
    # ... and are paired by design: the paper's last row is our last step (paper.paper_by_design)
    for study in set(out.study[out.study.isin(CHAINS)]):
        by_design, _ = paper_by_design(study)
        rows = (out.study == study) & out.step.notna()
        out.loc[rows, "paper_top1"] = out.loc[rows, "step_name"].map(by_design).astype(float)
    return out[SUMMARY_COLUMNS]
