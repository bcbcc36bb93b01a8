#!/usr/bin/env python3
"""Tests of scripts/ssim_sweep_report.py: figures and report.html from a sweep folder.

Run by ctest as `python3 tests/scripts/test_sweep_report.py` with SSIM_BINARY (the built
systolic-sim) and SSIM_SOURCE_DIR (the repository root). The sweep folders are made here by the
binary (`systolic-sim sweep ... --report`, which also checks that --report calls the script).
Expected numbers are derived here from sweep.csv and sweep_layers.csv, never taken from the
script's output.

Needs Debian's python3-matplotlib and Debian's chromium (the page test); a missing one is a
FAILURE, not a skip. If the python3 running this file cannot import matplotlib but
/usr/bin/python3 can, the file runs itself again with it.
"""

import csv
import html.parser
import importlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

DEBIAN_PYTHON = "/usr/bin/python3"
sys.dont_write_bytecode = True


def _rerun_with_matplotlib():
    try:
        importlib.import_module("matplotlib")
        importlib.import_module("numpy")
        return
    except ImportError:
        pass
    if os.environ.get("SSIM_TEST_REEXEC") or not os.access(DEBIAN_PYTHON, os.X_OK):
        return
    if os.path.realpath(DEBIAN_PYTHON) == os.path.realpath(sys.executable):
        return
    env = dict(os.environ, SSIM_TEST_REEXEC="1")
    sys.stdout.flush()
    os.execve(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:], env)


_rerun_with_matplotlib()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.text import Text

    MPL_ERROR = None
except ImportError as e:
    MPL_ERROR = f"matplotlib/numpy not importable ({e}): apt-get install python3-matplotlib"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_folder_util import feed_file  # noqa: E402

