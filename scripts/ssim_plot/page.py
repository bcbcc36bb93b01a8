"""report.html: one self-contained page (inline CSS and JS, figures as data: URIs, no network)."""

from __future__ import annotations

import base64
import html
import json
import os

from . import units
from .rundata import Run
from .views import roofline_data

DATAFLOW_NAMES = {"os": "output stationary", "ws": "weight stationary",
                  "is": "input stationary"}
PART_LABELS = (("compute_cycles", "compute"), ("fill_drain_cycles", "fill / drain"),
               ("mem_stall_cycles", "memory stall"), ("vector_cycles", "vector ops"),
               ("stage_cycles", "output stage"))

CSS = """
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d9dee5; --band:#f3f5f8; --accent:#1f4e79; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; }
.lead { font-size: 15.5px; max-width: 1000px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px;
  margin-top: 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  background: #fbfcfd; }
.card .k { font-size: 12.5px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; }
.card .v { font-size: 22px; font-weight: bold; color: var(--accent); white-space: nowrap; }
.card .s { font-size: 12.5px; color: var(--muted); }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(380px, 100%), 1fr));
  gap: 8px 36px; }
.cols > * { min-width: 0; }
table.kv { border-collapse: collapse; width: 100%; }
table.kv th { text-align: left; font-weight: normal; color: var(--muted); padding: 4px 14px 4px 0;
  vertical-align: top; width: 45%; }
table.kv td { padding: 4px 0; }
table.kv tr + tr th, table.kv tr + tr td { border-top: 1px solid #eef0f3; }
table.grid { border-collapse: collapse; font-size: 13.5px; }
table.grid th, table.grid td { padding: 4px 8px; border-bottom: 1px solid #e6e9ee;
  white-space: nowrap; }
table.grid thead th { background: #eef2f6; text-align: left; position: sticky; top: 0; z-index: 1;
  border-bottom: 2px solid var(--line); }
table.grid td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.grid td.wrap { white-space: normal; min-width: 16em; }
table.grid tbody tr:nth-child(even) { background: var(--band); }
table.grid tbody tr:hover { background: #e3ecf6; }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th:hover { background: #dfe7f0; }
table.sortable thead th::after { content: " \\2195"; color: #a3acb8; font-size: 11px; }
table.sortable thead th[aria-sort=ascending]::after { content: " \\25B2"; color: var(--accent); }
table.sortable thead th[aria-sort=descending]::after { content: " \\25BC"; color: var(--accent); }
.table-wrap { overflow: auto; max-height: 80vh; max-width: 100%; border: 1px solid var(--line);
  border-radius: 6px; }
/* The per-layer table scrolls inside its box; the row number and the name stay in view. */
table.sticky-cols th:nth-child(1), table.sticky-cols td:nth-child(1) { position: sticky; left: 0;
  z-index: 2; min-width: 3.4em; max-width: 3.4em; width: 3.4em; background: #fff; }
table.sticky-cols th:nth-child(2), table.sticky-cols td:nth-child(2) { position: sticky;
  left: 3.4em; z-index: 2; background: #fff; box-shadow: inset -1px 0 0 var(--line); }
table.sticky-cols tbody tr:nth-child(even) td:nth-child(-n+2) { background: var(--band); }
table.sticky-cols tbody tr:hover td:nth-child(-n+2) { background: #e3ecf6; }
table.sticky-cols thead th:nth-child(-n+2) { z-index: 3; background: #eef2f6; }
.bound-memory { color: #b03a2e; } .bound-compute { color: #1e7b45; }
td.name { max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
.bar { display: inline-block; height: 9px; background: var(--accent); vertical-align: middle;
  margin-right: 6px; border-radius: 2px; }
figure { margin: 0 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 6px; background: #fff; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 1000px; }
figcaption a { color: var(--accent); }
ol.top { margin: 6px 0 0; padding-left: 22px; }
.muted { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
"""

