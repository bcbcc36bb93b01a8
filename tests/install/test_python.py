#!/usr/bin/env python3
"""The Python module systolic_sim (docs/python.md), from the build tree.

Its results are the CLI's: the same inputs through the module and through build/systolic-sim give
byte-identical run and sweep folders, and Run.totals / Run.layers are those files' contents; the
totals are also checked against closed forms (MACs of a GEMM, of ResNet-50). Its errors are the
CLI's one-line messages as ValueErrors. The README's Python example runs as written.

Run by ctest with SSIM_BUILD_DIR and SSIM_SOURCE_DIR; skipped when the module is not built.
"""
import filecmp
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ.get("SSIM_BUILD_DIR", "")
SOURCE = os.environ.get("SSIM_SOURCE_DIR", "")
MODULE = os.environ.get("SSIM_PYTHON_MODULE", "0") in ("1", "ON", "TRUE", "true")
BINARY = os.path.join(BUILD, "systolic-sim")
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
RESNET50_MACS = 4_089_184_256  # docs/workloads.md (PyTorch's count)

if MODULE:
    sys.path.insert(0, os.path.join(BUILD, "python"))
    import pandas as pd
    import systolic_sim as ss


def cli(args, cwd=None):
    return subprocess.run([BINARY] + args, capture_output=True, text=True, env=ENV, cwd=cwd,
                          timeout=600)


def same_folders(test, a, b):
    names = sorted(os.listdir(a))
    test.assertEqual(names, sorted(os.listdir(b)))
    test.assertGreater(len(names), 1)
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    test.assertEqual((mismatch, errors), ([], []))


