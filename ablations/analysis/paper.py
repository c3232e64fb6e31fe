"""The paper's reference numbers as one table (exported to results/paper_reference.csv)."""

from __future__ import annotations

import pandas as pd

from models.roadmap import CHAINS, get_chain


def paper_by_design(chain_name: str) -> tuple[dict[str, float], dict[str, str]]:
    """(the paper's top-1 per step name of ``chain_name``, paired by design; the sub-steps
    the paper folds into its last row -> the step that holds that row's number).

    The paper's last row (separate downsampling) also turns on layer scale and ConvNeXt's
    init, which our chain isolates as later steps: that row's number belongs to our last
    step, the design the paper measured; the steps from that row to ours are folded."""
    from models.roadmap import chain

    steps = chain(chain_name)
    top1 = {s.name: s.paper_top1 for s in steps if s.paper_top1 is not None}
    last_paper = max((i for i, s in enumerate(steps) if s.paper_top1 is not None), default=None)
    folded: dict[str, str] = {}
    if last_paper is not None and last_paper < len(steps) - 1:
        final = steps[-1].name
        top1[final] = top1.pop(steps[last_paper].name)
        folded = {s.name: final for s in steps[last_paper:-1]}
    return top1, folded


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
