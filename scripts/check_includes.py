#!/usr/bin/env python3
"""Fails when a source file includes across a forbidden edge of the house (docs/architecture.md).

Usage: check_includes.py [ROOT]   (ROOT: the source tree, default: this script's ../)

Each folder may include its own files and those of the folders listed for it in ALLOWED; the
project's own includes are the quoted ones (`#include "models/types.hpp"`). Prints one line per
forbidden include (`error: FILE:LINE: ...`) and exits 1 if there is any, 0 otherwise; exits 2 when
a quoted include names a folder the table does not know (a new folder must be given its place).
tests/, bench/, fuzz/ and python/ sit above everything and are not checked.
"""
import os
import re
import sys

# Bottom to top: each folder may include the folders below it, never one above.
LAYERS = [
    "models",       # SystemC hardware and its own types
    "workloads",    # layers, readers, lowering to ops
    "workloads/embed",  # the build step that precompiles the built-in networks
    "sim/spec",     # HwSpec, its .cfg reader and flags, the energy table and prices
    "sim/mapping",  # op + hardware -> Program (tiles, folds, fusion, residency)
    "sim/run",      # running one GEMM, one op, one network; the reference-kernel cache
    "sim/report",   # every writer of a run's outputs, the console tables and progress
    "sim/cli",      # the command line: flags, the run command, the output folder
    "sim/sweep",    # the sweep: spec, points, worker pool, resume store, Slurm engine
    "sim",          # main() and the dispatch between run and sweep (sim/main.cpp, sim/entry.*)
]
ALLOWED = {layer: set(LAYERS[: i + 1]) for i, layer in enumerate(LAYERS)}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(rel_path):
    """The folder of LAYERS that `rel_path` (relative to the root) is directly in, or None."""
    folder = os.path.dirname(rel_path)
    return folder if folder in ALLOWED else None


def check(root):
    errors, unknown = [], []
    for top in ("models", "workloads", "sim"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                src = folder_of(rel)
                if src is None:
                    unknown.append(f"error: {rel}: folder not in scripts/check_includes.py's LAYERS")
                    continue
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        dst = folder_of(target)
                        if dst is None:
                            if "/" in target:
                                unknown.append(f"error: {rel}:{lineno}: #include \"{target}\": "
                                               "folder not in scripts/check_includes.py's LAYERS")
                            continue  # a file beside it, by bare name
                        if dst not in ALLOWED[src]:
                            allowed = ", ".join(sorted(ALLOWED[src]))
                            errors.append(f"error: {rel}:{lineno}: #include \"{target}\": {src}/ "
                                          f"may not include {dst}/ (it may include: {allowed})")
    return errors, unknown


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    errors, unknown = check(os.path.abspath(root))
    for line in unknown + errors:
        print(line, file=sys.stderr)
    if unknown:
        return 2
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