JS = """
(function () {
  function key(cell, numeric) {
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent.trim();
    if (!numeric) return v.toLowerCase();
    return v === '' ? null : parseFloat(v);
  }
  function sortBy(table, th, col) {
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var numeric = th.getAttribute('data-type') === 'num';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
      return { row: r, k: key(r.cells[col], numeric), i: i };
    });
    rows.sort(function (a, b) {
      if (a.k === null || b.k === null) {  // empty cells last, either way
        if (a.k === b.k) return a.i - b.i;
        return a.k === null ? 1 : -1;
      }
      var c = a.k < b.k ? -1 : (a.k > b.k ? 1 : 0);
      return (asc ? c : -c) || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.setAttribute('tabindex', '0');
      var what = th.getAttribute('aria-description');
      th.setAttribute('title', (what ? what + ': ' : '') + 'click to sort');
      th.addEventListener('click', function () { sortBy(table, th, col); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, th, col); }
      });
    });
  });
})();
"""


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def data_uri(path: str, mime: str) -> str:
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode('ascii')}"


def card(key: str, value: str, sub: str = "", ident: str = "") -> str:
    ident_attr = f' id="{esc(ident)}"' if ident else ""
    sub_html = f'<div class="s">{esc(sub)}</div>' if sub else ""
    return (f'<div class="card"{ident_attr}><div class="k">{esc(key)}</div>'
            f'<div class="v">{esc(value)}</div>{sub_html}</div>')


def kv(rows) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _pretty_key(k: str) -> str:
    return k.replace("_", " ")


def _on(v) -> str:
    return "on" if v else "off"


# summary.json hardware keys the page shows in words (key: label, format); the keys of the
# first lines (array, clock, peaks, bandwidth, SRAM) are shown by _hardware itself.
_HW_WORDS = {
    "dram_latency_cycles": ("DRAM latency", lambda v: f"{units.count(int(v))} cycles"),
    "unlimited_bandwidth": ("unlimited bandwidth", _on),
    "fold_overlap": ("fold overlap", _on),
    "fusion": ("fusion of vector ops into GEMM output stages", _on),
    "residency": ("activations kept on chip (residency)", _on),
    "op_overlap": ("ops overlap (next op's weights prefetched, write-backs handed off)", _on),
    "load_ahead": ("loads ahead of program order in idle channel time", _on),
    "fidelity": ("fidelity", str),
}
_HW_SHOWN = {"array_rows", "array_cols", "dataflow", "clock_ghz", "peak_flops_per_s",
             "peak_ops_per_s", "dram_bytes_per_s", "dram_bytes_per_cycle", "sram_kib",
             "data_type", "vector_lanes", "vector_peak_ops_per_s"}


def hardware_line(run: Run) -> str:
    """The hardware in one line: array, dataflow, clock, peaks, DRAM, SRAM, vector unit."""
    hw = run.hw
    sram = hw["sram_kib"]
    parts = [f"{hw['array_rows']}\u00d7{hw['array_cols']} {hw['dataflow'].upper()} array",
             f"{units.plain(hw['clock_ghz'])} GHz",
             f"{units.ops_per_s(run.peak, run.unit)} {hw['data_type']} peak",
             f"DRAM {units.bytes_per_s(run.bandwidth)}",
             "SRAM " + "/".join(units.plain(v) for v in sram.values()) + " KiB ("
             + "/".join(sram) + ")"]
    if "vector_lanes" in hw:
        parts.append(f"vector unit {hw['vector_lanes']} lanes")
    return " \u00b7 ".join(parts)


