"""The paper's reference numbers as one table (exported to results/paper_reference.csv)."""

from __future__ import annotations

import pandas as pd

from models.roadmap import CHAINS, get_chain


def paper_reference() -> pd.DataFrame:
    """Every step and side branch of every chain with the paper's top-1, GFLOPs and source."""
    rows = []
    for name in CHAINS:
        c = get_chain(name)
        for s in list(c.steps) + list(c.branches):
            rows.append({
                "chain": name, "step": s.index, "name": s.name, "title": s.title,
                "phase": s.phase, "branch_of": s.branch_of or "", "recipe": s.recipe,
                "changes": "+".join(s.changes), "paper_top1": s.paper_top1,
                "paper_top1_std": s.paper_top1_std, "paper_gflops": s.paper_gflops,
                "source": s.source, "note": s.note,
            })
        for ref in c.references:
            rows.append({"chain": name, "step": None, "name": ref.model, "title": ref.title,
                         "phase": "reference", "branch_of": "", "recipe": "convnext",
                         "changes": "", "paper_top1": ref.paper_top1, "paper_top1_std": None,
                         "paper_gflops": ref.paper_gflops,
                         "source": "ConvNeXt paper (arXiv 2201.03545v2), Table 1",
                         "note": "target line (Figure 2)" if ref.target
                                 else "comparison model"})
    df = pd.DataFrame(rows)
    df["step"] = df["step"].astype("Int64")  # reference models have no step
    return df
