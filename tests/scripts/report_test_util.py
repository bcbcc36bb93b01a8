"""Shared by the tests of scripts/ssim_report.py (test_report.py, test_report_bad_input.py,
test_report_chromium.py): the sample run folders, running the script, reading PNGs and the page.

Importing it runs the test file again with Debian's python3 when the python3 running it cannot
import matplotlib but /usr/bin/python3 can.
"""

import html.parser
import importlib
import os
import struct
import subprocess
import sys
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
    os.execve(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


_rerun_with_matplotlib()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt  # noqa: F401  (for the tests)
    import numpy as np
    from matplotlib.text import Text  # noqa: F401  (for the tests)

    MPL_ERROR = None
except ImportError as e:  # the tests that need it fail with this message
    MPL_ERROR = f"matplotlib/numpy not importable ({e}): apt-get install python3-matplotlib"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_folder_util import read_layers_csv, read_summary  # noqa: E402,F401  (for the tests)

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
