"""The three figures of a run: roofline, utilization per layer, time breakdown per layer.

Each figure is saved as SVG (text kept as text) and PNG. Importing this module needs matplotlib;
ssim_report.py checks for it first.
"""

from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from . import units  # noqa: E402
from .rundata import Run, roofline_data  # noqa: E402

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
TYPE_COLORS = {
    "conv": "#1f77b4",
    "linear": "#ff7f0e",
    "gemm": "#9467bd",
    "attention-qk": "#d62728",
    "attention-av": "#8c564b",
    "attention-proj": "#e377c2",
    "elementwise": "#2ca02c",
    "activation": "#17becf",
    "softmax": "#bcbd22",
    "pool": "#7f7f7f",
    "norm": "#aec7e8",
}
_SPARE_COLORS = ["#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
                 "#ffbb78", "#393b79", "#637939", "#8c6d31", "#843c39"]

# Where the time goes: one colour per part of a layer's cycles.
PARTS = (
    ("compute_cycles", "compute", "#4c72b0"),
    ("fill_drain_cycles", "fill / drain", "#dd8452"),
    ("mem_stall_cycles", "memory stall", "#c44e52"),
    ("vector_cycles", "vector ops", "#55a868"),
    ("stage_cycles", "output stage", "#8172b3"),
)

CANONICAL_STYLE = dict(marker="*", s=260, color="#ffd21f", edgecolors="black", linewidths=1.0,
                       zorder=6)


def type_colors(types) -> dict:
    out, spare = {}, iter(_SPARE_COLORS * 4)
    for t in types:
        if t not in out:
            out[t] = TYPE_COLORS.get(t) or next(spare)
    return out


def _save(fig, folder: str, stem: str, extra_artists=()) -> list:
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


def _decade_floor(x: float) -> float:
    return 10.0 ** math.floor(math.log10(x))


def _decade_ceil(x: float) -> float:
    return 10.0 ** math.ceil(math.log10(x))


def _short(name: str, width: int = 34) -> str:
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


def _place(fig, ax, groups, points, lines):
    """Draws one text per group, choosing among the group's candidates.

    groups: list of candidate lists; a candidate is a function that draws the text and returns
    the artist. Texts are placed in order; a candidate is allowed only if it lies inside the
    axes and overlaps no text placed before it. Among the allowed ones the first with the lowest
    score wins: data points (x, y, radius in pixels) covered count 1 each, samples of the roof
    lines 0.25 each. If no candidate is allowed, the first is used.
    """
    renderer = fig.canvas.get_renderer()
    axb = ax.get_window_extent(renderer)
    placed = []

    def covered(boxes, pts):
        return sum(1 for (x, y, r) in pts
                   if any(b.x0 - r <= x <= b.x1 + r and b.y0 - r <= y <= b.y1 + r
                          for b in boxes))

    for candidates in groups:
        best = None
        for rank, make in enumerate(candidates):
            art = make()
            boxes = _text_boxes(art, renderer)
            art.remove()
            if any(b.x0 < axb.x0 or b.x1 > axb.x1 or b.y0 < axb.y0 or b.y1 > axb.y1
                   for b in boxes):
                continue
            if any(b.overlaps(p) for b in boxes for p in placed):
                continue
            score = covered(boxes, points) + 0.25 * covered(boxes, lines) + 0.001 * rank
            if best is None or score < best[0]:
                best = (score, make)
        art = (best[1] if best else candidates[0])()
        placed.extend(_text_boxes(art, renderer))


def _annotator(ax, text, xy, dx, dy, ha, va, **kw):
    return lambda: ax.annotate(text, xy=xy, xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, **kw)


