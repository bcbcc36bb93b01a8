"""The figures of a run: roofline, utilization, time and energy breakdown per layer.

Each figure is saved as SVG (text kept as text) and PNG. Importing this module needs matplotlib;
ssim_report.py checks for it first.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from . import units  # noqa: E402
from .drawing import STYLE, annotator, place, save, short  # noqa: E402,F401  (public here too)
from .rundata import Run  # noqa: E402
from .views import net_layers, roofline_data  # noqa: E402

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

# Where the energy goes (docs/energy.md): one colour per component of layers.csv.
ENERGY_PARTS = (
    ("mac", "MACs", "#4c72b0"),
    ("register", "PE registers", "#8172b3"),
    ("transfer", "PE-to-PE transfers", "#64b5cd"),
    ("sram_ifmap", "SRAM ifmap", "#2e7d32"),
    ("sram_filter", "SRAM filter", "#55a868"),
    ("sram_ofmap", "SRAM ofmap", "#a1d99b"),
    ("dram", "DRAM", "#c44e52"),
    ("vector", "vector unit", "#dd8452"),
)

CANONICAL_STYLE = dict(marker="*", s=260, color="#ffd21f", edgecolors="black", linewidths=1.0,
                       zorder=5)
VECTOR_ROOF_COLOR = "#2e7d32"


def _per_type(types, fixed: dict, spare: list) -> dict:
    """A style per type: the fixed one where there is one, else the spare ones in order of
    appearance (repeating when they run out)."""
    out, spares = {}, iter(spare * (len(spare) and (len(set(types)) // len(spare) + 1)))
    for t in types:
        if t not in out:
            out[t] = fixed.get(t) or next(spares)
    return out


def type_colors(types) -> dict:
    return _per_type(list(types), TYPE_COLORS, _SPARE_COLORS)


def _decade_floor(x: float) -> float:
    return 10.0 ** math.floor(math.log10(x))


def _decade_ceil(x: float) -> float:
    return 10.0 ** math.ceil(math.log10(x))


TYPE_MARKERS = {
    "conv": "o", "linear": "s", "gemm": "D", "attention-qk": "^", "attention-av": "v",
    "attention-proj": "<", "elementwise": "P", "activation": "X", "softmax": "h", "pool": "p",
    "norm": "d",
}
_SPARE_MARKERS = ["H", ">", "8", "o", "s", "^"]

# Dots: area grows with the group's share of the run's time.
DOT_MIN_AREA, DOT_SHARE_AREA = 26.0, 700.0
LABEL_MIN_SHARE, LABEL_MAX = 0.04, 6  # the ops labelled by name: the few that dominate the time


def type_markers(types) -> dict:
    return _per_type(list(types), TYPE_MARKERS, _SPARE_MARKERS)


def dot_area(share: float) -> float:
    return DOT_MIN_AREA + DOT_SHARE_AREA * share


def dominant_groups(groups: list) -> list:
    """The groups labelled by name: at most LABEL_MAX with at least LABEL_MIN_SHARE of the
    time, largest first (always the largest one)."""
    ranked = sorted(groups, key=lambda g: (-g["share"], g["indices"][0]))
    return [g for i, g in enumerate(ranked) if i == 0 or (i < LABEL_MAX
                                                          and g["share"] >= LABEL_MIN_SHARE)]


def build_roofline(run: Run):
    """The roofline figure (and artists outside its axes), not yet saved."""
    d = roofline_data(run)
    peak, bw, ridge = d["peak_ops_per_s"], d["dram_bytes_per_s"], d["ridge_ai"]
    vpeak = d["vector_peak_ops_per_s"]
    unit = d["unit"]
    groups, canon = d["groups"], d["canonical"]
    rate = lambda v: units.ops_per_s(v, unit)  # noqa: E731

    ais = [g["ai"] for g in groups] + [c["ai"] for c in canon] + [ridge]
    perfs = [g["ops_per_s"] for g in groups] + [c["ops_per_s"] for c in canon] + [peak]
    if vpeak:
        ais.append(vpeak / bw)
        perfs.append(vpeak)
    # Room on both sides of the ridge for the roofs and their labels.
    xmin = _decade_floor(min(min(ais) / 2.5, ridge / 30))
    xmax = _decade_ceil(max(max(ais) * 2.5, ridge * 30))
    ymin = _decade_floor(min(min(perfs), bw * xmin) / 2.5)
    ymax = _decade_ceil(peak * 4)

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(11.5, 7.0))
        ax = fig.add_axes((0.08, 0.09, 0.62, 0.84))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)

        # The array's roof: bandwidth line up to the ridge, flat compute roof after it.
        roof_kw = dict(color="#222222", lw=2.2, solid_capstyle="round", zorder=4)
        ax.plot([xmin, ridge], [bw * xmin, peak], gid="roof-dram", **roof_kw)
        ax.plot([ridge, xmax], [peak, peak], gid="roof-array", **roof_kw)
        # Faint continuations show what each roof alone would allow.
        ax.plot([ridge, min(xmax, ymax / bw)], [peak, min(ymax, bw * xmax)], color="#222222",
                lw=0.8, ls=(0, (2, 3)), alpha=0.45, zorder=2)
        ax.plot([xmin, ridge], [peak, peak], color="#222222", lw=0.8, ls=(0, (2, 3)),
                alpha=0.45, zorder=2)
        ax.plot([ridge, ridge], [ymin, peak], color="#555555", lw=0.8, ls=":", zorder=2)
        # The vector unit's roof: its own compute peak under the same DRAM bandwidth.
        vridge = vpeak / bw if vpeak else None
        if vpeak:
            ax.plot([vridge, xmax], [vpeak, vpeak], color=VECTOR_ROOF_COLOR, lw=1.8,
                    ls=(0, (6, 2)), zorder=4, gid="roof-vector")

        # Reference kernels first: the workload's own dots are drawn over them.
        for c in canon:
            ax.scatter([c["ai"]], [c["ops_per_s"]], gid=f"reference-{c['key']}",
                       **CANONICAL_STYLE)
        # One dot per group of identical ops, area by share of time; colour and marker by type.
        types = [g["type"] for g in groups]
        colors, markers = type_colors(types), type_markers(types)
        type_handles = []
        for t in colors:
            sel = [g for g in groups if g["type"] == t]
            ax.scatter([g["ai"] for g in sel], [g["ops_per_s"] for g in sel],
                       s=[dot_area(g["share"]) for g in sel], marker=markers[t], color=colors[t],
                       alpha=0.8, edgecolors="black", linewidths=0.6, zorder=6, gid=f"dots-{t}")
            n_ops = sum(g["count"] for g in sel)
            where = "vector" if sel[0]["unit"] == "vector" else "array"
            type_handles.append(Line2D(
                [], [], ls="", marker=markers[t], ms=8, color=colors[t], markeredgecolor="black",
                markeredgewidth=0.6, label=f"{t}: {n_ops} op{'s' if n_ops != 1 else ''}, "
                                           f"{len(sel)} dot{'s' if len(sel) != 1 else ''}, {where}"))
        ax.scatter([ridge], [peak], marker="D", s=70, color="white", edgecolors="black",
                   linewidths=1.6, zorder=7)

        # Axes, ticks, grid.
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=20))
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=20))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.plain(v)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: rate(v)))
        ax.grid(True, which="major", color="#cccccc", lw=0.7)
        ax.grid(True, which="minor", color="#eeeeee", lw=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel(f"arithmetic intensity ({unit}s per DRAM byte)")
        ax.set_ylabel(f"performance ({unit}/s, {run.hw['data_type']})")
        hw = run.hw
        ax.set_title(f"Roofline: {run.summary['workload']['name']} on a "
                     f"{hw['array_rows']}\u00d7{hw['array_cols']} {hw['dataflow'].upper()} array "
                     f"at {units.plain(hw['clock_ghz'])} GHz", loc="left")

        # Text: fixed axes position, so display coordinates and angles are final from here on.
        fig.canvas.draw()
        to_px = ax.transData.transform
        px_per_pt = fig.dpi / 72.0
        point_px = [(*to_px((g["ai"], g["ops_per_s"])),
                     (math.sqrt(dot_area(g["share"])) / 2 + 1) * px_per_pt) for g in groups]
        point_px += [(*to_px((c["ai"], c["ops_per_s"])), 9 * px_per_pt) for c in canon]
        point_px.append((*to_px((ridge, peak)), 6 * px_per_pt))
        roof_px = []
        for i in range(121):  # samples along the roofs, evenly spaced in log x
            x = xmin * (xmax / xmin) ** (i / 120)
            roof_px.append((*to_px((x, min(peak, bw * x))), 1.0))
            if vpeak and x >= vridge:
                roof_px.append((*to_px((x, vpeak)), 1.0))
        p0, p1 = to_px((xmin, bw * xmin)), to_px((ridge, peak))
        angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0]))

        label_kw = dict(fontsize=9, zorder=9,
                        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#999999", lw=0.6,
                                  alpha=0.92),
                        arrowprops=dict(arrowstyle="-", color="#666666", lw=0.7,
                                        shrinkA=0, shrinkB=4))
        texts = []
        # Bottom: which side of the ridge is which (fixed).
        bound_kw = dict(textcoords="offset points", va="bottom", fontsize=8.5, color="#555555")
        texts.append([lambda: ax.annotate("memory-bound \u2190", xy=(ridge, ymin),
                                          xytext=(-4, 2), ha="right", **bound_kw)])
        texts.append([lambda: ax.annotate("\u2192 compute-bound", xy=(ridge, ymin),
                                          xytext=(4, 2), ha="left", **bound_kw)])
        # The compute roofs' labels first (they have the least room), then the ridge's.
        for text, level, color in ((f"array compute roof {rate(peak)}", peak, "#222222"),
                                   (f"vector unit roof {rate(vpeak)} "
                                    f"({hw.get('vector_lanes', '?')} lanes)" if vpeak else None,
                                    vpeak, VECTOR_ROOF_COLOR)):
            if text is None:
                continue
            lo = ridge if level == peak else vridge
            cands = []
            for frac in (1.0, 0.85, 0.7, 0.55, 0.4):
                x = lo * (xmax / lo) ** frac
                for dy, va in ((7, "bottom"), (-7, "top")):
                    cands.append(annotator(ax, text, (x, level), -6 if frac == 1 else 0, dy,
                                            "right" if frac == 1 else "center", va,
                                            fontsize=9.5, zorder=8, color=color))
            texts.append(cands)
        texts.append([annotator(ax, f"ridge point\n{units.plain(ridge)} {unit}s/byte",
                                 (ridge, peak), dx, dy, ha, va, **label_kw)
                      for dx, dy, ha, va in ((0, 14, "center", "bottom"),
                                             (-22, 14, "right", "bottom"),
                                             (22, 14, "left", "bottom"),
                                             (0, 44, "center", "bottom"),
                                             (24, -18, "left", "top"))])
        bw_text = f"DRAM bandwidth {units.bytes_per_s(bw)}"
        texts.append([annotator(ax, bw_text, (xmin * (ridge / xmin) ** f, bw * xmin
                                               * (ridge / xmin) ** f), 0, 6, "left", "bottom",
                                 rotation=angle, rotation_mode="anchor", fontsize=9.5,
                                 zorder=8)
                      for f in (0.3, 0.45, 0.15, 0.6, 0.05, 0.7)])
        offsets = []
        for dist in (18, 46, 80, 120, 170):
            offsets += [(0, dist, "center", "bottom"), (-12, dist, "right", "bottom"),
                        (12, dist, "left", "bottom"), (0, -dist, "center", "top"),
                        (12, -dist, "left", "top"), (-12, -dist, "right", "top")]
            offsets += [(dist + 4, 0, "left", "center"), (-dist - 4, 0, "right", "center")]
        # Reference kernels: around their dot, nearer positions first.
        for c in canon:
            text = (f"{c['label']}\n{rate(c['ops_per_s'])} "
                    f"({units.share(c['ops_per_s'] / c['roof'])} of its roof)")
            texts.append([annotator(ax, text, (c["ai"], c["ops_per_s"]), *o,
                                     **dict(label_kw, fontweight="bold")) for o in offsets])
        # The ops that dominate the time, by name.
        for g in dominant_groups(groups):
            count = f" \u00d7{g['count']}" if g["count"] > 1 else ""
            text = (f"{short(g['name'], 30)}{count}\n{g['type']} {g['shape']}: "
                    f"{units.share(g['share'])} of time")
            texts.append([annotator(ax, text, (g["ai"], g["ops_per_s"]), *o,
                                     **dict(label_kw, fontsize=8.5)) for o in offsets])
        # Counts of the other aggregated dots, where there is room.
        labelled = {id(g) for g in dominant_groups(groups)}
        counts = [g for g in sorted(groups, key=lambda g: -g["share"])
                  if g["count"] > 1 and id(g) not in labelled]
        for g in counts:
            r = math.sqrt(dot_area(g["share"])) / 2 + 1
            texts.append([annotator(ax, f"\u00d7{g['count']}", (g["ai"], g["ops_per_s"]),
                                     dx, dy, ha, "center", fontsize=7.5, color="#333333",
                                     zorder=8)
                          for dx, dy, ha in ((r, 0, "left"), (-r, 0, "right"),
                                             (r * 0.8, r * 0.8, "left"),
                                             (-r * 0.8, -r * 0.8, "right"))])
        place(fig, ax, texts, point_px, roof_px, optional=len(counts))

        # Legend outside the axes, on the right.
        handles = [
            Line2D([], [], color="#222222", lw=2.2,
                   label=f"array roofs: {units.bytes_per_s(bw)}, {rate(peak)}"),
            Line2D([], [], ls="", marker="D", ms=7, color="white", markeredgecolor="black",
                   markeredgewidth=1.4, label=f"ridge: {units.plain(ridge)} {unit}s/byte"),
        ]
        if vpeak:
            handles.append(Line2D([], [], color=VECTOR_ROOF_COLOR, lw=1.8, ls=(0, (6, 2)),
                                  label=f"vector unit roof: {rate(vpeak)}"))
        if canon:
            handles.append(Line2D([], [], ls="", marker="*", ms=14, color="#ffd21f",
                                  markeredgecolor="black", label="reference kernels"))
        legend1 = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                            frameon=False, title="hardware", alignment="left")
        ax.add_artist(legend1)
        extra = [legend1]
        n_ops = sum(g["count"] for g in groups)
        if type_handles:
            extra.append(ax.legend(
                handles=type_handles, loc="upper left", bbox_to_anchor=(1.02, 0.72),
                frameon=False, alignment="left", fontsize=8.5,
                title=f"{n_ops} op{'s' if n_ops != 1 else ''} in {len(groups)} "
                      f"dot{'s' if len(groups) != 1 else ''}\n(identical ops share a dot;"
                      f"\n dot area = share of time)"))
        notes = []
        if d["not_shown"]:
            notes.append(f"{d['not_shown']} op(s) without {unit}s or\nDRAM traffic are not "
                         "shown")
        if run.fused:
            notes.append(f"{len(run.fused)} fused op(s) ran in a GEMM's\noutput stage "
                         "(no time of their own)")
        if notes:
            extra.append(ax.text(1.02, 0.0, "\n".join(notes), transform=ax.transAxes,
                                 fontsize=8.5, color="#555555", va="bottom"))
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
    return [f"{l.index}  {short(l.name)}  [{l.type}]" for l in run.layers]


def _net_layer_label(nl) -> str:
    kinds = []
    for l in nl.rows:
        if l.type not in kinds:
            kinds.append(l.type)
    fused = []
    for l in nl.fused:
        if l.type not in fused:
            fused.append(l.type)
    text = "+".join(kinds) + (" + fused " + "+".join(fused) if fused else "")
    return f"{nl.layer}  {short(nl.name, 30)}  [{text}]"


def layer_utilization(run: Run, nl) -> dict:
    """A network layer's measures. On the array: overall (MACs / PE-cycles of all the layer's
    cycles), compute (MACs / PE-cycles while the array works), mapping efficiency (weighted by
    MACs). Vector-only: the vector unit's use, element operations / (lanes x cycles)."""
    pes = run.rows * run.cols
    out = {"overall": None, "compute": None, "mapping": None, "vector": None}
    if nl.on_array:
        gemms = [l for l in nl.rows if l.is_gemm]
        busy = sum(l.compute_cycles + l.fill_drain_cycles for l in gemms)
        out["overall"] = nl.macs / (pes * nl.cycles)
        out["compute"] = nl.macs / (pes * busy) if busy else None
        weights = sum(l.macs for l in gemms)
        if weights and all(l.mapping_eff is not None for l in gemms):
            out["mapping"] = sum(l.mapping_eff * l.macs for l in gemms) / weights
    elif run.vector_peak:
        out["vector"] = nl.vector_ops * run.clock_hz / (run.vector_peak * nl.cycles)
    return out


