#!/usr/bin/env bash
# What the Slurm engine costs over the local one: bench_sweep.sh's sweep (ResNet-50, six arrays
# 8x8 .. 256x256, three dataflows: 18 points) with `--engine local -j 2` and through Slurm with
# `--wait` (2 array tasks of 9 points, and 18 tasks of 1), median wall time of REPEAT runs
# (default 3). Not a unit test. Uses the cluster of $SLURM_CONF, or starts a one-node cluster
# with scripts/slurm-local.sh (as root) and stops it at the end.
#
#   bench/bench_slurm_sweep.sh [SYSTOLIC_SIM_BINARY]   (default: $SSIM_BINARY, then build/systolic-sim)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${SSIM_BINARY:-$here/build/systolic-sim}}"
repeat="${REPEAT:-3}"
[[ -x "$bin" ]] || { echo "bench_slurm_sweep: no binary at '$bin'" >&2; exit 2; }
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

# The sweep folders must be on a folder the nodes see, not /tmp: next to the binary.
work="$(mktemp -d "$(dirname "$(readlink -f "$bin")")/bench-slurm.XXXXXX")"
cleanup() {
  if [[ -n "${own_cluster:-}" ]]; then "$here/scripts/slurm-local.sh" down; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z "${SLURM_CONF:-}" ]]; then
  export SSIM_SLURM_DIR="$work/cluster"
  own_cluster=1
  conf="$("$here/scripts/slurm-local.sh" up)"
  eval "$conf"
fi

# The median wall time (seconds) of $repeat runs of `sweep ARGS`; checks the files against the
# local engine's.
time_sweep() {
  local times=() i start end
  for ((i = 0; i < repeat; i++)); do
    rm -rf "$work/out"
    start=$(date +%s.%N)
    "$bin" sweep --workload resnet50 --arrays 8x8,16x16,32x32,64x64,128x128,256x256 \
      --dataflows os,ws,is --quiet --out "$work/out" "$@"
    end=$(date +%s.%N)
    if [[ -f "$work/ref.csv" ]]; then
      cmp -s "$work/out/sweep.csv" "$work/ref.csv" || { echo "bench_slurm_sweep: files differ" >&2; exit 1; }
    else
      cp "$work/out/sweep.csv" "$work/ref.csv"
    fi
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((repeat + 1) / 2))p"
}

printf 'local engine, -j 2:                    %.2f s\n' "$(time_sweep -j 2)"
printf 'slurm engine, 2 tasks of 9, --wait:    %.2f s\n' \
  "$(time_sweep --engine slurm --points-per-task 9 --wait)"
printf 'slurm engine, 18 tasks of 1, --wait:   %.2f s\n' \
  "$(time_sweep --engine slurm --points-per-task 1 --wait)"
