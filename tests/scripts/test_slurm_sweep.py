#!/usr/bin/env python3
"""Tests of `systolic-sim sweep --engine slurm` against a real Slurm (no mock of sbatch).

Run by ctest as `python3 tests/scripts/test_slurm_sweep.py` with SSIM_BINARY (the built
systolic-sim). The cluster comes from scripts/slurm-local.sh (scripts/test.sh brings it up,
exports SLURM_CONF and SSIM_REQUIRE_SLURM=1, and brings it down afterwards). Without SLURM_CONF
the tests are skipped, unless SSIM_REQUIRE_SLURM=1 says a cluster must be there: then they FAIL.

The expected files are the local engine's (`--engine local`, -j 2) for the same sweep: the Slurm
engine must give the same bytes. The sweep folders live in the build folder (the Slurm engine
refuses /tmp, which is node-local on a cluster).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True

BINARY = os.environ.get("SSIM_BINARY", "")
# An AddressSanitizer build (scripts/test.sh with SSIM_SANITIZE=1).
ASAN = bool(BINARY) and os.path.exists(BINARY) and b"__asan_init" in open(BINARY, "rb").read()
HAVE_SLURM = bool(os.environ.get("SLURM_CONF")) and shutil.which("sbatch") is not None
REQUIRED = os.environ.get("SSIM_REQUIRE_SLURM") == "1"

# 4 arrays x 3 dataflows x 2 scratchpad sizes = 24 points of one GEMM. With 1 KiB scratchpads the
# 256x256 array's smallest tiles do not fit: 3 points fail (one per dataflow).
FAILING = ["--gemm", "64,64,64", "--arrays", "4x4,8x8,16x16,256x256", "--dataflows", "os,ws,is",
           "--sram-kb", "1,64"]
ALL_OK = ["--gemm", "64,64,64", "--arrays", "4x4,8x8,16x16,32x32", "--dataflows", "os,ws,is",
          "--sram-kb", "64,128"]


def run(args, env=None, timeout=180):
    return subprocess.run([BINARY, "sweep"] + args, capture_output=True, text=True, env=env,
                          timeout=timeout)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rows(path):
    """The point column of each row of a sweep.csv (after the header)."""
    with open(path) as f:
        lines = f.read().splitlines()[1:]
    return [int(line.split(",", 1)[0]) for line in lines if line]


@unittest.skipUnless(HAVE_SLURM or REQUIRED, "no Slurm cluster (SLURM_CONF unset): "
                     "scripts/slurm-local.sh up, or scripts/test.sh")
class SlurmSweep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not HAVE_SLURM:
            raise AssertionError("SSIM_REQUIRE_SLURM=1 but no cluster: SLURM_CONF=%r, sbatch %s" %
                                 (os.environ.get("SLURM_CONF"), shutil.which("sbatch")))
        if not BINARY:
            raise AssertionError("SSIM_BINARY is not set")
        real = os.path.realpath(BINARY)
        for local in ("/tmp", "/var/tmp", "/dev/shm", "/run"):
            if real.startswith(local + "/"):  # the engine refuses it, by design (node-local)
                raise unittest.SkipTest("the build is under %s, which the Slurm engine refuses "
                                        "as local to each node; build the tree elsewhere" % local)
        cls.work = tempfile.mkdtemp(prefix="slurm-test-", dir=os.path.dirname(BINARY))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def folder(self, name):
        return os.path.join(self.work, name)

    def local(self, args, name):
        out = self.folder(name)
        r = run(args + ["--out", out, "-j", "2", "--quiet"])
        return out, r

    def assert_same_files(self, a, b):
        for f in ("sweep.csv", "sweep_layers.csv"):
            self.assertEqual(read(os.path.join(a, f)), read(os.path.join(b, f)), f)

    def wait_merged(self, out, limit=120):
        """Waits for the merge job's result; returns its exit code."""
        result = os.path.join(out, "slurm", "merge.result")
        start = time.time()
        while not os.path.exists(result):
            self.assertLess(time.time() - start, limit, "the merge job did not finish")
            time.sleep(0.3)
        with open(result) as f:
            return int(f.read())

    def test_same_bytes_as_local_with_failing_points(self):
        # Under AddressSanitizer a point that fails throws out of a SystemC coroutine, which ASan
        # cannot follow (google/sanitizers#189): the worker may die instead of writing the error
        # row, locally as through Slurm. There the sweep has no failing points.
        sweep = ALL_OK if ASAN else FAILING
        code = 0 if ASAN else 1
        ref, lr = self.local(sweep, "local-failing")
        self.assertEqual(lr.returncode, code, lr.stderr)
        out = self.folder("slurm-failing")
        r = run(sweep + ["--out", out, "--engine", "slurm", "--points-per-task", "5", "--wait"])
        self.assertEqual(r.returncode, code, r.stderr)
        self.assert_same_files(out, ref)
        if not ASAN:
            # The error rows are there, as the local engine wrote them: points 3, 7, 11 (256x256
            # at 1 KiB, one per dataflow).
            with open(os.path.join(out, "sweep.csv")) as f:
                err_rows = [line for line in f if ",error," in line]
            self.assertEqual([int(x.split(",")[0]) for x in err_rows], [3, 7, 11])
            self.assertIn("OfmapSramSzkB 1: too small", err_rows[0])
            # The same closing message as locally (the folder's name aside).
            last = r.stderr.strip().splitlines()[-1].replace(out, "DIR")
            self.assertEqual(last, lr.stderr.strip().splitlines()[-1].replace(ref, "DIR"))
        # 5 array tasks, each a contiguous share of 5 points (the last one 4), each with its own
        # shard of exactly its points.
        with open(os.path.join(out, "slurm", "plan.json")) as f:
            plan = json.load(f)
        self.assertEqual(plan["tasks"], [list(range(b, min(b + 5, 24))) for b in range(0, 24, 5)])
        for i, share in enumerate(plan["tasks"]):
            self.assertEqual(sorted(rows(os.path.join(out, "slurm", "task-%d" % i, "sweep.csv"))),
                             share)

    def test_cancelled_task_runs_again_alone(self):
        ref, lr = self.local(ALL_OK, "local-ok")
        self.assertEqual(lr.returncode, 0, lr.stderr)
        out = self.folder("slurm-cancel")
        # One task at a time, so that task 3 is still pending when it is cancelled.
        args = ALL_OK + ["--out", out, "--engine", "slurm", "--points-per-task", "5"]
        slow = dict(os.environ, SSIM_SWEEP_TEST_DELAY_MS="200")  # the tasks inherit it
        r = run(args + ["--slurm-max-running", "1"], env=slow)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"^job array (\d+) .*merge job (\d+)$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        array = m.group(1)
        c = subprocess.run(["scancel", array + "_3"], capture_output=True, text=True)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(self.wait_merged(out), 1)
        # The merge wrote the 19 points that ran, in point order, and says 5 have no row.
        self.assertEqual(rows(os.path.join(out, "sweep.csv")),
                         [p for p in range(24) if p not in range(15, 20)])
        with open(os.path.join(out, "slurm", "merge.err")) as f:
            self.assertIn("5 of 24 points have no row", f.read())
        s = run(["--status", out])
        self.assertEqual(s.returncode, 0, s.stderr)
        self.assertIn("19 of 24 submitted points have a row", s.stdout)
        self.assertIn("merged: 19 of 24 rows", s.stdout)

        # The same command again (--report does not make it another sweep): one task with the 5
        # cancelled points, the local bytes, and the merge job draws the figures.
        r = run(args + ["--wait", "--report"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("report: " + os.path.join(out, "report.html"), r.stdout)
        self.assertTrue(os.path.getsize(os.path.join(out, "report.html")) > 0)
        self.assertIn("cycles.png", os.listdir(os.path.join(out, "figures")))
        self.assertIn("19 already done", r.stderr)
        with open(os.path.join(out, "slurm", "plan.json")) as f:
            plan = json.load(f)
        self.assertEqual(plan["tasks"], [[15, 16, 17, 18, 19]])
        self.assertEqual(sorted(rows(os.path.join(out, "slurm", "task-0", "sweep.csv"))),
                         [15, 16, 17, 18, 19])
        with open(os.path.join(out, "slurm", "task-0.log")) as f:
            self.assertIn("sweep: 5 points; running 5", f.read())
        self.assert_same_files(out, ref)

    def test_bad_setups_say_one_line_and_write_nothing(self):
        base = ["--gemm", "64,64,64", "--arrays", "4x4,8x8", "--engine", "slurm"]
        no_sbatch = dict(os.environ, PATH=self.folder("empty-bin"))
        cases = [
            ("nosbatch", [], no_sbatch, "--engine slurm: sbatch not found on PATH"),
            ("badpart", ["--slurm-partition", "nope"], None,
             "sbatch refused the job array: sbatch: error: invalid partition specified: nope"),
            ("badtime", ["--slurm-time", "bogus"], None,
             "sbatch refused the job array: sbatch: error: Invalid --time specification"),
            ("maxrun", ["--slurm-max-running", "0"], None,
             "--slurm-max-running '0': expected an integer from 1 to 1000000"),
        ]
        for name, extra, env, msg in cases:
            with self.subTest(name):
                out = self.folder(name)
                r = run(base + ["--out", out] + extra, env=env)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
                self.assertTrue(r.stderr.startswith("error: " + msg), r.stderr)
                self.assertFalse(os.path.exists(out), name)
        # A node-local folder: refused before anything is written.
        tmp = tempfile.mkdtemp(prefix="ssim-slurm-out-")
        try:
            r = run(base + ["--out", os.path.join(tmp, "s")])
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn("which is local to each node", r.stderr)
            self.assertEqual(os.listdir(tmp), [])
        finally:
            shutil.rmtree(tmp)
        # Slurm flags without the Slurm engine.
        r = run(["--gemm", "64,64,64", "--out", self.folder("x"), "--slurm-mem", "1G"])
        self.assertEqual((r.returncode, r.stderr),
                         (2, "error: --slurm-mem: only with --engine slurm\n"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