def build_utilization(run: Run):
    """The utilization figure (and artists outside its axes), not yet saved: one row per
    network layer, its fused ops inside it."""
    nls = net_layers(run)
    n = len(nls)
    ys = list(range(n))
    ms = [layer_utilization(run, nl) for nl in nls]
    with plt.rc_context(STYLE):
        axes_h = _layer_axes_height(n)
        fig = plt.figure(figsize=(9.5, axes_h + 1.6))
        ax = fig.add_axes((0.0, 0.6 / (axes_h + 1.6), 1.0, axes_h / (axes_h + 1.6)))
        arr = [(y, m) for y, m in zip(ys, ms) if m["overall"] is not None]
        ax.barh([y for y, _ in arr], [m["compute"] or 0.0 for _, m in arr], height=0.82,
                color="#c6d9ec", label="compute utilization (MACs / PE-cycles while the "
                "array works)", zorder=2)
        ax.barh([y for y, _ in arr], [m["overall"] for _, m in arr], height=0.46,
                color="#1f4e79", label="overall utilization (MACs / PE-cycles of the layer)",
                zorder=3)
        me = [(m["mapping"], y) for y, m in arr if m["mapping"] is not None]
        if me:
            ax.scatter([m for m, _ in me], [y for _, y in me], marker="|", s=90, lw=1.8,
                       color="#d62728", zorder=4, label="mapping efficiency (PEs holding data)")
        vec = [(y, m["vector"]) for y, m in zip(ys, ms) if m["vector"] is not None]
        if vec:
            ax.barh([y for y, _ in vec], [v for _, v in vec], height=0.6, color="#55a868",
                    zorder=3, label="vector-only layer: vector unit use (element ops / "
                    "(lanes \u00d7 cycles))")
        for y, (nl, m) in enumerate(zip(nls, ms)):
            v = m["overall"] if m["overall"] is not None else m["vector"]
            if v is None:
                text = "vector op (lanes unknown)"
            else:
                text = units.share(v) + (" (vector unit)" if m["vector"] is not None
                                         else "")
            end = v or 0.0  # the value next to its own bar (over the light compute bar)
            if end > 0.8:  # no room after the bar: inside its end, white on dark or green
                ax.text(end - 0.008, y, text, va="center", ha="right", fontsize=7.5,
                        color="white", zorder=5)
            else:
                ax.text(end + 0.008, y, text, va="center", ha="left", fontsize=7.5,
                        color="#333333", zorder=5)
        net = run.summary["totals"]["utilization"]
        ax.axvline(net, color="#444444", lw=1.0, ls="--", zorder=4,
                   label=f"network overall utilization {units.share(net)}")
        ax.set_xlim(0, 1.0)
        ax.set_ylim(n - 0.5, -0.5)
        _zebra(ax, n)
        ax.set_yticks(ys)
        ax.set_yticklabels([_net_layer_label(nl) for nl in nls], fontsize=8 if n > 25 else 9)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(axis="x", labeltop=n > 25, top=n > 25)
        ax.grid(True, axis="x", color="#dddddd", lw=0.7, zorder=0)
        ax.set_axisbelow(True)
        ax.set_xlabel("utilization of the array's PEs (vector-only layers: of the vector unit)")
        n_ops = len(run.layers) + len(run.fused)
        fused = f", {len(run.fused)} of them fused into a GEMM" if run.fused else ""
        handles, labels = ax.get_legend_handles_labels()
        offset = 0.32 if n > 25 else 0.06  # inches above the axes: room for top tick labels
        legend_rows = (len(labels) + 1) // 2
        ax.set_title(f"Utilization per layer: {run.summary['workload']['name']} "
                     f"({n} layers ran: {n_ops} ops{fused})", loc="left",
                     pad=72 * (offset + 0.19 * legend_rows + 0.12))
        order = sorted(range(len(labels)), key=lambda i: (
            "overall utilization (" not in labels[i], "compute utilization" not in labels[i],
            "mapping" not in labels[i]))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower left",
                  bbox_to_anchor=(0.0, 1.0 + offset / axes_h), ncol=2,
                  frameon=False, fontsize=8.5, borderaxespad=0.0, columnspacing=1.5)
        return fig, []


