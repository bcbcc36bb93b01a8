#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build, run every test.
#   scripts/test.sh [CTEST_ARGS...]       Release build in build/
#   SSIM_SANITIZE=1 scripts/test.sh       AddressSanitizer + UndefinedBehaviorSanitizer build in
#                                         build-asan/ (a second build folder)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [[ "${SSIM_SANITIZE:-0}" == 1 ]]; then
  build="${SSIM_BUILD_DIR:-$root/build-asan}"
  BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" "$build" -DSSIM_SANITIZE=ON
  # SystemC's coroutines switch stacks, which ASan cannot follow through an exception
  # (google/sanitizers#189); the tests that expect a throw from inside a simulation skip themselves.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
else
  build="${SSIM_BUILD_DIR:-$root/build}"
  "$root/scripts/build.sh" "$build"
fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
