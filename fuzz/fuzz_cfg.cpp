// libFuzzer target: the SCALE-Sim .cfg reader (parse_cfg_text).
// Run with scripts/fuzz.sh cfg SECONDS; the entry is in fuzz/fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssim::fuzz::cfg_one(data, size);
  return 0;
}