def _hardware(run: Run) -> str:
    hw = run.hw
    clock_hz = run.clock_hz
    unit = run.unit
    sram = hw["sram_kib"]
    rows = [
        ("array", f"{hw['array_rows']} &times; {hw['array_cols']} PEs "
                  f"({units.count(hw['array_rows'] * hw['array_cols'])} MACs per cycle), "
                  f"{esc(hw['data_type'])} operands"),
        ("dataflow", f"{esc(hw['dataflow'].upper())} "
                     f"({esc(DATAFLOW_NAMES[hw['dataflow']])})"),
        ("clock", f"{esc(units.plain(hw['clock_ghz']))} GHz"),
        ("peak compute", f"{esc(units.ops_per_s(run.peak, unit))} (2 {unit}s per MAC)"),
        ("DRAM bandwidth", f"{esc(units.bytes_per_s(run.bandwidth))} "
                           f"({esc(units.plain(run.bandwidth / clock_hz))} bytes per cycle)"),
        ("ridge point", f"{esc(units.plain(run.ridge))} {unit}s per DRAM byte"),
        ("SRAM", " &middot; ".join(f"{esc(k)} {esc(units.plain(v))} KiB"
                                   for k, v in sram.items())),
    ]
    if "vector_lanes" in hw:
        peak = (f", {esc(units.ops_per_s(run.vector_peak, unit))} peak"
                if run.vector_peak else "")
        rows.append(("vector unit", f"{esc(hw['vector_lanes'])} lanes{peak}"))
    for k, v in hw.items():
        if k in _HW_SHOWN:
            continue
        if k in _HW_WORDS:
            label, shown = _HW_WORDS[k][0], _HW_WORDS[k][1](v)
        elif isinstance(v, bool):
            label, shown = _pretty_key(k), _on(v)
        elif isinstance(v, (dict, list)):
            label, shown = _pretty_key(k), json.dumps(v, separators=(", ", ": "))
        else:
            label, shown = _pretty_key(k), str(v)
        rows.append((label, esc(shown)))
    return kv(rows)


def _workload(run: Run) -> str:
    wl = run.summary["workload"]
    layers = run.layers
    gemm = sum(1 for l in layers if l.is_gemm)
    mem = sum(1 for l in layers if l.bound == "memory")
    total = run.summary["totals"]["cycles"]
    rows = [("name", esc(wl["name"])),
            ("network layers", esc(units.count(wl["layers"]))),
            ("ops that ran", f"{len(layers)} ({gemm} on the array, "
                             f"{len(layers) - gemm} on the vector unit)"
             + (f", and {len(run.fused)} fused into GEMM output stages" if run.fused else "")),
            ("memory-bound ops", f"{mem} of {len(layers)}")]
    words = {"ops": "lowered ops", "fingerprint": "fingerprint (of the lowered ops)"}
    for k, v in wl.items():
        if k not in ("name", "layers"):
            rows.append((words.get(k, _pretty_key(k)),
                         esc(v if isinstance(v, str) else json.dumps(v))))
    top = sorted(layers, key=lambda l: (-l.total_cycles, l.index))[:5]
    items = "".join(
        f"<li><b>{esc(l.name)}</b> <span class=\"muted\">[{esc(l.type)}]</span>: "
        f"{esc(units.count(l.total_cycles))} cycles ({esc(units.share(l.total_cycles / total))})"
        f"</li>" for l in top)
    return (kv(rows) + f'<h3 style="margin-top:14px">The {len(top)} most expensive ops</h3>'
            f'<ol class="top" id="top-layers">{items}</ol>')


def _canonical(run: Run) -> str:
    if not run.canonical:
        return ('<p class="muted" id="reference">summary.json has no reference kernels '
                '(<code>canonical</code>).</p>')
    u = run.unit
    head = (f"<tr><th>kernel</th><th>what</th><th>{u}s</th><th>DRAM bytes</th>"
            f"<th>{u}s/byte</th><th>cycles</th><th>achieved</th><th>of its roof</th>"
            "<th>bound</th></tr>")
    roofs = {c["key"]: c["roof"] for c in roofline_data(run)["canonical"]}
    body = ""
    for c in run.canonical:
        ai = c.flops / c.dram_bytes
        achieved = c.flops * run.clock_hz / c.cycles
        bound = "compute" if ai >= run.ridge else "memory"
        body += (f"<tr><td><b>{esc(c.label)}</b></td><td class=\"wrap\">{esc(c.description)}</td>"
                 f'<td class="n">{esc(units.si(c.flops))}</td>'
                 f'<td class="n">{esc(units.nbytes(c.dram_bytes))}</td>'
                 f'<td class="n">{esc(units.plain(ai))}</td>'
                 f'<td class="n">{esc(units.count(c.cycles))}</td>'
                 f'<td class="n">{esc(units.ops_per_s(achieved, u))}</td>'
                 f'<td class="n">{esc(units.share(achieved / roofs[c.key]))}</td>'
                 f'<td class="bound-{bound}">{bound}</td></tr>')
    # In a box that scrolls sideways on a narrow window, as the per-layer table does.
    return (f'<div class="table-wrap"><table class="grid" id="reference"><thead>{head}</thead>'
            f"<tbody>{body}</tbody></table></div>")