SOURCE_DIR = os.environ.get("SSIM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "ssim_sweep_report.py")
BINARY = os.environ.get("SSIM_BINARY") or shutil.which("systolic-sim")
HINT = "figures need matplotlib: apt-get install python3-matplotlib"

# Two workloads (one without GEMM ops), four shapes (two with 256 PEs), two dataflows, fold
# overlap on and off: 32 points.
SWEEP_ARGS = ["--workload", "mlp,vector-add", "--arrays", "4x4,8x8,16x16,8x32",
              "--dataflows", "os,ws", "--fold-overlap", "off,on", "-j", "2"]
LINE_FIGURES = ("cycles", "utilization", "dram", "pareto")
ENERGY_FIGURES = ("pareto_energy", "pareto_area")  # sweeps with energy columns (docs/energy.md)


def run_sweep(folder, *extra):
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    return subprocess.run([BINARY, "sweep"] + SWEEP_ARGS + ["--out", folder] + list(extra),
                          capture_output=True, text=True, timeout=600, env=env)


def run_script(*args, env=None):
    return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, **(env or {})))


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def png_size(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    length, ctype = struct.unpack(">I4s", data[8:16])
    assert ctype == b"IHDR" and length == 13
    assert zlib.crc32(ctype + data[16:29]) == struct.unpack(">I", data[29:33])[0]
    assert data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def svg_texts(path):
    root = ET.parse(path).getroot()
    return ["".join(e.itertext()).strip() for e in root.iter() if e.tag.endswith("text")]


def expected_front(points, cost="pes"):
    """Brute force: a point is on the front when no other point has fewer-or-equal cost (PEs,
    or energy_pj, area_mm2) and fewer-or-equal cycles with one of them strictly fewer (ties: the
    earlier point stays)."""
    front = set()
    for p in points:
        dominated = False
        for q in points:
            if q is p:
                continue
            le = q[cost] <= p[cost] and q["cycles"] <= p["cycles"]
            lt = q[cost] < p[cost] or q["cycles"] < p["cycles"]
            same = q[cost] == p[cost] and q["cycles"] == p["cycles"]
            if (le and lt) or (same and q["point"] < p["point"]):
                dominated = True
                break
        if not dominated:
            front.add(p["point"])
    return front


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.imgs, self.links, self.scripts, self.ids = [], [], [], [], set()
        self.json = {}
        self._json_id = None
        self._in_body_row = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "tr" and "data-point" in a:
            self.rows.append(a["data-point"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("a", "link") and "href" in a:
            self.links.append(a["href"])
        if tag == "script":
            self.scripts.append(a)
            if a.get("type") == "application/json":
                self._json_id = a.get("id")

    def handle_endtag(self, tag):
        if tag == "script":
            self._json_id = None

    def handle_data(self, data):
        if self._json_id:
            self.json[self._json_id] = self.json.get(self._json_id, "") + data


def parse_page(path):
    return feed_file(_Page(), path)


def drawn_texts(fig):
    """The texts matplotlib draws: tick labels only for ticks inside the view limits."""
    tick_labels, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = hi - lo
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                labels = (tick.label1, tick.label2)
                tick_labels.update(id(t) for t in labels)
                loc = tick.get_loc()
                if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
                    continue
                drawn += [t for t in labels if t.get_visible() and t.get_text().strip()]
    for t in fig.findobj(Text):
        if id(t) not in tick_labels and t.get_visible() and t.get_text().strip():
            drawn.append(t)
    return drawn


class SweepReport(unittest.TestCase):
    """One sweep made by the binary with --report; every test reads the same folder."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssim_sweep_report_")
        cls.folder = os.path.join(cls.tmp, "sweep")
        cls.proc = run_sweep(cls.folder, "--report", "--quiet") if BINARY else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(BINARY, "SSIM_BINARY is not set")
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.rows = read_csv(os.path.join(self.folder, "sweep.csv"))
        self.layers = read_csv(os.path.join(self.folder, "sweep_layers.csv"))

    def expected_heatmaps(self):
        """(workload, dataflow, fold overlap) of every heatmap: workloads with GEMM ops only."""
        gemm_points = {r["point"] for r in self.layers if r["M"]}
        groups = []
        for r in self.rows:
            key = (r["workload"], r["dataflow"], r["fold_overlap"])
            if r["point"] in gemm_points and key not in groups:
                groups.append(key)
        return groups

    def test_all_files_written(self):
        self.assertEqual(len(self.rows), 32)
        figs = os.path.join(self.folder, "figures")
        stems = list(LINE_FIGURES) + list(ENERGY_FIGURES) + [
            f"heatmap_{w}_{df}_fold-overlap-{fo}" for w, df, fo in self.expected_heatmaps()]
        self.assertEqual(len(stems), 6 + 4)  # mlp x {os, ws} x {off, on}; vector-add has none
        expected = sorted(f"{s}.{ext}" for s in stems for ext in ("svg", "png"))
        self.assertEqual(sorted(os.listdir(figs)), expected)
        self.assertTrue(os.path.isfile(os.path.join(self.folder, "report.html")))

    def test_pngs_valid_and_drawn(self):
        if MPL_ERROR:
            self.fail(MPL_ERROR)
        figs = os.path.join(self.folder, "figures")
        for f in os.listdir(figs):
            if not f.endswith(".png"):
                continue
            w, h = png_size(os.path.join(figs, f))
            self.assertGreater(w, 400, f)
            self.assertGreater(h, 150, f)
            img = mpimg.imread(os.path.join(figs, f))[..., :3]
            self.assertGreater(float(img.std()), 0.05, f"{f} looks blank")

    def test_line_figures_name_workloads_shapes_and_dataflows(self):
        for stem in LINE_FIGURES:
            texts = " ".join(svg_texts(os.path.join(self.folder, "figures", f"{stem}.svg")))
            for w in ("mlp", "vector-add"):
                self.assertIn(w, texts, stem)
            for shape in ("4\u00d74", "8\u00d78", "16\u00d716", "8\u00d732"):
                self.assertIn(shape, texts, stem)
            for df in ("OS (output stationary)", "WS (weight stationary)"):
                self.assertIn(df, texts, stem)
            self.assertIn("fold-overlap on", texts, stem)
            self.assertIn("fold-overlap off", texts, stem)

    def test_heatmap_cells_are_the_layer_utilizations(self):
        # Cells: the GEMM ops' overall_util in % for each shape, from sweep_layers.csv.
        for w, df, fo in self.expected_heatmaps():
            points = {r["point"] for r in self.rows if (r["workload"], r["dataflow"],
                                                        r["fold_overlap"]) == (w, df, fo)}
            want = []
            for r in self.layers:
                if r["point"] in points and r["M"]:
                    u = float(r["overall_util"])
                    want.append("<1 %" if 0 < u < 0.005 else f"{100 * u:.0f} %")
            path = os.path.join(self.folder, "figures", f"heatmap_{w}_{df}_fold-overlap-{fo}.svg")
            cells = [t for t in svg_texts(path) if re.fullmatch(r"(<1|[0-9]{1,3}) %", t)]
            # Axis ticks are not numbers alone here, so every such text is a cell.
            self.assertEqual(sorted(cells), sorted(want), path)
            n_ops = len({r["index"] for r in self.layers if r["point"] in points and r["M"]})
            self.assertEqual(len(cells), n_ops * 4)

    def test_page_table_front_and_self_contained(self):
        path = os.path.join(self.folder, "report.html")
        page = parse_page(path)
        self.assertEqual(page.rows, [r["point"] for r in self.rows])
        for src in page.imgs:
            self.assertTrue(src.startswith("data:image/svg+xml;base64,"), src[:60])
        self.assertEqual(len(page.imgs), 6 + 4)
        for href in page.links:
            self.assertFalse(re.match(r"[a-z]+://", href), f"external link {href}")
            self.assertTrue(os.path.exists(os.path.join(self.folder, href)), href)
        for s in page.scripts:
            self.assertNotIn("src", s, "external script")
        data = json.loads(page.json["sweep-data"])
        pts = []
        for r in self.rows:
            self.assertEqual(r["status"], "ok")
            pts.append({"point": int(r["point"]), "workload": r["workload"],
                        "pes": int(r["pes"]), "cycles": int(r["cycles"])})
        want = set()
        for w in ("mlp", "vector-add"):
            want |= expected_front([p for p in pts if p["workload"] == w])
        got = {p["point"] for p in data["points"] if p["pareto"]}
        self.assertEqual(got, want)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count("\u2605</td>"), len(want))
        # The fastest point of each workload is named in its card.
        for w in ("mlp", "vector-add"):
            best = min((p for p in pts if p["workload"] == w),
                       key=lambda p: (p["cycles"], p["pes"], p["point"]))
            row = self.rows[best["point"]]
            self.assertRegex(text, re.escape(f"{row['array']} {row['dataflow'].upper()},"))

    def test_energy_and_area_fronts(self):
        # The fronts of cycles against energy and against area, brute force from sweep.csv,
        # against the counts in each panel's title.
        pts = [{"point": int(r["point"]), "workload": r["workload"], "cycles": int(r["cycles"]),
                "energy_pj": float(r["energy_pj"]), "area_mm2": float(r["area_mm2"])}
               for r in self.rows]
        for stem, cost in (("pareto_energy", "energy_pj"), ("pareto_area", "area_mm2")):
            texts = svg_texts(os.path.join(self.folder, "figures", f"{stem}.svg"))
            for w in ("mlp", "vector-add"):
                mine = [p for p in pts if p["workload"] == w]
                n = len(expected_front(mine, cost))
                self.assertIn(f"{w}: {n} of {len(mine)} points on the front", texts, stem)
        # The area depends on the hardware only: every point of one array and dataflow has the
        # same area whatever the workload.
        area = {}
        for r in self.rows:
            area.setdefault((r["array"], r["dataflow"], r["fold_overlap"]), set()).add(
                r["area_mm2"])
        self.assertTrue(all(len(v) == 1 for v in area.values()), area)

    def test_no_overlapping_text(self):
        if MPL_ERROR:
            self.fail(MPL_ERROR)
        sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
        import ssim_sweep_report as rep

        sweep = rep.load_sweep(self.folder)
        builds = [("cycles", lambda: rep.build_scaling(sweep, "cycles")),
                  ("utilization", lambda: rep.build_scaling(sweep, "utilization")),
                  ("pareto", lambda: rep.build_pareto(sweep)),
                  ("pareto_energy", lambda: rep.build_pareto(sweep, "energy")),
                  ("pareto_area", lambda: rep.build_pareto(sweep, "area"))]
        for w, df, v, stem in rep.heatmap_groups(sweep):
            builds.append((stem, lambda w=w, df=df, v=v: rep.build_heatmap(sweep, w, df, v)))
        for name, build in builds:
            fig, _ = build()
            fig.canvas.draw()
            r = fig.canvas.get_renderer()
            boxes = [(t.get_text(), Text.get_window_extent(t, r).shrunk(0.96, 0.9))
                     for t in drawn_texts(fig)]
            bad = [(a, c) for i, (a, b) in enumerate(boxes) for c, d in boxes[i + 1:]
                   if b.overlaps(d)]
            plt.close(fig)
            self.assertGreater(len(boxes), 8, name)
            self.assertEqual(bad, [], f"{name}: overlapping text")


class PartialAndFailed(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BINARY, "SSIM_BINARY is not set")
        self.tmp = tempfile.mkdtemp(prefix="ssim_sweep_report_p_")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_failed_points_are_listed_not_drawn(self):
        folder = os.path.join(self.tmp, "f")
        env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        proc = subprocess.run([BINARY, "sweep", "--gemm", "512,512,512", "--arrays",
                               "256x256,8x8,16x16", "--sram-kb", "1", "--quiet", "--out", folder],
                              capture_output=True, text=True, timeout=600, env=env)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        rows = read_csv(os.path.join(folder, "sweep.csv"))
        failed = [r for r in rows if r["status"] == "error"]
        self.assertEqual(len(failed), 1)
        out = run_script(folder)
        self.assertEqual(out.returncode, 0, out.stderr)
        page = parse_page(os.path.join(folder, "report.html"))
        self.assertEqual(len(page.rows), 3)
        with open(os.path.join(folder, "report.html"), encoding="utf-8") as f:
            self.assertIn("failed: ", f.read())
        texts = " ".join(svg_texts(os.path.join(folder, "figures", "cycles.svg")))
        self.assertIn("1 failed point not shown", texts)

    def test_a_sweep_in_progress_can_be_drawn(self):
        # Rows stream in completion order and not all points are there yet.
        folder = os.path.join(self.tmp, "p")
        self.assertEqual(run_sweep(folder, "--quiet").returncode, 0)
        path = os.path.join(folder, "sweep.csv")
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            f.writelines([lines[0]] + lines[1:][::-2])
        out = run_script(folder)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(parse_page(os.path.join(folder, "report.html")).rows), 16)


class BadInput(unittest.TestCase):
    """Exit 2, one line on stderr, nothing written."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssim_sweep_report_bad_")
        cls.good = os.path.join(cls.tmp, "good")
        cls.proc = run_sweep(cls.good, "--quiet") if BINARY else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(BINARY and self.proc.returncode == 0, "could not make the sample sweep")
        self.folder = tempfile.mkdtemp(dir=self.tmp)
        shutil.rmtree(self.folder)
        shutil.copytree(self.good, self.folder)

    def edit(self, name, fn):
        p = os.path.join(self.folder, name)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        with open(p, "w", encoding="utf-8") as f:
            f.write(fn(text))

    def assert_rejected(self, *needles, args=None):
        before = sorted(os.listdir(self.folder))
        out = run_script(*(args if args is not None else [self.folder]))
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertEqual(out.stderr.count("\n"), 1, out.stderr)
        self.assertTrue(out.stderr.startswith("ssim_sweep_report: "), out.stderr)
        for n in needles:
            self.assertIn(n, out.stderr)
        self.assertEqual(sorted(os.listdir(self.folder)), before, "something was written")

    def test_usage(self):
        self.assert_rejected("usage", args=[])

    def test_not_a_folder(self):
        self.assert_rejected("not a folder", args=[os.path.join(self.folder, "nope")])

    def test_missing_json(self):
        os.remove(os.path.join(self.folder, "sweep.json"))
        self.assert_rejected("sweep.json", "not found")

    def test_missing_layers(self):
        os.remove(os.path.join(self.folder, "sweep_layers.csv"))
        self.assert_rejected("sweep_layers.csv", "not found")

    def test_short_row(self):
        self.edit("sweep.csv", lambda t: t.replace("\n", ",extra\n", 3).replace(
            ",extra\n", "\n", 1))
        self.assert_rejected("sweep.csv:2:", "fields")

    def test_utilization_contradicts_cycles(self):
        def f(text):
            lines = text.splitlines(keepends=True)
            head = lines[0].rstrip("\n").split(",")
            cells = lines[1].rstrip("\n").split(",")
            i = head.index("utilization")
            cells[i] = str(float(cells[i]) / 2)
            lines[1] = ",".join(cells) + "\n"
            return "".join(lines)
        self.edit("sweep.csv", f)
        self.assert_rejected("sweep.csv:2:", "column 'utilization'", "macs / (pes * cycles)")

    def test_not_a_number(self):
        def f(text):
            lines = text.splitlines(keepends=True)
            head = lines[0].rstrip("\n").split(",")
            cells = lines[3].rstrip("\n").split(",")
            cells[head.index("cycles")] = "lots"
            lines[3] = ",".join(cells) + "\n"
            return "".join(lines)
        self.edit("sweep.csv", f)
        self.assert_rejected("sweep.csv:4:", "column 'cycles'", "'lots'")

    def test_layer_rows_missing(self):
        self.edit("sweep_layers.csv", lambda t: "".join(t.splitlines(keepends=True)[:-1]))
        self.assert_rejected("sweep_layers.csv", "point 31")

    def test_bad_json(self):
        self.edit("sweep.json", lambda t: t.replace('"axes"', '"axes" oops'))
        self.assert_rejected("sweep.json:", "invalid JSON")

    def test_without_matplotlib_exit_3(self):
        shim = os.path.join(self.tmp, "shim", "matplotlib")
        os.makedirs(shim, exist_ok=True)
        with open(os.path.join(shim, "__init__.py"), "w") as f:
            f.write('raise ImportError("hidden by test_sweep_report.py")\n')
        out = run_script(self.folder, env={"PYTHONPATH": os.path.dirname(shim),
                                           "SSIM_REPORT_NO_REEXEC": "1"})
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertEqual(out.stderr.strip(), f"ssim_sweep_report: {HINT}")
        self.assertFalse(os.path.exists(os.path.join(self.folder, "report.html")))
        self.assertFalse(os.path.exists(os.path.join(self.folder, "figures")))


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

PROBE = """
<script>
window.addEventListener('load', function () {
  var out = {images: []};
  Array.prototype.forEach.call(document.querySelectorAll('figure img'), function (im) {
    out.images.push({ok: im.complete && im.naturalWidth > 0, w: im.naturalWidth});
  });
  var ths = document.querySelectorAll('#sweep-table thead th');
  var cyc = Array.prototype.filter.call(ths, function (h) {
    return h.textContent.trim() === 'cycles'; })[0];
  var d = document.documentElement;
  out.scrollWidth = d.scrollWidth; out.clientWidth = d.clientWidth;
  out.mainWidth = document.querySelector('main').getBoundingClientRect().width;
  var fixed = document.getElementById('fixed-hardware');
  out.fixedHeight = fixed ? fixed.getBoundingClientRect().height : 0;
  out.fixedText = fixed ? fixed.textContent : '';
  out.details = document.querySelectorAll('details').length;
  cyc.click();
  out.asc = Array.prototype.map.call(document.querySelectorAll('#sweep-table tbody tr'),
    function (r) { return parseInt(r.getAttribute('data-point'), 10); });
  var pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


class PageInChromium(unittest.TestCase):
    def test_images_load_and_table_sorts(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        self.assertTrue(chromium, "chromium is not installed: apt-get install chromium")
        self.assertTrue(BINARY, "SSIM_BINARY is not set")
        with tempfile.TemporaryDirectory(prefix="ssim_sweep_chromium_") as tmp:
            folder = os.path.join(tmp, "s")
            proc = run_sweep(folder, "--report", "--quiet")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(folder, "report.html"), encoding="utf-8") as f:
                text = f.read()
            probed = os.path.join(folder, "probe.html")
            with open(probed, "w", encoding="utf-8") as f:
                f.write(text.replace("</body>", PROBE + "</body>"))
            profile = os.path.join(tmp, "profile")
            res = subprocess.run([chromium] + CHROMIUM_FLAGS + [
                f"--user-data-dir={profile}", "--dump-dom", "--window-size=1400,2000",
                "file://" + probed], capture_output=True, text=True, timeout=180)
            self.assertEqual(res.returncode, 0, res.stderr[-2000:])
            m = re.search(r'<pre id="probe-result">(.*?)</pre>', res.stdout, re.S)
            self.assertTrue(m, "the probe did not run")
            p = json.loads(html.unescape(m.group(1)))
            self.assertEqual(len(p["images"]), 10)  # with the energy and area fronts
            # The page uses the window's width without a horizontal scroll bar ...
            self.assertLessEqual(p["scrollWidth"], p["clientWidth"], "horizontal page scroll")
            self.assertGreater(p["mainWidth"], 0.95 * p["clientWidth"], "page not full width")
            # ... and shows the hardware that is the same at every point in the open (here
            # vector lanes 16, the default; fold overlap is swept so it is not listed).
            self.assertEqual(p["details"], 0, "hardware hidden in a <details>")
            self.assertGreater(p["fixedHeight"], 10)
            self.assertIn("vector lanes 16", p["fixedText"])
            self.assertNotIn("fold overlap", p["fixedText"])
            for im in p["images"]:
                self.assertTrue(im["ok"], im)
                self.assertGreater(im["w"], 300)
            rows = read_csv(os.path.join(folder, "sweep.csv"))
            cycles = {int(r["point"]): int(r["cycles"]) for r in rows}
            self.assertEqual(p["asc"], sorted(cycles, key=lambda i: (cycles[i], i)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
