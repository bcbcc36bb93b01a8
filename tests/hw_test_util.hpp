// Small helpers shared by the tests that build hardware specs.
#pragma once

#include <cstdint>

#include "models/types.hpp"
#include "sim/spec/config.hpp"

namespace ssim::test {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The default spec with another array shape, dataflow and fold overlap.
inline HwSpec make_hw(int R, int C, Dataflow df, bool overlap = false) {
  HwSpec hw;
  hw.array_rows = R;
  hw.array_cols = C;
  hw.dataflow = df;
  hw.fold_overlap = overlap;
  return hw;
}

}  // namespace ssim::test
