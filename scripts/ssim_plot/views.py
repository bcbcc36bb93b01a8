"""What the figures show of a run: the roofline's numbers, ops grouped by kind and name, and
the network's layers (docs/report-format.md). Reads only a loaded Run (rundata.load_run).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .rundata import LayerRow, Run


# --------------------------------------------------------------------------------------------
# What the roofline shows


def roofline_data(run: Run) -> dict:
    """The numbers behind the roofline figure, from the measured columns of the run.

    A layer's point is (ops / DRAM bytes, ops / seconds) with seconds = total_cycles / clock:
    simulated cycles and counted bytes, never a formula of the GEMM shape. Rows without ops or
    without DRAM traffic have no point (log axes) and are counted in `not_shown`. `groups` are
    the figure's dots (op_groups). Ops are FLOPs for a floating-point type and integer
    operations (OPs, 2 per MAC) for an integer type (`unit`); the `flops_per_s` keys are the
    same numbers under their old name.
    """
    points = []
    for l in run.layers:
        if l.flops == 0 or l.dram_bytes == 0:
            continue
        rate = l.flops * run.clock_hz / l.total_cycles
        points.append({
            "index": l.index, "name": l.name, "type": l.type,
            "ai": l.flops / l.dram_bytes, "ops_per_s": rate, "flops_per_s": rate,
            "bound": l.bound,
        })
    groups, not_shown = op_groups(run)
    vpeak = run.vector_peak
    canon = []
    for c in run.canonical:
        ai = c.flops / c.dram_bytes
        rate = c.flops * run.clock_hz / c.cycles
        on_vector = c.key == "vector_add" and vpeak is not None
        canon.append({"key": c.key, "label": c.label, "ai": ai, "ops_per_s": rate,
                      "flops_per_s": rate, "unit": "vector" if on_vector else "array",
                      "roof": min(vpeak if on_vector else run.peak, run.bandwidth * ai)})
    return {
        "unit": run.unit,
        "data_type": run.hw["data_type"],
        "peak_ops_per_s": run.peak,
        "peak_flops_per_s": run.peak,
        "vector_peak_ops_per_s": vpeak,
        "dram_bytes_per_s": run.bandwidth,
        "ridge_ai": run.ridge,
        "points": points,
        "groups": groups,
        "canonical": canon,
        "not_shown": not_shown,
    }


# --------------------------------------------------------------------------------------------
# Grouping rows: identical ops (the roofline) and network layers (the utilization figure)

_TOKEN_RE = re.compile(r"[0-9]+|[A-Za-z]+|[^A-Za-z0-9]+")


def _span(parts) -> str:
    """Differing numbers: 'a-b' when they count up by one (3, 4, 5 -> 3-5), else up to four of
    them as 1/3, else '*'."""
    if all(p.isdigit() for p in parts):
        nums = [int(p) for p in parts]
        if nums == list(range(nums[0], nums[0] + len(nums))):
            return f"{nums[0]}\u2013{nums[-1]}"
        if len(nums) <= 4:
            return "/".join(parts)
    return "*"


def name_pattern(names: list, spans: bool = False) -> str:
    """One name for a group of op names: the parts they share, '*' where they differ
    (layer3.1.conv2, layer3.2.conv2 -> layer3.*.conv2), else their common start and end
    (conv1.relu, layer1.0.conv2.relu -> *.relu); the first name and a count of the others when
    they are not alike. With `spans`, numbers that count up by one read as a range
    (layer3.1.conv1, layer3.2.conv1 -> layer3.1\u20132.conv1)."""
    if len(set(names)) == 1:
        return names[0]
    split = [_TOKEN_RE.findall(n) for n in names]
    if len({len(t) for t in split}) == 1:
        out = [parts[0] if len(set(parts)) == 1 else (_span(parts) if spans else "*")
               for parts in zip(*split)]
        shared = sum(len(p) for p in out if re.fullmatch(r"[A-Za-z]+", p))
        if shared >= 3:  # enough in common to read as a name
            return "".join(out)
    # Otherwise what they start and end with (conv1.relu, layer1.0.conv2.relu -> *.relu).
    prefix = os.path.commonprefix(names)
    suffix = os.path.commonprefix([n[len(prefix):][::-1] for n in names])[::-1]
    if len(re.sub(r"[^A-Za-z]", "", prefix + suffix)) >= 3:
        return f"{prefix}*{suffix}"
    return f"{names[0]} and {len(names) - 1} more"


def op_kind_key(l: LayerRow) -> tuple:
    """Ops that are the same computation: a GEMM of the same type and shape, a vector op of the
    same type and element count."""
    if l.is_gemm:
        return (l.type, l.M, l.N, l.K, l.repeat)
    return (l.type, l.flops)


def op_groups(run: Run) -> tuple:
    """The roofline's dots: the rows that can sit on log axes (ops and DRAM bytes > 0) grouped
    by op_kind_key, in order of first appearance. A group's point is its members' summed ops
    over their summed bytes and summed time; `share` is its part of the run's cycles.
    Returns (groups, rows not shown)."""
    total = run.summary["totals"]["cycles"]
    groups: dict = {}
    not_shown = 0
    for l in run.layers:
        if l.flops == 0 or l.dram_bytes == 0:
            not_shown += 1
            continue
        groups.setdefault(op_kind_key(l), []).append(l)
    out = []
    for key, rows in groups.items():
        ops = sum(l.flops for l in rows)
        nbytes = sum(l.dram_bytes for l in rows)
        cycles = sum(l.total_cycles for l in rows)
        first = rows[0]
        shape = (f"{first.M}\u00d7{first.N}\u00d7{first.K}"
                 + (f" \u00d7{first.repeat}" if first.repeat > 1 else "")) if first.is_gemm \
            else f"{first.flops:,} elements"
        out.append({
            "type": first.type, "unit": "array" if first.is_gemm else "vector",
            "count": len(rows), "indices": [l.index for l in rows],
            "name": name_pattern([l.name for l in rows]), "shape": shape,
            "ai": ops / nbytes, "ops_per_s": ops * run.clock_hz / cycles,
            "cycles": cycles, "share": cycles / total,
        })
    return out, not_shown


@dataclass
class NetLayer:
    """One network layer: the ops it lowered to (rows with the same `layer`), fused ops
    included."""
    layer: int
    name: str
    rows: list  # the ops that ran (cycles), in order
    fused: list  # the ops applied in a GEMM's output stage (no cycles)

    @property
    def on_array(self) -> bool:
        return any(l.is_gemm for l in self.rows)

    @property
    def cycles(self) -> int:
        return sum(l.total_cycles for l in self.rows)

    @property
    def macs(self) -> int:
        return sum(l.macs for l in self.rows)

    @property
    def vector_ops(self) -> int:
        return sum(l.flops for l in self.rows if not l.is_gemm)

    @property
    def types(self) -> list:
        out = []
        for l in self.rows + self.fused:
            if l.type not in out:
                out.append(l.type)
        return out


def net_layers(run: Run) -> list:
    """The run's network layers in execution order (order of their first row)."""
    by_layer: dict = {}
    for l in run.layers:  # in execution order
        by_layer.setdefault(l.layer, []).append(l)
    # A fused op shows in the layer of the GEMM whose output stage applied it.
    layer_of = {l.name: l.layer for l in run.layers}
    fused: dict = {}
    for l in run.fused:
        fused.setdefault(layer_of.get(l.fused_into, l.layer), []).append(l)
    out = []
    for layer, rows in by_layer.items():
        names = [l.name for l in rows]
        # The layer's own name: the part its ops' names share (conv1, conv1.relu -> conv1).
        name = os.path.commonprefix(names).rstrip(".") or names[0]
        out.append(NetLayer(layer=layer, name=name, rows=rows, fused=fused.get(layer, [])))
    return out
