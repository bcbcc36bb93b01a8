// libFuzzer target: the YAML network reader (parse_yaml_network).
// Run with scripts/fuzz.sh yaml SECONDS; the entry is in fuzz/fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssim::fuzz::yaml_one(data, size);
  return 0;
}
