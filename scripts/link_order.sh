#!/usr/bin/env bash
# Writes sim/link_order.txt: the executable's functions that typical runs execute, by their
# linker names, most instructions first. The build links systolic-sim with lld in that order
# (CMakeLists.txt, --symbol-ordering-file), so the code a run executes sits on few pages: each
# first touch of a 4 KiB page of code costs 5 to 20 us on the project machine (README,
# "Performance"). A name no longer in the binary is skipped at link time, so a stale list costs
# speed, never correctness; rerun this after large changes.
#   scripts/link_order.sh [BUILD_DIR]      (needs valgrind; about a minute)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"  # (absolute: callgrind names the binary so)
bin="$build/systolic-sim"
[[ -x "$bin" ]] || { echo "error: $bin not built" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "error: valgrind is not installed" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
topo="$root/tests/data/topologies"
runs=(
  "--help"
  "--gemm 1,1,1 --array 128x128"
  "--gemm 1,1,1 --array 8x8 --fold-overlap on"
  "--gemm 4096,4096,4096 --array 8x8 --fold-overlap on"
  "--workload alexnet --array 128x128"
  "--workload mobilenetv2 --array 128x128"
  "--workload resnet50 --array 128x128"
  "--workload bert-base-512 --array 128x128"
  "--workload $topo/resnet18.csv --array 128x128"
  "--workload $topo/yolo_tiny.csv --array 128x128"
)
i=0
for r in "${runs[@]}"; do
  i=$((i + 1))
  # shellcheck disable=SC2086  # (each run's arguments split on purpose)
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$tmp/cg.$i" \
    "$bin" $r --quiet --out "$tmp/out" >/dev/null 2>&1
  # Function lines of the executable: "  Ir (pct)  ???:name [path]"; the name without a
  # recursion mark ('2) or a trailing note.
  callgrind_annotate --threshold=100 "$tmp/cg.$i" 2>/dev/null |
    grep -F "[$bin]" | sed -E 's/^ *[0-9,]+ *\([ 0-9.%]+\) *//; s/^[^:]*://; s/ \[.*$//' |
    sed -E "s/'[0-9]+$//; s/ .*$//" >>"$tmp/names"
done
{
  echo "# Functions of systolic-sim that typical runs execute (scripts/link_order.sh), linked in"
  echo "# this order (CMakeLists.txt). Generated; do not edit by hand."
  grep -v '^0x' "$tmp/names" | awk '!seen[$0]++'
} >"$root/sim/link_order.txt"
echo "wrote $(grep -vc '^#' "$root/sim/link_order.txt") names to sim/link_order.txt"