def build_roofline(run: Run):
    """The roofline figure (and artists outside its axes), not yet saved."""
    d = roofline_data(run)
    peak, bw, ridge = d["peak_flops_per_s"], d["dram_bytes_per_s"], d["ridge_ai"]
    pts, canon = d["points"], d["canonical"]

    ais = [p["ai"] for p in pts] + [c["ai"] for c in canon] + [ridge]
    perfs = [p["flops_per_s"] for p in pts] + [c["flops_per_s"] for c in canon] + [peak]
    # Room on both sides of the ridge for the roofs and their labels.
    xmin = _decade_floor(min(min(ais) / 2.5, ridge / 30))
    xmax = _decade_ceil(max(max(ais) * 2.5, ridge * 30))
    ymin = _decade_floor(min(min(perfs), bw * xmin) / 2.5)
    ymax = _decade_ceil(peak * 4)

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(10.5, 6.4))
        ax = fig.add_axes((0.085, 0.10, 0.64, 0.82))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)

        # The roof: bandwidth line up to the ridge, flat compute roof after it.
        roof_kw = dict(color="#222222", lw=2.2, solid_capstyle="round", zorder=4)
        ax.plot([xmin, ridge], [bw * xmin, peak], **roof_kw)
        ax.plot([ridge, xmax], [peak, peak], **roof_kw)
        # Faint continuations show what each roof alone would allow.
        ax.plot([ridge, min(xmax, ymax / bw)], [peak, min(ymax, bw * xmax)], color="#222222",
                lw=0.8, ls=(0, (2, 3)), alpha=0.45, zorder=2)
        ax.plot([xmin, ridge], [peak, peak], color="#222222", lw=0.8, ls=(0, (2, 3)),
                alpha=0.45, zorder=2)
        ax.plot([ridge, ridge], [ymin, peak], color="#555555", lw=0.8, ls=":", zorder=2)

        # Layer points, one colour per type.
        colors = type_colors(p["type"] for p in pts)
        type_handles = []
        for t, col in colors.items():
            sel = [p for p in pts if p["type"] == t]
            ax.scatter([p["ai"] for p in sel], [p["flops_per_s"] for p in sel], s=38,
                       color=col, alpha=0.85, edgecolors="white", linewidths=0.6, zorder=5)
            type_handles.append(Line2D([], [], ls="", marker="o", ms=7, color=col,
                                       markeredgecolor="white", label=f"{t} ({len(sel)})"))
        for c in canon:
            ax.scatter([c["ai"]], [c["flops_per_s"]], **CANONICAL_STYLE)
        ax.scatter([ridge], [peak], marker="D", s=70, color="white", edgecolors="black",
                   linewidths=1.6, zorder=7)

        # Axes, ticks, grid.
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=20))
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=20))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.plain(v)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: units.flops_per_s(v)))
        ax.grid(True, which="major", color="#cccccc", lw=0.7)
        ax.grid(True, which="minor", color="#eeeeee", lw=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel("arithmetic intensity (FLOPs per DRAM byte)")
        ax.set_ylabel("performance (FLOP/s)")
        hw = run.hw
        ax.set_title(f"Roofline: {run.summary['workload']['name']} on a "
                     f"{hw['array_rows']}\u00d7{hw['array_cols']} {hw['dataflow'].upper()} array "
                     f"at {units.plain(hw['clock_ghz'])} GHz", loc="left")

        # Text: fixed axes position, so display coordinates and angles are final from here on.
        fig.canvas.draw()
        to_px = ax.transData.transform
        px_per_pt = fig.dpi / 72.0
        point_px = [(*to_px((p["ai"], p["flops_per_s"])), 4 * px_per_pt) for p in pts]
        point_px += [(*to_px((c["ai"], c["flops_per_s"])), 9 * px_per_pt) for c in canon]
        point_px.append((*to_px((ridge, peak)), 6 * px_per_pt))
        roof_px = []
        for i in range(121):  # samples along the roof, evenly spaced in log x
            x = xmin * (xmax / xmin) ** (i / 120)
            roof_px.append((*to_px((x, min(peak, bw * x))), 1.0))
        p0, p1 = to_px((xmin, bw * xmin)), to_px((ridge, peak))
        angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))

        label_kw = dict(fontsize=9, zorder=9,
                        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#999999", lw=0.6,
                                  alpha=0.92),
                        arrowprops=dict(arrowstyle="-", color="#666666", lw=0.7,
                                        shrinkA=0, shrinkB=4))
        groups = []
        # Bottom: which side of the ridge is which (fixed).
        bound_kw = dict(textcoords="offset points", va="bottom", fontsize=8.5, color="#555555")
        groups.append([lambda: ax.annotate("memory-bound \u2190", xy=(ridge, ymin),
                                           xytext=(-4, 2), ha="right", **bound_kw)])
        groups.append([lambda: ax.annotate("\u2192 compute-bound", xy=(ridge, ymin),
                                           xytext=(4, 2), ha="left", **bound_kw)])
        # The compute roof's label first (it has the least room), then the ridge's.
        roof_text = f"compute roof {units.flops_per_s(peak)}"
        cands = []
        for frac in (1.0, 0.85, 0.7, 0.55, 0.4):
            x = ridge * (xmax / ridge) ** frac
            cands.append(_annotator(ax, roof_text, (x, peak), -6 if frac == 1 else 0, 7,
                                    "right" if frac == 1 else "center", "bottom",
                                    fontsize=9.5, zorder=8))
            cands.append(_annotator(ax, roof_text, (x, peak), -6 if frac == 1 else 0, -7,
                                    "right" if frac == 1 else "center", "top",
                                    fontsize=9.5, zorder=8))
        groups.append(cands)
        groups.append([_annotator(ax, f"ridge point\n{units.plain(ridge)} FLOPs/byte",
                                  (ridge, peak), dx, dy, ha, va, **label_kw)
                       for dx, dy, ha, va in ((0, 14, "center", "bottom"),
                                              (-22, 14, "right", "bottom"),
                                              (22, 14, "left", "bottom"),
                                              (0, 44, "center", "bottom"),
                                              (24, -18, "left", "top"))])
        bw_text = f"DRAM bandwidth {units.bytes_per_s(bw)}"
        groups.append([_annotator(ax, bw_text, (xmin * (ridge / xmin) ** f, bw * xmin
                                                * (ridge / xmin) ** f), 0, 6, "left", "bottom",
                                  rotation=angle, rotation_mode="anchor", fontsize=9.5,
                                  zorder=8)
                       for f in (0.3, 0.45, 0.15, 0.6, 0.05, 0.7)])
        # Reference kernels: around their dot, nearer positions first.
        offsets = []
        for dist in (18, 46, 80, 120):
            offsets += [(0, dist, "center", "bottom"), (-12, dist, "right", "bottom"),
                        (12, dist, "left", "bottom"), (0, -dist, "center", "top"),
                        (12, -dist, "left", "top"), (-12, -dist, "right", "top")]
            offsets += [(dist + 4, 0, "left", "center"), (-dist - 4, 0, "right", "center")]
        for c in canon:
            share = 100 * c["flops_per_s"] / peak
            text = (f"{c['label']}\n{units.flops_per_s(c['flops_per_s'])} "
                    f"({share:.2g} % of peak)")
            groups.append([_annotator(ax, text, (c["ai"], c["flops_per_s"]), *o,
                                      **dict(label_kw, fontweight="bold")) for o in offsets])
        _place(fig, ax, groups, point_px, roof_px)

        # Legend outside the axes, on the right.
        handles = [
            Line2D([], [], color="#222222", lw=2.2,
                   label=f"roofs: {units.bytes_per_s(bw)}, {units.flops_per_s(peak)}"),
            Line2D([], [], ls="", marker="D", ms=7, color="white", markeredgecolor="black",
                   markeredgewidth=1.4, label=f"ridge: {units.plain(ridge)} FLOPs/byte"),
        ]
        if canon:
            handles.append(Line2D([], [], ls="", marker="*", ms=14, color="#ffd21f",
                                  markeredgecolor="black", label="reference kernels"))
        legend1 = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                            frameon=False, title="hardware", alignment="left")
        ax.add_artist(legend1)
        if type_handles:
            ax.legend(handles=type_handles, loc="upper left", bbox_to_anchor=(1.02, 0.74),
                      frameon=False, title="layers by type (count)", alignment="left",
                      ncol=1 if len(type_handles) <= 14 else 2)
        extra = [legend1]
        if d["not_shown"]:
            ax.text(1.02, 0.0, f"{d['not_shown']} layer(s) without FLOPs or\nDRAM traffic "
                    "are not shown", transform=ax.transAxes, fontsize=8.5, color="#555555",
                    va="bottom")
        return fig, extra


