#!/usr/bin/env python3
"""The Debian package: `cpack -G DEB` from the build folder (docs/install.md).

Checks the package's file list against the source tree (every preset, network, report script
and doc), its Depends against the shared libraries the binary and the module really need
(readelf's NEEDED entries, resolved by ldd, each mapped to its Debian package with `dpkg -S`), and that the unpacked
package runs: its binary and Python module find their data relative to themselves.

Run by ctest with SSIM_BUILD_DIR and SSIM_SOURCE_DIR.
"""
import glob
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
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
             "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1"}


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s: %s%s" % (" ".join(cmd), r.stdout, r.stderr)
    return r.stdout


def package_names(field):
    """'a (>= 1), b | c, d' -> {'a', 'b', 'c', 'd'}"""
    return {re.sub(r"\s*\(.*\)", "", alt).strip() for dep in field.split(",")
            for alt in dep.split("|") if alt.strip()}


def libraries_loaded(binary):
    """{soname: path} of the shared libraries the dynamic loader gives `binary` (ldd)."""
    libs = {}
    for line in sh(["ldd", binary]).splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
        m = re.match(r"\s*(/\S+) \(0x", line)  # the loader itself: its path only
        if m:
            libs[os.path.basename(m.group(1))] = m.group(1)
    return libs


def owner(path):
    """The Debian package that installed `path` (either spelling of a merged /usr)."""
    real = os.path.realpath(path)
    for p in [path, real] + [q.replace("/usr/lib/", "/lib/", 1) for q in (path, real)] + \
            [q.replace("/lib/", "/usr/lib/", 1) for q in (path, real) if q.startswith("/lib/")]:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    raise AssertionError("no package owns " + path)


class DebPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        assert BUILD and os.path.isdir(BUILD), "SSIM_BUILD_DIR not set"
        cls.tmp = tempfile.TemporaryDirectory()
        # Its own package folder: cpack stages the install there, not in the build folder.
        sh(["cpack", "-G", "DEB", "-B", cls.tmp.name], cwd=BUILD)
        debs = glob.glob(os.path.join(cls.tmp.name, "systolic-sim_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.files = {line.split()[-1].lstrip(".") for line in
                     sh(["dpkg-deb", "-c", cls.deb]).splitlines()}
        cls.root = os.path.join(cls.tmp.name, "root")
        sh(["dpkg-deb", "-x", cls.deb, cls.root])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def field(self, name):
        return sh(["dpkg-deb", "-f", self.deb, name]).strip()

    def test_control(self):
        self.assertEqual(self.field("Package"), "systolic-sim")
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(systolic-sim VERSION (\S+)", f.read()).group(1)
        self.assertEqual(self.field("Version"), version)
        self.assertEqual(self.field("Architecture"), sh(["dpkg", "--print-architecture"]).strip())
        self.assertIn("python3-matplotlib", package_names(self.field("Recommends")))

    def test_depends_cover_every_library_the_binary_loads(self):
        depends = package_names(self.field("Depends"))
        self.assertIn("python3", depends)
        binaries = [os.path.join(self.root, "usr", "bin", "systolic-sim"),
                    os.path.join(self.root, "usr", "lib", "systolic-sim", "ssim_onnx.so")]
        binaries += glob.glob(os.path.join(self.root, "usr", "lib", "python3", "dist-packages",
                                           "systolic_sim", "*.so"))
        needed = {}
        for b in binaries:
            direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                                    sh(["readelf", "-d", b])))
            loaded = libraries_loaded(b)
            self.assertEqual(direct - set(loaded), set(), b)  # every one found by the loader
            needed.update({lib: loaded[lib] for lib in direct})
        self.assertGreaterEqual(len(needed), 6, needed)
        owners = {lib: owner(path) for lib, path in needed.items()}
        for lib, pkg in owners.items():
            self.assertIn(pkg.split(":")[0], depends, "%s (from %s) not in Depends" % (pkg, lib))
        # The libraries the issue names, by their Debian package's stem (the executable has
        # Boost.PO, yaml-cpp and zlib linked in statically; the Python module links them shared).
        stems = ["libsystemc", "libonnx"]
        if MODULE:
            stems += ["libboost-program-options", "libyaml-cpp"]
        for stem in stems:
            self.assertTrue(any(d.startswith(stem) for d in depends), (stem, depends))

    def test_files(self):
        expect = {"/usr/bin/systolic-sim", "/usr/lib/systolic-sim/ssim_onnx.so",
                  "/usr/share/doc/systolic-sim/README.md",
                  "/usr/share/systolic-sim/scripts/ssim_report.py",
                  "/usr/share/systolic-sim/scripts/ssim_sweep_report.py"}
        for sub, dest, ext in [("models/presets", "presets", ".cfg"),
                               ("workloads/networks", "networks", ".yaml"),
                               ("scripts/ssim_plot", "scripts/ssim_plot", ".py"),
                               ("docs", "../doc/systolic-sim/docs", ".md")]:
            names = [f for f in os.listdir(os.path.join(SOURCE, sub)) if f.endswith(ext)]
            self.assertGreater(len(names), 0, sub)
            expect |= {os.path.normpath("/usr/share/systolic-sim/%s/%s" % (dest, f))
                       for f in names}
        if MODULE:
            expect.add("/usr/lib/python3/dist-packages/systolic_sim/__init__.py")
        missing = sorted(expect - self.files)
        self.assertEqual(missing, [])
        if MODULE:
            self.assertTrue(any(re.match(r"/usr/lib/python3/dist-packages/systolic_sim/_core\..*so$",
                                         f) for f in self.files))
        # Nothing from the build tree (object files, CMake's own files, caches).
        for f in self.files:
            self.assertNotRegex(f, r"(\.o|CMake\w*|__pycache__|\.pyc)$")

    def test_unpacked_package_runs(self):
        out = os.path.join(self.tmp.name, "run")
        r = subprocess.run([os.path.join(self.root, "usr", "bin", "systolic-sim"), "--config",
                            "gemmini", "--gemm", "96,80,64", "--out", out, "--quiet"],
                           cwd=self.tmp.name, env=CLEAN_ENV, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        self.assertEqual(s["totals"]["macs"], 96 * 80 * 64)
        with open(os.path.join(self.root, "usr", "share", "systolic-sim", "presets",
                               "gemmini.cfg")) as f:
            preset = f.read()
        rows = int(re.search(r"ArrayHeight\s*[=:]\s*(\d+)", preset).group(1))
        self.assertEqual(s["hardware"]["array_rows"], rows)
        # An ONNX model: the packaged binary loads its reader plugin from /usr/lib/systolic-sim.
        model = os.path.join(SOURCE, "tests", "fuzz", "onnx", "cnn_symbolic_batch.onnx")
        r = subprocess.run([os.path.join(self.root, "usr", "bin", "systolic-sim"), "--workload",
                            model, "--out", out + "-onnx", "--quiet"],
                           cwd=self.tmp.name, env=CLEAN_ENV, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out + "-onnx", "summary.json")) as f:
            self.assertGreater(json.load(f)["totals"]["macs"], 0)

    @unittest.skipUnless(MODULE, "the Python module is not built (pybind11-dev)")
    def test_unpacked_python_module(self):
        code = ("import systolic_sim as ss\n"
                "print(ss.simulate('gemmini', gemm=(96, 80, 64)).totals['macs'],"
                " sorted(ss.networks()) == sorted(%r))\n" % sorted(
                    f[:-5] for f in os.listdir(os.path.join(SOURCE, "workloads", "networks"))
                    if f.endswith(".yaml")))
        env = dict(CLEAN_ENV, PYTHONPATH=os.path.join(self.root, "usr", "lib", "python3",
                                                      "dist-packages"))
        r = subprocess.run([sys.executable, "-c", code], cwd=self.tmp.name, env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), [str(96 * 80 * 64), "True"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
