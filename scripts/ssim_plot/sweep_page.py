"""The sweep's self-contained report.html: the figures, the sweep table, the hardware in words.
Standard library only."""

from __future__ import annotations

import html
import os

from . import units
from .sweep_data import Sweep, has_energy, pareto_front, slug

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
            f'<img src="{page.data_uri(svg, "image/svg+xml")}" alt="{_esc(title)}">'
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

    cards = [page.card("points", f"{len(ok)} of {total}",
                        "finished" + (f", {len(failed)} failed" if failed else ""), "points")]
    best_rows = []
    for w in sweep.workloads:
        pts = [p for p in ok if p.workload == w]
        if not pts:
            continue
        fast = min(pts, key=lambda p: (p.cycles, p.pes, p.index))
        util = max(pts, key=lambda p: (p.utilization, -p.index))
        cards.append(page.card(f"fastest: {w}", units.si(fast.cycles) + " cycles",
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
<section id="parameters"><h2>Swept hardware</h2>{page.kv(axes_rows)}</section>
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
{page.json_script("sweep-data", data)}
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
