"""What every figure shares: the one writer (``save_figure``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

if "inline" not in matplotlib.get_backend():  # a notebook keeps its inline figures
    matplotlib.use("Agg")  # files only: no display is needed or opened
import matplotlib.pyplot as plt  # noqa: E402
from collections.abc import Callable  # noqa: E402

FIGURE_CHECKS: list[Callable[[plt.Figure, Path], None]] = []
"""Called with every figure and its path before it is written (the tests' legibility
checks: ``tests/test_figure_legibility.py``)."""


def save_figure(fig: plt.Figure, path: str | Path,
                formats: tuple[str, ...] = (".png", ".svg")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (PNG at 150 dpi), close it,
    and return the paths written. The one figure writer of the toolkit.

    The SVG is byte-stable: no date and fixed element ids, so that redrawing a committed
    figure from the same numbers leaves no diff to review."""
    path = Path(path)
    for check in FIGURE_CHECKS:
        check(fig, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in formats:
        p = path.with_suffix(ext)
        stable = ({"metadata": {"Date": None}} if ext == ".svg" else
                  {"metadata": {"CreationDate": None}} if ext == ".pdf" else {})
        with plt.rc_context({"svg.hashsalt": "convnext-ablations"}):
            fig.savefig(p, dpi=150 if ext == ".png" else None, bbox_inches="tight", **stable)
        out.append(p)
    plt.close(fig)
    return out


LABEL_OFFSETS = ((6, 3), (6, -3), (-6, 3), (-6, -3), (0, 7), (0, -7), (12, 0), (-12, 0),
                 (10, 10), (-10, 10), (10, -10), (-10, -10), (0, 14), (0, -14), (18, 0),
                 (-18, 0))
"""Where ``place_labels`` tries a point's label, in points from the point, in order."""


def place_labels(ax: plt.Axes, xs: list[float], ys: list[float], texts: list[str],
                 **text_kw) -> list:
    """Label the points (xs, ys) of ``ax`` without overlaps: each label goes to the first
    offset of ``LABEL_OFFSETS`` whose rendered box overlaps no text already on the figure,
    no other labelled point and stays inside the axes (else the first offset). Call it once
    the axes' limits and the figure's layout are final."""
    import numpy as np

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in fig.findobj(plt.Text)
             if t.get_visible() and t.get_text().strip()]
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    placed = []
    for k, (x, y, text) in enumerate(zip(xs, ys, texts)):
        chosen = None
        for dx, dy in LABEL_OFFSETS:
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                              ha="left" if dx > 0 else "right" if dx < 0 else "center",
                              va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                              **text_kw)
            box = ann.get_window_extent(renderer)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            clear = not any(_boxes_overlap(box, other) for other in taken)
            no_point = not any(box.x0 - 2 < px < box.x1 + 2 and box.y0 - 2 < py < box.y1 + 2
                               for j, (px, py) in enumerate(points) if j != k)
            if inside and clear and no_point:
                chosen = ann
                break
            ann.remove()
        if chosen is None:  # crowded: the first place, as before
            dx, dy = LABEL_OFFSETS[0]
            chosen = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                 ha="left", va="bottom", **text_kw)
        taken.append(chosen.get_window_extent(renderer))
        placed.append(chosen)
    return placed


def _boxes_overlap(a, b, slack: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack
            and min(a.y1, b.y1) - max(a.y0, b.y0) > slack)
