#!/usr/bin/env python3
"""Tests of scripts/ssim_report.py: figures and report.html from a run folder.

Run by ctest as `python3 tests/scripts/test_report.py` (SSIM_SOURCE_DIR = the repository root).
The sample run folders are in tests/data/report/ (docs/report-format.md). Every expected number
is derived here from the input files or by hand, never taken from the script's output.

Needs Debian's python3-matplotlib (image checks, text-overlap checks) and Debian's chromium
(the page test); a missing chromium is a FAILURE, not a skip. If the python3 running this file
cannot import matplotlib but /usr/bin/python3 can, the file runs itself again with it.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_test_util import (  # noqa: E402  (runs the file again with Debian's python3 if needed)
    count_colour, DATA, FIGURES, GOLD, HINT, need_mpl, OUTPUTS, parse_page, pixel_stats, plt, png_header, read_layers_csv, read_png, read_summary, run_script, SCRIPT, SOURCE_DIR, Text)


class ReportOutputs(unittest.TestCase):
    """Runs the script once on copies of tests/data/report/{small,net60}."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssim_report_test_")
        cls.runs = {}
        for name in ("small", "net60"):
            folder = os.path.join(cls.tmp, name)
            shutil.copytree(os.path.join(DATA, name), folder)
            cls.runs[name] = (folder, run_script(folder))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def folder(self, name):
        folder, proc = self.runs[name]
        self.assertEqual(proc.returncode, 0, f"{name}: exit {proc.returncode}: {proc.stderr}")
        return folder

    def page(self, name):
        with open(os.path.join(self.folder(name), "report.html"), encoding="utf-8") as f:
            return f.read()

    def test_exit_zero_all_files_written(self):
        for name in self.runs:
            folder = self.folder(name)
            _, proc = self.runs[name]
            self.assertEqual(proc.stderr, "", name)
            for out in OUTPUTS:
                path = os.path.join(folder, out)
                self.assertTrue(os.path.isfile(path), f"{name}: {out} not written")
                self.assertGreater(os.path.getsize(path), 1000, f"{name}: {out} too small")
            leftovers = [f for f in os.listdir(folder) if f.endswith(".tmp")]
            self.assertEqual(leftovers, [], f"{name}: temporary files left")

    def test_pngs_valid_and_not_blank(self):
        need_mpl(self)
        for name in self.runs:
            for fig in FIGURES:
                path = os.path.join(self.folder(name), f"{fig}.png")
                w, h = png_header(path)
                img = read_png(path)
                self.assertEqual(img.shape[:2], (h, w), path)
                std, inked, colours = pixel_stats(img)
                self.assertGreater(std, 0.05, f"{path}: nearly uniform image")
                self.assertGreater(inked, 0.03, f"{path}: under 3 % of pixels are drawn")
                self.assertGreater(colours, 30, f"{path}: only {colours} colours")

    def test_canonical_stars_drawn_only_when_present(self):
        need_mpl(self)
        # net60 has summary.json "canonical", small has not: gold stars only in net60.
        gold60 = count_colour(read_png(os.path.join(self.folder("net60"), "roofline.png")), GOLD)
        gold3 = count_colour(read_png(os.path.join(self.folder("small"), "roofline.png")), GOLD)
        self.assertGreater(gold60, 100, "no gold canonical stars in net60's roofline")
        self.assertEqual(gold3, 0, "gold pixels in a roofline without reference kernels")

    def test_svgs_parse_and_carry_the_labels(self):
        ns = "{http://www.w3.org/2000/svg}"
        # Ridge by hand: small = 2*32*32*1e9 / 64e9 = 32; net60 = 2*250*200*1e9 / 1e12 = 100.
        for name, ridge_text in (("small", "32 OPs/byte"), ("net60", "100 OPs/byte")):
            for fig in FIGURES:
                path = os.path.join(self.folder(name), f"{fig}.svg")
                root = ET.parse(path).getroot()
                self.assertEqual(root.tag, ns + "svg", path)
            root = ET.parse(os.path.join(self.folder(name), "roofline.svg")).getroot()
            texts = " | ".join("".join(t.itertext()) for t in root.iter(ns + "text"))
            self.assertIn(ridge_text, texts, f"{name}: ridge label missing")
            # The samples' summary.json has no data_type: runs of the int8 simulator, in OPs.
            self.assertIn("arithmetic intensity (OPs per DRAM byte)", texts)
            self.assertIn("performance (OP/s, int8)", texts)
            self.assertIn("TOP/s", texts, "y ticks should read in TOP/s")
            has_canon = name == "net60"
            self.assertEqual("Vector Add" in texts, has_canon, name)
            self.assertEqual("Matrix Multiply" in texts, has_canon, name)
            # Only the few ops that dominate the time are named (at most 6 labels).
            named = [t for t in texts.split(" | ") if t.endswith("% of time")]
            self.assertTrue(1 <= len(named) <= 6, f"{name}: {named}")

    def test_roofline_numbers(self):
        for name in self.runs:
            folder = self.folder(name)
            page = parse_page(self.page(name))
            data = json.loads(page.json_scripts["roofline-data"])
            s = read_summary(folder)
            hw = s["hardware"]
            peak = 2 * hw["array_rows"] * hw["array_cols"] * hw["clock_ghz"] * 1e9
            bw = hw["dram_bytes_per_s"]
            self.assertAlmostEqual(data["ridge_ai"], peak / bw, delta=1e-9 * peak / bw)
            self.assertAlmostEqual(data["ridge_ai"], {"small": 32.0, "net60": 100.0}[name],
                                   places=9)
            rows = read_layers_csv(folder)
            expected = {}
            for r in rows:
                flops = int(r["flops"])
                nbytes = int(r["dram_read_bytes"]) + int(r["dram_write_bytes"])
                if flops and nbytes:
                    expected[int(r["index"])] = (
                        flops / nbytes, flops / (int(r["total_cycles"]) / (hw["clock_ghz"] * 1e9)))
            got = {p["index"]: (p["ai"], p["flops_per_s"]) for p in data["points"]}
            self.assertEqual(sorted(got), sorted(expected), f"{name}: which rows are plotted")
            for i, (ai, perf) in expected.items():
                self.assertAlmostEqual(got[i][0] / ai, 1.0, places=12, msg=f"{name} row {i}")
                self.assertAlmostEqual(got[i][1] / perf, 1.0, places=12, msg=f"{name} row {i}")
            self.assertEqual(data["not_shown"], len(rows) - len(expected))

    def test_canonical_dots_left_and_right(self):
        data = json.loads(parse_page(self.page("net60")).json_scripts["roofline-data"])
        s = read_summary(self.folder("net60"))
        clock = s["hardware"]["clock_ghz"] * 1e9
        canon = {c["label"]: c for c in data["canonical"]}
        self.assertEqual(sorted(canon), ["Matrix Multiply", "Vector Add"])
        for key, label in (("vector_add", "Vector Add"), ("matrix_multiply", "Matrix Multiply")):
            k = s["canonical"][key]
            self.assertAlmostEqual(canon[label]["ai"], k["flops"] / k["dram_bytes"], places=9)
            self.assertAlmostEqual(canon[label]["flops_per_s"] / (k["flops"] * clock / k["cycles"]),
                                   1.0, places=12)
        # 2^26 int8 additions moving 3 bytes each: intensity exactly 1/3.
        self.assertAlmostEqual(canon["Vector Add"]["ai"], 1 / 3, places=12)
        all_ai = [p["ai"] for p in data["points"]]
        self.assertLessEqual(canon["Vector Add"]["ai"], min(all_ai))
        self.assertGreater(canon["Matrix Multiply"]["ai"], max(all_ai))
        self.assertLess(canon["Vector Add"]["ai"], data["ridge_ai"])
        self.assertGreater(canon["Matrix Multiply"]["ai"], data["ridge_ai"])

    def test_page_is_self_contained(self):
        for name in self.runs:
            text = self.page(name)
            page = parse_page(text)
            self.assertEqual(page.links, [], "no <link> elements")
            for src in page.srcs:
                self.assertTrue(src.startswith("data:"), f"{name}: external src {src[:60]}")
            for href in page.hrefs:  # only links to the figure files next to the page
                self.assertRegex(href, r"^(#.*|[a-z_]+\.(svg|png))$")
                if not href.startswith("#"):
                    self.assertTrue(os.path.isfile(os.path.join(self.folder(name), href)))
            self.assertNotRegex(text, r"(?i)@import|url\(\s*['\"]?(https?:|//)")
            self.assertNotRegex(text, r"(?i)<script[^>]+src=")

    def test_page_table_figures_totals(self):
        for name in self.runs:
            folder = self.folder(name)
            page = parse_page(self.page(name))
            rows = read_layers_csv(folder)
            self.assertEqual(len(page.rows), len(rows), f"{name}: table rows")
            # Column 6 (0-based) holds the row's cycles; compare with the CSV row by row.
            for cells, r in zip(page.rows, rows):
                self.assertEqual(cells[0]["v"], r["index"])
                self.assertEqual(cells[1]["text"], r["name"])
                self.assertEqual(cells[6]["v"], r["total_cycles"])
            imgs = [a for a, where in page.imgs if "figures" in where]
            self.assertEqual(len(imgs), 3, f"{name}: figures in the page")
            for a in imgs:
                self.assertTrue(a["src"].startswith("data:image/svg+xml;base64,"))
                ET.fromstring(__import__("base64").b64decode(a["src"].split(",", 1)[1]))
            total = sum(int(r["total_cycles"]) for r in rows)
            self.assertIn(f"{total:,}", page.text_by_id["total-cycles"])
            self.assertIn(read_summary(folder)["run_name"], page.text_by_id.get("totals", "") +
                          self.page(name))

    def test_per_layer_figures_grow_with_the_layer_count(self):
        # Many rows must not be squeezed: at least 18 px per row at the PNG's resolution
        # (labels are 8 pt = 12 px at 110 dpi). utilization has a row per network layer that
        # ran (net60: 37), time_breakdown a row per op (net60: 60).
        for fig in ("utilization", "time_breakdown"):
            rows = {"utilization": len({r["layer"] for r in read_layers_csv(self.folder(
                "net60"))}), "time_breakdown": 60}[fig]
            _, h60 = png_header(os.path.join(self.folder("net60"), f"{fig}.png"))
            _, h3 = png_header(os.path.join(self.folder("small"), f"{fig}.png"))
            self.assertGreaterEqual(h60 / rows, 18, f"{fig}: {h60} px for {rows} rows")
            self.assertGreater(h60, 2.5 * h3, f"{fig}: height does not grow with the rows")


