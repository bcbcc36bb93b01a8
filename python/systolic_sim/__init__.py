"""systolic-sim from Python: the simulator's command line as a library (docs/python.md).

    import systolic_sim as ss
    hw = ss.Hardware.from_config("tpu-v1", array="128x128", dataflow="ws")
    run = ss.simulate(hw, workload="resnet50")
    run.totals["cycles"], run.layers          # summary.json's totals; layers.csv as a DataFrame
    ss.sweep(hw, workload="bert-base-128", arrays=["32x32", "128x128"], dataflows=["os", "ws"])

Every simulation runs the systolic-sim command line (the same C++ code as the binary) in a child
process, since SystemC elaborates one design per process, and reads the run folder it wrote, so
results are the CLI's, field for field. Bad input raises InputError (a ValueError) whose message
is the CLI's one line ("error: --dataflow 'rs': expected os, ws or is"); other failures raise
SimulationError (a RuntimeError).
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

from . import _core

__all__ = [
    "Hardware", "Network", "Run", "SweepResult", "InputError", "SimulationError",
    "simulate", "sweep", "networks", "hardware_flags", "version", "run_cli",
]


def _find_data_dir():
    """The data folder (presets/, networks/, scripts/) that belongs to this package. In the build
    tree, build/python/systolic_sim -> build/ (CMake links them beside the binary); installed,
    the nearest ancestor's share/systolic-sim (PREFIX/lib/python3/dist-packages/systolic_sim ->
    PREFIX/share/systolic-sim). $SYSTOLIC_SIM_DATA, read by the C++ side, comes before it."""
    pkg = Path(os.path.abspath(os.path.dirname(__file__)))  # not resolved: __init__.py is a
    build = pkg.parent.parent                                 # link in the build tree
    if (build / "presets").is_dir() and (build / "python" / "systolic_sim").is_dir():
        return str(build)
    for anc in pkg.parents:
        cand = anc / "share" / "systolic-sim"
        if (cand / "presets").is_dir():
            return str(cand)
    return ""


_core.set_data_dir(_find_data_dir())


class InputError(ValueError):
    """Bad input: the CLI's one-line message (exit code 2); nothing was written."""


