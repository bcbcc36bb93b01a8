#!/usr/bin/env python3
"""`cmake --install` into a temporary prefix, moved elsewhere, run with the source and build trees
out of view (docs/install.md).

The prefix is installed, then moved to another folder (so no path known at install time is
right any more), and the installed binary runs from a third folder with a cleared environment.
Where the machine allows a private mount namespace (`unshare --mount`, root or user namespaces),
the source and build trees are hidden under empty tmpfs mounts for that run, so a lookup of any
compiled-in path would find nothing; `strings` checks that none is compiled in either way.

Run by ctest with SSIM_BUILD_DIR (the build folder) and SSIM_SOURCE_DIR (the repository root).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ.get("SSIM_BUILD_DIR", "")
SOURCE = os.environ.get("SSIM_SOURCE_DIR", "")
MODULE = os.environ.get("SSIM_PYTHON_MODULE", "0") in ("1", "ON", "TRUE", "true")
# GEMM MACs of the built-in ResNet-50 (torchvision's count; docs/workloads.md, derived with
# PyTorch's forward hooks in tests/scripts/test_onnx.py).
RESNET50_MACS = 4_089_184_256
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
             "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1"}


def can_hide():
    r = subprocess.run(["unshare", "--mount", "--map-root-user", "true"], capture_output=True)
    return r.returncode == 0


def hidden(cmd, hide):
    """`cmd` with every folder of `hide` covered by an empty tmpfs (a private mount namespace)."""
    mounts = " && ".join("mount -t tmpfs none '%s'" % d for d in hide)
    script = mounts + ' && exec "$@"'
    return ["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh"] + cmd


def cfg_value(path, key):
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*%s\s*[=:]\s*(\S+)" % key, line)
            if m:
                return m.group(1)
    raise KeyError(key)


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        assert BUILD and os.path.isdir(BUILD), "SSIM_BUILD_DIR not set"
        cls.tmp = tempfile.TemporaryDirectory()
        staged = os.path.join(cls.tmp.name, "staged")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", staged], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        # Moved: the prefix given at install time no longer exists.
        cls.prefix = os.path.join(cls.tmp.name, "elsewhere", "opt", "ssim")
        os.makedirs(os.path.dirname(cls.prefix))
        shutil.move(staged, cls.prefix)
        cls.work = os.path.join(cls.tmp.name, "work")
        os.makedirs(cls.work)
        dirs = sorted({os.path.realpath(SOURCE), os.path.realpath(BUILD)})
        # Covering a folder covers what is inside it (the build folder is often in the sources).
        cls.hide = [d for d in dirs if not any(d.startswith(o + os.sep) for o in dirs)]
        cls.paths = dirs
        cls.can_hide = can_hide()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_installed(self, args, env=None, hide=True, binary=None):
        cmd = [binary or os.path.join(self.prefix, "bin", "systolic-sim")] + args
        if hide and self.can_hide:
            cmd = hidden(cmd, self.hide)
        return subprocess.run(cmd, cwd=self.work, env=env or CLEAN_ENV, capture_output=True,
                              text=True, timeout=600)

    def test_the_trees_are_out_of_view(self):
        if not self.can_hide:
            self.skipTest("no private mount namespace here (unshare --mount)")
        for d in self.hide:  # each an empty mount inside the namespace
            r = subprocess.run(hidden(["ls", "-A", d], self.hide), capture_output=True,
                               text=True, env=CLEAN_ENV)
            self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(BUILD, "CMakeCache.txt")))  # outside: there

    def test_layout(self):
        share = os.path.join(self.prefix, "share", "systolic-sim")
        expect = {
            "presets": sorted(f for f in os.listdir(os.path.join(SOURCE, "models", "presets"))
                              if f.endswith(".cfg")),
            "networks": sorted(f for f in os.listdir(os.path.join(SOURCE, "workloads", "networks"))
                               if f.endswith(".yaml")),
            os.path.join("scripts", "ssim_plot"): sorted(
                f for f in os.listdir(os.path.join(SOURCE, "scripts", "ssim_plot"))
                if f.endswith(".py")),
        }
        for sub, files in expect.items():
            self.assertGreater(len(files), 0, sub)
            self.assertEqual(sorted(os.listdir(os.path.join(share, sub))), files, sub)
        for f in ["ssim_report.py", "ssim_sweep_report.py"]:
            self.assertTrue(os.access(os.path.join(share, "scripts", f), os.X_OK), f)
        docs = os.path.join(self.prefix, "share", "doc", "systolic-sim")
        self.assertTrue(os.path.isfile(os.path.join(docs, "README.md")))
        self.assertEqual(sorted(os.listdir(os.path.join(docs, "docs"))),
                         sorted(f for f in os.listdir(os.path.join(SOURCE, "docs"))
                                if f.endswith(".md")))

    def test_no_build_or_source_path_compiled_in(self):
        files = [os.path.join(self.prefix, "bin", "systolic-sim"),
                 os.path.join(self.prefix, "lib", "systolic-sim", "ssim_onnx.so")]
        pydir = os.path.join(self.prefix, "lib", "python3", "dist-packages", "systolic_sim")
        if MODULE:
            files += [os.path.join(pydir, f) for f in os.listdir(pydir) if f.endswith(".so")]
            self.assertEqual(len(files), 3, os.listdir(pydir))
        for path in files:
            text = subprocess.run(["strings", "-a", path], capture_output=True, text=True,
                                  check=True).stdout
            for d in self.paths:
                self.assertNotIn(d, text, "%s holds the path %s" % (path, d))

    def test_network_with_report_relocated_and_hidden(self):
        out = os.path.join(self.work, "r50")
        r = self.run_installed(["--config", "tpu-v1", "--workload", "resnet50", "--array",
                                "64x64", "--out", out, "--report", "--quiet"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        # The preset came from PREFIX/share: its clock and bandwidth, with the flag's array.
        preset = os.path.join(self.prefix, "share", "systolic-sim", "presets", "tpu-v1.cfg")
        self.assertEqual(s["hardware"]["clock_ghz"], float(cfg_value(preset, "ClockGHz")))
        self.assertEqual(s["hardware"]["dataflow"], cfg_value(preset, "Dataflow"))
        self.assertEqual((s["hardware"]["array_rows"], s["hardware"]["array_cols"]), (64, 64))
        self.assertEqual(s["workload"]["name"], "resnet50")
        self.assertEqual(s["totals"]["macs"], RESNET50_MACS)
        for f in ["layers.csv", "roofline.png", "roofline.svg", "utilization.png",
                  "time_breakdown.png", "report.html"]:
            self.assertGreater(os.path.getsize(os.path.join(out, f)), 0, f)

    def test_onnx_model_through_the_plugin_relocated_and_hidden(self):
        # The binary does not link the ONNX reader (libonnx, protobuf: a third of its start-up);
        # it loads PREFIX/lib/systolic-sim/ssim_onnx.so for an .onnx workload (onnx_plugin.hpp).
        binary = os.path.join(self.prefix, "bin", "systolic-sim")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                            subprocess.run(["readelf", "-d", binary], capture_output=True,
                                           text=True, check=True).stdout)
        self.assertFalse([n for n in needed if "onnx" in n or "protobuf" in n], needed)
        model = os.path.join(self.work, "cnn.onnx")  # the source tree is hidden from the run
        shutil.copy2(os.path.join(SOURCE, "tests", "fuzz", "onnx", "cnn_symbolic_batch.onnx"), model)
        macs = []
        for batch in [1, 2]:  # the model's symbolic batch, read by the plugin
            out = os.path.join(self.work, "onnx%d" % batch)
            r = self.run_installed(["--workload", model, "--batch", str(batch), "--out", out,
                                    "--quiet"])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            self.assertEqual(s["workload"]["name"], "cnn")
            macs.append(s["totals"]["macs"])
        self.assertGreater(macs[0], 0)
        self.assertEqual(macs[1], 2 * macs[0])

    def test_sweep_report_relocated_and_hidden(self):
        out = os.path.join(self.work, "sw")
        r = self.run_installed(["sweep", "--gemm", "64,64,64", "--arrays", "8x8,16x16", "-j", "1",
                                "--out", out, "--report", "--quiet"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "sweep.csv")) as f:
            self.assertEqual(len(f.read().strip().splitlines()), 3)  # header + 2 points
        self.assertTrue(os.path.isfile(os.path.join(out, "report.html")))

    def test_data_env_variable_comes_first(self):
        # A copy of the data folder with one more preset, named by SYSTOLIC_SIM_DATA.
        data = os.path.join(self.tmp.name, "mydata")
        shutil.copytree(os.path.join(self.prefix, "share", "systolic-sim"), data)
        with open(os.path.join(data, "presets", "lab.cfg"), "w") as f:
            f.write("[architecture_presets]\nArrayHeight = 12\nArrayWidth = 20\n")
        out = os.path.join(self.work, "lab-run")
        r = self.run_installed(["--config", "lab", "--gemm", "24,40,16", "--out", out, "--quiet"],
                               env=dict(CLEAN_ENV, SYSTOLIC_SIM_DATA=data))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            hw = json.load(f)["hardware"]
        self.assertEqual((hw["array_rows"], hw["array_cols"]), (12, 20))
        # Without the variable the installed data has no such preset: the CLI's one line.
        r = self.run_installed(["--config", "lab", "--gemm", "24,40,16", "--out", out + "2"])
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.strip(), r"^error: --config 'lab': no such file, and no "
                         r"preset of that name \(presets: edge-32x32, eyeriss, gemmini, ")

    def test_without_its_data_folder_says_where_it_looked(self):
        # The binary alone, copied out of its prefix: no presets, no report script, and the
        # messages name the folders searched and the variable.
        lone = os.path.join(self.tmp.name, "lone", "bin")
        os.makedirs(lone)
        shutil.copy2(os.path.join(self.prefix, "bin", "systolic-sim"), lone)
        binary = os.path.join(lone, "systolic-sim")
        r = self.run_installed(["--workload", "resnet50", "--out", "x"], binary=binary)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown workload 'resnet50'", r.stderr)
        out = os.path.join(self.work, "lone")
        r = self.run_installed(["--gemm", "8,8,8", "--out", out, "--report"], binary=binary)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("scripts/ssim_report.py not found in the data folders", r.stderr)
        self.assertIn(os.path.join(self.tmp.name, "lone", "share", "systolic-sim"), r.stderr)
        self.assertIn("SYSTOLIC_SIM_DATA", r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(out, "summary.json")))
        # Nor its ONNX reader plugin: an .onnx workload names the file and where it looked.
        model = os.path.join(self.work, "lone.onnx")
        shutil.copy2(os.path.join(SOURCE, "tests", "fuzz", "onnx", "cnn_symbolic_batch.onnx"), model)
        r = self.run_installed(["--workload", model, "--out", out + "-onnx"], binary=binary)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the ONNX reader plugin ssim_onnx.so was not found", r.stderr)
        self.assertIn(os.path.join(self.tmp.name, "lone", "lib", "systolic-sim", "ssim_onnx.so"),
                      r.stderr)
        self.assertFalse(os.path.exists(out + "-onnx"))

    @unittest.skipUnless(MODULE, "the Python module is not built (pybind11-dev)")
    def test_python_module_from_the_moved_prefix(self):
        code = ("import json, systolic_sim as ss\n"
                "r = ss.simulate('tpu-v1', workload='resnet50', array='64x64')\n"
                "print(json.dumps({'dirs': ss._core.data_dirs(), 'macs': r.totals['macs'],"
                " 'rows': len(r.layers), 'file': ss.__file__}))\n")
        env = dict(CLEAN_ENV, PYTHONPATH=os.path.join(self.prefix, "lib", "python3",
                                                      "dist-packages"))
        cmd = [sys.executable, "-c", code]
        if self.can_hide:
            cmd = hidden(cmd, self.hide)
        r = subprocess.run(cmd, cwd=self.work, env=env, capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertTrue(got["file"].startswith(self.prefix), got["file"])
        self.assertEqual(got["dirs"][0], os.path.join(self.prefix, "share", "systolic-sim"))
        self.assertEqual(got["macs"], RESNET50_MACS)
        with open(os.path.join(self.prefix, "share", "systolic-sim", "networks",
                               "resnet50.yaml")) as f:
            self.assertGreater(got["rows"], f.read().count("type:") - 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