def _stacked_panels(n: int, series: list):
    """Two panels of n horizontal stacked bars sharing their rows: left the values, right each
    row's share. `series`: (legend label, colour, values per row, row totals). Returns the
    figure, both axes, the axes' height in inches, the legend handles and the left bars' ends."""
    axes_h = _layer_axes_height(n)
    fig_h = axes_h + 1.6
    fig = plt.figure(figsize=(12.5, fig_h))
    bottom = 0.6 / fig_h
    ax = fig.add_axes((0.0, bottom, 0.61, axes_h / fig_h))
    ax2 = fig.add_axes((0.68, bottom, 0.32, axes_h / fig_h), sharey=ax)
    ys = list(range(n))
    left = [0] * n
    left_pct = [0.0] * n
    handles = []
    for label, color, vals, totals in series:
        handles.append(ax.barh(ys, vals, left=left, height=0.7, color=color, zorder=2,
                               label=label))
        fracs = [v / t if t else 0.0 for v, t in zip(vals, totals)]
        ax2.barh(ys, fracs, left=left_pct, height=0.7, color=color, zorder=2)
        left = [a + b for a, b in zip(left, vals)]
        left_pct = [a + b for a, b in zip(left_pct, fracs)]
    ax.set_ylim(n - 0.5, -0.5)
    _zebra(ax, n)
    _zebra(ax2, n)
    ax.set_yticks(ys)
    ax2.set_xlim(0, 1)
    ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax2.tick_params(axis="y", labelleft=False)
    for a in (ax, ax2):
        a.grid(True, axis="x", color="#dddddd", lw=0.7, zorder=0)
        a.set_axisbelow(True)
    return fig, ax, ax2, axes_h, handles, left


