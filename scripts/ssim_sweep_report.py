#!/usr/bin/env python3
"""Figures and a self-contained HTML page from a systolic-sim sweep folder.

    python3 scripts/ssim_sweep_report.py SWEEP_DIR

Reads SWEEP_DIR/sweep.json, sweep.csv and sweep_layers.csv (format: docs/sweep.md) and writes
SWEEP_DIR/figures/: cycles, utilization (against the PE count, a line per dataflow, a panel per
workload), pareto (cycles against PE count, the Pareto front highlighted), and one heatmap per
workload and dataflow (utilization per GEMM op and array size), each as .svg and .png; and
SWEEP_DIR/report.html, one page with the figures and the sweep table.

A folder of a sweep still running (or interrupted) works too: the figures show the points
finished so far.

Exit status: 0 written; 2 bad input (usage, missing or malformed file, inconsistent numbers,
folder not writable), with one line on stderr; 3 matplotlib is missing, with one line on stderr
saying how to install it. Standard library + Debian's python3-matplotlib only. As
ssim_report.py, it runs itself again with /usr/bin/python3 if the python3 that started it cannot
import matplotlib (SSIM_REPORT_NO_REEXEC=1 turns that off).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ litter in the source tree

from ssim_plot import launch, units  # noqa: E402  (standard library only)

PROG = "ssim_sweep_report"
USAGE = "usage: ssim_sweep_report.py SWEEP_DIR   (a folder written by systolic-sim sweep)"
SCHEMA_VERSION = 1
REL_TOL = 1e-4

DATAFLOWS = ("os", "ws", "is")
DATAFLOW_NAMES = {"os": "output stationary", "ws": "weight stationary",
                  "is": "input stationary"}
DATAFLOW_COLORS = {"os": "#1f77b4", "ws": "#d62728", "is": "#2ca02c"}
VARIANT_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")

# sweep.csv columns the script reads (others are allowed and ignored).
INT_COLUMNS = ("point", "pes", "array_rows", "array_cols")
OK_INT_COLUMNS = ("ops", "cycles", "macs", "flops", "compute_cycles", "fill_drain_cycles",
                  "mem_stall_cycles", "vector_cycles", "dram_read_bytes", "dram_write_bytes",
                  "dram_bytes")
OK_FLOAT_COLUMNS = ("seconds", "utilization", "peak_flops_per_s", "achieved_flops_per_s")
REQUIRED_COLUMNS = ("workload", "array", "dataflow", "clock_ghz", "status", "error") + \
    INT_COLUMNS + OK_INT_COLUMNS + OK_FLOAT_COLUMNS
LAYER_COLUMNS = ("point", "index", "name", "type", "M", "total_cycles", "overall_util",
                 "compute_util")


class SweepInputError(Exception):
    """A problem with the sweep folder's files; str() is one line."""


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), 1e-12)


@dataclass
class Point:
    index: int
    workload: str
    array: str
    rows: int
    cols: int
    pes: int
    dataflow: str
    status: str
    error: str
    cells: dict
    line: int
    variant: tuple = ()
    cycles: int = 0
    seconds: float = 0.0
    macs: int = 0
    flops: int = 0
    utilization: float = 0.0
    dram_bytes: int = 0
    achieved: float = 0.0
    peak: float = 0.0
    dram_bytes_per_cycle: Optional[float] = None  # the point's DRAM bandwidth (None: unknown)
    parts: dict = field(default_factory=dict)
    energy_pj: Optional[float] = None  # docs/energy.md (None: a sweep without energy columns)
    area_mm2: Optional[float] = None

    @property
    def memory_floor(self) -> Optional[float]:
        """Cycles the point's DRAM traffic needs at full bandwidth: no schedule is faster."""
        if not self.dram_bytes_per_cycle:
            return None
        return self.dram_bytes / self.dram_bytes_per_cycle

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class LayerRow:
    point: int
    index: int
    name: str
    type: str
    is_gemm: bool
    total_cycles: int
    overall_util: float


