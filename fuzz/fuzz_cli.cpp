// libFuzzer target: the command line (parse_cli on argv split from the input; parse only).
// Run with scripts/fuzz.sh cli SECONDS; the entry is in fuzz/fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ssim::fuzz::cli_fuzz_setup();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssim::fuzz::cli_one(data, size);
  return 0;
}
