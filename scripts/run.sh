#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build (Release), and run the
# default simulation. Extra arguments go to systolic-sim (default: ResNet-50 on a 128x128
# weight-stationary array with fold overlap, its figures and HTML report in results/default/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [[ $# -eq 0 ]]; then
  set -- --workload resnet50 --array 128x128 --dataflow ws --fold-overlap on \
    --out "$root/results/default" --report
fi
exec "$root/build/systolic-sim" "$@"
