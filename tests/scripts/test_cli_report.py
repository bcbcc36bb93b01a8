#!/usr/bin/env python3
"""The simulator's run folder, end to end: `systolic-sim --workload ... --report` writes layers.csv
and summary.json that the report script's strict checks accept (parts adding up to totals, derived
numbers matching their formulas), the figures and report.html; without Python/matplotlib the run
still writes the CSV and JSON and says in one line how to get figures.

Run by ctest with SSIM_BINARY (the built systolic-sim) and SSIM_SOURCE_DIR (the repo root).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = os.environ.get("SSIM_BINARY", "")
SOURCE = os.environ.get("SSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
NETWORK = os.path.join(SOURCE, "tests", "data", "workloads", "all_layers.yaml")
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")


def run(args, **kw):
    return subprocess.run([BINARY] + args, capture_output=True, text=True, env=kw.get("env", ENV),
                          timeout=600)


class CliReport(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BINARY and os.path.exists(BINARY), "SSIM_BINARY not set or missing")
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "run")

    def tearDown(self):
        self.tmp.cleanup()

    def test_report_from_a_real_run(self):
        r = run(["--workload", NETWORK, "--array", "8x8", "--dataflow", "os", "--out", self.out,
                 "--report"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in ["layers.csv", "summary.json", "COMPUTE_REPORT.csv", "roofline.png",
                  "roofline.svg", "utilization.png", "time_breakdown.png", "report.html"]:
            self.assertTrue(os.path.exists(os.path.join(self.out, f)), f)
        # The numbers, re-derived here from the file's own columns.
        with open(os.path.join(self.out, "layers.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(self.out, "summary.json")) as f:
            summary = json.load(f)
        self.assertGreater(len(rows), 10)
        total = 0
        for row in rows:
            parts = sum(int(row[k]) for k in ["compute_cycles", "fill_drain_cycles",
                                               "mem_stall_cycles", "vector_cycles",
                                               "stage_cycles"])
            self.assertEqual(parts, int(row["total_cycles"]), row["name"])
            if row["M"]:
                self.assertEqual(int(row["macs"]), int(row["repeat"]) * int(row["M"]) *
                                 int(row["N"]) * int(row["K"]))
            total += int(row["total_cycles"])
        self.assertEqual(summary["totals"]["cycles"], total)
        hw = summary["hardware"]
        self.assertEqual(hw["peak_flops_per_s"], 2 * 8 * 8 * hw["clock_ghz"] * 1e9)
        self.assertIn("vector_add", summary["canonical"])
        self.assertIn("matrix_multiply", summary["canonical"])
        with open(os.path.join(self.out, "report.html")) as f:
            page = f.read()
        self.assertIn("all-layers", page)

    def test_without_python_the_run_still_writes_csv_and_json(self):
        env = dict(ENV, SSIM_PYTHON="/nonexistent/python3")
        r = run(["--gemm", "64,64,64", "--array", "8x8", "--out", self.out, "--report"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Progress lines ("run: ...") appear when the run (with --report's reference kernels)
        # takes more than a second; besides them, one line.
        lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith("run: ")]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("apt-get install python3-matplotlib", lines[0])
        self.assertTrue(os.path.exists(os.path.join(self.out, "layers.csv")))
        self.assertTrue(os.path.exists(os.path.join(self.out, "summary.json")))
        self.assertFalse(os.path.exists(os.path.join(self.out, "report.html")))


if __name__ == "__main__":
    unittest.main()