# --------------------------------------------------------------------------------------------
# Per-layer figures


def _layer_axes_height(n: int) -> float:
    """Inches for n horizontal bars: 0.2 in per bar (8-pt labels never overlap), at least 2.2."""
    return max(2.2, 0.2 * n)


def _zebra(ax, n: int) -> None:
    """Light bands behind every other layer, so a bar is easy to follow to its label."""
    for y in range(1, n, 2):
        ax.axhspan(y - 0.5, y + 0.5, color="#f3f5f8", lw=0, zorder=0)


def _layer_labels(run: Run) -> list:
    return [f"{l.index}  {_short(l.name)}  [{l.type}]" for l in run.layers]


def build_utilization(run: Run):
    """The utilization figure (and artists outside its axes), not yet saved."""
    layers = run.layers
    n = len(layers)
    ys = list(range(n))
    with plt.rc_context(STYLE):
        axes_h = _layer_axes_height(n)
        fig = plt.figure(figsize=(9.5, axes_h + 1.6))
        ax = fig.add_axes((0.0, 0.6 / (axes_h + 1.6), 1.0, axes_h / (axes_h + 1.6)))
        cu = [l.compute_util or 0.0 for l in layers]
        ou = [l.overall_util for l in layers]
        ax.barh(ys, cu, height=0.82, color="#c6d9ec", label="compute utilization "
                "(MACs / PE-cycles while the array works)", zorder=2)
        ax.barh(ys, ou, height=0.46, color="#1f4e79", label="overall utilization "
                "(MACs / PE-cycles of the layer)", zorder=3)
        me = [(l.mapping_eff, y) for l, y in zip(layers, ys) if l.mapping_eff is not None]
        if me:
            ax.scatter([m for m, _ in me], [y for _, y in me], marker="|", s=90, lw=1.8,
                       color="#d62728", zorder=4, label="mapping efficiency (PEs holding data)")
        for l, y in zip(layers, ys):
            if not l.is_gemm:
                ax.text(0.006, y, "vector op (not on the array)", va="center", ha="left",
                        fontsize=7.5, color="#666666", style="italic", zorder=5,
                        bbox=dict(boxstyle="square,pad=0.1", ec="none",
                                  fc="#f3f5f8" if y % 2 else "white"))
        net = run.summary["totals"]["utilization"]
        ax.axvline(net, color="#444444", lw=1.0, ls="--", zorder=4,
                   label=f"network overall utilization {units.pct(net)}")
        ax.set_xlim(0, 1.0)
        ax.set_ylim(n - 0.5, -0.5)
        _zebra(ax, n)
        ax.set_yticks(ys)
        ax.set_yticklabels(_layer_labels(run), fontsize=8 if n > 25 else 9)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(axis="x", labeltop=n > 25, top=n > 25)
        ax.grid(True, axis="x", color="#dddddd", lw=0.7, zorder=0)
        ax.set_axisbelow(True)
        ax.set_xlabel("utilization of the array's PEs")
        ax.set_title(f"Utilization per layer: {run.summary['workload']['name']} "
                     f"({n} layers)", loc="left", pad=52 if n > 25 else 40)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: (
            "overall utilization (" not in labels[i], "compute utilization" not in labels[i],
            "mapping" not in labels[i]))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower left",
                  bbox_to_anchor=(0.0, 1.0 + (0.32 if n > 25 else 0.06) / axes_h), ncol=2,
                  frameon=False, fontsize=8.5, borderaxespad=0.0, columnspacing=1.5)
        return fig, []


