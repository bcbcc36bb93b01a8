#!/usr/bin/python3
"""Every speed target of issue 12 that can be measured today, in one run.

Whole-process wall time and peak RSS of systolic-sim (the minimum wall and CPU time of REPEAT runs
started directly, the peak RSS of one more run through /usr/bin/time), next to the machine's
process-start floor (/bin/true and `systolic-sim --help`), each row marked met or not. Every row
also says how far it is above the floor of its own minutes ("vs floor": its min wall less that of
`--help` run between its runs; on the project VM the floor moves by milliseconds from minute to
minute). In-process figures come from bench_fast (Google Benchmark). Not a unit test: run it by
hand on a quiet machine.

  bench/bench_all.py [--bin build/systolic-sim] [--bench-fast build/bench_fast] [--repeat 5]

Exit code 0 whatever the results (this reports; it does not gate).
"""

import argparse
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOPOLOGIES = os.path.join(ROOT, "tests", "data", "topologies")
MB = 1 << 20
TIME = "/usr/bin/time"  # Debian package `time` (scripts/setup.sh)


def run_once(argv, as_limit=0, timeout=0.0, rss=True):
    """One run: (wall s, CPU s, peak RSS bytes, exit code or -signal, first stderr line).

    With `rss`, the run goes through /usr/bin/time (%M), which forks it from its own small image:
    ru_maxrss of a child forked straight from this script would start at the script's RSS. That
    costs a second exec (about 5 ms here), so the timed runs are started directly (rss=False)
    and the peak RSS comes from one more run through /usr/bin/time.
    """
    # The address-space limit is set on this process around the start and inherited: a
    # preexec_fn would make Python fork its own image instead of vfork, and the child's CPU time
    # would include that copy (about 15 ms of every limited row here).
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    err = tempfile.TemporaryFile()
    rss_file = tempfile.NamedTemporaryFile(mode="r")
    t0 = time.perf_counter()
    cmd = [TIME, "-q", "-f", "%M", "-o", rss_file.name, *argv] if rss else list(argv)
    if as_limit:
        resource.setrlimit(resource.RLIMIT_AS, (as_limit, old_limit[1]))
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    finally:
        if as_limit:
            resource.setrlimit(resource.RLIMIT_AS, old_limit)
    timer = None
    if timeout:  # kills the run too, not only /usr/bin/time
        timer = threading.Timer(timeout, os.killpg, (p.pid, signal.SIGKILL))
        timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
    p.returncode = 0  # reaped by wait4
    if timer:
        timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    err.seek(0)
    line = err.read().decode(errors="replace").strip().splitlines()
    if timer and t1 - t0 >= timeout:
        line = [f"killed after {timeout:g} s"]
    cpu = ru.ru_utime + ru.ru_stime  # wait4: the run (and /usr/bin/time with rss)
    rss_text = rss_file.read().strip().splitlines()
    rss = int(rss_text[-1]) * 1024 if rss_text and rss_text[-1].isdigit() else 0
    return t1 - t0, cpu, rss, code, (line[0] if line else "")


FLOOR = []  # the process-start floor's command (`systolic-sim --help`), set by main()


def measure(argv, repeat, as_limit=0, timeout=0.0):
    """min wall, min CPU over `repeat` direct runs, peak RSS of one more run through /usr/bin/time,
    exit code and first stderr line, and the min wall of FLOOR run before each of those runs
    (None when FLOOR is not set): the floor of the same minutes, which on a shared VM moves by
    milliseconds between rows. Stops at the first failed run."""
    best, best_cpu, floor = float("inf"), float("inf"), None
    for _ in range(repeat):
        if FLOOR:
            f = run_once(FLOOR, rss=False)[0]
            floor = f if floor is None else min(floor, f)
        wall, cpu, _, code, line = run_once(argv, as_limit, timeout, rss=False)
        if code != 0:
            wall, cpu, rss, code, line = run_once(argv, as_limit, timeout)
            return wall, cpu, rss, code, line, None
        best, best_cpu = min(best, wall), min(best_cpu, cpu)
    _, _, peak, code, line = run_once(argv, as_limit, timeout)
    return best, best_cpu, peak, code, line, floor