# ------------------------------------------------------------------------------------------
# Text never overlaps text (built in this process, measured with matplotlib's renderer)


def _text_polygon(t, renderer):
    """The four corners of a (possibly rotated) text's rectangle in display pixels."""
    box = Text.get_window_extent(t, renderer)
    angle = t.get_rotation() % 180
    if angle in (0, 90) or box.width == 0:
        return [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    th = math.radians(angle if angle < 90 else angle - 90)
    saved = t.get_rotation()
    t.set_rotation(0)
    flat = Text.get_window_extent(t, renderer)
    t.set_rotation(saved)
    w, h = (flat.width, flat.height) if angle < 90 else (flat.height, flat.width)
    s = math.sin(th)
    # A rectangle rotated by th inside its bounding box touches all four sides.
    return [(box.x0 + h * s, box.y0), (box.x1, box.y0 + w * s),
            (box.x1 - h * s, box.y1), (box.x0, box.y1 - w * s)]


def _shrink(poly, px):
    cx = sum(x for x, _ in poly) / 4
    cy = sum(y for _, y in poly) / 4
    out = []
    for x, y in poly:
        d = math.hypot(x - cx, y - cy) or 1
        out.append((x - (x - cx) / d * px, y - (y - cy) / d * px))
    return out


def _polygons_overlap(p, q):
    """Separating-axis test for two convex polygons."""
    for poly in (p, q):
        for i in range(len(poly)):
            x1, y1 = poly[i]
            x2, y2 = poly[(i + 1) % len(poly)]
            nx, ny = y2 - y1, x1 - x2
            a = [nx * x + ny * y for x, y in p]
            b = [nx * x + ny * y for x, y in q]
            if max(a) <= min(b) or max(b) <= min(a):
                return False
    return True


def _drawn_texts(fig):
    """The texts matplotlib draws: tick labels only for ticks inside the view limits."""
    tick_labels, drawn = set(), []
    # Secondary axes (time in seconds over cycles) are child axes with their own view limits.
    for ax in fig.axes + [c for a in fig.axes for c in a.child_axes]:
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


class TextDoesNotOverlap(unittest.TestCase):
    def overlapping_texts(self, build):
        with plt.rc_context(self.figures.STYLE):
            fig, _ = build
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            texts = _drawn_texts(fig)
            polys = [(t.get_text(), _shrink(_text_polygon(t, renderer), 0.5)) for t in texts]
            plt.close(fig)
        bad = []
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                if _polygons_overlap(polys[i][1], polys[j][1]):
                    bad.append((polys[i][0], polys[j][0]))
        return bad, len(texts)

    def setUp(self):
        need_mpl(self)
        sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))
        from ssim_plot import figures, rundata

        self.figures, self.rundata = figures, rundata

    def test_no_overlapping_text(self):
        for name in ("small", "net60"):
            run = self.rundata.load_run(os.path.join(DATA, name))
            for fig_name, build in (("roofline", self.figures.build_roofline),
                                    ("utilization", self.figures.build_utilization),
                                    ("time_breakdown", self.figures.build_time_breakdown)):
                with plt.rc_context(self.figures.STYLE):
                    built = build(run)
                bad, n = self.overlapping_texts(built)
                self.assertGreater(n, 10, f"{name}/{fig_name}: too few texts found")
                self.assertEqual(bad, [], f"{name}/{fig_name}: overlapping text")


