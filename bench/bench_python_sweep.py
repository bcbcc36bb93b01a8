#!/usr/bin/env python3
"""A 100-point sweep from Python (systolic_sim.sweep) against the same sweep from the CLI.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_python_sweep.py [--build build]
        [--repeat 3] [--jobs 2] [--workload resnet50]

The points: 10 array shapes x 5 DRAM bandwidths x 2 dataflows of one workload. Each repeat runs
the CLI (`systolic-sim sweep ... --quiet`, a fresh folder, timed from the shell's fork to its
exit) and then the module (`ss.sweep(...)`, timed around the call: fork, the sweep, reading
sweep.csv and sweep_layers.csv into DataFrames), alternately, so both see the same machine load;
the minimum and median wall times and the minimum CPU time (the process and every waited-for
descendant: the sweep and its workers) are printed, with the module's import time once. The two
sweep.csv files are checked to be identical.
"""
import argparse
import filecmp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ARRAYS = ["8x8", "16x16", "32x32", "64x64", "128x128", "256x256", "16x64", "64x16", "32x128",
          "128x32"]
BANDWIDTHS = [4, 8, 16, 32, 64]
DATAFLOWS = ["os", "ws"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workload", default="resnet50")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    t0 = time.perf_counter()
    import systolic_sim as ss  # noqa: E402
    import pandas  # noqa: E402,F401  (the module imports it at the first result)
    t_import = time.perf_counter() - t0
    binary = os.path.join(a.build, "systolic-sim")
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    cli_t, py_t, cli_c, py_c = [], [], [], []

    def cpu():  # this process and every waited-for descendant (the sweeps and their workers)
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.repeat):
            out_cli = os.path.join(tmp, "cli%d" % i)
            t0, c0 = time.perf_counter(), cpu()
            subprocess.run([binary, "sweep", "--workload", a.workload,
                            "--arrays", ",".join(ARRAYS),
                            "--dram-bandwidth", ",".join(map(str, BANDWIDTHS)),
                            "--dataflows", ",".join(DATAFLOWS), "-j", str(a.jobs),
                            "--out", out_cli, "--quiet"], check=True, env=env)
            cli_t.append(time.perf_counter() - t0)
            cli_c.append(cpu() - c0)
            out_py = os.path.join(tmp, "py%d" % i)
            t0, c0 = time.perf_counter(), cpu()
            res = ss.sweep(workload=a.workload, arrays=ARRAYS, dram_bandwidth=BANDWIDTHS,
                           dataflows=DATAFLOWS, jobs=a.jobs, out=out_py)
            py_t.append(time.perf_counter() - t0)
            py_c.append(cpu() - c0)
            assert len(res) == len(ARRAYS) * len(BANDWIDTHS) * len(DATAFLOWS)
            assert filecmp.cmp(os.path.join(out_cli, "sweep.csv"),
                               os.path.join(out_py, "sweep.csv"), shallow=False)
    n = len(ARRAYS) * len(BANDWIDTHS) * len(DATAFLOWS)
    print("%d-point sweep of %s, -j %d, %d repeats (load average %.1f)" % (
        n, a.workload, a.jobs, a.repeat, os.getloadavg()[0]))
    print("  CLI    systolic-sim sweep   wall min %.2f s  median %.2f s   CPU min %.2f s" % (
        min(cli_t), statistics.median(cli_t), min(cli_c)))
    print("  Python ss.sweep(...)        wall min %.2f s  median %.2f s   CPU min %.2f s" % (
        min(py_t), statistics.median(py_t), min(py_c)))
    print("  import systolic_sim, pandas: %.2f s (once per process)" % t_import)
    print("  Python / CLI: wall (min) %.3f, CPU (min) %.3f" % (
        min(py_t) / min(cli_t), min(py_c) / min(cli_c)))


if __name__ == "__main__":
    main()
