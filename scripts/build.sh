#!/usr/bin/env bash
# Configures and builds systolic-sim. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true
launcher=()
# A compiler cache, when the machine has one, shares objects between worktrees and rebuilds. Paths
# under the tree are hashed relative to it (and the build folder not at all, which -g would add),
# so two clones of the tree in different places share their objects too (CI's clean clone).
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "${launcher[@]}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
