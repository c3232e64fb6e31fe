"""Defaults the library uses and ``--help`` shows, in one place: plain values, so that the
command line's help reads them without importing torch or pandas."""

from models.roadmap import DEFAULT_CHAIN

RESULTS = "results/quick"
"""The committed quick results: where ``run`` writes and ``show``, ``stats``, ``plot``,
``report`` and ``collapse`` read by default (``--out`` / ``--results``), and what replay joins."""

SCALE_GRID = "train_images=7500,15000,30000;epochs=12,24;width=0.25;resolution=48"
"""The scale study's committed cells besides the base (quick: 60k images, 6 epochs, x1/8,
32 px)."""
SCALING_MODELS = ("resnet50", "convnext_tiny", "swin_t", "vit_b_16")
"""The models of ``cost-vs-resolution``: the two ConvNets and two Transformers."""
SCALING_RESOLUTIONS = (224, 448, 672, 896, 1120)
"""Multiples of 224, so that Swin's 7x7 windows tile every stage without padding."""

__all__ = ["DEFAULT_CHAIN", "RESULTS", "SCALE_GRID", "SCALING_MODELS", "SCALING_RESOLUTIONS"]
