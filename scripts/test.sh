#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build, run every test.
#   scripts/test.sh [CTEST_ARGS...]       Release build in build/
#   SSIM_SANITIZE=1 scripts/test.sh       AddressSanitizer + UndefinedBehaviorSanitizer build in
#                                         build-asan/ (a second build folder)
#   SSIM_SLURM_TESTS=0 scripts/test.sh    without the local Slurm cluster (needs root) and its tests
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [[ "${SSIM_SANITIZE:-0}" == 1 ]]; then
  build="${SSIM_BUILD_DIR:-$root/build-asan}"
  # -g1: line tables and function names, what the sanitizers' stack traces print; a full -g made
  # this build take 1.8 times as long (13 of CI's 30 minutes).
  BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" "$build" -DSSIM_SANITIZE=ON \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
  # SystemC's coroutines switch stacks, which ASan cannot follow through an exception
  # (google/sanitizers#189); the tests that expect a throw from inside a simulation skip themselves.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
else
  build="${SSIM_BUILD_DIR:-$root/build}"
  "$root/scripts/build.sh" "$build"
fi
# The Slurm engine's tests (tests/scripts/test_slurm_sweep.py) submit to a real single-node Slurm
# on this machine, brought up here and down again however the tests end. SSIM_SLURM_TESTS=0 leaves
# it out (those tests are then skipped).
if [[ "${SSIM_SLURM_TESTS:-1}" != 0 ]]; then
  export SSIM_SLURM_DIR="${SSIM_SLURM_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ssim-slurm.XXXXXX")}"
  trap '"$root/scripts/slurm-local.sh" down' EXIT
  slurm_env="$("$root/scripts/slurm-local.sh" up)"
  eval "$slurm_env"
  export SSIM_REQUIRE_SLURM=1
fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
