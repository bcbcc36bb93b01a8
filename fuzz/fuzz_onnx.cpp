// libFuzzer target: the ONNX model reader (parse_onnx_network).
// Run with scripts/fuzz.sh onnx SECONDS; the entry is in fuzz/fuzz_entries.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssim::fuzz::onnx_one(data, size);
  return 0;
}
