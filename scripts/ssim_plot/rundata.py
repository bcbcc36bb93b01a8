"""Reads and checks a run folder's layers.csv and summary.json (docs/report-format.md).

Standard library only, so that bad input is reported the same way with or without matplotlib.
Every problem is raised as RunInputError with ONE line naming the file (and line or key), the
value, and what is allowed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from . import units

SCHEMA_VERSION = 1

# layers.csv columns, in the order the simulator writes them.
LAYER_COLUMNS = (
    "index", "layer", "name", "type", "M", "N", "K", "repeat", "macs", "flops", "folds",
    "total_cycles", "compute_cycles", "fill_drain_cycles", "mem_stall_cycles", "vector_cycles",
    "compute_util", "overall_util", "mapping_eff", "dram_read_bytes", "dram_write_bytes",
    "arith_intensity", "achieved_flops_per_s", "roof_flops_per_s", "bound",
)

# Relative tolerance for floating-point values that the reader re-derives from integer columns.
# Writers print floats with at least 9 significant digits; 6 (C++'s default) also passes.
# Optional energy columns (docs/energy.md): the total, then one per component, in this order.
ENERGY_COMPONENTS = ("mac", "register", "transfer", "sram_ifmap", "sram_filter", "sram_ofmap",
                     "dram", "vector")
ENERGY_COLUMNS = ("energy_pj",) + tuple(f"energy_{c}_pj" for c in ENERGY_COMPONENTS)
REL_TOL = 1e-4
ABS_TOL = 1e-12

CANONICAL = (("vector_add", "Vector Add"), ("matrix_multiply", "Matrix Multiply"))

_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_INT_RE = re.compile(r"^[0-9]+$")


class RunInputError(Exception):
    """A problem with the run folder's files; str() is one line."""


def _close(a: float, b: float, rel: float = REL_TOL) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), ABS_TOL)


@dataclass
class LayerRow:
    index: int
    layer: int
    name: str
    type: str
    M: Optional[int]
    N: Optional[int]
    K: Optional[int]
    repeat: Optional[int]
    macs: int
    flops: int
    folds: int
    total_cycles: int
    compute_cycles: int
    fill_drain_cycles: int
    mem_stall_cycles: int
    vector_cycles: int
    compute_util: Optional[float]
    overall_util: float
    mapping_eff: Optional[float]
    dram_read_bytes: int
    dram_write_bytes: int
    arith_intensity: Optional[float]
    achieved_flops_per_s: float
    roof_flops_per_s: float
    bound: str
    line: int = 0  # line of layers.csv the row ends on
    fused_into: str = ""  # a fused op: the GEMM op whose output stage applied it (no cycles)
    stage_cycles: int = 0  # the op's end waited only for its output stage (fused ops)
    energy: Optional[dict] = None  # component -> pJ (docs/energy.md); None: no energy columns

    @property
    def is_gemm(self) -> bool:
        return self.M is not None

    @property
    def dram_bytes(self) -> int:
        return self.dram_read_bytes + self.dram_write_bytes


@dataclass
class Canonical:
    key: str
    label: str
    flops: int
    dram_bytes: int
    cycles: int
    achieved_flops_per_s: float
    description: str = ""


