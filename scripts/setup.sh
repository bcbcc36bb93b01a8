#!/usr/bin/env bash
# Installs the Debian packages systolic-sim needs to build, test and draw figures.
# Idempotent and quiet when everything is already there. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config lld
  libsystemc-dev libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev zlib1g-dev
  python3 python3-matplotlib python3-onnx python3-torch python3-torchvision
  python3-dev pybind11-dev python3-pandas dpkg-dev
  time
  slurmctld slurmd slurm-client munge
  chromium
)
# Extra package sets on request: SSIM_SETUP_EXTRA="chromium clang ..." scripts/setup.sh
if [[ -n "${SSIM_SETUP_EXTRA:-}" ]]; then
  read -r -a extra <<<"$SSIM_SETUP_EXTRA"
  PACKAGES+=("${extra[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
