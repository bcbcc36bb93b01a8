// libFuzzer target: the SCALE-Sim topology CSV reader (parse_scalesim_csv).
// Run with scripts/fuzz.sh csv SECONDS; the entry is in fuzz/fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssim::fuzz::csv_one(data, size);
  return 0;
}
