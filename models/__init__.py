"""The ResNet -> ConvNeXt design space: ``Design``, ``build``, presets, roadmaps, weights.

This package knows torch.nn only; training and measuring live in ``ablations``.
"""

from . import roadmap
from .costs import Costs, costs, count_params
from .design import FIELDS, Design
from .blocks import ConvSpec, block_plan
from .network import ConvNet, StagePlan, build, stage_plan
from .presets import MODEL_NAMES, PRESETS, preset
from .transformers import TRANSFORMERS, SwinDesign, ViTDesign
from .weights import WeightLoadError, load_reference_weights

__all__ = [
    "FIELDS", "MODEL_NAMES", "PRESETS", "TRANSFORMERS", "SwinDesign", "ViTDesign", "ConvSpec", "Costs", "ConvNet", "StagePlan", "block_plan",
    "stage_plan", "Design", "WeightLoadError", "build", "costs",
    "count_params", "load_reference_weights", "preset", "roadmap",
]
