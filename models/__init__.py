"""The ResNet -> ConvNeXt design space: ``Design``, ``build``, named models, roadmaps,
weights.

This package knows torch.nn only; training and measuring live in ``ablations``. Names are
imported on first use, so that reading the design space (``Design``, named models, roadmaps)
does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "FIELDS": "design", "Design": "design", "DesignError": "design",
    "MODEL_NAMES": "named", "CONVNETS": "named", "named_design": "named",
    "TRANSFORMERS": "transformers", "SwinDesign": "transformers", "ViTDesign": "transformers",
    "Costs": "complexity", "costs": "complexity", "count_params": "complexity",
    "gflops_by_part": "complexity",
    "Block": "blocks", "ROLES": "blocks",
    "ConvSpec": "blocks", "block_plan": "blocks", "needs_projection": "blocks",
    "activation_after_add": "blocks",
    "ConvNet": "network", "build": "network", "StagePlan": "design", "stage_plan": "design",
    "WeightLoadError": "weights", "load_reference_weights": "weights",
}

__all__ = sorted([*_WHERE, "roadmap"])


def __getattr__(name: str) -> Any:
    if name == "roadmap":
        return importlib.import_module(".roadmap", __name__)
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
