#!/usr/bin/env python3
"""Figures and a self-contained HTML page from a systolic-sim run folder.

    python3 scripts/ssim_report.py RUN_DIR

Reads RUN_DIR/layers.csv and RUN_DIR/summary.json (format: docs/report-format.md) and writes
into RUN_DIR: roofline.svg/.png, utilization.svg/.png, time_breakdown.svg/.png and report.html.

Exit status: 0 written; 2 bad input (usage, missing or malformed file, inconsistent numbers,
folder not writable), with one line on stderr; 3 matplotlib is missing, with one line on stderr
saying how to install it. Standard library + Debian's python3-matplotlib only.

If the python3 that runs this script cannot import matplotlib (e.g. a pyenv or venv python3
first on PATH) and /usr/bin/python3 is another interpreter, the script runs itself again with
/usr/bin/python3, where Debian's python3-matplotlib lives. SSIM_REPORT_NO_REEXEC=1 turns this off.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ litter in the source tree

from ssim_plot import launch  # noqa: E402  (standard library only)
from ssim_plot.rundata import RunInputError, load_run  # noqa: E402

PROG = "ssim_report"
USAGE = "usage: ssim_report.py RUN_DIR   (a run folder with layers.csv and summary.json)"


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
        run = load_run(folder)
    except RunInputError as e:
        return _fail(str(e), 2)

    if not launch.have_matplotlib():
        _rerun_with_debian_python(argv)
        return _fail(launch.MATPLOTLIB_HINT, 3)

    from ssim_plot import figures, page

    try:
        written = figures.all_figures(run, folder)
        written.append(page.write(run, folder))
    except OSError as e:
        where = e.filename or folder
        return _fail(f"{where}: cannot write: {e.strerror or e}", 2)
    names = ", ".join(os.path.basename(p) for p in written)
    print(f"{PROG}: wrote {names} in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