def fmt_time(s):
    return f"{s * 1e3:8.1f} ms" if s < 10 else f"{s:8.2f} s "


class Table:
    def __init__(self):
        self.met = self.missed = self.failed = 0

    def header(self, title):
        print(f"\n{title}")
        print(f"  {'run':<58} {'wall':>11} {'CPU':>11} {'peak RSS':>10} {'vs floor':>9}  "
              "target (on wall)")

    def row(self, name, wall, cpu, rss, code=0, line="", floor=None, max_s=None, max_mb=None):
        target = []
        if max_s is not None:
            target.append(f"< {max_s * 1e3:g} ms" if max_s < 10 else f"< {max_s:g} s")
        if max_mb is not None:
            target.append(f"< {max_mb} MB")
        if code != 0:
            verdict = f"FAILED (exit {code}): {line[:120]}"
            self.failed += 1
        elif not target:
            verdict = ""
        else:
            ok = (max_s is None or wall < max_s) and (max_mb is None or rss < max_mb * MB)
            verdict = ("met" if ok else "NOT met") + " (" + ", ".join(target) + ")"
            if ok:
                self.met += 1
            else:
                self.missed += 1
        # How far the row is above the --help floor measured between its runs.
        above = f"{(wall - floor) * 1e3:+6.1f} ms" if floor is not None and code == 0 else " " * 9
        print(f"  {name:<58} {fmt_time(wall)} {fmt_time(cpu)} {rss / MB:7.1f} MB {above}  "
              f"{verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("SSIM_BINARY",
                                                    os.path.join(ROOT, "build", "systolic-sim")))
    ap.add_argument("--bench-fast", default=os.path.join(ROOT, "build", "bench_fast"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--big-limit-gb", type=float, default=4.0,
                    help="address-space limit of the 65536^3 run (GB)")
    a = ap.parse_args()
    if not os.access(TIME, os.X_OK):
        sys.exit(f"bench_all: needs {TIME} (Debian package time; scripts/setup.sh installs it)")
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"bench_all: no binary at '{a.bin}' (build first, or pass --bin)")
    os.environ["SYSTEMC_DISABLE_COPYRIGHT_MESSAGE"] = "1"
    tmp = tempfile.mkdtemp(prefix="ssim_bench_")
    out = os.path.join(tmp, "out")

    def sim(*args):
        return [a.bin, *args, "--quiet", "--out", out]

    t = Table()
    load = os.getloadavg()[0]
    print(f"binary: {a.bin}; {os.cpu_count()} CPUs; load average {load:.2f}; "
          f"min wall and min CPU (user + sys) of {a.repeat} runs, max peak RSS; floor: the row's "
          f"min wall above that of `--help` run between its runs")
    if load > os.cpu_count() / 2:
        print("warning: the machine is busy; wall times include waiting for a CPU (compare the "
              "floor rows)")
    t.header("Process-start floor")
    t.row("/bin/true", *measure(["/bin/true"], a.repeat))
    t.row("systolic-sim --help", *measure([a.bin, "--help"], a.repeat))
    FLOOR[:] = [a.bin, "--help"]

    t.header("--gemm 1,1,1 on every array, fold overlap on and off (whole process)")
    for r in [1, 2, 4, 8, 16, 32, 64, 128, 256]:
        for ov in ["on", "off"]:
            argv = sim("--gemm", "1,1,1", "--array", f"{r}x{r}", "--fold-overlap", ov)
            t.row(f"--gemm 1,1,1 --array {r}x{r} --fold-overlap {ov}", *measure(argv, a.repeat),
                  max_s=0.010, max_mb=30)

    t.header("Networks on 128x128, fast, DRAM channel modelled (default hardware, ws)")
    nets = [("resnet50", "resnet50", 0.015), ("bert-base-512", "bert-base-512", 0.030)]
    for name, wl, limit in nets:
        t.row(f"--workload {name} --array 128x128", *measure(sim("--workload", wl, "--array",
                                                                "128x128"), a.repeat),
              max_s=limit)

    t.header("SCALE-Sim's topologies on 128x128 (AlexNet and MobileNet: the built-in networks)")
    topo = [("alexnet (built-in)", "alexnet"),
            ("tests/data/topologies/resnet18.csv", os.path.join(TOPOLOGIES, "resnet18.csv")),
            ("mobilenetv2 (built-in)", "mobilenetv2"),
            ("tests/data/topologies/yolo_tiny.csv", os.path.join(TOPOLOGIES, "yolo_tiny.csv"))]
    for name, wl in topo:
        t.row(name, *measure(sim("--workload", wl, "--array", "128x128"), a.repeat), max_s=0.010)

    t.header("Large GEMMs, fast (whole process)")
    t.row("--gemm 4096,4096,4096 --array 8x8 --fold-overlap on",
          *measure(sim("--gemm", "4096,4096,4096", "--array", "8x8", "--fold-overlap", "on"),
                   a.repeat), max_s=0.020, max_mb=30)
    limit = int(a.big_limit_gb * 1e9)
    t.row(f"--gemm 65536^3 --array 128x128 (1 run, AS limit {a.big_limit_gb:g} GB)",
          *measure(sim("--gemm", "65536,65536,65536", "--array", "128x128"), 1, as_limit=limit,
                   timeout=120), max_s=2.0, max_mb=100)

    t.header("Cost against MACs: --gemm N,N,N on 128x128 (whole process; large GEMMs run by "
             "their periodic groups, docs/cycle-accounting.md)")
    for n in [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]:
        argv = sim("--gemm", f"{n},{n},{n}", "--array", "128x128")
        wall, cpu, rss, code, line, floor = measure(argv, min(a.repeat, 3), as_limit=limit,
                                                    timeout=120)
        folds = 0
        try:
            with open(os.path.join(out, "layers.csv")) as f:
                rows = list(csv.DictReader(f))
            folds = int(rows[0]["folds"])
        except (OSError, KeyError, ValueError, IndexError):
            pass
        per = f"{cpu / folds * 1e9:.3g} ns CPU per fold of the GEMM" if folds else ""
        t.row(f"--gemm {n},{n},{n} --array 128x128 ({folds} folds)", wall, cpu, rss, code, line,
              floor)
        if per:
            print(f"  {'':<58} {per}")

    if os.access(a.bench_fast, os.X_OK):
        t.header("Fast model in-process cost per tile (bench_fast, 128x128 ws, DRAM): GemmSize "
                 "= the model on a planned whole program; Op = a --gemm as the executable runs "
                 "it, planner and periodic groups included (not a target: shown beside)")
        res = subprocess.run([a.bench_fast, "--benchmark_filter=GemmSize|Op/",
                              "--benchmark_format=json"], capture_output=True, text=True)
        try:
            for b in json.loads(res.stdout)["benchmarks"]:
                per_tile = b["t/tile"]
                deltas = b.get("deltas/tile", float("nan"))
                line = (f"  {b['name']:<32} {b['tiles']:>11.0f} tiles {per_tile * 1e9:9.1f} "
                        f"ns/tile  {deltas:.3g} SystemC deltas/tile")
                if b["name"].startswith("GemmSize"):
                    ok = per_tile < 300e-9
                    t.met += ok
                    t.missed += not ok
                    line += f"  {'met' if ok else 'NOT met'} (< 300 ns)"
                else:
                    line += f"  ({b.get('label', '')})"
                print(line)
        except (ValueError, KeyError) as e:
            print(f"  bench_fast gave no result ({e}): {res.stderr.strip()[:200]}")
    else:
        print(f"\n(no bench_fast at {a.bench_fast}: in-process figures skipped)")

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{t.met} targets met, {t.missed} not met, {t.failed} runs failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