# ------------------------------------------------------------------------------------------
# Bad input: exit 2, one line on stderr, nothing written


class WithoutMatplotlib(unittest.TestCase):
    def test_exit_3_with_install_hint(self):
        with tempfile.TemporaryDirectory() as tmp:
            shim = os.path.join(tmp, "shim", "matplotlib")
            os.makedirs(shim)
            with open(os.path.join(shim, "__init__.py"), "w") as f:
                f.write('raise ImportError("matplotlib hidden by test_report.py")\n')
            folder = os.path.join(tmp, "run")
            shutil.copytree(os.path.join(DATA, "small"), folder)
            proc = run_script(folder, env={"PYTHONPATH": os.path.dirname(shim),
                                           "SSIM_REPORT_NO_REEXEC": "1"})
            self.assertEqual(proc.returncode, 3, proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
            self.assertEqual(proc.stderr.strip(), f"ssim_report: {HINT}")
            self.assertFalse(any(os.path.exists(os.path.join(folder, o)) for o in OUTPUTS))

    @unittest.skipUnless(os.environ.get("SSIM_TEST_FIRST_PYTHON"),
                         "the python3 running the tests has matplotlib itself")
    def test_python_without_matplotlib_reruns_with_debian_python(self):
        # ctest started this file with a python3 lacking matplotlib (e.g. pyenv's): the script,
        # started with that same python3, must still produce the figures.
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "run")
            shutil.copytree(os.path.join(DATA, "small"), folder)
            env = {k: v for k, v in os.environ.items() if k != "SSIM_REPORT_NO_REEXEC"}
            proc = subprocess.run([os.environ["SSIM_TEST_FIRST_PYTHON"], SCRIPT, folder],
                                  capture_output=True, text=True, timeout=300, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(os.path.isfile(os.path.join(folder, "report.html")))


# ------------------------------------------------------------------------------------------
# The page in headless Chromium


if __name__ == "__main__":
    unittest.main(verbosity=2)