def _num(v, text: str) -> str:
    return f'<td class="n" data-v="{esc(v)}">{esc(text)}</td>'


def _empty() -> str:
    return '<td class="n" data-v=""></td>'


# (header, numeric?, tooltip)
LAYER_HEADERS = (
    ("#", True, "row index (execution order)"), ("name", False, ""), ("type", False, ""),
    ("GEMM M\u00d7N\u00d7K", True, "GEMM shape (\u00d7 repeat); sorted by MACs"),
    ("MACs", True, ""), ("folds", True, "array folds"),
    ("cycles", True, "total cycles of the row"), ("of run", True, "share of the run's cycles"),
    ("compute", True, "compute cycles, share of the row"),
    ("fill/drain", True, "fill and drain cycles, share of the row"),
    ("mem stall", True, "memory stall cycles, share of the row"),
    ("vector", True, "vector-op cycles, share of the row"),
    ("compute util", True, "MACs / PE-cycles while the array works (compute + fill/drain)"),
    ("overall util", True, "MACs / PE-cycles of the whole row"),
    ("mapping eff", True, "share of PEs holding data, over the folds"),
    ("DRAM bytes", True, "bytes read + written"),
    ("OPs/byte", True, "arithmetic intensity"),
    ("achieved", True, "OP/s from the simulated cycles"),
    ("of roof", True, "achieved / roofline bound (the vector unit's roof for vector ops)"),
    ("bound", False, "which roof binds"),
)