class SimulationError(RuntimeError):
    """A run that failed for another reason (exit code 1: internal error, unwritable output,
    values that disagree with the reference); the message is the CLI's stderr."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def version():
    """'systolic-sim VERSION'."""
    return _core.version()


def networks():
    """The built-in workload names (--workload NAME)."""
    return list(_core.networks())


def hardware_flags():
    """The hardware flags Hardware takes, as {name: (value name, help, default)}; a name's
    dashes may be written as underscores (fold_overlap="on")."""
    return {n: (v, h, d) for n, v, h, d in _core.hardware_flags()}


def run_cli(args):
    """Runs `systolic-sim ARGS...` (a list of strings) in a child process and returns its
    stdout. Raises InputError (exit 2) or SimulationError (any other non-zero exit)."""
    code, out, err = _core.run([str(a) for a in args])
    if code == 0:
        return out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    if code == 2:
        raise InputError(errors[-1] if errors else (lines[-1] if lines else "bad input"))
    what = err.strip() or ("exit code %d" % code if code > 0 else "killed by signal %d" % -code)
    raise SimulationError(what, code)


def _flag_name(key):
    return key.replace("_", "-")


def _flag_value(value):
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _switches():
    return {"scalesim-rounding", "report", "quiet", "force"}


def _flags_to_args(flags):
    """{"fold_overlap": True, "array": "8x8"} -> ["--fold-overlap", "on", "--array", "8x8"].
    A switch (scalesim_rounding=True) is given alone; False leaves it out."""
    args = []
    for key, value in flags.items():
        name = _flag_name(key)
        if name in _switches():
            if value:
                args.append("--" + name)
            continue
        if value is None:
            continue
        args += ["--" + name, _flag_value(value)]
    return args


class Hardware:
    """A hardware configuration: a preset name or .cfg file (or none: the defaults) and the
    hardware flags of the CLI, with underscores for dashes (array="128x128", dataflow="ws",
    fold_overlap="on", sram_kb=512, dram_bandwidth=16, ...; docs/config.md has them all).

    Hardware.from_config checks the configuration at once, as the CLI would (a bad key or value
    raises InputError, a ValueError, naming it); `cfg` is the resolved configuration as a .cfg
    file (systolic-sim --print-config)."""

    def __init__(self, config=None, **flags):
        self.config = os.fspath(config) if config is not None else None
        self.flags = {_flag_name(k): v for k, v in flags.items()}
        self.cfg = run_cli(self.args() + ["--print-config"])

    @classmethod
    def from_config(cls, config=None, **flags):
        """A preset name ("tpu-v1"), a SCALE-Sim/systolic-sim .cfg path, or None; flags on top."""
        return cls(config, **flags)

    def replace(self, **flags):
        """A copy with some flags changed (checked again)."""
        merged = dict(self.flags)
        merged.update({_flag_name(k): v for k, v in flags.items()})
        return Hardware(self.config, **merged)

    def args(self):
        """The CLI arguments for this hardware: ["--config", ..., "--array", "128x128", ...]."""
        args = ["--config", self.config] if self.config is not None else []
        return args + _flags_to_args(self.flags)

    def __repr__(self):
        parts = [repr(self.config)] if self.config is not None else []
        parts += ["%s=%r" % (k.replace("-", "_"), v) for k, v in self.flags.items()]
        return "Hardware(%s)" % ", ".join(parts)


class Network:
    """A network given in Python: a list of layers, each a dict with the keys of the YAML format
    (docs/workloads.md), e.g. {"name": "fc", "type": "linear", "tokens": 128, "in": 768,
    "out": 3072}. It is written as a YAML file (JSON is YAML) for the run."""

    def __init__(self, layers, name="network", batch=1):
        self.layers = [dict(layer) for layer in layers]
        self.name = name
        self.batch = batch

    def to_yaml(self):
        return json.dumps({"name": self.name, "batch": self.batch, "layers": self.layers},
                          indent=1) + "\n"

    def write(self, path):
        Path(path).write_text(self.to_yaml())
        return str(path)


class Run:
    """One simulation's results, read from its run folder.

    totals   summary.json's "totals" (cycles, seconds, macs, ops, dram_bytes, utilization, ...)
    summary  the whole summary.json
    layers   layers.csv as a pandas DataFrame (one row per lowered op, the same columns)
    dir      the run folder (None when simulate() used a temporary one)
    stdout   the CLI's console output
    """

    def __init__(self, folder, stdout, keep):
        import pandas as pd

        folder = Path(folder)
        self.summary = json.loads((folder / "summary.json").read_text())
        self.totals = self.summary["totals"]
        self.hardware = self.summary["hardware"]
        self.layers = pd.read_csv(folder / "layers.csv") if (folder / "layers.csv").exists() \
            else None
        self.gemm = pd.read_csv(folder / "gemm_results.csv") \
            if (folder / "gemm_results.csv").exists() else None
        self.stdout = stdout
        self.dir = str(folder) if keep else None

    def __repr__(self):
        return "Run(%s: %d cycles, %d ops)" % (
            self.summary.get("workload", {}).get("name", "?"), self.totals["cycles"],
            len(self.layers) if self.layers is not None else 1)


def _hardware(hw):
    if hw is None:
        return Hardware()
    if isinstance(hw, Hardware):
        return hw
    if isinstance(hw, (str, os.PathLike)):
        return Hardware.from_config(hw)
    raise TypeError("hw: expected a Hardware, a preset name or a .cfg path, got %r" % (hw,))


def _workload_args(workload, gemm, tmp):
    if workload is not None and gemm is not None:
        raise InputError("error: give workload or gemm, not both")
    if gemm is not None:
        return ["--gemm", gemm if isinstance(gemm, str) else ",".join(str(x) for x in gemm)]
    if workload is None:
        return []
    items = workload if isinstance(workload, (list, tuple)) else [workload]
    names = []
    for i, w in enumerate(items):
        if isinstance(w, Network):
            names.append(w.write(Path(tmp) / ("network%d.yaml" % i)))
        else:
            names.append(os.fspath(w))
    return ["--workload", ",".join(names)]


def simulate(hw=None, workload=None, gemm=None, out=None, report=False, **flags):
    """Simulates `workload` (a built-in name, an ONNX/CSV/YAML path or a Network) or one
    `gemm` (M, N, K) on `hw` (a Hardware, a preset name or a .cfg path; None: the defaults).

    Other keyword arguments are the CLI's flags for this run (seed=2, batch=8,
    fidelity="cycle", scalesim_rounding=True, or a hardware flag overriding hw's).
    out: the run folder to keep (--out); without it a temporary folder is read and removed.
    report=True draws the figures and report.html into `out` (needs out and python3-matplotlib).
    """
    hw = _hardware(hw)
    if report and out is None:
        raise InputError("error: report=True needs out=DIR, the folder the figures go to")
    tmp = tempfile.mkdtemp(prefix="systolic-sim-")
    try:
        folder = os.fspath(out) if out is not None else os.path.join(tmp, "run")
        args = _workload_args(workload, gemm, tmp) + hw.args() + _flags_to_args(flags)
        args += ["--out", folder] + (["--report"] if report else [])
        stdout = run_cli(args)
        return Run(folder, stdout, keep=out is not None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class SweepResult:
    """A sweep's results: `points` is sweep.csv and `layers` sweep_layers.csv as DataFrames
    (one row per point, one per point and op; docs/sweep.md has the columns); `dir` the sweep
    folder (None for a temporary one)."""

    def __init__(self, folder, stdout, keep):
        import pandas as pd

        folder = Path(folder)
        self.points = pd.read_csv(folder / "sweep.csv")
        layers = folder / "sweep_layers.csv"
        self.layers = pd.read_csv(layers) if layers.exists() else None
        self.stdout = stdout
        self.dir = str(folder) if keep else None

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        return "SweepResult(%d points)" % len(self.points)


# A Hardware's single value becomes the sweep's one-item list under the sweep's spelling.
_SWEEP_PLURAL = {"array": "arrays", "dataflow": "dataflows"}


def sweep(hw=None, workload=None, gemm=None, out=None, jobs=None, report=False, force=False,
          **axes):
    """Runs `systolic-sim sweep`: every point of the product of the lists given, from `hw`.

    axes: arrays=["32x32", "128x128"], dataflows=["os", "ws"], and any hardware flag with a list
    (sram_kb=[256, 512], fold_overlap=["off", "on"], dram_bandwidth=[16, 32], ...); a single
    value sets it for every point. workload: a name, path, Network, or a list of them.
    jobs: worker processes (default: the CPUs). out: the sweep folder to keep (resumable, as
    the CLI's); without it a temporary one is read and removed. Returns a SweepResult.
    """
    hw = _hardware(hw)
    if report and out is None:
        raise InputError("error: report=True needs out=DIR, the folder the figures go to")
    params = {}
    for name, value in hw.flags.items():
        params[_SWEEP_PLURAL.get(name, name)] = value
    for key, value in axes.items():
        params[_flag_name(key)] = value
    args = ["sweep"] + (["--config", hw.config] if hw.config is not None else [])
    for name, value in params.items():
        if value is None:
            continue
        if name in _switches():
            if value:
                args.append("--" + name)
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(_flag_value(v) for v in value)
        args += ["--" + name, _flag_value(value)]
    tmp = tempfile.mkdtemp(prefix="systolic-sim-")
    try:
        folder = os.fspath(out) if out is not None else os.path.join(tmp, "sweep")
        args[1:1] = _workload_args(workload, gemm, tmp)
        args += ["--out", folder, "--quiet"]
        if jobs is not None:
            args += ["-j", str(jobs)]
        if report:
            args.append("--report")
        if force:
            args.append("--force")
        stdout = run_cli(args)
        return SweepResult(folder, stdout, keep=out is not None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
