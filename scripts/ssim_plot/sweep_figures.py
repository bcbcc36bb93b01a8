"""The figures of a sweep: cycles and utilization against the PE count, Pareto fronts, heatmaps
per workload and dataflow. matplotlib is imported when a figure is built, not on import."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Optional

from . import units
from .sweep_data import (DATAFLOW_COLORS, DATAFLOW_NAMES, DATAFLOWS, OTHER_COSTS, VARIANT_MARKERS,
                         VARIANT_STYLES, Point, Sweep, has_energy, heatmap_groups, pareto_cost,
                         pareto_front)

def _figures_module():
    import matplotlib

    matplotlib.use("Agg")
    from ssim_plot import figures

    return figures


def _array_order(sweep: Sweep) -> dict:
    for a in sweep.description["axes"]:
        if a["flag"] == "arrays":
            return {v: i for i, v in enumerate(a["values"])}
    return {}


def _shape_ticks(ax, sweep: Sweep, points, hollow_mark: bool = True):
    """x ticks at each PE count in the sweep, labelled with the array shape(s) and the count.
    Shapes sharing a PE count are listed in --arrays order; all but the first are marked with
    a hollow circle (the line figures draw them as hollow markers)."""
    from matplotlib.ticker import NullFormatter, NullLocator

    order = _array_order(sweep)
    by_pes: dict = {}
    for p in sorted(points, key=lambda p: (order.get(p.array, 0), p.index)):
        shapes = by_pes.setdefault(p.pes, [])
        if p.array not in shapes:
            shapes.append(p.array)
    ticks = sorted(by_pes)

    def label(t):
        shapes = [s.replace("x", "\u00d7") for s in by_pes[t]]
        if hollow_mark:
            shapes = shapes[:1] + [s + " \u25cb" for s in shapes[1:]]
        return "\n".join(shapes) + f"\n{units.si(t)}"

    ax.set_xscale("log", base=2)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ticks)
    ax.set_xticklabels([label(t) for t in ticks], fontsize=8)
    if len(ticks) == 1:
        ax.set_xlim(ticks[0] / 2, ticks[0] * 2)
    else:
        ax.set_xlim(ticks[0] / 1.4, ticks[-1] * 1.4)


def _panel_grid(plt, n: int, width: float, height: float):
    """n panels, two per row; 1.3 inches on top for the title and the legend."""
    ncol = 1 if n == 1 else 2
    nrow = (n + ncol - 1) // ncol
    fig_w, fig_h = width * ncol, height * nrow + 1.3
    fig, axes = plt.subplots(nrow, ncol, figsize=(fig_w, fig_h), squeeze=False)
    fig.subplots_adjust(left=0.9 / fig_w, right=1 - 0.2 / fig_w, top=1 - 1.45 / fig_h,
                        bottom=0.9 / fig_h, hspace=1.25 / (height - 1.1), wspace=1.0 / (width - 1))
    flat = [a for row in axes for a in row]
    for a in flat[n:]:
        a.set_visible(False)
    return fig, flat[:n]


def _failed_note(sweep: Sweep, workload: str) -> str:
    n = sum(1 for p in sweep.points if p.workload == workload and not p.ok)
    return f" ({n} failed point{'s' if n > 1 else ''} not shown)" if n else ""


def _log_cycles_axis(ax):
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    subs = (1.0, 2.0, 5.0) if hi / lo < 1e3 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: units.si(y)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _line_groups(sweep: Sweep, workload: str):
    """[(dataflow, variant, line points, other points)] for a workload's finished points. Where
    several shapes share a PE count, the line goes through the shape listed first in --arrays
    and the others are drawn as separate (hollow) markers."""
    order = _array_order(sweep)
    out = []
    variants = []
    for p in sweep.ok_points:
        if p.workload == workload and p.variant not in variants:
            variants.append(p.variant)
    for v in variants:
        for df in DATAFLOWS:
            pts = [p for p in sweep.ok_points
                   if p.workload == workload and p.dataflow == df and p.variant == v]
            if not pts:
                continue
            line, other = {}, []
            for p in sorted(pts, key=lambda p: (order.get(p.array, 0), p.index)):
                if p.pes in line:
                    other.append(p)
                else:
                    line[p.pes] = p
            out.append((df, v, [line[k] for k in sorted(line)], other))
    return out


def _legend(sweep: Sweep, fig, axes, variants: list):
    from matplotlib.lines import Line2D

    dfs = [df for df in DATAFLOWS if any(p.dataflow == df for p in sweep.ok_points)]
    handles = [Line2D([], [], color=DATAFLOW_COLORS[df], lw=2.2, marker="o", ms=5,
                      label=f"{df.upper()} ({DATAFLOW_NAMES[df]})") for df in dfs]
    if len(variants) > 1:
        for i, v in enumerate(variants):
            handles.append(Line2D([], [], color="#444444", lw=1.6,
                                  ls=VARIANT_STYLES[i % len(VARIANT_STYLES)],
                                  marker=VARIANT_MARKERS[i % len(VARIANT_MARKERS)], ms=5,
                                  label=sweep.variant_label(v)))
    return handles


def _title_and_legend(fig, title: str, handles):
    h = fig.get_figheight()
    fig.suptitle(title, x=0.01, y=1 - 0.12 / h, ha="left", va="top", fontsize=13)
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1 - 0.5 / h),
                        ncol=min(len(handles), 3), frameon=False, fontsize=9)
    return [legend, fig._suptitle]


@dataclass
class XAxis:
    """What a line figure's x axis shows for a workload's points.

    kind "pes": the PE count (log 2 scale), the arrays differ in size. kind "shape": the array
    shapes, all of the same PE count, ordered by rows / cols. kind "axis": the values of the
    swept parameter `axis` (an index into sweep.variant_axes), the array being the same; the
    other values of the sweep make the lines."""
    kind: str
    label: str
    values: list  # categorical kinds: the tick values in order
    axis: int = -1

    def x(self, p: Point):
        if self.kind == "pes":
            return p.pes
        if self.kind == "shape":
            return self.values.index(p.array)
        return self.values.index(p.variant[self.axis])

    def line_key(self, p: Point) -> tuple:
        """The points of one line share this: dataflow and the values not on the x axis."""
        rest = tuple(v for i, v in enumerate(p.variant) if i != self.axis)
        shape = (p.array,) if self.kind == "axis" else ()
        return (p.dataflow,) + shape + rest


def x_axis(sweep: Sweep, pts: list) -> XAxis:
    """The x axis for a workload's points: the PE count when it varies, else the swept array
    shapes (aspect ratio), else the first other swept parameter with several values."""
    if len({p.pes for p in pts}) > 1:
        return XAxis("pes", "array (PEs, log scale)", [])
    order = _array_order(sweep)
    shapes = sorted({p.array for p in pts}, key=lambda a: (
        int(a.split("x")[0]) / int(a.split("x")[1]), order.get(a, 0)))
    if len(shapes) > 1:
        return XAxis("shape", f"array shape (rows \u00d7 columns), {units.count(pts[0].pes)} "
                              "PEs each", shapes)
    for i, (flag, _) in enumerate(sweep.variant_axes):
        values = []
        for a in sweep.description["axes"]:
            if a["flag"] == flag:
                values = [v for v in a["values"] if any(p.variant[i] == v for p in pts)]
        if len(values) > 1:
            return XAxis("axis", f"--{flag}", values, i)
    return XAxis("shape", f"array ({units.count(pts[0].pes)} PEs)", shapes)


def _line_label(sweep: Sweep, xa: XAxis, key: tuple) -> str:
    df, rest = key[0], list(key[1:])
    parts = [df.upper()]
    if xa.kind == "axis":
        parts.append(rest.pop(0).replace("x", "\u00d7"))
    flags = [f for i, (f, _) in enumerate(sweep.variant_axes) if i != xa.axis]
    parts += [f"{f} {v}" for f, v in zip(flags, rest)]
    return ", ".join(parts)


METRICS = {
    "cycles": ("Cycles", "cycles (log scale)", lambda p: p.cycles),
    "utilization": ("Utilization", "array utilization (MACs / PE-cycles)",
                    lambda p: p.utilization),
    "dram": ("DRAM traffic", "DRAM bytes read + written (log scale)", lambda p: p.dram_bytes),
}


def build_scaling(sweep: Sweep, metric: str):
    """Cycles, utilization or DRAM traffic against the swept hardware: a panel per workload.
    When the PE count varies, against it with a line per dataflow (and per value of the other
    swept parameters); when it does not, against the swept array shapes or parameter, a line
    per other value. Cycles come with the memory-bound floor (DRAM bytes / bandwidth)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    figures = _figures_module()
    what, ylabel, y = METRICS[metric]
    workloads = [w for w in sweep.workloads if any(p.workload == w for p in sweep.ok_points)]
    variants = []
    for p in sweep.ok_points:
        if p.variant not in variants:
            variants.append(p.variant)
    axes_used = set()
    extra_handles = []
    with plt.rc_context(figures.STYLE):
        fig, axes = _panel_grid(plt, len(workloads), 6.4, 4.3)
        for ax, w in zip(axes, workloads):
            pts_all = [p for p in sweep.ok_points if p.workload == w]
            xa = x_axis(sweep, pts_all)
            axes_used.add(xa.label)
            floors = []
            if xa.kind == "pes":
                for df, v, pts, other in _line_groups(sweep, w):
                    vi = variants.index(v)
                    marker = VARIANT_MARKERS[vi % len(VARIANT_MARKERS)]
                    ax.plot([p.pes for p in pts], [y(p) for p in pts],
                            color=DATAFLOW_COLORS[df], lw=2.0,
                            ls=VARIANT_STYLES[vi % len(VARIANT_STYLES)], marker=marker, ms=5,
                            zorder=3)
                    if other:
                        ax.scatter([p.pes for p in other], [y(p) for p in other],
                                   marker=marker, s=34, facecolors="white",
                                   edgecolors=DATAFLOW_COLORS[df], linewidths=1.4, zorder=4)
                    floors.append((df, pts))
                _shape_ticks(ax, sweep, pts_all)
            else:
                keys, rests = [], []
                for p in pts_all:
                    if xa.line_key(p) not in keys:
                        keys.append(xa.line_key(p))
                    if xa.line_key(p)[1:] not in rests:
                        rests.append(xa.line_key(p)[1:])
                for key in keys:
                    li = rests.index(key[1:])  # colour: dataflow; line style: the other values
                    pts = sorted((p for p in pts_all if xa.line_key(p) == key), key=xa.x)
                    ax.plot([xa.x(p) for p in pts], [y(p) for p in pts],
                            color=DATAFLOW_COLORS[key[0]], lw=2.0,
                            ls=VARIANT_STYLES[li % len(VARIANT_STYLES)],
                            marker=VARIANT_MARKERS[li % len(VARIANT_MARKERS)], ms=5, zorder=3,
                            label=_line_label(sweep, xa, key))
                    floors.append((key[0], pts))
                ax.set_xticks(range(len(xa.values)))
                ax.set_xticklabels([str(v).replace("x", "\u00d7") for v in xa.values],
                                   fontsize=8.5)
                ax.set_xlim(-0.4, len(xa.values) - 0.6)
                ax.legend(loc="best", fontsize=7.5, frameon=True, framealpha=0.85,
                          title="lines", title_fontsize=8)
            if metric == "cycles":
                drawn = False
                for df, pts in floors:
                    fl = [(xa.x(p), p.memory_floor) for p in pts if p.memory_floor]
                    if fl:
                        ax.plot([a for a, _ in fl], [b for _, b in fl],
                                color=DATAFLOW_COLORS[df], lw=1.0, ls=(0, (1, 2)), alpha=0.9,
                                zorder=2, gid="memory-floor")
                        drawn = True
                if drawn and not extra_handles:
                    extra_handles.append(Line2D(
                        [], [], color="#444444", lw=1.0, ls=(0, (1, 2)),
                        label="memory-bound floor: DRAM bytes / bandwidth (dotted, per line)"))
            if metric in ("cycles", "dram"):
                vals = [y(p) for p in pts_all] + [p.memory_floor for p in pts_all
                                                  if metric == "cycles" and p.memory_floor]
                ax.set_ylim(min(vals) / 1.6, max(vals) * 1.6)
                _log_cycles_axis(ax)
                if metric == "dram":
                    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: units.nbytes(v)))
                ax.set_ylabel(ylabel)
            else:
                ax.set_ylim(0, 1.02)
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                ax.set_ylabel(ylabel)
            ax.set_xlabel(xa.label)
            ax.grid(True, which="major", color="#dddddd", lw=0.7)
            ax.set_axisbelow(True)
            ax.set_title(w + _failed_note(sweep, w), loc="left", fontsize=11)
        by_pes = all(a.startswith("array (PEs") for a in axes_used)
        against = "array size" if by_pes else " and ".join(sorted(axes_used))
        # Against the PE count the figure legend names the line styles; otherwise each panel's
        # own legend does (its lines are the values not on the x axis).
        return fig, _title_and_legend(fig, f"{what} against {against}",
                                      _legend(sweep, fig, axes, variants if by_pes else [])
                                      + extra_handles)


