#!/usr/bin/env bash
# Runs the same set of simulations with two systolic-sim binaries and compares every output file
# byte for byte: for a change that must not change behaviour (a refactoring), run it with the
# binary built before the change and the one built after.
#
# Usage: scripts/check_identical_outputs.sh OLD_BINARY NEW_BINARY [WORK_DIR]
#
# The set: every built-in network (workloads/networks/*.yaml) on the default hardware and on the
# presets tpu-v1 and eyeriss; one GEMM on each of them; two networks at cycle fidelity on a small
# array; a sweep (2 arrays x 2 dataflows x 2 fusion settings over two networks, -j 2). Both
# binaries read the same data folder (this tree's presets, networks and scripts, through
# $SYSTOLIC_SIM_DATA), so only the binaries differ.
#
# Nothing is excluded: the outputs hold no wall-clock time and no path of the output folder (the
# two runs write to different folders), so every file must match byte for byte. (--report is not
# in the set: its figures come from matplotlib, not from the binary.)
# Exit status: 0 identical, 1 a difference (printed), 2 bad usage.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY [WORK_DIR]" >&2
  exit 2
fi
old_bin=$(realpath "$1")
new_bin=$(realpath "$2")
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=${3:-$(mktemp -d /tmp/ssim-identical.XXXXXX)}
mkdir -p "$work"
work=$(realpath "$work")

# A data folder holding this tree's presets, networks and scripts.
data="$work/data"
rm -rf "$data"
mkdir -p "$data"
ln -s "$root/models/presets" "$data/presets"
ln -s "$root/workloads/networks" "$data/networks"
ln -s "$root/scripts" "$data/scripts"
export SYSTOLIC_SIM_DATA="$data" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

networks=()
for f in "$root"/workloads/networks/*.yaml; do networks+=("$(basename "$f" .yaml)"); done

run_all() {  # BINARY OUT
  local bin=$1 out=$2
  rm -rf "$out"
  mkdir -p "$out"
  local hw name
  for hw in default tpu-v1 eyeriss; do
    local cfg=()
    [[ $hw != default ]] && cfg=(--config "$hw")
    for name in "${networks[@]}"; do
      "$bin" --workload "$name" "${cfg[@]}" --out "$out/$hw-$name" --quiet
    done
    "$bin" --gemm 300,200,500 "${cfg[@]}" --out "$out/$hw-gemm" --quiet
  done
  for name in mlp vector-add; do
    "$bin" --workload "$name" --array 8x8 --fidelity cycle --out "$out/cycle-$name" --quiet
  done
  "$bin" sweep --workload mlp,alexnet --arrays 16x16,32x32 --dataflows os,ws --fusion on,off \
    -j 2 --out "$out/sweep" --quiet
}

echo "old: $old_bin -> $work/old"
run_all "$old_bin" "$work/old"
echo "new: $new_bin -> $work/new"
run_all "$new_bin" "$work/new"
files=$(find "$work/new" -type f | wc -l)
if diff -r "$work/old" "$work/new"; then
  echo "identical: $files files in $work/new and $work/old"
else
  echo "DIFFERENT: see above ($work/old vs $work/new)"
  exit 1
fi
