#!/usr/bin/env python3
"""Figures and a self-contained HTML page from a systolic-sim sweep folder.

    python3 scripts/ssim_sweep_report.py SWEEP_DIR

Reads SWEEP_DIR/sweep.json, sweep.csv and sweep_layers.csv (format: docs/sweep.md) and writes
SWEEP_DIR/figures/: cycles, utilization (against the PE count, a line per dataflow, a panel per
workload), pareto (cycles against PE count, the Pareto front highlighted), and one heatmap per
workload and dataflow (utilization per GEMM op and array size), each as .svg and .png; and
SWEEP_DIR/report.html, one page with the figures and the sweep table.

A folder of a sweep still running (or interrupted) works too: the figures show the points
finished so far.

Exit status: 0 written; 2 bad input (usage, missing or malformed file, inconsistent numbers,
folder not writable), with one line on stderr; 3 matplotlib is missing, with one line on stderr
saying how to install it. Standard library + Debian's python3-matplotlib only. As
ssim_report.py, it runs itself again with /usr/bin/python3 if the python3 that started it cannot
import matplotlib (SSIM_REPORT_NO_REEXEC=1 turns that off).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ litter in the source tree

from ssim_plot import launch  # noqa: E402  (standard library only)
# The parts, all importable without matplotlib (the figures import it when they are built).
from ssim_plot.sweep_data import SweepInputError, heatmap_groups, load_sweep  # noqa: E402,F401
from ssim_plot.sweep_figures import build_heatmap, build_pareto, build_scaling  # noqa: E402,F401
from ssim_plot.sweep_figures import write_figures  # noqa: E402
from ssim_plot.sweep_page import write_page  # noqa: E402

PROG = "ssim_sweep_report"
USAGE = "usage: ssim_sweep_report.py SWEEP_DIR   (a folder written by systolic-sim sweep)"
def _fail(message: str, code: int) -> int:
    return launch.fail(PROG, message, code)


def _rerun_with_debian_python(argv) -> None:
    launch.rerun_with_debian_python(__file__, argv)


def main(argv) -> int:
    if len(argv) == 1 and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        return _fail(USAGE, 2)
    folder = argv[0]
    try:
        sweep = load_sweep(folder)
    except SweepInputError as e:
        return _fail(str(e), 2)
    if not sweep.ok_points:
        return _fail(f"{os.path.join(folder, 'sweep.csv')}: no finished point (all "
                     f"{len(sweep.points)} failed); nothing to draw", 2)
    if not launch.have_matplotlib():
        _rerun_with_debian_python(argv)
        return _fail(launch.MATPLOTLIB_HINT, 3)
    try:
        written, heatmaps = write_figures(sweep, folder)
        written.append(write_page(sweep, folder, heatmaps))
    except OSError as e:
        where = e.filename or folder
        return _fail(f"{where}: cannot write: {e.strerror or e}", 2)
    print(f"{PROG}: wrote {len(written) - 1} figure files in "
          f"{os.path.join(folder, 'figures')} and {written[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