@unittest.skipUnless(MODULE, "the Python module is not built (pybind11-dev, python3-dev)")
class Module(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def compare_with_cli(self, name, py_call, cli_args):
        a, b = os.path.join(self.dir, name + "-cli"), os.path.join(self.dir, name + "-py")
        r = cli(cli_args + ["--out", a, "--quiet"])
        self.assertEqual(r.returncode, 0, r.stderr)
        run = py_call(b)
        same_folders(self, a, b)
        with open(os.path.join(a, "summary.json")) as f:
            summary = json.load(f)
        self.assertEqual(run.summary, summary)
        self.assertEqual(run.totals, summary["totals"])
        if os.path.exists(os.path.join(a, "layers.csv")):
            pd.testing.assert_frame_equal(run.layers, pd.read_csv(os.path.join(a, "layers.csv")))
            self.assertEqual(int(run.layers["macs"].sum()), run.totals["macs"])
            self.assertEqual(int(run.layers["total_cycles"].sum()), run.totals["cycles"])
        self.assertEqual(run.dir, b)
        return run

    def test_network_equals_cli(self):
        hw = ss.Hardware.from_config("tpu-v1", array="32x32", dataflow="ws")
        run = self.compare_with_cli(
            "r50", lambda out: ss.simulate(hw, workload="resnet50", out=out),
            ["--config", "tpu-v1", "--array", "32x32", "--dataflow", "ws", "--workload",
             "resnet50"])
        self.assertEqual(run.totals["macs"], RESNET50_MACS)
        self.assertEqual((run.hardware["array_rows"], run.hardware["dataflow"]), (32, "ws"))

    def test_yaml_file_and_flags_equal_cli(self):
        net = os.path.join(SOURCE, "tests", "data", "workloads", "all_layers.yaml")
        self.compare_with_cli(
            "yaml", lambda out: ss.simulate(ss.Hardware(array="16x8", dataflow="os",
                                                        fold_overlap=True, ifmap_sram_kb=128),
                                            workload=net, out=out, seed=3),
            ["--array", "16x8", "--dataflow", "os", "--fold-overlap", "on", "--ifmap-sram-kb", "128",
             "--workload", net, "--seed", "3"])

    def test_onnx_and_scalesim_csv_equal_cli(self):
        onnx = os.path.join(SOURCE, "tests", "fuzz", "onnx", "cnn_symbolic_batch.onnx")
        self.compare_with_cli(
            "onnx", lambda out: ss.simulate("gemmini", workload=onnx, batch=4, out=out),
            ["--config", "gemmini", "--workload", onnx, "--batch", "4"])
        # A SCALE-Sim conv topology where its rounding matters: 6x6 input, 3x3 filter, stride 2,
        # 4 channels, 8 filters: floor((6-3)/2)+1 = 2 outputs a side, SCALE-Sim's ceil(5/2) = 3.
        csv = os.path.join(self.dir, "t.csv")
        with open(csv, "w") as f:
            f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                    "Channels, Num Filter, Strides,\nc1, 6, 6, 3, 3, 4, 8, 2,\n")
        run = self.compare_with_cli(
            "csv", lambda out: ss.simulate("scale-sim-32x32", workload=csv,
                                           scalesim_rounding=True, out=out),
            ["--config", "scale-sim-32x32", "--workload", csv, "--scalesim-rounding"])
        self.assertEqual(run.totals["macs"], 3 * 3 * 9 * 4 * 8)
        plain = ss.simulate("scale-sim-32x32", workload=csv)
        self.assertEqual(plain.totals["macs"], 2 * 2 * 9 * 4 * 8)

    def test_cycle_gemm_equals_cli(self):
        run = self.compare_with_cli(
            "gemm", lambda out: ss.simulate("eyeriss", gemm=(100, 60, 70), fidelity="cycle",
                                            out=out),
            ["--config", "eyeriss", "--gemm", "100,60,70", "--fidelity", "cycle"])
        self.assertEqual(run.totals["macs"], 100 * 60 * 70)
        self.assertIs(run.summary["values_ok"], True)

    def test_many_runs_in_one_process_and_no_child_left(self):
        for m, n, k in [(8, 8, 8), (33, 17, 5), (64, 128, 96), (1, 1, 1), (250, 3, 31)]:
            run = ss.simulate(gemm=(m, n, k), array="8x8")
            self.assertEqual(run.totals["macs"], m * n * k)
            self.assertIsNone(run.dir)
        with self.assertRaises(ChildProcessError):
            os.waitpid(-1, os.WNOHANG)

    def test_network_object(self):
        net = ss.Network([{"name": "g", "type": "gemm", "M": 64, "N": 48, "K": 40},
                          {"name": "fc", "type": "linear", "tokens": 16, "in": 24, "out": 10}],
                         name="tiny")
        run = ss.simulate(ss.Hardware(array="8x8"), workload=net)
        self.assertEqual(run.totals["macs"], 64 * 48 * 40 + 16 * 24 * 10)
        self.assertEqual(list(run.layers["name"]), ["g", "fc"])
        self.assertEqual(run.summary["workload"]["name"], "tiny")

    def test_errors_are_the_cli_lines(self):
        cases = [
            (lambda: ss.Hardware.from_config("tpu-v1", dataflow="rs"),
             ["--config", "tpu-v1", "--dataflow", "rs", "--print-config"], "'rs'"),
            (lambda: ss.Hardware.from_config("tpu-v1", arrray="8x8"),
             ["--config", "tpu-v1", "--arrray", "8x8", "--print-config"], "arrray"),
            (lambda: ss.Hardware.from_config("no-such-preset"),
             ["--config", "no-such-preset", "--print-config"], "no-such-preset"),
            (lambda: ss.simulate(workload="resnet51"),
             ["--workload", "resnet51", "--out", os.path.join(self.dir, "x")], "resnet51"),
            (lambda: ss.sweep(workload="mlp", arrays=["8x8", "0x4"], out=self.dir + "/s"),
             ["sweep", "--workload", "mlp", "--arrays", "8x8,0x4", "--out", self.dir + "/s"],
             "0x4"),
        ]
        for call, args, name in cases:
            r = cli(args)
            self.assertEqual(r.returncode, 2, args)
            line = r.stderr.strip().splitlines()[-1]
            self.assertTrue(line.startswith("error: ") and name in line, line)
            with self.assertRaises(ValueError) as e:
                call()
            self.assertIsInstance(e.exception, ss.InputError)
            self.assertEqual(str(e.exception), line)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x")))  # nothing written

    def test_sweep_equals_cli_and_single_runs(self):
        hw = ss.Hardware.from_config("tpu-v1")
        a, b = os.path.join(self.dir, "cli"), os.path.join(self.dir, "py")
        r = cli(["sweep", "--config", "tpu-v1", "--workload", "mlp", "--arrays", "8x8,16x32",
                 "--dataflows", "os,ws", "--fold-overlap", "off,on", "-j", "2", "--out", a,
                 "--quiet"])
        self.assertEqual(r.returncode, 0, r.stderr)
        res = ss.sweep(hw, workload="mlp", arrays=["8x8", "16x32"], dataflows=["os", "ws"],
                       fold_overlap=["off", "on"], jobs=2, out=b)
        same_folders(self, a, b)
        self.assertEqual(len(res), 8)
        pd.testing.assert_frame_equal(res.points, pd.read_csv(os.path.join(a, "sweep.csv")))
        # Each point as a single run of the same hardware.
        for _, p in res.points.iloc[[0, 3, 6]].iterrows():
            one = ss.simulate(hw.replace(array=p["array"], dataflow=p["dataflow"],
                                         fold_overlap=p["fold_overlap"]), workload="mlp")
            self.assertEqual(one.totals["cycles"], p["cycles"])
            self.assertEqual(one.totals["macs"], p["macs"])

    def test_readme_example_runs_as_written(self):
        with open(os.path.join(SOURCE, "README.md")) as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        examples = [b for b in blocks if "import systolic_sim" in b]
        self.assertEqual(len(examples), 1, "one Python example in README.md")
        r = subprocess.run([sys.executable, "-c", examples[0]], cwd=self.dir, capture_output=True,
                           text=True, env=dict(ENV, PYTHONPATH=os.path.join(BUILD, "python")),
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip(), "the example prints its results")


if __name__ == "__main__":
    unittest.main(verbosity=2)