def build_pareto(sweep: Sweep, against: Optional[str] = None):
    """Cycles against PE count (or `against`: energy, area), every finished point; the Pareto
    front (no other point is both smaller and faster) joined and labelled, one panel per
    workload."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figures = _figures_module()
    workloads = [w for w in sweep.workloads if any(p.workload == w for p in sweep.ok_points)]
    variants = []
    for p in sweep.ok_points:
        if p.variant not in variants:
            variants.append(p.variant)
    titles = set()
    with plt.rc_context(figures.STYLE):
        fig, axes = _panel_grid(plt, len(workloads), 6.4, 4.6)
        for ax, w in zip(axes, workloads):
            pts = [p for p in sweep.ok_points if p.workload == w]
            front = pareto_front(pts, against)
            on_front = {p.index for p in front}
            cost, cost_name = OTHER_COSTS[against] if against else pareto_cost(pts)
            titles.add(cost_name)
            for p in pts:
                vi = variants.index(p.variant)
                ax.scatter([cost(p)], [p.cycles], s=46 if p.index in on_front else 30,
                           color=DATAFLOW_COLORS[p.dataflow],
                           marker=VARIANT_MARKERS[vi % len(VARIANT_MARKERS)],
                           alpha=1.0 if p.index in on_front else 0.55,
                           edgecolors="black" if p.index in on_front else "white",
                           linewidths=1.3 if p.index in on_front else 0.5,
                           zorder=5 if p.index in on_front else 4)
            fx = [cost(p) for p in front]
            fy = [p.cycles for p in front]
            ax.step(fx, fy, where="post", color="#222222", lw=1.4, zorder=3)
            if cost_name == "PEs":
                _shape_ticks(ax, sweep, pts, hollow_mark=False)
                ax.set_xlabel("array (PEs, log scale)")
            else:
                xs = [cost(p) for p in pts]
                pad = 0.08 * (max(xs) - min(xs)) or 0.1 * max(xs)
                ax.set_xlim(max(0, min(xs) - pad), max(xs) + pad)
                ax.xaxis.set_major_locator(MaxNLocator(5))
                if cost_name == "energy":
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.energy(v)))
                    ax.set_xlabel("energy of the run (docs/energy.md)")
                elif cost_name == "area":
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
                    ax.set_xlabel("area (mm\u00b2)")
                else:
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: units.nbytes(v)))
                    ax.set_xlabel(f"DRAM bytes read + written (every point has "
                                  f"{units.count(pts[0].pes)} PEs)")
            ax.set_yscale("log")
            ys = [p.cycles for p in pts]
            ax.set_ylim(min(ys) / 2.2, max(ys) * 2.2)
            _log_cycles_axis(ax)
            ax.set_ylabel("cycles (log scale)")
            ax.grid(True, which="major", color="#dddddd", lw=0.7)
            ax.set_axisbelow(True)
            ax.set_title(f"{w}: {len(front)} of {len(pts)} points on the front"
                         + _failed_note(sweep, w), loc="left", fontsize=11)
            # Labels for the front's points, placed where they overlap nothing.
            fig.canvas.draw()
            to_px = ax.transData.transform
            px = fig.dpi / 72.0
            dots = [(*to_px((cost(p), p.cycles)), 4 * px) for p in pts]
            line = []
            for a, b in zip(front, front[1:]):
                for t in range(9):
                    x = cost(a) * (cost(b) / cost(a)) ** (t / 8)
                    line.append((*to_px((x, a.cycles)), 1.0))
                line.append((*to_px((cost(b), a.cycles + (b.cycles - a.cycles) * 0.5)), 1.0))
            kw = dict(fontsize=8, zorder=9,
                      bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#999999", lw=0.5,
                                alpha=0.9),
                      arrowprops=dict(arrowstyle="-", color="#777777", lw=0.6, shrinkA=0,
                                      shrinkB=3))
            groups = []
            for p in front:
                text = f"{p.array.replace('x', chr(0xd7))} {p.dataflow.upper()}"
                if len(variants) > 1:
                    text += "\n" + sweep.variant_label(p.variant)
                cands = []
                # Energy and area fronts crowd their points: labels may go further out.
                for d in (14, 30, 50) + ((75, 100, 130) if against else ()):
                    for dx, dy, ha, va in ((d, d * 0.6, "left", "bottom"),
                                           (-d, -d * 0.6, "right", "top"),
                                           (d, -d * 0.6, "left", "top"),
                                           (-d, d * 0.6, "right", "bottom"),
                                           (0, d, "center", "bottom"),
                                           (0, -d, "center", "top")):
                        cands.append(figures.annotator(ax, text, (cost(p), p.cycles), dx, dy,
                                                        ha, va, **kw))
                groups.append(cands)
            figures.place(fig, ax, groups, dots, line)
        from matplotlib.lines import Line2D

        handles = _legend(sweep, fig, axes, variants) + [
            Line2D([], [], color="#222222", lw=1.4, marker="o", ms=6, markerfacecolor="white",
                   markeredgecolor="black", markeredgewidth=1.3,
                   label="Pareto front (ringed points)")]
        names = {"PEs": "array size", "DRAM bytes": "DRAM traffic", "energy": "energy",
                 "area": "area"}
        what = " / ".join(names[t] for t in sorted(titles, reverse=True))
        return fig, _title_and_legend(fig, f"Pareto front: cycles against {what}", handles)


def collapse_repeats(sigs: list) -> list:
    """Runs of identical consecutive blocks of rows, as (first row, block length, repeats):
    [a b c b c b c d] -> (0, 1, 1), (1, 2, 3), (7, 1, 1). At each row the block that covers
    the most rows wins (the shorter block on a tie); a block must repeat at least twice."""
    out, i, n = [], 0, len(sigs)
    while i < n:
        best = (1, 1)
        for length in range(1, (n - i) // 2 + 1):
            reps = 1
            while sigs[i + reps * length: i + (reps + 1) * length] == sigs[i: i + length]:
                reps += 1
            if reps >= 2 and length * reps > best[0] * best[1]:
                best = (length, reps)
        out.append((i, best[0], best[1]))
        i += best[0] * best[1]
    return out


def build_heatmap(sweep: Sweep, workload: str, dataflow: str, variant: tuple):
    """Overall utilization of each GEMM op (rows) at each array size (columns); identical
    consecutive blocks of ops (BERT's 12 encoders) are one block of rows with a repeat count."""
    import matplotlib.pyplot as plt
    import numpy as np

    from matplotlib.ticker import PercentFormatter

    from ssim_plot.views import name_pattern

    figures = _figures_module()
    pts = sorted((p for p in sweep.ok_points if p.workload == workload
                  and p.dataflow == dataflow and p.variant == variant),
                 key=lambda p: (p.pes, p.rows, p.index))
    all_ops = [r for r in sweep.layers[pts[0].index] if r.is_gemm]
    m = len(pts)
    vector_ops = len(sweep.layers[pts[0].index]) - len(all_ops)
    full = np.full((len(all_ops), m), np.nan)
    for j, p in enumerate(pts):
        by_index = {r.index: r for r in sweep.layers[p.index]}
        for i, op in enumerate(all_ops):
            r = by_index.get(op.index)
            if r is not None:
                full[i, j] = r.overall_util
    sigs = [(op.type, re.sub(r"[0-9]+", "#", op.name),
             tuple(None if math.isnan(v) else round(float(v), 9) for v in full[i]))
            for i, op in enumerate(all_ops)]
    rows_shown, labels = [], []  # (row of full) and its label
    block_edges = []  # shown rows where a folded block starts or ends
    for first, length, reps in collapse_repeats(sigs):
        if reps > 1:
            block_edges += [len(rows_shown), len(rows_shown) + length]
        for k in range(length if reps > 1 else 1):
            i = first + k
            if reps > 1:
                names = [all_ops[i + r * length].name for r in range(reps)]
                labels.append(f"\u00d7{reps}  {figures.short(name_pattern(names, True), 26)}  "
                              f"[{all_ops[i].type}]")
            else:
                labels.append(f"{all_ops[i].index}  {figures.short(all_ops[i].name, 30)}  "
                              f"[{all_ops[i].type}]")
            rows_shown.append(i)
    collapsed = len(all_ops) - len(rows_shown)
    grid = full[rows_shown] if rows_shown else full
    n = len(rows_shown)
    with plt.rc_context(figures.STYLE):
        row_h = 0.2
        axes_h = max(1.6, row_h * n)
        label_w = 3.3
        axes_w = max(2.4, 0.78 * m)
        fig_w, fig_h = label_w + axes_w + 1.5, axes_h + 2.2
        fig = plt.figure(figsize=(fig_w, fig_h))
        ax = fig.add_axes((label_w / fig_w, 1.1 / fig_h, axes_w / fig_w, axes_h / fig_h))
        bar_h = min(axes_h, 4.0)  # next to the first rows, seen without scrolling
        cax = fig.add_axes(((label_w + axes_w + 0.3) / fig_w, (1.1 + axes_h - bar_h) / fig_h,
                            0.18 / fig_w, bar_h / fig_h))
        cmap = plt.get_cmap("viridis").copy()
        cmap.set_bad("#dddddd")
        im = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0,
                       interpolation="nearest")
        ax.set_xticks(range(m))
        ax.set_xticklabels([p.array.replace("x", "\u00d7") for p in pts], fontsize=8.5)
        ax.tick_params(axis="x", top=True, labeltop=True, bottom=True, labelbottom=True,
                       length=0)
        ax.set_yticks(range(n))
        ax.set_yticklabels(labels, fontsize=8 if n > 25 else 9)
        ax.tick_params(axis="y", length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        ax.set_xticks([x - 0.5 for x in range(1, m)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(True, which="minor", color="white", lw=0.6)
        ax.tick_params(which="minor", length=0)
        for y in block_edges:  # a folded block stands apart from its neighbours
            ax.axhline(y - 0.5, color="white", lw=2.6, zorder=3)
        for i in range(n):
            for j in range(m):
                v = grid[i, j]
                if not math.isnan(v):
                    text = "<1 %" if 0 < v < 0.005 else f"{100 * v:.0f} %"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if v < 0.55 else "black")
        cb = fig.colorbar(im, cax=cax)
        cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        cb.set_label("overall utilization of the op", fontsize=9)
        title = f"Utilization per GEMM op: {workload}, {dataflow.upper()}"
        if variant:
            title += f" ({sweep.variant_label(variant)})"
        ax.set_title(title, loc="left", x=-label_w / axes_w, pad=34, fontsize=12)
        note = (f"{len(all_ops)} GEMM ops (rows, execution order) \u00d7 {m} array sizes "
                f"(columns); cells: % of MACs / PE-cycles of the op")
        if collapsed:
            note += (f";\n\u00d7N: a block of rows repeated N times in a row with the same "
                     f"numbers ({collapsed} rows folded into their first block)")
        if vector_ops:
            note += f"; {vector_ops} vector ops not shown"
        fig.text(0.01, 0.2 / fig_h, note, fontsize=8.5, color="#555555", ha="left",
                 va="bottom")
        return fig, []


def write_figures(sweep: Sweep, folder: str) -> tuple:
    """Writes every figure into folder/figures; returns (paths written, heatmap list)."""
    import matplotlib.pyplot as plt

    figures = _figures_module()
    out_dir = os.path.join(folder, "figures")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    builds = [("cycles", lambda: build_scaling(sweep, "cycles")),
              ("utilization", lambda: build_scaling(sweep, "utilization")),
              ("dram", lambda: build_scaling(sweep, "dram")),
              ("pareto", lambda: build_pareto(sweep))]
    if has_energy(sweep.ok_points):
        builds += [("pareto_energy", lambda: build_pareto(sweep, "energy")),
                   ("pareto_area", lambda: build_pareto(sweep, "area"))]
    heatmaps = heatmap_groups(sweep)
    for w, df, v, stem in heatmaps:
        builds.append((stem, lambda w=w, df=df, v=v: build_heatmap(sweep, w, df, v)))
    for stem, build in builds:
        with plt.rc_context(figures.STYLE):
            fig, extra = build()
            written += figures.save(fig, out_dir, stem, extra)
    # Figures of an earlier, different sweep into this folder go.
    keep = {os.path.basename(p) for p in written}
    for f in os.listdir(out_dir):
        if f.endswith((".svg", ".png")) and f not in keep:
            os.remove(os.path.join(out_dir, f))
    return written, heatmaps


# --------------------------------------------------------------------------------------------
# The page (standard library only, but written after the figures)
