#!/usr/bin/env bash
# Benchmark of `systolic-sim sweep`: ResNet-50 over six array sizes (8x8 .. 256x256) and three
# dataflows (18 points), fast fidelity, the DRAM channel modelled (default hardware), -j 2.
# Budget: under 10 s wall on 2 cores. Not a unit test; run it by hand or in a benchmark job:
#
#   bench/bench_sweep.sh [SYSTOLIC_SIM_BINARY]   (default: $SSIM_BINARY, then build/systolic-sim)
#
# Prints the median wall time of REPEAT runs (default 3) for each configuration, and exits 1 if
# the main configuration misses the budget. Each run writes a fresh folder, so nothing is
# resumed. BUDGET_S and REPEAT can be set in the environment.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${SSIM_BINARY:-$here/build/systolic-sim}}"
repeat="${REPEAT:-3}"
budget="${BUDGET_S:-10}"
[[ -x "$bin" ]] || { echo "bench_sweep: no binary at '$bin' (build first, or pass its path)" >&2; exit 2; }
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

arrays=8x8,16x16,32x32,64x64,128x128,256x256
# The median wall time (seconds) of $repeat runs of `sweep ARGS`; also checks the row count.
time_sweep() {
  local times=() i start end rows
  for ((i = 0; i < repeat; i++)); do
    rm -rf "$tmp/out"
    start=$(date +%s.%N)
    "$bin" sweep --workload resnet50 --arrays "$arrays" --dataflows os,ws,is --quiet \
      --out "$tmp/out" "$@" || true  # a failed point gives exit 1; the rows are counted below
    end=$(date +%s.%N)
    rows=$(($(wc -l <"$tmp/out/sweep.csv") - 1))
    [[ $rows == 18 ]] || { echo "bench_sweep: $rows rows, expected 18" >&2; exit 1; }
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((repeat + 1) / 2))p"
}

failed_points() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next }
           $c != "ok" { n++ } END { print n + 0 }' "$tmp/out/sweep.csv"
}

echo "systolic-sim sweep: resnet50 x {$arrays} x {os,ws,is} = 18 points, fast fidelity"
echo "binary: $bin; $(nproc) CPUs; median of $repeat runs"
main=$(time_sweep -j 2)
printf '  -j 2, default hardware (DRAM channel modelled):  %6.2f s  (%s of 18 points failed)\n' \
  "$main" "$(failed_points)"
t=$(time_sweep -j 2 --ofmap-sram-kb 512)
printf '  -j 2, --ofmap-sram-kb 512 (every point fits):     %6.2f s  (%s failed)\n' \
  "$t" "$(failed_points)"
t=$(time_sweep -j 1)
printf '  -j 1, default hardware:                          %6.2f s\n' "$t"
t=$(time_sweep -j 2 --unlimited-bandwidth on)
printf '  -j 2, --unlimited-bandwidth on (no DRAM stalls):  %6.2f s\n' "$t"

if (($(echo "$main > $budget" | bc -l))); then
  echo "bench_sweep: FAIL: $main s is over the budget of $budget s" >&2
  exit 1
fi
echo "bench_sweep: OK: $main s (budget $budget s)"
