#!/usr/bin/env python3
"""The include rules of docs/architecture.md: the source tree keeps them, and the checker
(scripts/check_includes.py) fails on a tree that breaks one.

The bad trees are copies of the real one with one include planted, in a temporary folder.
Run by ctest with SSIM_SOURCE_DIR (the repo root).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ.get("SSIM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CHECKER = os.path.join(SOURCE, "scripts", "check_includes.py")


def run_checker(root):
    p = subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True)
    return p.returncode, p.stderr


class IncludeRules(unittest.TestCase):
    def test_source_tree_keeps_the_rules(self):
        rc, err = run_checker(SOURCE)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")

    def copy_tree(self):
        tmp = tempfile.mkdtemp(prefix="ssim-includes-")
        self.addCleanup(shutil.rmtree, tmp)
        for top in ("models", "workloads", "sim"):
            shutil.copytree(os.path.join(SOURCE, top), os.path.join(tmp, top),
                            ignore=shutil.ignore_patterns("presets", "networks"))
        return tmp

    def plant(self, root, rel, include):
        """Appends `#include "include"` to root/rel; returns the line number it is on."""
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f'#include "{include}"\n')
        return n + 1

    def test_upward_edges_fail(self):
        # (file, include, folder of the file, folder included): each an arrow up the house.
        cases = [
            ("models/program.hpp", "workloads/lower.hpp", "models", "workloads"),
            ("workloads/lower.hpp", "sim/spec/config.hpp", "workloads", "sim/spec"),
            ("sim/mapping/tiler.hpp", "sim/run/gemm_run.hpp", "sim/mapping", "sim/run"),
            ("sim/run/op_run.cpp", "sim/report/run_outputs.hpp", "sim/run", "sim/report"),
            ("sim/report/run_outputs.cpp", "sim/cli/cli.hpp", "sim/report", "sim/cli"),
            ("sim/cli/cli.cpp", "sim/sweep/sweep.hpp", "sim/cli", "sim/sweep"),
            ("sim/sweep/sweep.cpp", "sim/entry.hpp", "sim/sweep", "sim"),
        ]
        for rel, include, src, dst in cases:
            with self.subTest(file=rel, include=include):
                root = self.copy_tree()
                line = self.plant(root, rel, include)
                rc, err = run_checker(root)
                self.assertEqual(rc, 1, err)
                self.assertEqual(
                    err.splitlines()[0].split(" (it may include")[0],
                    f'error: {rel}:{line}: #include "{include}": {src}/ may not include {dst}/')
                self.assertEqual(len(err.splitlines()), 1, err)

    def test_downward_and_sideways_edges_pass(self):
        root = self.copy_tree()
        self.plant(root, "sim/sweep/sweep.cpp", "models/types.hpp")
        self.plant(root, "sim/run/op_run.cpp", "sim/mapping/im2col.hpp")
        self.plant(root, "sim/main.cpp", "sim/sweep/sweep.hpp")
        rc, err = run_checker(root)
        self.assertEqual((rc, err), (0, ""))

    def test_unknown_folder_is_an_error(self):
        root = self.copy_tree()
        line = self.plant(root, "sim/run/op_run.cpp", "sim/newplace/thing.hpp")
        rc, err = run_checker(root)
        self.assertEqual(rc, 2, err)
        self.assertIn(f'error: sim/run/op_run.cpp:{line}: #include "sim/newplace/thing.hpp": '
                      "folder not in", err)


if __name__ == "__main__":
    unittest.main()
