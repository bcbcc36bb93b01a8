#!/usr/bin/env python3
"""Tests of scripts/ssim_report.py: figures and report.html from a run folder.

Run by ctest as `python3 tests/scripts/test_report.py` (SSIM_SOURCE_DIR = the repository root).
The sample run folders are in tests/data/report/ (docs/report-format.md). Every expected number
is derived here from the input files or by hand, never taken from the script's output.

Needs Debian's python3-matplotlib (image checks, text-overlap checks) and Debian's chromium
(the page test); a missing chromium is a FAILURE, not a skip. If the python3 running this file
cannot import matplotlib but /usr/bin/python3 can, the file runs itself again with it.
"""

import csv
import html.parser
import importlib
import json
import math
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
sys.dont_write_bytecode = True  # importing scripts/ssim_plot leaves no __pycache__ behind


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
    env = dict(os.environ, SSIM_TEST_REEXEC="1", SSIM_TEST_FIRST_PYTHON=sys.executable)
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
except ImportError as e:  # the tests that need it fail with this message
    MPL_ERROR = f"matplotlib/numpy not importable ({e}): apt-get install python3-matplotlib"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_folder_util import read_layers_csv, read_summary  # noqa: E402

SOURCE_DIR = os.environ.get("SSIM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "ssim_report.py")
DATA = os.path.join(SOURCE_DIR, "tests", "data", "report")
HINT = "figures need matplotlib: apt-get install python3-matplotlib"
FIGURES = ("roofline", "utilization", "time_breakdown")
OUTPUTS = [f"{f}.{ext}" for f in FIGURES for ext in ("svg", "png")] + ["report.html"]

# Colours the figures use for things the tests look for (the canonical stars are gold).
GOLD = (0xFF / 255, 0xD2 / 255, 0x1F / 255)


def need_mpl(test):
    if MPL_ERROR:
        test.fail(MPL_ERROR)


def run_script(folder, *extra_args, env=None, python=None, args=None):
    cmd = [python or sys.executable, SCRIPT] + (args if args is not None else [folder])
    cmd += list(extra_args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def png_header(path):
    """(width, height) from the IHDR chunk, after checking the signature and the chunk CRC."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG signature"
    length, ctype = struct.unpack(">I4s", data[8:16])
    assert ctype == b"IHDR" and length == 13, f"{path}: first chunk is not IHDR"
    body = data[16:29]
    crc = struct.unpack(">I", data[29:33])[0]
    assert zlib.crc32(ctype + body) == crc, f"{path}: IHDR CRC mismatch"
    assert data[-12:-8] == b"\0\0\0\0" and data[-8:-4] == b"IEND", f"{path}: no IEND at the end"
    width, height = struct.unpack(">II", body[:8])
    return width, height


def pixel_stats(rgb):
    """(standard deviation, share of pixels unlike the most common colour, distinct colours)."""
    q = (np.clip(rgb[..., :3], 0, 1) * 255).round().astype(np.int64)
    codes = (q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2]
    values, counts = np.unique(codes, return_counts=True)
    background_share = counts.max() / codes.size
    return float(rgb[..., :3].std()), 1.0 - background_share, len(values)


def count_colour(rgb, colour, tol=0.09):
    diff = np.abs(rgb[..., :3] - np.array(colour)[None, None, :])
    return int(np.all(diff <= tol, axis=-1).sum())


def read_png(path):
    img = mpimg.imread(path)
    if img.dtype != np.float32 and img.dtype != np.float64:
        img = img.astype(np.float64) / 255.0
    return img


class _PageParser(html.parser.HTMLParser):
    """Collects what the page tests look at: table rows, images, ids and their text."""

    def __init__(self):
        super().__init__()
        self.stack = []  # open elements: (tag, id)
        self.ids = {}
        self.text_by_id = {}
        self.rows = []  # rows of #layer-table's tbody: list of (data-v or text) per cell
        self.imgs = []
        self.hrefs = []
        self.srcs = []
        self.links = []  # <link> elements (must be none)
        self.json_scripts = {}
        self._cell = None
        self._row = None
        self._script_id = None

    def inside(self, ident):
        return any(i == ident for _, i in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = (tag, a)
            self.text_by_id.setdefault(a["id"], "")
        if tag == "img":
            self.imgs.append((a, [i for _, i in self.stack if i]))
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag == "link":
            self.links.append(a)
        if tag == "script" and a.get("type") == "application/json":
            self._script_id = a.get("id")
            self.json_scripts[self._script_id] = ""
        if tag == "tr" and self.inside("layer-table") and any(t == "tbody" for t, _ in
                                                               self.stack):
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = {"v": a.get("data-v"), "text": ""}
        if tag not in ("img", "meta", "br", "link", "input"):
            self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag == "script":
            self._script_id = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self._script_id:
            self.json_scripts[self._script_id] += data
        if self._cell is not None:
            self._cell["text"] += data
        for _, ident in self.stack:
            if ident:
                self.text_by_id[ident] = self.text_by_id.get(ident, "") + data


def parse_page(text):
    p = _PageParser()
    p.feed(text)
    p.close()
    return p


# ------------------------------------------------------------------------------------------
# The script on the two sample folders


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


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ssim_report_bad_")
        self.folder = os.path.join(self.tmp, "run")
        shutil.copytree(os.path.join(DATA, "small"), self.folder)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def edit(self, fname, fn):
        path = os.path.join(self.folder, fname)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(fn(text))

    def edit_json(self, fn):
        s = read_summary(self.folder)
        fn(s)
        with open(os.path.join(self.folder, "summary.json"), "w") as f:
            json.dump(s, f)

    def edit_cell(self, row, column, value):
        rows = read_layers_csv(self.folder)
        header = list(rows[0].keys())
        rows[row][column] = value
        with open(os.path.join(self.folder, "layers.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

    def assert_rejected(self, *needles, args=None):
        proc = run_script(self.folder, args=args)
        self.assertEqual(proc.returncode, 2, f"stdout={proc.stdout!r} stderr={proc.stderr!r}")
        self.assertEqual(proc.stdout, "")
        err = proc.stderr
        self.assertTrue(err.endswith("\n") and err.count("\n") == 1,
                        f"stderr is not one line: {err!r}")
        self.assertTrue(err.startswith("ssim_report: "), err)
        self.assertNotIn("Traceback", err)
        for n in needles:
            self.assertIn(n, err)
        if os.path.isdir(self.folder):
            written = [o for o in OUTPUTS if os.path.exists(os.path.join(self.folder, o))]
            self.assertEqual(written, [], "outputs written despite bad input")
        return err

    def test_usage(self):
        self.assert_rejected("usage", args=[])
        self.assert_rejected("usage", args=[self.folder, self.folder])
        self.assert_rejected("usage", args=["--bogus"])

    def test_missing_folder(self):
        shutil.rmtree(self.folder)
        self.assert_rejected("run folder not found")

    def test_missing_layers_csv(self):
        os.remove(os.path.join(self.folder, "layers.csv"))
        self.assert_rejected("layers.csv", "not found")

    def test_missing_summary_json(self):
        os.remove(os.path.join(self.folder, "summary.json"))
        self.assert_rejected("summary.json", "not found")

    def test_csv_row_with_missing_field(self):
        self.edit("layers.csv", lambda t: t.replace(",compute\n", "\n", 1))
        self.assert_rejected("layers.csv:2:", "fields")

    def test_csv_unclosed_quote(self):
        self.edit("layers.csv", lambda t: t.replace("conv1.relu", '"conv1.relu', 1))
        self.assert_rejected("layers.csv:", "malformed CSV")

    def test_csv_not_a_number(self):
        self.edit_cell(2, "total_cycles", "12x")
        self.assert_rejected("layers.csv:4:", "total_cycles", "12x")

    def test_csv_missing_column(self):
        self.edit("layers.csv", lambda t: t.replace(",bound", ",bound_x", 1))
        self.assert_rejected("layers.csv:1:", "bound")

    def test_csv_empty(self):
        self.edit("layers.csv", lambda t: "")
        self.assert_rejected("layers.csv", "empty")

    def test_csv_header_only(self):
        self.edit("layers.csv", lambda t: t.splitlines()[0] + "\n")
        self.assert_rejected("layers.csv", "no layer rows")

    def test_cycle_parts_must_add_up(self):
        rows = read_layers_csv(self.folder)
        self.edit_cell(0, "compute_cycles", str(int(rows[0]["compute_cycles"]) + 1))
        self.assert_rejected("layers.csv:2:", "total_cycles")

    def test_gemm_flops_must_be_twice_macs(self):
        rows = read_layers_csv(self.folder)
        self.edit_cell(2, "flops", str(int(rows[2]["macs"]) * 2 + 2))
        self.assert_rejected("layers.csv:4:", "flops")

    def test_wrong_bound(self):
        self.edit_cell(0, "bound", "memory")  # conv1: 87 FLOPs/byte > ridge 32
        self.assert_rejected("layers.csv:2:", "bound")

    def test_utilization_out_of_range(self):
        self.edit_cell(0, "overall_util", "1.5")
        self.assert_rejected("layers.csv:2:", "overall_util")

    def test_json_syntax(self):
        self.edit("summary.json", lambda t: t.replace('"tiny-cnn",', '"tiny-cnn"', 1))
        self.assert_rejected("summary.json:", "invalid JSON")

    def test_json_missing_key(self):
        self.edit_json(lambda s: s["hardware"].pop("clock_ghz"))
        self.assert_rejected("summary.json", "hardware.clock_ghz")

    def test_json_missing_canonical_part(self):
        def f(s):
            s["canonical"] = {"vector_add": {"flops": 3, "dram_bytes": 9, "cycles": 3,
                                             "achieved_flops_per_s": 1e9}}
        self.edit_json(f)
        self.assert_rejected("summary.json", "canonical.matrix_multiply")

    def test_json_wrong_type(self):
        self.edit_json(lambda s: s["hardware"].update(array_rows="32"))
        self.assert_rejected("summary.json", "hardware.array_rows")

    # Energy (docs/energy.md): optional, but consistent where present.
    COMPONENTS = ("mac", "register", "transfer", "sram_ifmap", "sram_filter", "sram_ofmap",
                  "dram", "vector")

    def add_energy(self):
        """Energy columns and summary keys that agree: component i of row r is (r + 1)(i + 1)."""
        rows = read_layers_csv(self.folder)
        header = list(rows[0].keys()) + ["energy_pj"] + [f"energy_{c}_pj"
                                                         for c in self.COMPONENTS]
        for r, row in enumerate(rows):
            for i, c in enumerate(self.COMPONENTS):
                row[f"energy_{c}_pj"] = str((r + 1) * (i + 1))
            row["energy_pj"] = str((r + 1) * 36)
        with open(os.path.join(self.folder, "layers.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        n = len(rows) * (len(rows) + 1) // 2
        by = {c: n * (i + 1) for i, c in enumerate(self.COMPONENTS)}

        def energy(s):
            total = 36 * n
            s["energy"] = {"technology_nm": 45, "total_pj": total, "by_component_pj": by,
                           "pj_per_mac": total / s["totals"]["macs"],
                           "tops_per_w": s["totals"]["flops"] / (total * 1e-12) / 1e12,
                           "energy_delay_product_j_s": total * 1e-12 * s["totals"]["seconds"]}
            s["area"] = {"total_mm2": 6.92}
        self.edit_json(energy)

    @need_mpl
    def test_energy_consistent_is_drawn(self):
        self.add_energy()
        proc = run_script(self.folder)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.folder, "energy_breakdown.png")))

    def test_energy_total_not_the_sum_of_its_components(self):
        self.add_energy()
        self.edit_cell(1, "energy_pj", "73")
        self.assert_rejected("layers.csv:3:", "energy_pj", "the sum of the energy_*_pj columns")

    def test_energy_summary_not_the_sum_of_the_rows(self):
        self.add_energy()
        self.edit_json(lambda s: s["energy"].update(total_pj=s["energy"]["total_pj"] + 36,
                                                    pj_per_mac=(s["energy"]["total_pj"] + 36)
                                                    / s["totals"]["macs"]))
        self.assert_rejected("summary.json", "energy.total_pj")

    def test_energy_in_one_file_only(self):
        self.edit_json(lambda s: s.update(energy={
            "technology_nm": 45, "total_pj": 0, "pj_per_mac": 0, "tops_per_w": 0,
            "energy_delay_product_j_s": 0, "by_component_pj": {c: 0 for c in self.COMPONENTS}}))
        self.assert_rejected("summary.json", "energy")

    def test_energy_columns_come_together(self):
        self.add_energy()
        self.edit("layers.csv", lambda t: t.replace(",energy_dram_pj", ",energy_dram", 1))
        self.assert_rejected("layers.csv:1:", "energy_dram_pj")

    def test_json_peak_contradicts_array(self):
        self.edit_json(lambda s: s["hardware"].update(peak_flops_per_s=1e12))
        self.assert_rejected("summary.json", "peak_flops_per_s")

    def test_json_totals_not_column_sums(self):
        self.edit_json(lambda s: s["totals"].update(macs=s["totals"]["macs"] + 1))
        self.assert_rejected("totals.macs")

    def test_json_schema_version(self):
        self.edit_json(lambda s: s.update(schema_version=2))
        self.assert_rejected("schema_version")

    def test_json_not_an_object(self):
        self.edit("summary.json", lambda t: "[1, 2]")
        self.assert_rejected("summary.json", "object")


# ------------------------------------------------------------------------------------------
# Without matplotlib


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

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--mute-audio"]
WINDOW = (1400, 7000)  # tall enough for the whole 60-row page: one screenshot, no scrolling

PROBE = """
<script>
window.addEventListener('load', function () {
  var out = {images: [], rects: {}};
  Array.prototype.forEach.call(document.querySelectorAll('#figures img'), function (im) {
    var r = im.getBoundingClientRect();
    out.images.push({ok: im.complete && im.naturalWidth > 0, w: im.naturalWidth,
                     x: r.left + window.scrollX, y: r.top + window.scrollY,
                     width: r.width, height: r.height});
  });
  ['totals', 'layer-table', 'fig-roofline'].forEach(function (id) {
    var r = document.getElementById(id).getBoundingClientRect();
    out.rects[id] = {x: r.left + window.scrollX, y: r.top + window.scrollY,
                     width: r.width, height: r.height};
  });
  out.scrollHeight = document.documentElement.scrollHeight;
  // No horizontal page scroll: the per-layer table scrolls inside its box, its first two
  // columns (row number, name) stay in view when it does.
  var d = document.documentElement;
  out.scrollWidth = d.scrollWidth; out.clientWidth = d.clientWidth;
  var wrap = document.querySelector('#layers .table-wrap');
  out.wrapScroll = wrap.scrollWidth; out.wrapWidth = wrap.clientWidth;
  var row = document.querySelector('#layer-table tbody tr');
  var before = [row.cells[0].getBoundingClientRect().left, row.cells[1].getBoundingClientRect().left,
                row.cells[5].getBoundingClientRect().left];
  wrap.scrollLeft = 300;
  out.scrolledBy = wrap.scrollLeft;
  out.cellShift = [row.cells[0].getBoundingClientRect().left - before[0],
                   row.cells[1].getBoundingClientRect().left - before[1],
                   row.cells[5].getBoundingClientRect().left - before[2]];
  wrap.scrollLeft = 0;
  var ths = document.querySelectorAll('#layer-table thead th');
  var cyc = Array.prototype.filter.call(ths, function (h) {
    return h.textContent.trim() === 'cycles'; })[0];
  function order() {
    return Array.prototype.map.call(document.querySelectorAll('#layer-table tbody tr'),
      function (r) { return parseInt(r.getAttribute('data-index'), 10); });
  }
  cyc.click(); out.asc = order(); out.ascSort = cyc.getAttribute('aria-sort');
  cyc.click(); out.desc = order(); out.descSort = cyc.getAttribute('aria-sort');
  var nameTh = Array.prototype.filter.call(ths, function (h) {
    return h.textContent.trim() === 'name'; })[0];
  nameTh.click(); out.byName = order();
  var pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, *args):
    with tempfile.TemporaryDirectory(prefix="ssim_chromium_profile_") as profile:
        cmd = [chromium] + CHROMIUM_FLAGS + [f"--user-data-dir={profile}"] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


class PageInChromium(unittest.TestCase):
    """Loads net60's report.html in headless Chromium three times (each result shared by the
    tests): the DOM as written, the DOM after a probe script ran (image loading, layout boxes,
    sorting by clicks), and a screenshot of the whole page at the same window size."""

    @classmethod
    def setUpClass(cls):
        cls.chromium = chromium_binary()
        cls.tmp = tempfile.mkdtemp(prefix="ssim_report_chromium_")
        cls.folder = os.path.join(cls.tmp, "net60")
        shutil.copytree(os.path.join(DATA, "net60"), cls.folder)
        cls.proc = run_script(cls.folder)
        cls.results = {}
        if not cls.chromium or cls.proc.returncode != 0:
            return
        page = os.path.join(cls.folder, "report.html")
        probed = os.path.join(cls.folder, "report_probe.html")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        with open(probed, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", PROBE + "</body>"))
        size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
        shot = os.path.join(cls.tmp, "shot.png")
        cls.results = {
            "dom": run_chromium(cls.chromium, "--dump-dom", size, "file://" + page),
            "probe": run_chromium(cls.chromium, "--dump-dom", size, "file://" + probed),
            "shot": run_chromium(cls.chromium, f"--screenshot={shot}", size, "file://" + page),
        }
        cls.shot_path = shot

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not self.chromium:
            self.fail("chromium is not installed: apt-get install chromium "
                      "(needed to check that report.html renders; CI installs it)")
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def result(self, key):
        proc = self.results[key]
        self.assertEqual(proc.returncode, 0, f"chromium failed: {proc.stderr[-2000:]}")
        return proc

    def probe(self):
        dom = parse_page(self.result("probe").stdout)
        self.assertIn("probe-result", dom.text_by_id, "the probe script did not run")
        return json.loads(dom.text_by_id["probe-result"])

    def test_dom_has_table_figures_totals(self):
        dom = parse_page(self.result("dom").stdout)
        rows = read_layers_csv(self.folder)
        self.assertEqual(len(rows), 60)
        self.assertEqual(len(dom.rows), len(rows), "table rows != layers")
        imgs = [a for a, where in dom.imgs if "figures" in where]
        self.assertEqual(len(imgs), 3)
        total = sum(int(r["total_cycles"]) for r in rows)
        self.assertIn(f"{total:,}", dom.text_by_id["total-cycles"])
        for ident in ("hardware", "workload", "reference-kernels", "layer-table"):
            self.assertIn(ident, dom.ids)
        self.assertIn("Vector Add", dom.text_by_id["reference-kernels"])
        self.assertIn("Matrix Multiply", dom.text_by_id["reference-kernels"])

    def test_images_load_and_table_sorts(self):
        p = self.probe()
        self.assertEqual(len(p["images"]), 3)
        for im in p["images"]:
            self.assertTrue(im["ok"], f"figure did not load: {im}")
            self.assertGreater(im["width"], 300)
            self.assertGreater(im["height"], 200)
        rows = read_layers_csv(self.folder)
        cycles = {int(r["index"]): int(r["total_cycles"]) for r in rows}
        # Ascending by cycles, ties in file order; then descending, ties in file order.
        asc = sorted(cycles, key=lambda i: (cycles[i], i))
        desc = sorted(cycles, key=lambda i: (-cycles[i], i))
        self.assertEqual(p["asc"], asc)
        self.assertEqual(p["desc"], desc)
        self.assertEqual((p["ascSort"], p["descSort"]), ("ascending", "descending"))
        names = {int(r["index"]): r["name"].lower() for r in rows}
        self.assertEqual(p["byName"], sorted(names, key=lambda i: (names[i], i)))

    def test_table_fits_1400_px_with_sticky_first_columns(self):
        p = self.probe()
        self.assertEqual(WINDOW[0], 1400)
        self.assertLessEqual(p["scrollWidth"], p["clientWidth"], "horizontal page scroll")
        self.assertGreater(p["wrapScroll"], p["wrapWidth"], "the table should scroll inside")
        self.assertEqual(p["scrolledBy"], 300)
        # Row number and name stay put; the other columns move by the 300 px scrolled.
        self.assertAlmostEqual(p["cellShift"][0], 0, delta=1)
        self.assertAlmostEqual(p["cellShift"][1], 0, delta=1)
        self.assertAlmostEqual(p["cellShift"][2], -300, delta=1)

    def test_screenshot_shows_figures_and_table(self):
        need_mpl(self)
        p = self.probe()
        self.assertLess(p["scrollHeight"], WINDOW[1], "page taller than the screenshot window")
        self.result("shot")
        self.assertTrue(os.path.isfile(self.shot_path), "no screenshot written")
        png_header(self.shot_path)
        shot = read_png(self.shot_path)
        self.assertEqual(shot.shape[:2], (WINDOW[1], WINDOW[0]))
        std, inked, colours = pixel_stats(shot)
        self.assertGreater(std, 0.05, "screenshot is nearly uniform")
        self.assertGreater(colours, 100, "screenshot has too few colours")

        def region(rect):
            x0, y0 = max(0, int(rect["x"])), max(0, int(rect["y"]))
            x1 = min(WINDOW[0], int(rect["x"] + rect["width"]))
            y1 = min(WINDOW[1], int(rect["y"] + rect["height"]))
            self.assertGreater(x1 - x0, 50)
            self.assertGreater(y1 - y0, 50)
            return shot[y0:y1, x0:x1]

        # Each figure's box on screen is drawn (not blank) ...
        for im in p["images"]:
            std, inked, colours = pixel_stats(region(im))
            self.assertGreater(inked, 0.03, f"figure at y={im['y']} looks blank")
            self.assertGreater(colours, 20)
        # ... the roofline shows its gold reference-kernel stars ...
        self.assertGreater(count_colour(region(p["images"][0]), GOLD), 50,
                           "no gold stars visible in the roofline")
        # ... and the table and the totals are painted.
        for ident in ("layer-table", "totals"):
            std, inked, colours = pixel_stats(region(p["rects"][ident]))
            self.assertGreater(inked, 0.02, f"#{ident} looks blank")
            self.assertGreater(std, 0.03, f"#{ident} looks blank")


if __name__ == "__main__":
    unittest.main(verbosity=2)
