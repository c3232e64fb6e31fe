"""Legibility checks of a drawn matplotlib figure: no two text labels overlap (their
rendered bounding boxes), no legend covers a data point."""

from __future__ import annotations

import itertools

import matplotlib.text
import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D

SLACK_PX = 1.0
"""Boxes may touch: each is shrunk by this many pixels before the overlap test."""


def _texts(fig):
    # Tick labels of an axis that is not drawn (axis off, hidden axis) are not in the file.
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not ax.axison or not axis.get_visible():
                hidden.update(id(t) for t in axis.findobj(matplotlib.text.Text))
                continue
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                # ticks beyond the view limits exist as objects but are not drawn
                if not lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo):
                    hidden.update((id(tick.label1), id(tick.label2)))
    return [t for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def _visible_in_axes(t, box) -> bool:
    # A data-coordinate text outside its axes' view is not drawn (clipped) in the file.
    ax = t.axes
    if ax is None or not t.get_clip_on():
        return True
    return box.overlaps(ax.get_window_extent())


def overlapping_labels(fig) -> list[tuple[str, str]]:
    """Pairs of overlapping text labels of ``fig`` (as their strings)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in _texts(fig):
        box = t.get_window_extent(renderer)
        if box.width <= 0 or box.height <= 0 or not _visible_in_axes(t, box):
            continue
        boxes.append((t.get_text(), box))
    pairs = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        ix = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        iy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if ix > 2 * SLACK_PX and iy > 2 * SLACK_PX:
            pairs.append((a, b))
    return pairs


def legend_covered_points(fig) -> list[str]:
    """Descriptions of data points that a legend of ``fig`` covers."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    covered = []
    for ax in fig.axes:
        legends = [ax.get_legend()] if ax.get_legend() is not None else []
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for artist in ax.get_children():
                points = None
                if isinstance(artist, Line2D) and artist.get_visible():
                    xy = np.column_stack(artist.get_data()).astype(float)
                    if len(xy) and artist.get_marker() not in (None, "None", "", " "):
                        points = artist.get_transform().transform(xy)
                elif isinstance(artist, PathCollection) and artist.get_visible():
                    offsets = artist.get_offsets()
                    if len(offsets):
                        points = artist.get_offset_transform().transform(offsets)
                if points is None:
                    continue
                for x, y in points:
                    if box.x0 < x < box.x1 and box.y0 < y < box.y1:
                        covered.append(f"{artist.get_label()} at ({x:.0f}, {y:.0f}) px")
    return covered


def _markers(ax) -> list[tuple[float, float]]:
    """Display positions of every drawn marker of ``ax`` (scatter points, line markers)."""
    out = []
    for artist in ax.get_children():
        if isinstance(artist, Line2D) and artist.get_visible() and artist.get_marker() not in (
                None, "None", "", " ", "_", "|"):  # error-bar caps are not points
            xy = np.column_stack(artist.get_data()).astype(float)
            if len(xy):
                out += [tuple(p) for p in artist.get_transform().transform(xy)]
        elif isinstance(artist, PathCollection) and artist.get_visible():
            offsets = np.asarray(artist.get_offsets(), dtype=float)
            if len(offsets):
                out += [tuple(p) for p in artist.get_offset_transform().transform(offsets)]
    return [p for p in out if np.all(np.isfinite(p))]


def _distance(box, p) -> float:
    dx = max(box.x0 - p[0], 0.0, p[0] - box.x1)
    dy = max(box.y0 - p[1], 0.0, p[1] - box.y1)
    return float(np.hypot(dx, dy))


def mislabelled_points(fig) -> list[str]:
    """Point labels of ``fig`` (annotations with text that name a data point, ``xy``) that
    sit nearer another marker than their own point and draw no leader line to it: a reader
    takes the nearest marker for the one named."""
    import matplotlib.text as mtext

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    wrong = []
    for ax in fig.axes:
        markers = _markers(ax)
        for ann in ax.get_children():
            if not isinstance(ann, mtext.Annotation) or not ann.get_text().strip():
                continue
            if not ann.get_visible() or ann.arrow_patch is not None:
                continue  # a leader line names its point
            if ann.xycoords != "data":
                continue
            own = tuple(ax.transData.transform(np.asarray(ann.xy, dtype=float)))
            box = ann.get_window_extent(renderer)
            d_own = _distance(box, own)
            others = [m for m in markers if np.hypot(m[0] - own[0], m[1] - own[1]) > 1.0]
            if others and min(_distance(box, m) for m in others) < d_own:
                wrong.append(f"{ann.get_text()!r} at {ann.xy}")
    return wrong