def _layer_table(run: Run) -> str:
    total = run.summary["totals"]["cycles"]
    head = ""
    for h, numeric, tip in LAYER_HEADERS:
        h, tip = h.replace("OP", run.unit), tip.replace("OP", run.unit)
        attrs = ' data-type="num"' if numeric else ""
        attrs += f' aria-description="{esc(tip)}"' if tip else ""
        head += f'<th scope="col"{attrs}>{esc(h)}</th>'

    rows = []
    for l in run.layers:
        cells = [_num(l.index, str(l.index)),
                 f'<td class="name" title="{esc(l.name)} (network layer {l.layer})">'
                 f"{esc(l.name)}</td>",
                 f"<td>{esc(l.type)}</td>"]
        if l.is_gemm:
            shape = f"{l.M}\u00d7{l.N}\u00d7{l.K}" + (f" \u00d7{l.repeat}" if l.repeat > 1 else "")
            cells += [_num(l.macs, shape), _num(l.macs, units.si(l.macs)),
                      _num(l.folds, units.count(l.folds))]
        else:
            cells += ['<td class="n muted" data-v="">vector op</td>', _num(0, "0"), _num(0, "0")]
        cells.append(_num(l.total_cycles, units.count(l.total_cycles)))
        share = l.total_cycles / total
        cells.append(f'<td class="n" data-v="{share:.9g}"><span class="bar" style="width:'
                     f'{max(1, round(60 * share))}px"></span>{esc(units.share(share))}</td>')
        for col, label in PART_LABELS:
            v = getattr(l, col)
            cells.append(f'<td class="n" data-v="{v / l.total_cycles:.9g}" '
                         f'title="{esc(units.count(v))} cycles of {esc(label)}">'
                         f"{esc(units.pct(v / l.total_cycles, 0))}</td>")
        for v in (l.compute_util, l.overall_util, l.mapping_eff):
            cells.append(_empty() if v is None else _num(f"{v:.9g}", units.share(v)))
        cells.append(f'<td class="n" data-v="{l.dram_bytes}" title="read '
                     f'{esc(units.count(l.dram_read_bytes))} B, written '
                     f'{esc(units.count(l.dram_write_bytes))} B">'
                     f"{esc(units.nbytes(l.dram_bytes))}</td>")
        if l.dram_bytes:
            ai = l.flops / l.dram_bytes
            cells.append(_num(f"{ai:.9g}", units.plain(ai)))
        else:
            cells.append(_empty())
        achieved = l.flops * run.clock_hz / l.total_cycles
        cells.append(_num(f"{achieved:.9g}", units.ops_per_s(achieved, run.unit)))
        roof = l.roof_flops_per_s
        if not l.is_gemm and run.vector_peak:  # the vector unit's roof
            roof = min(run.vector_peak, run.bandwidth * l.flops / l.dram_bytes) \
                if l.dram_bytes else run.vector_peak
        of_roof = achieved / roof if roof > 0 else 0.0
        cells.append(_num(f"{of_roof:.9g}", units.share(of_roof)))
        cells.append(f'<td class="bound-{esc(l.bound)}">{esc(l.bound)}</td>')
        rows.append(f'<tr data-index="{l.index}">' + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="grid sortable sticky-cols" id="layer-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _figure(folder: str, stem: str, title: str, caption: str) -> str:
    svg = os.path.join(folder, f"{stem}.svg")
    return (f'<figure id="fig-{stem}"><h3>{esc(title)}</h3>'
            f'<img src="{data_uri(svg, "image/svg+xml")}" alt="{esc(title)}">'
            f"<figcaption>{caption} Files: <a href=\"{stem}.svg\">{stem}.svg</a>, "
            f'<a href="{stem}.png">{stem}.png</a>.</figcaption></figure>')


def json_script(ident: str, data) -> str:
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{esc(ident)}">{text}</script>'


DEFAULT_RUN_NAME = "systolic_sim_run"  # sim/spec/config.hpp: the name of a run nobody named


def page_title(run: Run) -> str:
    """The run's name when someone gave it one, else the workload and the hardware."""
    name = run.summary["run_name"]
    if name and name != DEFAULT_RUN_NAME:
        return name
    hw = run.hw
    return (f"{run.summary['workload']['name']} on {hw['array_rows']}\u00d7{hw['array_cols']} "
            f"{hw['dataflow'].upper()}")


def render(run: Run, folder: str) -> str:
    s = run.summary
    tot = s["totals"]
    hw = run.hw
    total = tot["cycles"]
    parts = {label: sum(getattr(l, col) for l in run.layers) / total
             for col, label in PART_LABELS}
    where = ", ".join(f"{label} {units.share(v)}" for label, v in parts.items())
    u = run.unit
    array = f"{hw['array_rows']}\u00d7{hw['array_cols']} {hw['dataflow'].upper()} array"
    cards = "".join([
        card("total cycles", units.count(total), f"{len(run.layers)} ops ran", "total-cycles"),
        card("time", units.seconds(tot["seconds"]), f"at {units.plain(hw['clock_ghz'])} GHz",
              "total-time"),
        card("array utilization", units.share(tot["utilization"]),
              "MACs / (PEs \u00d7 cycles)", "total-utilization"),
        card("achieved", units.ops_per_s(tot["achieved_flops_per_s"], u),
              f"{units.share(tot['achieved_flops_per_s'] / run.peak)} of "
              f"{units.ops_per_s(run.peak, u)} peak", "total-achieved"),
        card("MACs", units.si(tot["macs"]), f"{units.si(tot['flops'])} {u}s", "total-macs"),
        card("DRAM traffic", units.nbytes(tot["dram_bytes"]),
              f"read {units.nbytes(tot['dram_read_bytes'])}, "
              f"written {units.nbytes(tot['dram_write_bytes'])}", "total-dram"),
    ])
    energy = s.get("energy")
    if energy is not None and all(l.energy is not None for l in run.layers):
        area = s.get("area", {}).get("total_mm2")
        cards += card("energy", units.energy(energy["total_pj"]),
                       f"{energy['pj_per_mac']:.3g} pJ/MAC at "
                       f"{units.plain(energy['technology_nm'])} nm", "total-energy")
        cards += card("efficiency", f"{energy['tops_per_w']:.3g} T{u}/s/W",
                       f"area {area:.3g} mm\u00b2" if area is not None else "", "total-efficiency")
    lead = (f"{esc(s['workload']['name'])} takes <b>{esc(units.count(total))} cycles</b> "
            f"({esc(units.seconds(tot['seconds']))}) on a {esc(array)}; the array's PEs do "
            f"useful work {esc(units.share(tot['utilization']))} of the time. "
            f"Where the cycles go: {esc(where)}.")
    figures = "".join([
        _figure(folder, "roofline", "Roofline",
                "Each dot is a group of identical ops (same kind and shape) placed from their "
                "simulated cycles and counted DRAM bytes; its area is the group's share of the "
                "run's time, \u00d7N its count; the ops that dominate the time are named"
                + ("; the stars are the two reference kernels run on the same hardware"
                   if run.canonical else "")
                + ". Left of the ridge point a kernel is limited by DRAM bandwidth, right of "
                "it by the array's peak; vector-unit ops sit under the vector unit's own roof."),
        _figure(folder, "utilization", "Utilization per layer",
                "One row per network layer that ran, its fused ops inside it. Overall "
                "utilization counts every cycle of the layer; compute utilization only the "
                "cycles the array works; mapping efficiency is the share of PEs a fold fills. "
                "A layer of vector ops only shows the vector unit's use instead."),
        _figure(folder, "time_breakdown", "Where the time goes",
                "Left: cycles per op split into compute, fill/drain, memory stall and vector "
                "ops, with the time at the clock on top. Right: the same split as a share of "
                "each op."),
    ])
    if energy is not None and all(l.energy is not None for l in run.layers):
        figures += _figure(
            folder, "energy_breakdown", "Where the energy goes",
            "Left: energy per network layer (its fused ops inside it) by component: MACs, the "
            "PEs' own registers, values moved from PE to PE, each SRAM buffer, DRAM and the "
            "vector unit, priced with the energy table of summary.json (docs/energy.md). "
            "Right: the same split as a share of each layer.")
    heading = page_title(run)
    title = f"systolic-sim report: {heading}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ssim_report.py ({esc(s['tool'])} {esc(s['tool_version'])})">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>{esc(heading)}</h1>
<p id="hardware-line">{esc(hardware_line(run))}</p>
<p class="muted">{esc(s['workload']['name'])} &middot; run {esc(s['run_name'])} &middot;
{esc(s['tool'])} {esc(s['tool_version'])}</p>
</header>
<section id="totals">
<div class="cards">{cards}</div>
<p class="lead">{lead}</p>
</section>
<div class="cols">
<section id="hardware"><h2>Hardware</h2>{_hardware(run)}</section>
<section id="workload"><h2>Workload</h2>{_workload(run)}</section>
</div>
<section id="reference-kernels"><h2>Reference kernels</h2>{_canonical(run)}</section>
<section id="figures"><h2>Figures</h2>{figures}</section>
<section id="layers"><h2>Per-op table</h2>
<p class="muted">One row per operation the accelerator ran, in execution order. Click a column
header to sort; hover a cell for exact counts.</p>
{_layer_table(run)}
</section>
<footer>Written by scripts/ssim_report.py from layers.csv and summary.json (schema version
{s['schema_version']}); the format is described in docs/report-format.md.</footer>
</main>
{json_script("roofline-data", roofline_data(run))}
<script>{JS}</script>
</body>
</html>
"""


def write(run: Run, folder: str) -> str:
    path = os.path.join(folder, "report.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(run, folder))
    os.replace(tmp, path)
    return path
