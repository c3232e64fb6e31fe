"""Deprecated (goes in 0.3): the named models are ``models.named`` now, and "preset" means
a run preset (a training scale) only."""

from __future__ import annotations

import warnings

from .design import Design
from .named import CONVNETS as PRESETS
from .named import MODEL_NAMES, PUBLISHED, named_design
from .transformers import TransformerDesign

__all__ = ["PRESETS", "MODEL_NAMES", "PUBLISHED", "preset"]


def preset(name: str) -> Design | TransformerDesign:
    """Deprecated name of ``models.named.named_design``."""
    warnings.warn("models.preset is now models.named_design; the old name goes in 0.3",
                  FutureWarning, stacklevel=2)
    return named_design(name)
