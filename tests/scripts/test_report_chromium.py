#!/usr/bin/env python3
"""Tests of scripts/ssim_report.py's report.html in headless Chromium (Debian's chromium; a missing
chromium is a FAILURE, not a skip): the DOM, images loading, sorting, layout, a screenshot.

Run by ctest (SSIM_SOURCE_DIR = the repository root); the sample folders are tests/data/report/.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_test_util import (  # noqa: E402  (runs the file again with Debian's python3 if needed)
    count_colour, DATA, GOLD, need_mpl, parse_page, pixel_stats, png_header, read_layers_csv, read_png, run_script)


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