@dataclass
class Sweep:
    folder: str
    description: dict
    points: list
    layers: dict  # point -> [LayerRow]
    variant_axes: list  # [(flag, column)] of the axes other than arrays and dataflows
    workloads: list  # names, in sweep order
    param_columns: list = field(default_factory=list)  # sweep.csv's hardware columns

    @property
    def ok_points(self) -> list:
        return [p for p in self.points if p.ok]

    def variant_label(self, variant: tuple) -> str:
        return ", ".join(f"{flag} {v}" for (flag, _), v in zip(self.variant_axes, variant))


# --------------------------------------------------------------------------------------------
# Reading and checking (standard library only)


def _read_text(path: str) -> str:
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise SweepInputError(f"{path}: file not found (systolic-sim sweep writes it)")
    if not os.path.isfile(path):
        raise SweepInputError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SweepInputError(f"{path}: cannot read: {e.strerror}") from None
    if b"\0" in data:
        raise SweepInputError(f"{name}: binary data (NUL byte); expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SweepInputError(f"{name}:{line}: invalid UTF-8") from None


def _read_csv(path: str, required) -> tuple:
    """(header, [(line, {column: value})]); checks the header and every line's field count."""
    name = os.path.basename(path)
    text = _read_text(path)
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    try:
        for fields in reader:
            if not fields or fields == [""]:
                continue
            if header is None:
                header = fields
                for c in required:
                    if c not in header:
                        raise SweepInputError(f"{name}:1: missing column '{c}'")
                dup = {c for c in header if header.count(c) > 1}
                if dup:
                    raise SweepInputError(f"{name}:1: duplicate column '{sorted(dup)[0]}'")
                continue
            if len(fields) != len(header):
                raise SweepInputError(
                    f"{name}:{reader.line_num}: {len(fields)} fields, the header has "
                    f"{len(header)}")
            rows.append((reader.line_num, dict(zip(header, fields))))
    except csv.Error as e:
        raise SweepInputError(f"{name}:{reader.line_num}: malformed CSV: {e}") from None
    if header is None:
        raise SweepInputError(f"{name}: empty file; expected a header line")
    return header, rows


def _bad(name: str, line: int, col: str, value: str, allowed: str) -> SweepInputError:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return SweepInputError(f"{name}:{line}: column '{col}': '{shown}' is not {allowed}")


def _int(name, line, cells, col, minimum=0) -> int:
    v = cells[col]
    if not re.fullmatch(r"[0-9]+", v) or int(v) < minimum:
        raise _bad(name, line, col, v, f"an integer >= {minimum}")
    return int(v)


def _float(name, line, cells, col, lo=0.0, hi=None, positive=False) -> float:
    v = cells[col]
    try:
        x = float(v)
    except ValueError:
        x = float("nan")
    if not math.isfinite(x) or x < lo or (hi is not None and x > hi) or (positive and x <= 0):
        allowed = "a number" + (f" from {lo:g} to {hi:g}" if hi is not None else
                                " > 0" if positive else f" >= {lo:g}")
        raise _bad(name, line, col, v, allowed)
    return x


def _check(name, line, col, value, expected, formula):
    if not _close(value, expected):
        raise SweepInputError(f"{name}:{line}: column '{col}': {value:.9g} does not match "
                              f"{formula} = {expected:.9g}")


def read_description(path: str) -> dict:
    name = os.path.basename(path)
    text = _read_text(path)
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SweepInputError(f"{name}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    if not isinstance(d, dict):
        raise SweepInputError(f"{name}: top level: expected an object")
    if d.get("schema_version") != SCHEMA_VERSION:
        raise SweepInputError(f"{name}: key 'schema_version': {d.get('schema_version')!r} is not "
                              f"supported (this script reads {SCHEMA_VERSION})")
    axes = d.get("axes")
    if not isinstance(axes, list):
        raise SweepInputError(f"{name}: key 'axes': expected a list")
    for i, a in enumerate(axes):
        if not (isinstance(a, dict) and isinstance(a.get("flag"), str)
                and isinstance(a.get("column"), str) and isinstance(a.get("values"), list)
                and all(isinstance(v, str) for v in a["values"])):
            raise SweepInputError(f"{name}: key 'axes[{i}]': expected an object with 'flag', "
                                  f"'column' and 'values' (strings)")
    wl = d.get("workloads")
    if not isinstance(wl, list) or not wl or not all(
            isinstance(w, dict) and isinstance(w.get("name"), str) for w in wl):
        raise SweepInputError(f"{name}: key 'workloads': expected a list of objects with 'name'")
    if not isinstance(d.get("points"), int) or d["points"] < 1:
        raise SweepInputError(f"{name}: key 'points': expected an integer >= 1")
    return d


def load_sweep(folder: str) -> Sweep:
    if not os.path.isdir(folder):
        raise SweepInputError(f"{folder}: not a folder (give the --out folder of a sweep)")
    desc = read_description(os.path.join(folder, "sweep.json"))
    variant_axes = [(a["flag"], a["column"]) for a in desc["axes"]
                    if a["flag"] not in ("arrays", "dataflows")]
    workloads = [w["name"] for w in desc["workloads"]]

    name = "sweep.csv"
    header, rows = _read_csv(os.path.join(folder, name), REQUIRED_COLUMNS)
    for _, col in variant_axes:
        if col not in header:
            raise SweepInputError(f"{name}:1: missing column '{col}' (an axis in sweep.json)")
    points, seen = [], {}
    for line, c in rows:
        idx = _int(name, line, c, "point")
        if idx in seen:
            raise SweepInputError(f"{name}:{line}: column 'point': {idx} also on line {seen[idx]}")
        if idx >= desc["points"]:
            raise _bad(name, line, "point", c["point"], f"below the {desc['points']} points of "
                       "sweep.json")
        seen[idx] = line
        if c["workload"] not in workloads:
            raise _bad(name, line, "workload", c["workload"], "a workload of sweep.json")
        rows_, cols_ = _int(name, line, c, "array_rows", 1), _int(name, line, c, "array_cols", 1)
        pes = _int(name, line, c, "pes", 1)
        if pes != rows_ * cols_:
            raise _bad(name, line, "pes", c["pes"], f"array_rows * array_cols = {rows_ * cols_}")
        if c["array"] != f"{rows_}x{cols_}":
            raise _bad(name, line, "array", c["array"], f"'{rows_}x{cols_}'")
        if c["dataflow"] not in DATAFLOWS:
            raise _bad(name, line, "dataflow", c["dataflow"], "os, ws or is")
        if c["status"] not in ("ok", "error"):
            raise _bad(name, line, "status", c["status"], "ok or error")
        p = Point(index=idx, workload=c["workload"], array=c["array"], rows=rows_, cols=cols_,
                  pes=pes, dataflow=c["dataflow"], status=c["status"], error=c["error"],
                  cells=c, line=line, variant=tuple(c[col] for _, col in variant_axes))
        if p.ok:
            clock = _float(name, line, c, "clock_ghz", positive=True) * 1e9
            p.cycles = _int(name, line, c, "cycles", 1)
            p.macs = _int(name, line, c, "macs")
            p.flops = _int(name, line, c, "flops")
            for k in ("compute_cycles", "fill_drain_cycles", "mem_stall_cycles",
                      "vector_cycles", "stage_cycles"):
                if k in c:  # stage_cycles: sweeps of version 0.1 have none
                    p.parts[k] = _int(name, line, c, k)
            if sum(p.parts.values()) != p.cycles:
                raise _bad(name, line, "cycles", c["cycles"],
                           f"compute + fill/drain + memory stall + vector + stage cycles = "
                           f"{sum(p.parts.values())}")
            p.dram_bytes = _int(name, line, c, "dram_bytes")
            if p.dram_bytes != _int(name, line, c, "dram_read_bytes") + \
                    _int(name, line, c, "dram_write_bytes"):
                raise _bad(name, line, "dram_bytes", c["dram_bytes"],
                           "dram_read_bytes + dram_write_bytes")
            _int(name, line, c, "ops", 1)
            if c.get("dram_bytes_per_cycle", "") not in ("", None):
                p.dram_bytes_per_cycle = _float(name, line, c, "dram_bytes_per_cycle")
            p.seconds = _float(name, line, c, "seconds")
            _check(name, line, "seconds", p.seconds, p.cycles / clock, "cycles / (clock_ghz * 1e9)")
            p.utilization = _float(name, line, c, "utilization", 0.0, 1.0)
            _check(name, line, "utilization", p.utilization, p.macs / (pes * p.cycles),
                   "macs / (pes * cycles)")
            p.peak = _float(name, line, c, "peak_flops_per_s", positive=True)
            _check(name, line, "peak_flops_per_s", p.peak, 2.0 * pes * clock,
                   "2 * pes * clock_ghz * 1e9")
            p.achieved = _float(name, line, c, "achieved_flops_per_s")
            _check(name, line, "achieved_flops_per_s", p.achieved, p.flops / p.seconds,
                   "flops / seconds")
            if c.get("energy_pj", "") not in ("", None):  # sweeps since energy was added
                p.energy_pj = _float(name, line, c, "energy_pj")
                p.area_mm2 = _float(name, line, c, "area_mm2", positive=True)
                if p.macs:
                    _check(name, line, "pj_per_mac", _float(name, line, c, "pj_per_mac"),
                           p.energy_pj / p.macs, "energy_pj / macs")
        elif not c["error"].strip():
            raise _bad(name, line, "error", c["error"], "a message (status is error)")
        points.append(p)
    if not points:
        raise SweepInputError(f"{name}: no rows yet; run the sweep first")
    points.sort(key=lambda p: p.index)

    lname = "sweep_layers.csv"
    _, lrows = _read_csv(os.path.join(folder, lname), LAYER_COLUMNS)
    ok = {p.index: p for p in points if p.ok}
    layers: dict = {}
    for line, c in lrows:
        idx = _int(lname, line, c, "point")
        if idx not in ok:
            continue  # a point still running, or one that failed
        row = LayerRow(point=idx, index=_int(lname, line, c, "index"), name=c["name"],
                       type=c["type"], is_gemm=c["M"] != "",
                       total_cycles=_int(lname, line, c, "total_cycles", 0),  # 0: a fused op
                       overall_util=_float(lname, line, c, "overall_util", 0.0, 1.0))
        layers.setdefault(idx, []).append(row)
    for idx, p in ok.items():
        got = layers.get(idx, [])
        if len(got) != int(p.cells["ops"]):
            raise SweepInputError(f"{lname}: point {idx} has {len(got)} rows; sweep.csv line "
                                  f"{p.line} says ops = {p.cells['ops']}")
        total = sum(r.total_cycles for r in got)
        if total != p.cycles:
            raise SweepInputError(f"{lname}: point {idx}: total_cycles add up to {total}; "
                                  f"sweep.csv line {p.line} says cycles = {p.cycles}")
        got.sort(key=lambda r: r.index)
    params = header[header.index("pes") + 1: header.index("status")] \
        if header.index("status") > header.index("pes") else []
    return Sweep(folder=folder, description=desc, points=points, layers=layers,
                 variant_axes=variant_axes, workloads=workloads, param_columns=params)


# --------------------------------------------------------------------------------------------
# Analysis (standard library only)


def pareto_cost(points: list):
    """What a Pareto front trades cycles against: the PE count when it varies; DRAM bytes when
    every point has the same PE count (then only the shapes, buffers, bandwidth... differ)."""
    if len({p.pes for p in points}) > 1:
        return (lambda p: p.pes), "PEs"
    return (lambda p: p.dram_bytes), "DRAM bytes"


# The other costs a front may trade cycles against (docs/energy.md): key -> (cost, name).
OTHER_COSTS = {"energy": ((lambda p: p.energy_pj), "energy"),
               "area": ((lambda p: p.area_mm2), "area")}


def has_energy(points: list) -> bool:
    return bool(points) and all(p.energy_pj is not None for p in points)


def pareto_front(points: list, against: Optional[str] = None) -> list:
    """The points no other point beats on both cost (pareto_cost: PEs, or DRAM bytes at one PE
    count; or `against`: energy, area) and cycles (fewer or equal on both, fewer on one),
    sorted by cost."""
    front = []
    best = math.inf
    cost, _ = OTHER_COSTS[against] if against else pareto_cost(points)
    for p in sorted(points, key=lambda p: (cost(p), p.cycles, p.index)):
        if p.cycles < best:
            front.append(p)
            best = p.cycles
    return front


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_") or "x"


def heatmap_groups(sweep: Sweep) -> list:
    """(workload, dataflow, variant, stem) for each heatmap, in sweep order."""
    groups, stems = [], set()
    for w in sweep.workloads:
        for df in DATAFLOWS:
            variants = []
            for p in sweep.ok_points:
                if p.workload == w and p.dataflow == df and p.variant not in variants and any(
                        r.is_gemm for r in sweep.layers.get(p.index, [])):
                    variants.append(p.variant)  # (a workload without GEMM ops has no heatmap)
            for v in variants:
                stem = f"heatmap_{slug(w)}_{df}"
                if v:
                    stem += "_" + slug("_".join(f"{f}-{x}" for (f, _), x in
                                                zip(sweep.variant_axes, v)))
                base, n = stem, 2
                while stem in stems:
                    stem = f"{base}_{n}"
                    n += 1
                stems.add(stem)
                groups.append((w, df, v, stem))
    return groups


# --------------------------------------------------------------------------------------------
# Figures (matplotlib)


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
                        cands.append(figures._annotator(ax, text, (cost(p), p.cycles), dx, dy,
                                                        ha, va, **kw))
                groups.append(cands)
            figures._place(fig, ax, groups, dots, line)
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
                labels.append(f"\u00d7{reps}  {figures._short(name_pattern(names, True), 26)}  "
                              f"[{all_ops[i].type}]")
            else:
                labels.append(f"{all_ops[i].index}  {figures._short(all_ops[i].name, 30)}  "
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
            written += figures._save(fig, out_dir, stem, extra)
    # Figures of an earlier, different sweep into this folder go.
    keep = {os.path.basename(p) for p in written}
    for f in os.listdir(out_dir):
        if f.endswith((".svg", ".png")) and f not in keep:
            os.remove(os.path.join(out_dir, f))
    return written, heatmaps


# --------------------------------------------------------------------------------------------
# The page (standard library only, but written after the figures)


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


# The sweep page uses the whole window: its figures are wide (a panel per workload).
SWEEP_CSS = """
main { max-width: none; }
.fixed-hw { display: flex; flex-wrap: wrap; gap: 4px 8px; }
.fixed-hw .hw { background: var(--band); border: 1px solid var(--line); border-radius: 4px;
  padding: 0 6px; white-space: nowrap; font-size: 13.5px; }
.fixed-hw .hw b { font-weight: normal; color: var(--muted); }
table.kv td.swept { font-weight: bold; }
"""


def _img(folder: str, stem: str, title: str, caption: str, ident: str) -> str:
    from ssim_plot import page

    svg = os.path.join(folder, "figures", f"{stem}.svg")
    return (f'<figure id="{_esc(ident)}"><h3>{_esc(title)}</h3>'
            f'<img src="{page._data_uri(svg, "image/svg+xml")}" alt="{_esc(title)}">'
            f"<figcaption>{caption} Files: <a href=\"figures/{_esc(stem)}.svg\">{_esc(stem)}.svg"
            f'</a>, <a href="figures/{_esc(stem)}.png">{_esc(stem)}.png</a>.</figcaption>'
            "</figure>")


def _num(v, text) -> str:
    return f'<td class="n" data-v="{_esc(v)}">{_esc(text)}</td>'


PARAM_WORDS = {  # sweep.csv's hardware columns in words
    "dataflow": "dataflow", "fold_overlap": "fold overlap", "fusion": "fusion",
    "residency": "residency", "fidelity": "fidelity", "ifmap_sram_kb": "ifmap SRAM KiB",
    "filter_sram_kb": "filter SRAM KiB", "ofmap_sram_kb": "ofmap SRAM KiB",
    "bandwidth_words": "bandwidth (words/cycle)", "dram_bandwidth": "DRAM bytes/cycle",
    "dram_gbps": "DRAM GB/s", "dram_latency": "DRAM latency (cycles)",
    "unlimited_bandwidth": "unlimited bandwidth", "interface_bandwidth": "interface bandwidth",
    "memory_banks": "memory banks", "clock_ghz": "clock GHz", "vector_lanes": "vector lanes",
    "output_bytes": "output bytes",
}


def render(sweep: Sweep, folder: str, heatmaps: list) -> str:
    from ssim_plot import page

    d = sweep.description
    ok = sweep.ok_points
    failed = [p for p in sweep.points if not p.ok]
    total = d["points"]
    fronts = {}
    for w in sweep.workloads:
        for p in pareto_front([p for p in ok if p.workload == w]):
            fronts[p.index] = True

    cards = [page._card("points", f"{len(ok)} of {total}",
                        "finished" + (f", {len(failed)} failed" if failed else ""), "points")]
    best_rows = []
    for w in sweep.workloads:
        pts = [p for p in ok if p.workload == w]
        if not pts:
            continue
        fast = min(pts, key=lambda p: (p.cycles, p.pes, p.index))
        util = max(pts, key=lambda p: (p.utilization, -p.index))
        cards.append(page._card(f"fastest: {w}", units.si(fast.cycles) + " cycles",
                                f"{fast.array} {fast.dataflow.upper()}, "
                                f"{units.pct(fast.utilization)} utilization",
                                f"best-{slug(w)}"))
        best_rows.append(
            f"<tr><td>{_esc(w)}</td><td>{_esc(fast.array)} {_esc(fast.dataflow.upper())}</td>"
            f'<td class="n">{_esc(units.count(fast.cycles))}</td>'
            f"<td>{_esc(util.array)} {_esc(util.dataflow.upper())}</td>"
            f'<td class="n">{_esc(units.pct(util.utilization))}</td></tr>')

    axes_rows = [("workloads", ", ".join(_esc(w) for w in sweep.workloads))]
    for a in d["axes"]:
        axes_rows.append((f"--{a['flag']}", ", ".join(_esc(v) for v in a["values"])))
    # The hardware of the points, from sweep.csv's parameter columns: what differs between
    # points, and, in the open, what is the same at every point.
    fixed = []
    for col in sweep.param_columns:
        values = []
        for p in sweep.points:
            if p.cells.get(col) not in values:
                values.append(p.cells.get(col))
        if len(values) == 1 and col not in ("array_rows", "array_cols"):
            fixed.append(f"<span class=\"hw\"><b>{_esc(PARAM_WORDS.get(col, col))}</b> "
                         f"{_esc(values[0])}</span>")
    axes_rows.append(("the same at every point",
                      f'<div class="fixed-hw" id="fixed-hardware">{" ".join(fixed)}</div>'
                      if fixed else "defaults"))
    axes_rows.append(("seed", _esc(d.get("seed", ""))))

    vcols = [flag for flag, _ in sweep.variant_axes]
    head = ["#", "workload", "array", "PEs", "dataflow"] + vcols + [
        "cycles", "time", "utilization", "DRAM bytes", "achieved", "of peak", "Pareto", "status"]
    numeric = {"#", "PEs", "cycles", "time", "utilization", "DRAM bytes", "achieved", "of peak"}
    num_attr = ' data-type="num"'
    thead = "".join(f'<th scope="col"{num_attr if h in numeric else ""}>{_esc(h)}</th>'
                    for h in head)
    body = []
    for p in sweep.points:
        cells = [_num(p.index, p.index), f"<td>{_esc(p.workload)}</td>",
                 _num(p.pes, p.array), _num(p.pes, units.count(p.pes)),
                 f"<td>{_esc(p.dataflow.upper())}</td>"]
        cells += [f"<td>{_esc(v)}</td>" for v in p.variant]
        if p.ok:
            cells += [_num(p.cycles, units.count(p.cycles)),
                      _num(f"{p.seconds:.9g}", units.seconds(p.seconds)),
                      _num(f"{p.utilization:.9g}", units.pct(p.utilization)),
                      _num(p.dram_bytes, units.nbytes(p.dram_bytes)),
                      _num(f"{p.achieved:.9g}", units.flops_per_s(p.achieved)),
                      _num(f"{p.achieved / p.peak:.9g}", units.pct(p.achieved / p.peak)),
                      "<td>\u2605</td>" if p.index in fronts else "<td></td>",
                      "<td>ok</td>"]
        else:
            cells += ['<td class="n" data-v=""></td>'] * 6 + [
                "<td></td>", f'<td class="failed" title="{_esc(p.error)}">failed: '
                f"{_esc(p.error[:80])}</td>"]
        body.append(f'<tr data-point="{p.index}">' + "".join(cells) + "</tr>")
    table = (f'<div class="table-wrap"><table class="grid sortable" id="sweep-table">'
             f"<thead><tr>{thead}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")

    figs = [
        _img(folder, "cycles", "Cycles against array size",
             "Total cycles of each workload (log scale) against the PE count, or, where the "
             "PE count stays the same, against the swept array shapes or parameter; one line "
             "per dataflow" + (" and per value of the other swept parameters" if vcols else "")
             + ". Dotted: the memory-bound floor of each line, its DRAM bytes over the DRAM "
             "bandwidth, which no schedule can beat: where cycles sit on it, more PEs do not "
             "help.", "fig-cycles"),
        _img(folder, "utilization", "Utilization against array size",
             "MACs / (PEs \u00d7 cycles) of the whole workload: the share of the array doing "
             "useful work.", "fig-utilization"),
        _img(folder, "dram", "DRAM traffic against the swept hardware",
             "Bytes read from and written to DRAM by each workload (log scale), on the same "
             "axes as the cycles: what larger buffers, other shapes or dataflows save.",
             "fig-dram"),
        _img(folder, "pareto", "Pareto front",
             "Every finished point; ringed and joined: the points that no other point beats on "
             "both PE count and cycles (when every point has the same PE count: on both DRAM "
             "traffic and cycles).", "fig-pareto"),
    ]
    if has_energy(sweep.ok_points):
        figs += [
            _img(folder, "pareto_energy", "Pareto front: cycles against energy",
                 "Every finished point against its energy (docs/energy.md: the table of "
                 "summary.json priced against the run's counts); ringed and joined: the points "
                 "no other point beats on both energy and cycles.", "fig-pareto-energy"),
            _img(folder, "pareto_area", "Pareto front: cycles against area",
                 "Every finished point against the area of its hardware (PEs, SRAM, vector "
                 "lanes, docs/energy.md); ringed and joined: the points no other point beats on "
                 "both area and cycles.", "fig-pareto-area")]
    heat = []
    for w, df, v, stem in heatmaps:
        title = f"{w}, {df.upper()}" + (f" ({sweep.variant_label(v)})" if v else "")
        heat.append(_img(folder, stem, f"Utilization per GEMM op: {title}",
                         "Rows: the GEMM ops in execution order; columns: array sizes; cells: "
                         "overall utilization of the op in %.", f"fig-{stem}"))

    data = {"points": [{"point": p.index, "workload": p.workload, "array": p.array,
                        "pes": p.pes, "dataflow": p.dataflow, "status": p.status,
                        "cycles": p.cycles if p.ok else None,
                        "utilization": p.utilization if p.ok else None,
                        "pareto": p.index in fronts} for p in sweep.points],
            "heatmaps": [stem for *_, stem in heatmaps]}
    name = os.path.basename(os.path.abspath(folder))
    swept_line = "swept: " + " \u00b7 ".join(
        f"{a['flag']} " + ", ".join(v.replace("x", "\u00d7") if a["flag"] == "arrays" else v
                                    for v in a["values"]) for a in d["axes"]) \
        if d["axes"] else "one design point per workload"
    lead = (f"{len(ok)} of {total} points finished"
            + (f" ({len(failed)} failed; see the table)" if failed else "")
            + f" for {len(sweep.workloads)} workload(s).")
    css = page.CSS + "td.failed { color: #b03a2e; max-width: 420px; overflow: hidden; " \
                     "text-overflow: ellipsis; }\n" + SWEEP_CSS
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ssim_sweep_report.py ({_esc(d.get('tool', 'systolic-sim'))} {_esc(d.get('tool_version', ''))})">
<title>systolic-sim sweep: {_esc(name)}</title>
<style>{css}</style>
</head>
<body>
<main>
<header>
<h1>Sweep: {_esc(name)}</h1>
<p id="swept-line">{_esc(swept_line)}</p>
<p class="muted">{_esc(", ".join(sweep.workloads))} &middot; {_esc(d.get('tool', 'systolic-sim'))} {_esc(d.get('tool_version', ''))}</p>
</header>
<section id="totals">
<div class="cards">{"".join(cards)}</div>
<p class="lead">{_esc(lead)}</p>
</section>
<div class="cols">
<section id="parameters"><h2>Swept hardware</h2>{page._kv(axes_rows)}</section>
<section id="best"><h2>Best points</h2>
<table class="grid" id="best-table"><thead><tr><th>workload</th><th>fastest</th><th>cycles</th>
<th>best utilization</th><th>utilization</th></tr></thead><tbody>{"".join(best_rows)}</tbody>
</table></section>
</div>
<section id="figures"><h2>Figures</h2>{"".join(figs)}</section>
<section id="heatmaps"><h2>Utilization per layer</h2>{"".join(heat)}</section>
<section id="points"><h2>All points</h2>
<p class="muted">One row per point of sweep.csv. Click a column header to sort; &#9733; marks
the Pareto front of its workload.</p>
{table}
</section>
<footer>Written by scripts/ssim_sweep_report.py from sweep.json, sweep.csv and
sweep_layers.csv; the format is described in docs/sweep.md.</footer>
</main>
{page._json_script("sweep-data", data)}
<script>{page.JS}</script>
</body>
</html>
"""


def write_page(sweep: Sweep, folder: str, heatmaps: list) -> str:
    path = os.path.join(folder, "report.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(sweep, folder, heatmaps))
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------


def _fail(message: str, code: int) -> int:
    return launch.fail(PROG, message, code)


def _rerun_with_debian_python(argv) -> None:
    launch.rerun_with_debian_python(__file__, argv)


def main(argv) -> int:
    if len(argv) == 1 and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        return _fail(USAGE, 2)
    folder = argv[0]
    try:
        sweep = load_sweep(folder)
    except SweepInputError as e:
        return _fail(str(e), 2)
    if not sweep.ok_points:
        return _fail(f"{os.path.join(folder, 'sweep.csv')}: no finished point (all "
                     f"{len(sweep.points)} failed); nothing to draw", 2)
    if not launch.have_matplotlib():
        _rerun_with_debian_python(argv)
        return _fail(launch.MATPLOTLIB_HINT, 3)
    try:
        written, heatmaps = write_figures(sweep, folder)
        written.append(write_page(sweep, folder, heatmaps))
    except OSError as e:
        where = e.filename or folder
        return _fail(f"{where}: cannot write: {e.strerror or e}", 2)
    print(f"{PROG}: wrote {len(written) - 1} figure files in "
          f"{os.path.join(folder, 'figures')} and {written[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
