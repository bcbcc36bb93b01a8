#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build, run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSIM_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$build"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
