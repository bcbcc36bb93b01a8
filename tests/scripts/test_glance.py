#!/usr/bin/env python3
"""Figures an architect reads at a glance (issue 19), checked on real runs of the simulator.

Two small runs made here by the binary with --report:
  net   resnet50 on a 32x32 WS array with fusion and residency off, so that the vector ops run on
        the vector unit with DRAM traffic of their own (121 ops, many of them identical);
  gemm  --gemm 4096,4096,4096 on 128x128, named with --run-name: the workload's GEMM is the
        same kernel as the roofline's "Matrix Multiply" reference star.
Every expected number is derived here from layers.csv and summary.json (or by hand), never taken
from the script's output; the SVGs are read as XML (text and element counts).

Run by ctest with SSIM_BINARY (the built systolic-sim) and SSIM_SOURCE_DIR (the repo root).
"""

import csv
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_folder_util import feed_file, read_layers_csv, read_summary  # noqa: E402

SOURCE = os.environ.get("SSIM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BINARY = os.environ.get("SSIM_BINARY") or shutil.which("systolic-sim") or ""
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
NS = "{http://www.w3.org/2000/svg}"

NET_ARGS = ["--workload", "resnet50", "--array", "32x32", "--dataflow", "ws", "--fusion", "off",
            "--residency", "off", "--report"]
GEMM_ARGS = ["--gemm", "4096,4096,4096", "--array", "128x128", "--run-name", "big-gemm",
             "--report"]


def simulate(args, out):
    return subprocess.run([BINARY] + args + ["--out", out], capture_output=True, text=True,
                          env=ENV, timeout=600)


def svg_root(path):
    return ET.parse(path).getroot()


def svg_texts(path):
    return ["".join(t.itertext()).strip() for t in svg_root(path).iter(NS + "text")]


def svg_group(root, ident):
    for g in root.iter(NS + "g"):
        if g.get("id") == ident:
            return g
    return None


def dots_in(group):
    """Markers of a scatter: one <path> each when their sizes differ, else <use> of a def."""
    return (sum(1 for c in group if c.tag == NS + "path")
            + sum(1 for _ in group.iter(NS + "use")))


def share_text(fraction):
    """How a share of at least 1 % must read: one decimal, no trailing zero, no exponent."""
    text = f"{100 * fraction:.1f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " %"


def groups_of_identical_ops(rows):
    """The spec of the roofline's dots: the ops that ran (not fused) with ops and DRAM bytes,
    grouped by kind and shape (GEMM: type, M, N, K, repeat; vector op: type, elements)."""
    groups = {}
    for r in rows:
        nbytes = int(r["dram_read_bytes"]) + int(r["dram_write_bytes"])
        if r.get("fused_into") or int(r["flops"]) == 0 or nbytes == 0:
            continue
        key = (r["type"], r["M"], r["N"], r["K"], r["repeat"]) if r["M"] else \
            (r["type"], r["flops"])
        groups.setdefault(key, []).append(r)
    return groups


class _Page(html.parser.HTMLParser):
    """Visible text by element id, <th> texts per table id, the <title> and <h1>."""

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.ths, self.title, self.h1 = [], {}, {}, "", ""
        self.visible = []
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or a.get("class") or "?"
        self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "script" in tags or "style" in tags:
            return
        self.visible.append(data)
        if tags and tags[-1] == "title":
            self.title += data
        if "h1" in tags:
            self.h1 += data
        if "th" in tags and self._table:
            self.ths.setdefault(self._table, []).append(data.strip())
        for _, ident in self.stack:
            if ident:
                self.text[ident] = self.text.get(ident, "") + data


def parse_page(path):
    return feed_file(_Page(), path)


def roofline_json(path):
    with open(path, encoding="utf-8") as f:
        m = re.search(r'<script type="application/json" id="roofline-data">(.*?)</script>',
                      f.read(), re.S)
    return json.loads(m.group(1))


class RealRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssim_glance_")
        cls.net = os.path.join(cls.tmp, "net")
        cls.gemm = os.path.join(cls.tmp, "gemm")
        cls.procs = {}
        if BINARY:
            cls.procs["net"] = simulate(NET_ARGS, cls.net)
            cls.procs["gemm"] = simulate(GEMM_ARGS, cls.gemm)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(BINARY and os.path.exists(BINARY), "SSIM_BINARY not set or missing")
        for name, proc in self.procs.items():
            self.assertEqual(proc.returncode, 0, f"{name}: {proc.stderr}")

    def fig(self, folder, stem):
        return os.path.join(folder, f"{stem}.svg")

    # --- roofline ---------------------------------------------------------------------------

    def test_one_dot_per_group_of_identical_ops(self):
        rows = read_layers_csv(self.net)
        groups = groups_of_identical_ops(rows)
        root = svg_root(self.fig(self.net, "roofline"))
        by_type = {}
        for (t, *_), members in groups.items():
            by_type[t] = by_type.get(t, 0) + 1
        self.assertGreaterEqual(len(by_type), 4, "conv, linear and vector kinds expected")
        for t, n in by_type.items():
            g = svg_group(root, f"dots-{t}")
            self.assertIsNotNone(g, f"no dots of type {t}")
            self.assertEqual(dots_in(g), n, f"dots of type {t}")
        # ResNet-50's 121 ops are far fewer dots: 49 ReLUs alone share a handful.
        self.assertEqual(len(rows), 121)
        self.assertLess(len(groups), 60)

    def test_legend_names_every_kind_with_counts(self):
        groups = groups_of_identical_ops(read_layers_csv(self.net))
        texts = svg_texts(self.fig(self.net, "roofline"))
        kinds = {}
        for (t, *_), members in groups.items():
            ops, dots, unit = kinds.get(t, (0, 0, "array" if members[0]["M"] else "vector"))
            kinds[t] = (ops + len(members), dots + 1, unit)
        for t, (ops, dots, unit) in kinds.items():
            want = (f"{t}: {ops} op{'s' if ops != 1 else ''}, {dots} dot"
                    f"{'s' if dots != 1 else ''}, {unit}")
            self.assertIn(want, texts)
        total_ops = sum(len(m) for m in groups.values())
        self.assertIn(f"{total_ops} ops in {len(groups)} dots", texts)

    def test_dominant_ops_named_and_counts_shown(self):
        rows = read_layers_csv(self.net)
        groups = groups_of_identical_ops(rows)
        total = read_summary(self.net)["totals"]["cycles"]
        texts = svg_texts(self.fig(self.net, "roofline"))
        shares = sorted((sum(int(r["total_cycles"]) for r in m) / total, key)
                        for key, m in groups.items())
        top_share, top_key = shares[-1]
        labels = [t for t in texts if t.endswith(" of time")]
        self.assertTrue(1 <= len(labels) <= 6, labels)
        self.assertTrue(any(t.endswith(f": {share_text(top_share)} of time") for t in labels),
                        (share_text(top_share), labels))
        # A dot of several ops says how many: every "xN" is the size of a group.
        sizes = {len(m) for m in groups.values() if len(m) > 1}
        counts = [int(m.group(1)) for t in texts for m in [re.search(r"\u00d7(\d+)$", t)] if m]
        self.assertTrue(counts, "no counts on the aggregated dots")
        for n in counts:
            self.assertIn(n, sizes)

    def test_array_and_vector_roofs_labelled(self):
        s = read_summary(self.net)
        hw = s["hardware"]
        root = svg_root(self.fig(self.net, "roofline"))
        for gid in ("roof-dram", "roof-array", "roof-vector"):
            self.assertIsNotNone(svg_group(root, gid), gid)
        texts = svg_texts(self.fig(self.net, "roofline"))
        # By hand: 2 * 32 * 32 * 1 GHz = 2.048 TOP/s; 16 lanes * 1 GHz = 16 GOP/s.
        self.assertEqual((hw["vector_lanes"], hw["clock_ghz"]), (16, 1.0))
        self.assertIn("array compute roof 2.05 TOP/s", texts)
        self.assertIn("vector unit roof 16 GOP/s (16 lanes)", texts)
        self.assertIn("vector unit roof: 16 GOP/s", texts)
        self.assertIn("arithmetic intensity (OPs per DRAM byte)", texts)
        self.assertIn("performance (OP/s, int8)", texts)

    def test_vector_ops_sit_under_the_vector_roof(self):
        data = roofline_json(os.path.join(self.net, "report.html"))
        vpeak = 16 * 1e9
        self.assertAlmostEqual(data["vector_peak_ops_per_s"], vpeak)
        vec = [g for g in data["groups"] if g["unit"] == "vector"]
        self.assertTrue(vec)
        rows = {int(r["index"]): r for r in read_layers_csv(self.net)}
        for g in vec:
            self.assertLessEqual(g["ops_per_s"], vpeak * (1 + 1e-9), g["name"])
            self.assertTrue(all(rows[i]["M"] == "" for i in g["indices"]))

    def test_no_flop_for_an_int8_array(self):
        for stem in ("roofline", "utilization", "time_breakdown"):
            for t in svg_texts(self.fig(self.net, stem)):
                self.assertNotIn("FLOP", t, stem)
        page = parse_page(os.path.join(self.net, "report.html"))
        visible = " ".join(page.visible)
        self.assertNotIn("FLOP", visible)
        self.assertIn("OP/s", visible)

    def test_summary_json_has_op_keys_and_keeps_the_old_ones(self):
        s = read_summary(self.net)
        rows = read_layers_csv(self.net)
        hw, tot = s["hardware"], s["totals"]
        self.assertEqual(hw["data_type"], "int8")
        self.assertEqual(hw["peak_ops_per_s"], 2 * 32 * 32 * 1e9)
        self.assertEqual(hw["peak_flops_per_s"], hw["peak_ops_per_s"])
        self.assertEqual(hw["vector_peak_ops_per_s"], 16 * 1e9)
        self.assertEqual(tot["ops"], sum(int(r["flops"]) for r in rows))
        self.assertEqual(tot["flops"], tot["ops"])
        self.assertAlmostEqual(tot["achieved_ops_per_s"], tot["ops"] / tot["seconds"],
                               delta=1e-6 * tot["achieved_ops_per_s"])
        self.assertEqual(tot["achieved_flops_per_s"], tot["achieved_ops_per_s"])
        for k in ("vector_add", "matrix_multiply"):
            c = s["canonical"][k]
            self.assertEqual(c["ops"], c["flops"])
            self.assertEqual(c["achieved_ops_per_s"], c["achieved_flops_per_s"])

    def test_percentages_read_like_percentages(self):
        texts = []
        for stem in ("roofline", "utilization", "time_breakdown"):
            texts += svg_texts(self.fig(self.net, stem)) + svg_texts(self.fig(self.gemm, stem))
        texts += parse_page(os.path.join(self.gemm, "report.html")).visible
        found = 0
        for t in texts:
            self.assertNotRegex(t, r"[0-9]e[+-][0-9]+ ?%", t)
            for m in re.finditer(r"([<0-9.]+) %", t):
                found += 1
                self.assertRegex(m.group(1), r"^(<0\.01|[0-9]{1,3}(\.[0-9]{1,2})?)$", t)
        self.assertGreater(found, 20)

    def test_workload_gemm_dot_drawn_over_the_reference_star(self):
        data = roofline_json(os.path.join(self.gemm, "report.html"))
        mm = [c for c in data["canonical"] if c["key"] == "matrix_multiply"][0]
        [g] = data["groups"]
        # The same 4096^3 GEMM on the same hardware: the dot is where the star is ...
        self.assertAlmostEqual(g["ai"] / mm["ai"], 1.0, places=6)
        self.assertAlmostEqual(g["ops_per_s"] / mm["ops_per_s"], 1.0, places=6)
        # ... so it is drawn after (over) the star, not hidden under it.
        order = [e.get("id") for e in svg_root(self.fig(self.gemm, "roofline")).iter(NS + "g")
                 if e.get("id") in ("reference-matrix_multiply", "dots-gemm")]
        self.assertEqual(order, ["reference-matrix_multiply", "dots-gemm"])

    # --- utilization and time ---------------------------------------------------------------

    def test_utilization_one_row_per_layer(self):
        rows = read_layers_csv(self.net)
        ran = [r for r in rows if not r["fused_into"]]
        layers = []
        for r in ran:
            if r["layer"] not in layers:
                layers.append(r["layer"])
        texts = svg_texts(self.fig(self.net, "utilization"))
        ticks = [t for t in texts if re.match(r"^[0-9]+  \S.*  \[.+\]$", t)]
        self.assertEqual(len(ticks), len(layers))
        self.assertEqual([t.split()[0] for t in ticks], layers)
        self.assertTrue(any(f"({len(layers)} layers ran: {len(rows)} ops" in t for t in texts))
        self.assertFalse(any("vector op (not on the array)" in t for t in texts))
        # Layers of vector ops only show the vector unit's use: ops / (16 lanes x cycles).
        vector_only = [l for l in layers if all(r["M"] == "" for r in ran if r["layer"] == l)]
        self.assertTrue(vector_only)
        got = [t for t in texts if t.endswith("(vector unit)")]
        self.assertEqual(len(got), len(vector_only))
        for l, t in zip(vector_only, got):
            mine = [r for r in ran if r["layer"] == l]
            use = sum(int(r["flops"]) for r in mine) / (16 * sum(int(r["total_cycles"])
                                                                for r in mine))
            self.assertEqual(t.split(" %")[0], share_text(use).split(" %")[0], t)

    def test_time_breakdown_has_a_seconds_axis(self):
        texts = svg_texts(self.fig(self.net, "time_breakdown"))
        self.assertIn("time at 1 GHz", texts)
        self.assertIn("cycles", texts)
        self.assertTrue(any(re.fullmatch(r"[0-9.]+ (ms|\u00b5s)", t) for t in texts), texts)

    def test_energy_breakdown_one_row_per_layer_and_shares_of_the_summary(self):
        rows = read_layers_csv(self.net)
        layers = []
        for r in rows:
            if not r["fused_into"] and r["layer"] not in layers:
                layers.append(r["layer"])
        texts = svg_texts(self.fig(self.net, "energy_breakdown"))
        ticks = [t for t in texts if re.match(r"^[0-9]+  \S.*  \[.+\]$", t)]
        self.assertEqual([t.split()[0] for t in ticks], layers)
        # The legend gives each component's share of the run's energy, from the rows' columns.
        total = sum(float(r["energy_pj"]) for r in rows)
        for col, label in (("mac", "MACs"), ("dram", "DRAM"), ("sram_ofmap", "SRAM ofmap"),
                           ("transfer", "PE-to-PE transfers")):
            share = sum(float(r[f"energy_{col}_pj"]) for r in rows) / total
            self.assertIn(f"{label} ({100 * share:.1f} %)", texts)
        s = read_summary(self.net)
        title = [t for t in texts if t.startswith("Where the energy goes: resnet50")]
        self.assertEqual(len(title), 1, texts)
        self.assertIn(f"{s['energy']['pj_per_mac']:.3g} pJ/MAC", title[0])
        self.assertIn("at 45 nm", title[0])
        self.assertIn("energy (mJ)", texts)
        page = parse_page(os.path.join(self.net, "report.html"))
        self.assertIn("pJ/MAC", page.text["total-energy"])

    # --- the page ---------------------------------------------------------------------------

    def test_page_title_and_hardware_line(self):
        net = parse_page(os.path.join(self.net, "report.html"))
        self.assertEqual(net.h1.strip(), "resnet50 on 32\u00d732 WS")  # no --run-name
        self.assertNotIn("systolic_sim_run", net.title)
        line = net.text["hardware-line"]
        for part in ("32\u00d732 WS array", "1 GHz", "2.05 TOP/s int8 peak", "DRAM 16 GB/s",
                     "vector unit 16 lanes"):
            self.assertIn(part, line)
        gemm = parse_page(os.path.join(self.gemm, "report.html"))
        self.assertEqual(gemm.h1.strip(), "big-gemm")

    def test_no_raw_key_names_beside_formatted_lines(self):
        s = read_summary(self.net)
        page = parse_page(os.path.join(self.net, "report.html"))
        labels = set(page.ths.get("kv", []))
        self.assertIn("DRAM bandwidth", labels)
        natural = {"name", "dataflow", "fidelity", "fold overlap", "unlimited bandwidth"}
        for k in list(s["hardware"]) + list(s["workload"]):
            raw = k.replace("_", " ")
            if raw not in natural:
                self.assertNotIn(raw, labels, f"raw key '{k}' shown as a label")


class SweepOfSameSizeShapes(unittest.TestCase):
    """Shapes of one PE count (16x64, 32x32, 64x16) and two SRAM sizes: the figures plot against
    the shapes, a line per SRAM size; the heatmap folds ResNet-50's repeated blocks."""

    ARGS = ["sweep", "--workload", "resnet50", "--arrays", "32x32,16x64,64x16", "--dataflows",
            "ws", "--sram-kb", "256,512", "-j", "2", "--quiet", "--report"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssim_glance_sweep_")
        cls.folder = os.path.join(cls.tmp, "s")
        cls.proc = subprocess.run([BINARY] + cls.ARGS + ["--out", cls.folder],
                                  capture_output=True, text=True, env=ENV,
                                  timeout=600) if BINARY else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(BINARY, "SSIM_BINARY not set")
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        with open(os.path.join(self.folder, "sweep.csv"), newline="") as f:
            self.rows = list(csv.DictReader(f))
        self.fig = lambda stem: os.path.join(self.folder, "figures", f"{stem}.svg")

    def test_against_the_shapes_a_line_per_sram_size(self):
        for stem in ("cycles", "utilization", "dram"):
            texts = svg_texts(self.fig(stem))
            self.assertIn("array shape (rows \u00d7 columns), 1,024 PEs each", texts, stem)
            # Ticks in order of rows / columns, not a cloud at one PE count.
            ticks = [t for t in texts if re.fullmatch(r"[0-9]+\u00d7[0-9]+", t)]
            self.assertEqual(ticks, ["16\u00d764", "32\u00d732", "64\u00d716"], stem)
            self.assertNotIn("1.02 k", texts, stem)
            self.assertEqual([t for t in texts if t.startswith("WS, sram-kb")],
                             ["WS, sram-kb 256", "WS, sram-kb 512"], stem)

    def test_memory_floor_on_cycles(self):
        sys.path.insert(0, os.path.join(SOURCE, "scripts"))
        import matplotlib

        matplotlib.use("Agg")
        import ssim_sweep_report as rep

        fig, _ = rep.build_scaling(rep.load_sweep(self.folder), "cycles")
        [ax] = fig.axes
        floors = {}
        for r in self.rows:  # by hand: DRAM bytes / bytes per cycle, per SRAM size and shape
            floors.setdefault(r["ifmap_sram_kb"], {})[r["array"]] = \
                int(r["dram_bytes"]) / float(r["dram_bytes_per_cycle"])
        order = ["16x64", "32x32", "64x16"]
        want = sorted([round(v[a], 3) for a in order] for v in floors.values())
        got = sorted([round(float(y), 3) for y in l.get_ydata()] for l in ax.get_lines()
                     if l.get_gid() == "memory-floor")
        self.assertEqual(got, want)
        texts = svg_texts(self.fig("cycles"))
        self.assertTrue(any(t.startswith("memory-bound floor") for t in texts))

    def test_pareto_against_dram_traffic_at_one_pe_count(self):
        texts = svg_texts(self.fig("pareto"))
        self.assertIn("Pareto front: cycles against DRAM traffic", texts)
        self.assertIn("DRAM bytes read + written (every point has 1,024 PEs)", texts)
        # The front by brute force: no other point has fewer-or-equal bytes and cycles.
        pts = [(int(r["dram_bytes"]), int(r["cycles"]), r["point"]) for r in self.rows]
        front = [p for p in pts if not any(q != p and q[0] <= p[0] and q[1] <= p[1]
                                           for q in pts)]
        self.assertIn(f"resnet50: {len(front)} of {len(pts)} points on the front", texts)

    def test_dram_figure_in_bytes(self):
        texts = svg_texts(self.fig("dram"))
        self.assertIn("DRAM bytes read + written (log scale)", texts)
        self.assertTrue(any(re.fullmatch(r"[0-9.]+ (kB|MB|GB)", t) for t in texts), texts)

    def test_heatmap_folds_repeated_blocks(self):
        with open(os.path.join(self.folder, "sweep_layers.csv"), newline="") as f:
            layers = list(csv.DictReader(f))
        for sram in ("256", "512"):
            points = [r["point"] for r in self.rows if r["ifmap_sram_kb"] == sram]
            ops = [r for r in layers if r["point"] == points[0] and r["M"]]
            path = self.fig(f"heatmap_resnet50_ws_sram-kb-{sram}")
            texts = svg_texts(path)
            labels = [t for t in texts if re.match(r"^(\u00d7[0-9]+|[0-9]+)  \S.*  \[.+\]$", t)]
            folded = [t for t in labels if t.startswith("\u00d7")]
            self.assertTrue(folded, "ResNet-50's identical blocks are not folded")
            # Every row stands for 1 op, a folded row for N ops, and all of them add up.
            self.assertEqual(sum(int(t[1:].split()[0]) if t.startswith("\u00d7") else 1
                                 for t in labels), len(ops))
            names = [o["name"] for o in ops]
            for t in folded:
                n, pattern = int(t[1:].split()[0]), t.split("  ")[1]
                # The block's names: 3-5 is a range of numbers, 1/3 a list, * anything.
                regex = re.sub(r"(\d+)\u2013(\d+)", lambda m: "(" + "|".join(
                    str(i) for i in range(int(m.group(1)), int(m.group(2)) + 1)) + ")",
                    re.escape(pattern).replace("\\*", ".*"))
                regex = re.sub(r"(\d+(?:/\d+)+)", lambda m: "(" + m.group(1).replace("/", "|")
                               + ")", regex)
                self.assertEqual(sum(bool(re.fullmatch(regex, x)) for x in names), n, t)
            cells = [t for t in texts if re.fullmatch(r"(<1|[0-9]{1,3}) %", t)]
            self.assertEqual(len(cells), len(labels) * 3)


class SingleRunProgress(unittest.TestCase):
    """A run longer than a second reports progress on stderr: plain lines when stderr is not a
    terminal, a bar redrawn in place on one, nothing with --quiet or for a short run."""

    LONG = ["--workload", "mlp", "--array", "4x4", "--fidelity", "cycle"]  # ~3-5 s, 5 ops

    def setUp(self):
        self.assertTrue(BINARY, "SSIM_BINARY not set")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def run_sim(self, args):
        return simulate(args, os.path.join(self.tmp.name, "out"))

    def test_plain_lines_when_not_a_terminal(self):
        r = self.run_sim(self.LONG)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stderr.splitlines()
        self.assertTrue(lines, "no progress for a run of several seconds")
        for l in lines[:-1]:
            self.assertRegex(l, r"^run: [0-9]/5 ops, [0-9]+:[0-9]{2} elapsed, "
                                r"(~[0-9]+:[0-9]{2} left|estimating)$")
        self.assertRegex(lines[-1], r"^run: 5/5 ops, done in [0-9]+:[0-9]{2}$")
        self.assertNotIn("\r", r.stderr)

    def test_nothing_with_quiet_or_for_a_short_run(self):
        r = self.run_sim(self.LONG + ["--quiet"])
        self.assertEqual((r.returncode, r.stderr, r.stdout), (0, "", ""))
        r = self.run_sim(["--gemm", "64,64,64", "--array", "8x8"])
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_a_bar_on_a_terminal(self):
        import pty

        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([BINARY] + self.LONG + ["--out", os.path.join(
                self.tmp.name, "out")], stdout=subprocess.DEVNULL, stderr=slave, env=ENV)
            os.close(slave)
            data = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                data += chunk
            self.assertEqual(proc.wait(timeout=600), 0)
        finally:
            os.close(master)
        text = data.decode("utf-8", "replace")
        self.assertIn("\rrun [", text)
        self.assertIn("/5 ops", text)
        self.assertIn("\x1b[K", text)
        self.assertRegex(text, r"run \[#+\] 5/5 ops +[0-9]+:[0-9]{2} elapsed +done")


if __name__ == "__main__":
    unittest.main(verbosity=2)
