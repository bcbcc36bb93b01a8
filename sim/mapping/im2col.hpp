// im2col on chip: the DRAM bytes of a conv's A blocks (docs/memory-system.md, "Convolutions:
// im2col on chip"), used by the tiler (sim/mapping/tiler.*).
#pragma once

#include <cstdint>

#include "models/types.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// The geometry of the sub-GEMM of A's rows from m0 on.
inline ConvGeom shift_rows(const ConvGeom& c, int64_t m0) {
  ConvGeom s = c;
  s.m_base += m0;
  return s;
}

// A conv's ifmap buffer holds raw input rows, and its DRAM reads are those rows: a block of A
// rows [m0, m1) (output pixels) and columns [k0, k1) (filter taps) needs, per image it touches,
// the input rows ih = oh * stride - pad + kh * dilation in [0, H) for the output rows oh of its
// pixels and the kernel rows kh of its taps, each whole (W pixels) with the block's channels
// (min(C, k1 - k0) of them: c is the fastest tap index). Padding rows are never read. The loader
// moves whichever is smaller, those rows or the expanded block (a 1x1 stride-2 conv skips rows).

// Distinct input rows oh * sh - ph + kh * dh in [0, H) for oh in [oh0, oh1], kh in [kh0, kh1].
int64_t rows_touched(const ConvGeom& c, int64_t oh0, int64_t oh1, int64_t kh0, int64_t kh1);

// DRAM bytes of the A block [m0, m1) x [k0, k1): the expanded block, or for a conv (c not null)
// the smaller of that and its raw input rows.
int64_t a_bytes(const ConvGeom* c, int64_t m0, int64_t m1, int64_t k0, int64_t k1, int64_t ib);

// An upper bound of a_bytes() over every block of `len` consecutive stream vectors (WS: pixels
// of a K-chunk `width` taps wide; OS: taps of an M-chunk `width` pixels wide), for sizing blocks.
int64_t a_bytes_bound(const ConvGeom* c, Dataflow df, int64_t len, int64_t width, int64_t ib);

}  // namespace ssim
