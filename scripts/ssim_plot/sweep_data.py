"""A sweep folder read and checked: sweep.json, sweep.csv and sweep_layers.csv (docs/sweep.md)
as Points and LayerRows, and what the figures derive from them (Pareto fronts, heatmap groups).
Standard library only."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Optional

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
