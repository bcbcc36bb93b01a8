#!/usr/bin/env python3
"""Tests of scripts/ssim_report.py on bad input: each damaged run folder gives exit 2, one line
on stderr naming the file and what is wrong, and no output.

Run by ctest (SSIM_SOURCE_DIR = the repository root); the sample folders are tests/data/report/.
"""

import csv
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_test_util import (  # noqa: E402  (runs the file again with Debian's python3 if needed)
    DATA, need_mpl, OUTPUTS, read_layers_csv, read_summary, run_script)


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
