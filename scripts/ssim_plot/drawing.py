"""Drawing helpers shared by the run figures (figures.py) and the sweep figures
(ssim_sweep_report.py): the style, saving a figure as SVG and PNG, short labels, and placing
labels next to points without overlaps (matplotlib)."""

from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

PNG_DPI = 110
SVG_FONTS = "'DejaVu Sans', 'Bitstream Vera Sans', 'Liberation Sans', Arial, sans-serif"

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "svg.fonttype": "none",  # text stays text in the SVG: searchable, smaller
    "svg.hashsalt": "systolic-sim",  # stable ids: the same run gives the same SVG
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# Fixed colours for the layer types the simulator writes, so a type keeps its colour from one
# run to the next; other types take the remaining colours in order of appearance.


def save(fig, folder: str, stem: str, extra_artists=()) -> list:
    """Writes stem.svg and stem.png atomically (temporary file, then rename)."""
    # The tight box once for both formats (bbox_inches="tight" would draw twice per file).
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer(),
                            bbox_extra_artists=list(extra_artists) or None)
    box = box.padded(0.15)
    written = []
    for ext, kw in (("svg", {"metadata": {"Date": None}}),
                    ("png", {"dpi": PNG_DPI, "metadata": {"Software": None}})):
        path = os.path.join(folder, f"{stem}.{ext}")
        tmp = path + ".tmp"
        fig.savefig(tmp, format=ext, bbox_inches=box, facecolor="white", **kw)
        if ext == "svg":
            # Text stays text: name fallbacks for viewers without DejaVu Sans.
            with open(tmp, encoding="utf-8") as f:
                svg = f.read()
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(svg.replace("'DejaVu Sans'", SVG_FONTS))
        os.replace(tmp, path)
        written.append(path)
    plt.close(fig)
    return written


def short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else name[: width - 1] + "\u2026"


# --------------------------------------------------------------------------------------------
# Roofline


def _text_boxes(text, renderer, pieces: int = 12) -> list:
    """Display-space boxes covering a text (with its rounded box, if any). A rotated text is
    covered by `pieces` small boxes along its baseline rather than one large axis-aligned box."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    if hasattr(text, "update_positions"):  # an annotation: place its text from xy first
        text.update_positions(renderer)
    pad = 5.0 if text.get_bbox_patch() is not None else 2.0
    angle = text.get_rotation() % 360
    if angle == 0:
        b = Text.get_window_extent(text, renderer)  # the text only, not an annotation's arrow
        return [Bbox.from_extents(b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad)]
    text.set_rotation(0)
    flat = Text.get_window_extent(text, renderer)
    text.set_rotation(angle)
    box = Text.get_window_extent(text, renderer)
    w, h = flat.width, flat.height
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    x0, y0 = box.x0 + h * s, box.y0  # the baseline's start (0 < angle < 90)
    out = []
    for i in range(pieces):
        t = (i + 0.5) / pieces * w
        cx, cy = x0 + t * c - h / 2 * s, y0 + t * s + h / 2 * c
        half_w = (w / pieces * c + h * s) / 2
        half_h = (w / pieces * s + h * c) / 2
        out.append(Bbox.from_extents(cx - half_w, cy - half_h, cx + half_w, cy + half_h))
    return out


def place(fig, ax, groups, points, lines, optional=0):
    """Draws one text per group, choosing among the group's candidates.

    groups: list of candidate lists; a candidate is a function that draws the text and returns
    the artist. Texts are placed in order; a candidate is allowed only if it lies inside the
    axes and overlaps no text placed before it. Among the allowed ones the first with the lowest
    score wins: data points (x, y, radius in pixels) covered count 1 each, samples of the roof
    lines 0.25 each. If no candidate is allowed, the first is used, except for the last
    `optional` groups, which are then left out. Returns the number of groups drawn.
    """
    renderer = fig.canvas.get_renderer()
    axb = ax.get_window_extent(renderer)
    placed = []
    drawn = 0

    def covered(boxes, pts):
        return sum(1 for (x, y, r) in pts
                   if any(b.x0 - r <= x <= b.x1 + r and b.y0 - r <= y <= b.y1 + r
                          for b in boxes))

    for gi, candidates in enumerate(groups):
        best = None
        least_bad = None  # when nothing is allowed: the fewest overlaps, then inside the axes
        for rank, make in enumerate(candidates):
            art = make()
            boxes = _text_boxes(art, renderer)
            art.remove()
            outside = sum(1 for b in boxes if b.x0 < axb.x0 or b.x1 > axb.x1 or b.y0 < axb.y0
                          or b.y1 > axb.y1)
            clashes = sum(1 for b in boxes for p in placed if b.overlaps(p))
            if outside or clashes:
                bad = (clashes + outside, rank)
                if least_bad is None or bad < least_bad[0]:
                    least_bad = (bad, make)
                continue
            score = covered(boxes, points) + 0.25 * covered(boxes, lines) + 0.001 * rank
            if best is None or score < best[0]:
                best = (score, make)
        if best is None and gi >= len(groups) - optional:
            continue
        art = (best[1] if best else least_bad[1])()
        placed.extend(_text_boxes(art, renderer))
        drawn += 1
    return drawn


def annotator(ax, text, xy, dx, dy, ha, va, **kw):
    return lambda: ax.annotate(text, xy=xy, xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, **kw)


# One marker per kind of op, so that kinds stay apart where colours are close (and in grey).