def build_time_breakdown(run: Run):
    """The time breakdown figure (and artists outside its axes), not yet saved."""
    layers = run.layers
    n = len(layers)
    ys = list(range(n))
    total = run.summary["totals"]["cycles"]
    with plt.rc_context(STYLE):
        axes_h = _layer_axes_height(n)
        fig_h = axes_h + 1.6
        fig = plt.figure(figsize=(12.5, fig_h))
        bottom = 0.6 / fig_h
        ax = fig.add_axes((0.0, bottom, 0.61, axes_h / fig_h))
        ax2 = fig.add_axes((0.66, bottom, 0.34, axes_h / fig_h), sharey=ax)
        left = [0] * n
        left_pct = [0.0] * n
        handles = []
        for col, label, color in PARTS:
            vals = [getattr(l, col) for l in layers]
            share = sum(vals) / total
            h = ax.barh(ys, vals, left=left, height=0.7, color=color, zorder=2,
                        label=f"{label} ({units.pct(share)} of all cycles)")
            handles.append(h)
            fracs = [v / l.total_cycles for v, l in zip(vals, layers)]
            ax2.barh(ys, fracs, left=left_pct, height=0.7, color=color, zorder=2)
            left = [a + b for a, b in zip(left, vals)]
            left_pct = [a + b for a, b in zip(left_pct, fracs)]
        ax.set_ylim(n - 0.5, -0.5)
        _zebra(ax, n)
        _zebra(ax2, n)
        ax.set_yticks(ys)
        ax.set_yticklabels(_layer_labels(run), fontsize=8 if n > 25 else 9)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.si(v)))
        ax.set_xlim(0, max(l.total_cycles for l in layers) * 1.02)
        ax2.set_xlim(0, 1)
        ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.tick_params(axis="y", labelleft=False)
        for a in (ax, ax2):
            a.tick_params(axis="x", labeltop=n > 25, top=n > 25)
            a.grid(True, axis="x", color="#dddddd", lw=0.7, zorder=0)
            a.set_axisbelow(True)
        ax.set_xlabel("cycles")
        ax2.set_xlabel("share of the layer's cycles")
        ax.set_title(f"Where the time goes: {run.summary['workload']['name']} "
                     f"({units.count(total)} cycles)", loc="left", pad=52 if n > 25 else 40)
        ax.legend(handles=handles, loc="lower left",
                  bbox_to_anchor=(0.0, 1.0 + (0.32 if n > 25 else 0.06) / axes_h), ncol=4,
                  frameon=False, fontsize=8.5, borderaxespad=0.0, columnspacing=1.5)
        return fig, []


BUILDERS = (("roofline", build_roofline), ("utilization", build_utilization),
            ("time_breakdown", build_time_breakdown))


def all_figures(run: Run, folder: str) -> list:
    """Writes every figure as SVG and PNG into `folder`; returns the paths written."""
    written = []
    for stem, build in BUILDERS:
        with plt.rc_context(STYLE):
            fig, extra = build(run)
            written += _save(fig, folder, stem, extra)
    return written
