"""What every figure shares: the one writer (``save_figure``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or opened
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path,
                formats: tuple[str, ...] = (".png", ".svg")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (PNG at 150 dpi), close it,
    and return the paths written. The one figure writer of the toolkit.

    The SVG is byte-stable: no date and fixed element ids, so that redrawing a committed
    figure from the same numbers leaves no diff to review."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in formats:
        p = path.with_suffix(ext)
        stable = {"metadata": {"Date": None}} if ext == ".svg" else {}
        with plt.rc_context({"svg.hashsalt": "convnext-ablations"}):
            fig.savefig(p, dpi=150 if ext == ".png" else None, bbox_inches="tight", **stable)
        out.append(p)
    plt.close(fig)
    return out
