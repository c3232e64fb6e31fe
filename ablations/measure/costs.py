"""Cost tables (params, GFLOPs in two conventions) for chains and named models.

A design's counts are computed once per machine and kept in the user's cache, named by the
design, the resolution and the code of ``models`` (``system.files.cache_file``): counting
needs torch and builds every model (seconds); reading them back does neither."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from models import named_design
from models.named import PUBLISHED
from models.roadmap import Step, chain


def costs(design: Any, resolution: int = 224, with_fvcore: bool = True) -> Any:
    """``models.costs`` of ``design`` (params, gflops, fvcore_gflops, attention_gflops,
    params_m), from the cache where this code counted it before."""
    import models

    from ..system.files import cache_file, code_digest, keep_in_cache

    code = code_digest(*sorted(Path(models.__file__).parent.glob("*.py")))
    path = cache_file("costs", f"{design!r}|{resolution}|{with_fvcore}|{code}", ".json")
    fields = ("params", "gflops", "fvcore_gflops", "attention_gflops")
    try:
        counted = json.loads(path.read_text()) if path is not None and path.is_file() else None
    except (OSError, ValueError):
        counted = None
    if not isinstance(counted, dict) or set(counted) != set(fields):
        c = models.costs(design, resolution=resolution, with_fvcore=with_fvcore)
        counted = {f: getattr(c, f) for f in fields}
        keep_in_cache(path, json.dumps(counted))
    return SimpleNamespace(**counted, params_m=counted["params"] / 1e6)

COST_COLUMNS = ["step", "name", "title", "gflops", "params_m", "fvcore_gflops",
                "paper_gflops", "paper_top1", "delta_gflops", "note"]


def step_costs(steps: list[Step], resolution: int = 224, with_fvcore: bool = True) -> pd.DataFrame:
    """One row per step: our counts next to the paper's numbers.

    ``gflops`` is the paper's convention (conv + linear multiply-adds), ``fvcore_gflops``
    fvcore's total (norms counted too); both for one 3-channel image, 1000 classes.
    """
    rows = []
    for s in steps:
        c = costs(s.design, resolution=resolution, with_fvcore=with_fvcore)
        rows.append({
            "step": s.index if s.branch_of is None else f"{s.index}b",
            "name": s.name,
            "title": s.title,
            "gflops": round(c.gflops, 3),
            "params_m": round(c.params_m, 3),
            "fvcore_gflops": round(c.fvcore_gflops, 3) if c.fvcore_gflops is not None else None,
            "paper_gflops": s.paper_gflops,
            "paper_top1": s.paper_top1,
            "delta_gflops": round(c.gflops - s.paper_gflops, 3) if s.paper_gflops else None,
            "note": s.note,
        })
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def chain_costs(name: str, resolution: int = 224, branches: bool = True,
                with_fvcore: bool = True) -> pd.DataFrame:
    """Cost table of roadmap ``name`` (main steps, then side branches)."""
    return step_costs(chain(name, branches=branches), resolution, with_fvcore)


MODEL_COLUMNS = ["name", "gflops", "attention_gflops", "fvcore_gflops", "params_m",
                  "published_gflops", "published_params_m", "convention", "source"]


def model_costs(names: list[str], resolution: int = 224, with_fvcore: bool = True) -> pd.DataFrame:
    """One row per named model: our counts next to the published ones (see ``PUBLISHED``).

    ``gflops`` counts every multiply-add (attention matmuls included, see ``models.complexity``);
    ``attention_gflops`` is the attention part, which a conv + linear count would miss.
    """
    designs = {name: named_design(name) for name in names}  # unknown names fail before any work
    rows = []
    for name in names:
        c = costs(designs[name], resolution=resolution, with_fvcore=with_fvcore)
        params, flops, convention, source = PUBLISHED.get(name, (None, None, "", ""))
        rows.append({
            "name": name, "gflops": round(c.gflops, 3),
            "attention_gflops": round(c.attention_gflops, 3),
            "fvcore_gflops": round(c.fvcore_gflops, 3) if c.fvcore_gflops is not None else None,
            "params_m": round(c.params_m, 3), "published_gflops": flops,
            "published_params_m": params, "convention": convention, "source": source,
        })
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)