def build_time_breakdown(run: Run):
    """The time breakdown figure (and artists outside its axes), not yet saved."""
    layers = run.layers
    n = len(layers)
    total = run.summary["totals"]["cycles"]
    with plt.rc_context(STYLE):
        rows = [l.total_cycles for l in layers]
        series = []
        for col, label, color in PARTS:
            vals = [getattr(l, col) for l in layers]
            share = sum(vals) / total
            series.append((f"{label} ({units.pct(share)} of all cycles)", color, vals, rows))
        fig, ax, ax2, axes_h, handles, _ = _stacked_panels(n, series)
        ax.set_yticklabels(_layer_labels(run), fontsize=8 if n > 25 else 9)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.si(v)))
        ax.set_xlim(0, max(l.total_cycles for l in layers) * 1.02)
        ax2.tick_params(axis="x", labeltop=n > 25, top=n > 25)
        ax.set_xlabel("cycles")
        ax2.set_xlabel("share of the layer's cycles")
        # Time at the clock on top: the same bars read in seconds.
        hz = run.clock_hz
        sec = ax.secondary_xaxis("top", functions=(lambda c: c / hz, lambda t: t * hz))
        sec.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.seconds(v)))
        sec.set_xlabel(f"time at {units.plain(run.hw['clock_ghz'])} GHz", fontsize=9)
        sec.tick_params(labelsize=8.5)
        ax.set_title(f"Where the time goes: {run.summary['workload']['name']} "
                     f"({units.count(total)} cycles, {units.seconds(total / hz)})", loc="left",
                     pad=72)
        ax.legend(handles=handles, loc="lower left",
                  bbox_to_anchor=(0.0, 1.0 + 0.5 / axes_h), ncol=4,
                  frameon=False, fontsize=8.5, borderaxespad=0.0, columnspacing=1.5)
        return fig, []


