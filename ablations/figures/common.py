"""What every figure shares: the one writer (``save_figure``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

if "inline" not in matplotlib.get_backend():  # a notebook keeps its inline figures
    matplotlib.use("Agg")  # files only: no display is needed or opened
import matplotlib.pyplot as plt  # noqa: E402
from collections.abc import Callable  # noqa: E402

from ..system.files import atomic_write  # noqa: E402

FIGURE_CHECKS: list[Callable[[plt.Figure, Path], None]] = []
"""Called with every figure and its path before it is written (the tests' legibility
checks: ``tests/test_figure_legibility.py``)."""


def save_figure(fig: plt.Figure, path: str | Path,
                formats: tuple[str, ...] = (".png", ".svg"),
                png_text: dict[str, str] | None = None) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (PNG at 150 dpi), close it,
    and return the paths written. The one figure writer of the toolkit. ``png_text``: text
    chunks the PNG carries (e.g. the digest of what it draws).

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
                  {"metadata": {"CreationDate": None}} if ext == ".pdf" else
                  {"metadata": dict(png_text)} if ext == ".png" and png_text else {})
        # Type 42 (TrueType) fonts in PDFs: venues refuse Type 3
        with plt.rc_context({"svg.hashsalt": "convnext-ablations", "pdf.fonttype": 42,
                             "ps.fonttype": 42}):
            # whole or not at all (a full disk leaves the old figure, never half of one)
            atomic_write(p, "wb", lambda f: fig.savefig(
                f, format=ext[1:], dpi=150 if ext == ".png" else None, bbox_inches="tight",
                **stable))
        out.append(p)
    plt.close(fig)
    return out


LABEL_OFFSETS = ((6, 3), (6, -3), (-6, 3), (-6, -3), (0, 7), (0, -7), (12, 0), (-12, 0),
                 (10, 10), (-10, 10), (10, -10), (-10, -10), (0, 14), (0, -14), (18, 0),
                 (-18, 0))
"""Where ``place_labels`` tries a point's label, in points from the point, in order."""
LEADER_OFFSETS = tuple((dx * k, dy * k) for k in (2.5, 4, 5.5, 7) for dx, dy in (
    (10, 10), (-10, 10), (10, -10), (-10, -10), (14, 0), (-14, 0), (0, 14), (0, -14)))
"""Farther places, each with a leader line to its point, where no near place is clear."""


def drawn_markers(ax: plt.Axes) -> list[tuple[float, float]]:
    """Display positions of the points drawn in ``ax`` (scatter points, line markers; not
    error-bar caps)."""
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    out = []
    for artist in ax.get_children():
        if isinstance(artist, Line2D) and artist.get_visible() and artist.get_marker() not in (
                None, "None", "", " ", "_", "|"):
            xy = np.column_stack(artist.get_data()).astype(float)
            out += [tuple(p) for p in artist.get_transform().transform(xy)] if len(xy) else []
        elif isinstance(artist, PathCollection) and artist.get_visible():
            offsets = np.asarray(artist.get_offsets(), dtype=float)
            if len(offsets):
                out += [tuple(p) for p in artist.get_offset_transform().transform(offsets)]
    return [p for p in out if all(map(np.isfinite, p))]


def _distance(box, p: tuple[float, float]) -> float:
    dx = max(box.x0 - p[0], 0.0, p[0] - box.x1)
    dy = max(box.y0 - p[1], 0.0, p[1] - box.y1)
    return (dx * dx + dy * dy) ** 0.5


def place_labels(ax: plt.Axes, xs: list[float], ys: list[float], texts: list[str],
                 **text_kw) -> list:
    """Label the points (xs, ys) of ``ax`` so that each label names its point: it goes to the
    first offset of ``LABEL_OFFSETS`` whose rendered box overlaps no text already on the
    figure, covers no drawn point, stays inside the axes and is nearer its own point than any
    other drawn point; where none is, to the first such place of ``LEADER_OFFSETS`` with a
    leader line to its point (else the first of those). Call it once the axes' limits and
    the figure's layout are final."""
    import numpy as np

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in fig.findobj(plt.Text)
             if t.get_visible() and t.get_text().strip()]
    frame = ax.get_window_extent(renderer)
    markers = drawn_markers(ax)
    points = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    placed = []
    for x, y, text, own in zip(xs, ys, texts, points):
        others = [m for m in markers if abs(m[0] - own[0]) + abs(m[1] - own[1]) > 1.0]

        def fits(ann) -> bool:
            box = ann.get_window_extent(renderer)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            clear = not any(_boxes_overlap(box, other) for other in taken)
            no_point = not any(box.x0 - 2 < px < box.x1 + 2 and box.y0 - 2 < py < box.y1 + 2
                               for px, py in others)
            leader = ann.arrow_patch is not None
            nearest = leader or all(_distance(box, m) > _distance(box, own) for m in others)
            return inside and clear and no_point and nearest

        chosen = None
        for offsets, leader in ((LABEL_OFFSETS, False), (LEADER_OFFSETS, True)):
            for dx, dy in offsets:
                arrow = {"arrowprops": {"arrowstyle": "-", "lw": 0.6, "color": "#555555",
                                        "shrinkA": 0, "shrinkB": 3}} if leader else {}
                ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                  ha="left" if dx > 0 else "right" if dx < 0 else "center",
                                  va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                                  **arrow, **text_kw)
                if fits(ann):
                    chosen = ann
                    break
                ann.remove()
            if chosen is not None:
                break
        if chosen is None:  # crowded: the first far place, with its leader line
            dx, dy = LEADER_OFFSETS[0]
            chosen = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                 ha="left", va="bottom",
                                 arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "#555555",
                                             "shrinkA": 0, "shrinkB": 3}, **text_kw)
        taken.append(chosen.get_window_extent(renderer))
        placed.append(chosen)
    return placed


def _boxes_overlap(a, b, slack: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack
            and min(a.y1, b.y1) - max(a.y0, b.y0) > slack)