@dataclass
class Run:
    folder: str
    summary: dict
    layers: list
    canonical: list = field(default_factory=list)
    fused: list = field(default_factory=list)  # rows of ops applied in a GEMM's output stage

    # Shorthands for the hardware numbers every figure needs.
    @property
    def hw(self) -> dict:
        return self.summary["hardware"]

    @property
    def rows(self) -> int:
        return self.hw["array_rows"]

    @property
    def cols(self) -> int:
        return self.hw["array_cols"]

    @property
    def clock_hz(self) -> float:
        return self.hw["clock_ghz"] * 1e9

    @property
    def peak(self) -> float:
        return self.hw["peak_flops_per_s"]

    @property
    def unit(self) -> str:
        """'OP' (integer operand type) or 'FLOP' (floating-point), for every label."""
        return units.op_unit(self.hw["data_type"])

    @property
    def vector_peak(self) -> Optional[float]:
        """The vector unit's compute roof in element operations per second (None: unknown)."""
        return self.hw.get("vector_peak_ops_per_s")

    @property
    def bandwidth(self) -> float:
        return self.hw["dram_bytes_per_s"]

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOPs/byte) where the bandwidth line meets the compute roof."""
        return self.peak / self.bandwidth


# --------------------------------------------------------------------------------------------
# summary.json


def _describe(v: Any) -> str:
    s = json.dumps(v)
    return s if len(s) <= 40 else s[:37] + "..."


class _Obj:
    """Typed access to a JSON object with error messages naming the dotted key."""

    def __init__(self, fname: str, path: str, d: Any):
        if not isinstance(d, dict):
            where = f"key '{path}'" if path else "top level"
            raise RunInputError(f"{fname}: {where}: expected an object, got {_describe(d)}")
        self.fname, self.path, self.d = fname, path, d

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def get(self, k: str, optional: bool = False) -> Any:
        if k not in self.d:
            if optional:
                return None
            raise RunInputError(f"{self.fname}: missing key '{self.key(k)}'")
        return self.d[k]

    def bad(self, k: str, v: Any, allowed: str) -> RunInputError:
        return RunInputError(f"{self.fname}: key '{self.key(k)}': {_describe(v)} is not {allowed}")

    def int(self, k: str, minimum: int = 0) -> int:
        v = self.get(k)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise self.bad(k, v, f"an integer >= {minimum}")
        return v

    def num(self, k: str, positive: bool = False, optional: bool = False) -> Optional[float]:
        v = self.get(k, optional)
        if v is None and optional:
            return None
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or v < 0 or (positive and v == 0):
            raise self.bad(k, v, "a number > 0" if positive else "a number >= 0")
        return float(v)

    def str(self, k: str, optional: bool = False) -> Optional[str]:
        v = self.get(k, optional)
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.bad(k, v, "a non-empty string")
        return v

    def bool(self, k: str) -> bool:
        v = self.get(k)
        if not isinstance(v, bool):
            raise self.bad(k, v, "true or false")
        return v

    def obj(self, k: str, optional: bool = False) -> Optional["_Obj"]:
        v = self.get(k, optional)
        if v is None and optional:
            return None
        return _Obj(self.fname, self.key(k), v)

    def check(self, k: str, value: float, expected: float, formula: str) -> None:
        if not _close(value, expected):
            raise RunInputError(
                f"{self.fname}: key '{self.key(k)}': {value:.9g} does not match "
                f"{formula} = {expected:.9g}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _read_text(path: str) -> str:
    fname = os.path.basename(path)
    if not os.path.exists(path):
        raise RunInputError(f"{path}: file not found (the simulator writes it into the run folder)")
    if not os.path.isfile(path):
        raise RunInputError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RunInputError(f"{path}: cannot read: {e.strerror}") from None
    if b"\0" in data:
        raise RunInputError(f"{fname}: binary data (NUL byte); expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RunInputError(f"{fname}:{line}: invalid UTF-8; expected UTF-8 text") from None


def read_summary(path: str) -> tuple[dict, list]:
    """Parses and checks summary.json; returns (normalised summary, canonical kernels)."""
    fname = os.path.basename(path)
    text = _read_text(path)
    if not text.strip():
        raise RunInputError(f"{fname}: empty file; expected a JSON object")
    try:
        raw = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise RunInputError(f"{fname}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except ValueError as e:
        raise RunInputError(f"{fname}: invalid JSON: {e}") from None
    top = _Obj(fname, "", raw)

    version = top.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise RunInputError(
            f"{fname}: key 'schema_version': {_describe(version)} is not supported "
            f"(this script reads {SCHEMA_VERSION})")
    out: dict = {"schema_version": SCHEMA_VERSION}
    out["tool"] = top.str("tool", optional=True) or "systolic-sim"
    out["tool_version"] = top.str("tool_version")
    out["run_name"] = top.str("run_name")

    wl = top.obj("workload")
    out["workload"] = dict(wl.d, name=wl.str("name"), layers=wl.int("layers", 1))

    h = top.obj("hardware")
    hw = dict(h.d)
    hw["array_rows"] = h.int("array_rows", 1)
    hw["array_cols"] = h.int("array_cols", 1)
    df = h.str("dataflow")
    if df.lower() not in ("os", "ws", "is"):
        raise h.bad("dataflow", df, "one of os, ws, is")
    hw["dataflow"] = df.lower()
    hw["clock_ghz"] = h.num("clock_ghz", positive=True)
    hw["peak_flops_per_s"] = h.num("peak_flops_per_s", positive=True)
    h.check("peak_flops_per_s", hw["peak_flops_per_s"],
            2.0 * hw["array_rows"] * hw["array_cols"] * hw["clock_ghz"] * 1e9,
            "2 * array_rows * array_cols * clock_ghz * 1e9")
    if "peak_ops_per_s" in h.d:  # the name since tool 0.2; peak_flops_per_s kept one version
        h.check("peak_ops_per_s", h.num("peak_ops_per_s", positive=True),
                hw["peak_flops_per_s"], "peak_flops_per_s")
    # The array's operand type: OP/s for an integer type, FLOP/s for a floating one. Runs
    # written before the key existed were int8 (the simulator's only operand type).
    hw["data_type"] = h.str("data_type", optional=True) or "int8"
    hw["dram_bytes_per_s"] = h.num("dram_bytes_per_s", positive=True)
    # The vector unit's compute roof: lanes x clock element operations per second.
    vpeak = h.num("vector_peak_ops_per_s", positive=True, optional=True)
    if vpeak is None and "vector_lanes" in h.d:
        vpeak = h.int("vector_lanes", 1) * hw["clock_ghz"] * 1e9
    elif vpeak is not None and "vector_lanes" in h.d:
        h.check("vector_peak_ops_per_s", vpeak, h.int("vector_lanes", 1) * hw["clock_ghz"] * 1e9,
                "vector_lanes * clock_ghz * 1e9")
    hw["vector_peak_ops_per_s"] = vpeak
    sram = h.obj("sram_kib")
    hw["sram_kib"] = {k: sram.num(k) for k in ("ifmap", "filter", "ofmap")}
    hw["fold_overlap"] = h.bool("fold_overlap")
    out["hardware"] = hw

    t = top.obj("totals")
    tot = dict(t.d)
    for k in ("cycles", "macs", "flops", "dram_read_bytes", "dram_write_bytes", "dram_bytes"):
        tot[k] = t.int(k, 1 if k == "cycles" else 0)
    for k in ("seconds", "utilization", "achieved_flops_per_s"):
        tot[k] = t.num(k)
    clock_hz = hw["clock_ghz"] * 1e9
    pes = hw["array_rows"] * hw["array_cols"]
    if tot["dram_bytes"] != tot["dram_read_bytes"] + tot["dram_write_bytes"]:
        raise t.bad("dram_bytes", tot["dram_bytes"],
                    f"dram_read_bytes + dram_write_bytes = "
                    f"{tot['dram_read_bytes'] + tot['dram_write_bytes']}")
    t.check("seconds", tot["seconds"], tot["cycles"] / clock_hz, "cycles / (clock_ghz * 1e9)")
    t.check("utilization", tot["utilization"], tot["macs"] / (pes * tot["cycles"]),
            "macs / (array_rows * array_cols * cycles)")
    t.check("achieved_flops_per_s", tot["achieved_flops_per_s"],
            tot["flops"] * clock_hz / tot["cycles"], "flops / seconds")
    out["totals"] = tot

    # Energy and area (docs/energy.md), optional: runs before they existed have neither.
    e = top.obj("energy", optional=True)
    if e is not None:
        energy = dict(e.d)
        for k in ("technology_nm", "total_pj", "pj_per_mac", "tops_per_w",
                  "energy_delay_product_j_s"):
            energy[k] = e.num(k)
        by = e.obj("by_component_pj")
        energy["by_component_pj"] = {c: by.num(c) for c in ENERGY_COMPONENTS}
        e.check("total_pj", energy["total_pj"], sum(energy["by_component_pj"].values()),
                "the sum of by_component_pj")
        if tot["macs"]:
            e.check("pj_per_mac", energy["pj_per_mac"], energy["total_pj"] / tot["macs"],
                    "total_pj / totals.macs")
        if energy["total_pj"] > 0:
            e.check("tops_per_w", energy["tops_per_w"],
                    tot["flops"] / (energy["total_pj"] * 1e-12) / 1e12,
                    "totals.flops / (total_pj * 1e-12) / 1e12")
        out["energy"] = energy
    a = top.obj("area", optional=True)
    if a is not None:
        out["area"] = dict(a.d, total_mm2=a.num("total_mm2"))

    canonical = []
    c = top.obj("canonical", optional=True)
    if c is not None:
        for key, label in CANONICAL:
            k = c.obj(key)
            entry = Canonical(
                key=key, label=label,
                flops=k.int("flops", 1), dram_bytes=k.int("dram_bytes", 1),
                cycles=k.int("cycles", 1),
                achieved_flops_per_s=k.num("achieved_flops_per_s", positive=True),
                description=k.str("description", optional=True) or "")
            k.check("achieved_flops_per_s", entry.achieved_flops_per_s,
                    entry.flops * clock_hz / entry.cycles, "flops / (cycles / (clock_ghz * 1e9))")
            canonical.append(entry)
        out["canonical"] = c.d
    return out, canonical


# --------------------------------------------------------------------------------------------
# layers.csv


class _Row:
    """Typed access to one CSV row with messages naming file:line and the column."""

    def __init__(self, fname: str, line: int, cells: dict):
        self.fname, self.line, self.cells = fname, line, cells

    def bad(self, col: str, allowed: str) -> RunInputError:
        v = self.cells[col]
        shown = v if len(v) <= 40 else v[:37] + "..."
        return RunInputError(
            f"{self.fname}:{self.line}: column '{col}': '{shown}' is not {allowed}")

    def int(self, col: str, minimum: int = 0, empty_ok: bool = False) -> Optional[int]:
        v = self.cells[col].strip()
        if v == "" and empty_ok:
            return None
        if not _INT_RE.match(v) or int(v) < minimum:
            raise self.bad(col, f"an integer >= {minimum}" + (" or empty" if empty_ok else ""))
        return int(v)

    def num(self, col: str, empty_ok: bool = False, maximum: Optional[float] = None
            ) -> Optional[float]:
        v = self.cells[col].strip()
        if v == "" and empty_ok:
            return None
        allowed = "a number >= 0" + (f" and <= {maximum:g}" if maximum is not None else "")
        allowed += " or empty" if empty_ok else ""
        try:
            x = float(v)
        except ValueError:
            raise self.bad(col, allowed) from None
        if not math.isfinite(x) or x < 0 or (maximum is not None and x > maximum * (1 + 1e-9)):
            raise self.bad(col, allowed)
        return x

    def check(self, col: str, value: Optional[float], expected: float, formula: str) -> None:
        if value is None or not _close(value, expected):
            raise RunInputError(
                f"{self.fname}:{self.line}: column '{col}': '{self.cells[col]}' does not match "
                f"{formula} = {expected:.9g}")


def read_layers(path: str, hw: dict, workload_layers: int) -> list:
    """Parses and checks layers.csv against the hardware and workload of summary.json."""
    fname = os.path.basename(path)
    text = _read_text(path)
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise RunInputError(f"{fname}:1: malformed CSV: {e}") from None
    if header is None or not any(h.strip() for h in header):
        raise RunInputError(f"{fname}: empty file; expected a header line: "
                            + ",".join(LAYER_COLUMNS[:4]) + ",...")
    header = [h.strip() for h in header]
    seen = set()
    for h in header:
        if h in seen:
            raise RunInputError(f"{fname}:1: column '{h}' appears twice in the header")
        seen.add(h)
    missing = [c for c in LAYER_COLUMNS if c not in seen]
    if missing:
        raise RunInputError(f"{fname}:1: header lacks column '{missing[0]}' "
                            f"({len(missing)} of {len(LAYER_COLUMNS)} required columns missing)")

    has_energy = any(c in seen for c in ENERGY_COLUMNS)
    if has_energy:
        lacking = [c for c in ENERGY_COLUMNS if c not in seen]
        if lacking:
            raise RunInputError(f"{fname}:1: header lacks column '{lacking[0]}' (energy columns "
                                f"come together: {', '.join(ENERGY_COLUMNS)})")

    pes = hw["array_rows"] * hw["array_cols"]
    clock_hz = hw["clock_ghz"] * 1e9
    peak, bw = hw["peak_flops_per_s"], hw["dram_bytes_per_s"]
    ridge = peak / bw
    layers = []
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise RunInputError(f"{fname}:{reader.line_num}: malformed CSV: {e}") from None
        line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != len(header):
            raise RunInputError(f"{fname}:{line}: {len(fields)} fields; the header has "
                                f"{len(header)}")
        r = _Row(fname, line, dict(zip(header, fields)))
        row_no = len(layers)

        index = r.int("index")
        if index != row_no:
            raise r.bad("index", f"{row_no} (rows are numbered 0, 1, 2, ... in file order)")
        layer = r.int("layer")
        if layer >= workload_layers:
            raise r.bad("layer", f"below workload.layers = {workload_layers} of summary.json")
        name = r.cells["name"].strip()
        if not name:
            raise r.bad("name", "a non-empty name")
        typ = r.cells["type"].strip()
        if not _TYPE_RE.match(typ):
            raise r.bad("type", "a lower-case word such as conv, linear, softmax")

        dims = [r.int(c, 1, empty_ok=True) for c in ("M", "N", "K", "repeat")]
        if any(d is None for d in dims) and not all(d is None for d in dims):
            col = ("M", "N", "K", "repeat")[[d is None for d in dims].index(True)]
            raise r.bad(col, "set (M, N, K and repeat are all set for a GEMM and all empty "
                             "for a vector op)")
        M, N, K, repeat = dims
        is_gemm = M is not None

        ints = {c: r.int(c) for c in ("macs", "flops", "folds", "total_cycles", "compute_cycles",
                                      "fill_drain_cycles", "mem_stall_cycles", "vector_cycles",
                                      "dram_read_bytes", "dram_write_bytes")}
        total = ints["total_cycles"]
        fused_into = r.cells.get("fused_into", "").strip()
        if total < 1 and not fused_into:
            raise r.bad("total_cycles", "an integer >= 1 (0 only for a row with fused_into)")
        stage = r.int("stage_cycles") if "stage_cycles" in r.cells else 0
        parts = (ints["compute_cycles"] + ints["fill_drain_cycles"] + ints["mem_stall_cycles"]
                 + ints["vector_cycles"] + stage)
        if parts != total:
            raise r.bad("total_cycles", f"compute_cycles + fill_drain_cycles + "
                                        f"mem_stall_cycles + vector_cycles + stage_cycles = {parts}")
        if is_gemm:
            if ints["macs"] != repeat * M * N * K:
                raise r.bad("macs", f"repeat * M * N * K = {repeat * M * N * K}")
            if ints["flops"] != 2 * ints["macs"]:
                raise r.bad("flops", f"2 * macs = {2 * ints['macs']} (a GEMM row)")
            if ints["folds"] < 1:
                raise r.bad("folds", "an integer >= 1 (a GEMM row)")
        else:
            for c in ("macs", "folds", "compute_cycles", "fill_drain_cycles"):
                if ints[c] != 0:
                    raise r.bad(c, "0 (a vector-op row: M, N, K are empty)")

        compute_util = r.num("compute_util", empty_ok=not is_gemm, maximum=1.0)
        overall_util = r.num("overall_util", maximum=1.0)
        mapping_eff = r.num("mapping_eff", empty_ok=not is_gemm, maximum=1.0)
        if not is_gemm:  # undefined for vector ops: a number written there is ignored
            compute_util = mapping_eff = None
        r.check("overall_util", overall_util, ints["macs"] / (pes * total) if total else 0.0,
                "macs / (array_rows * array_cols * total_cycles)")
        busy = ints["compute_cycles"] + ints["fill_drain_cycles"]
        if is_gemm and busy > 0:
            r.check("compute_util", compute_util, ints["macs"] / (pes * busy),
                    "macs / (array_rows * array_cols * (compute_cycles + fill_drain_cycles))")

        nbytes = ints["dram_read_bytes"] + ints["dram_write_bytes"]
        ai = r.num("arith_intensity", empty_ok=(nbytes == 0))
        if nbytes > 0:
            r.check("arith_intensity", ai, ints["flops"] / nbytes,
                    "flops / (dram_read_bytes + dram_write_bytes)")
        elif ai is not None:
            raise r.bad("arith_intensity", "empty (the row moved no DRAM bytes)")
        achieved = r.num("achieved_flops_per_s")
        r.check("achieved_flops_per_s", achieved,
                ints["flops"] * clock_hz / total if total else 0.0,
                "flops / (total_cycles / (clock_ghz * 1e9))")
        roof_expected = peak if nbytes == 0 else min(peak, bw * ints["flops"] / nbytes)
        roof = r.num("roof_flops_per_s")
        r.check("roof_flops_per_s", roof, roof_expected,
                "min(peak_flops_per_s, dram_bytes_per_s * arith_intensity)")
        bound = r.cells["bound"].strip()
        if bound not in ("memory", "compute"):
            raise r.bad("bound", "memory or compute")
        if nbytes == 0:
            expected_bound = {"compute"}
        else:
            ai_exact = ints["flops"] / nbytes
            if _close(ai_exact, ridge):
                expected_bound = {"compute", "memory"}
            else:
                expected_bound = {"compute" if ai_exact > ridge else "memory"}
        if bound not in expected_bound:
            raise r.bad("bound", f"{'/'.join(sorted(expected_bound))} (arithmetic intensity "
                                 f"{(ints['flops'] / nbytes) if nbytes else math.inf:.6g} vs "
                                 f"ridge {ridge:.6g} FLOPs/byte)")

        energy = None
        if has_energy:
            energy = {c: r.num(f"energy_{c}_pj") for c in ENERGY_COMPONENTS}
            r.check("energy_pj", r.num("energy_pj"), sum(energy.values()),
                    "the sum of the energy_*_pj columns")
        layers.append(LayerRow(
            energy=energy, index=index, layer=layer, name=name, type=typ, M=M, N=N, K=K, repeat=repeat,
            compute_util=compute_util, overall_util=overall_util, mapping_eff=mapping_eff,
            arith_intensity=ai, achieved_flops_per_s=achieved, roof_flops_per_s=roof,
            bound=bound, line=line, fused_into=fused_into, stage_cycles=stage, **ints))
    if not layers:
        raise RunInputError(f"{fname}: no layer rows after the header")
    return layers


def _check_totals(summary: dict, layers: list) -> None:
    tot = summary["totals"]
    sums = {
        "cycles": sum(l.total_cycles for l in layers),
        "macs": sum(l.macs for l in layers),
        "flops": sum(l.flops for l in layers),
        "dram_read_bytes": sum(l.dram_read_bytes for l in layers),
        "dram_write_bytes": sum(l.dram_write_bytes for l in layers),
    }
    col = {"cycles": "total_cycles"}
    for k, s in sums.items():
        if tot[k] != s:
            raise RunInputError(
                f"summary.json: key 'totals.{k}': {tot[k]} is not the sum of layers.csv column "
                f"'{col.get(k, k)}' = {s}")
    energy = summary.get("energy")
    have = [l.energy is not None for l in layers]
    if energy is not None and all(have):
        s = sum(sum(l.energy.values()) for l in layers)
        if not _close(energy["total_pj"], s):
            raise RunInputError(
                f"summary.json: key 'energy.total_pj': {energy['total_pj']:.9g} is not the sum "
                f"of layers.csv column 'energy_pj' = {s:.9g}")
    elif energy is not None or any(have):
        raise RunInputError("summary.json: key 'energy': present in one of summary.json and "
                            "layers.csv (energy_pj) but not in the other")


def load_run(folder: str) -> Run:
    """Reads and checks a run folder; raises RunInputError on any problem."""
    if not os.path.exists(folder):
        raise RunInputError(f"{folder}: run folder not found")
    if not os.path.isdir(folder):
        raise RunInputError(f"{folder}: not a folder (expected the run folder of systolic-sim)")
    summary, canonical = read_summary(os.path.join(folder, "summary.json"))
    layers = read_layers(os.path.join(folder, "layers.csv"), summary["hardware"],
                         summary["workload"]["layers"])
    _check_totals(summary, layers)
    # Fused ops have no time of their own: the figures and tables show the ops that ran.
    ran = [l for l in layers if not l.fused_into]
    fused = [l for l in layers if l.fused_into]
    return Run(folder=folder, summary=summary, layers=ran, canonical=canonical, fused=fused)