def has_energy(run: Run) -> bool:
    """Whether the run reports energy (summary.json's `energy`, layers.csv's energy columns)."""
    return "energy" in run.summary and all(l.energy is not None for l in run.layers)


def build_energy_breakdown(run: Run):
    """The energy breakdown figure (and artists outside its axes), not yet saved: per network
    layer (its fused ops inside it), stacked by component, in energy and as a share."""
    nls = net_layers(run)
    n = len(nls)
    e = run.summary["energy"]
    total = e["total_pj"]
    per = [{c: sum(l.energy[c] for l in nl.rows + nl.fused) for c, _, _ in ENERGY_PARTS}
           for nl in nls]
    sums = [sum(p.values()) for p in per]
    name, scale = units.energy_unit(max(sums) if sums else 0.0)
    with plt.rc_context(STYLE):
        series = []
        for col, label, color in ENERGY_PARTS:
            share = e["by_component_pj"][col] / total if total else 0.0
            series.append((f"{label} ({units.pct(share)})", color,
                           [p[col] / scale for p in per], [s / scale for s in sums]))
        fig, ax, ax2, axes_h, handles, ends = _stacked_panels(n, series)
        ax.set_yticklabels([_net_layer_label(nl) for nl in nls], fontsize=8 if n > 25 else 9)
        ax.set_xlim(0, max(max(ends), 1e-12) * 1.02)
        for a in (ax, ax2):
            a.tick_params(axis="x", labeltop=n > 25, top=n > 25)
        ax.set_xlabel(f"energy ({name})")
        ax2.set_xlabel("share of the layer's energy")
        area = run.summary.get("area", {}).get("total_mm2")
        node = units.plain(e["technology_nm"])
        ax.set_title(
            f"Where the energy goes: {run.summary['workload']['name']} "
            f"({units.energy(total)} at {node} nm, {e['pj_per_mac']:.3g} pJ/MAC, "
            f"{e['tops_per_w']:.3g} T{run.unit}/s/W"
            + (f"; area {area:.3g} mm\u00b2" if area is not None else "") + ")",
            loc="left", pad=72 * (0.06 + 0.19 * 2 + 0.12) + (16 if n > 25 else 0))
        ax.legend(handles=handles, loc="lower left",
                  bbox_to_anchor=(0.0, 1.0 + (0.32 if n > 25 else 0.06) / axes_h), ncol=4,
                  frameon=False, fontsize=8.5, borderaxespad=0.0, columnspacing=1.5)
        return fig, []


BUILDERS = (("roofline", build_roofline), ("utilization", build_utilization),
            ("time_breakdown", build_time_breakdown),
            ("energy_breakdown", build_energy_breakdown))


def all_figures(run: Run, folder: str) -> list:
    """Writes every figure as SVG and PNG into `folder`; returns the paths written. The energy
    breakdown only for a run that reports energy."""
    written = []
    for stem, build in BUILDERS:
        if stem == "energy_breakdown" and not has_energy(run):
            continue
        with plt.rc_context(STYLE):
            fig, extra = build(run)
            written += save(fig, folder, stem, extra)
    return written
