#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build (Release), and run the
# default simulation. Extra arguments go to systolic-sim (default: a 512x512x512 GEMM on 32x32).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [[ $# -eq 0 ]]; then
  set -- --gemm 512,512,512 --array 32x32 --dataflow ws --out "$root/results/default"
fi
exec "$root/build/systolic-sim" "$@"
