#!/usr/bin/env bash
# Runs one libFuzzer target for a while:  scripts/fuzz.sh TARGET SECONDS [LIBFUZZER_ARGS...]
#   TARGET: cfg (the .cfg reader), csv (the SCALE-Sim topology reader), yaml (the YAML network
#           reader), onnx (the ONNX model reader) or cli (the command line, parse only)
# Builds build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined; SSIM_FUZZ_BUILD_DIR overrides)
# if needed, installing clang and libclang-rt-14-dev when missing, then fuzzes from the seeds in
# tests/fuzz/TARGET/ and the saved crashes in tests/fuzz/regressions/TARGET/. New corpus entries
# go to build-fuzz/corpus/TARGET/, a crashing input to build-fuzz/artifacts/TARGET/: copy it into
# tests/fuzz/regressions/TARGET/ (tests/sim/test_fuzz_regressions.cpp runs those) and fix the bug.
# Exit code: libFuzzer's (0 when the time ran out without a finding).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: scripts/fuzz.sh cfg|csv|yaml|onnx|cli SECONDS [LIBFUZZER_ARGS...]"
target="${1:-}"
seconds="${2:-}"
case "$target" in cfg | csv | yaml | onnx | cli) ;; *) echo "$usage" >&2; exit 2 ;; esac
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then echo "$usage" >&2; exit 2; fi
shift 2

# clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev).
if ! command -v clang++ >/dev/null ||
  ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  SSIM_SETUP_EXTRA="clang libclang-rt-14-dev" "$root/scripts/setup.sh"
else
  "$root/scripts/setup.sh"
fi

build="${SSIM_FUZZ_BUILD_DIR:-$root/build-fuzz}"
mkdir -p "$build"
exec 9>"$build/.fuzz-build.lock"  # two fuzz.sh at once build one at a time
flock 9
if [[ ! -f "$build/build.ninja" ]] || ! grep -q '^SSIM_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DSSIM_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "fuzz_$target"
flock -u 9
exec 9>&-

corpus="$build/corpus/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$corpus" "$artifacts" "$root/tests/fuzz/regressions/$target"
# LeakSanitizer on; a report or a crash stops the run with a non-zero exit code.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cd "$build"
exec nice -n "${SSIM_FUZZ_NICE:-10}" "$build/fuzz/fuzz_$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$root/fuzz/dict/$target.dict" -artifact_prefix="$artifacts/" \
  "$@" "$corpus" "$root/tests/fuzz/$target" "$root/tests/fuzz/regressions/$target" </dev/null
