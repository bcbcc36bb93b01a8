// The tiler: cuts a GEMM into SRAM-sized tiles, picks a loop order that reuses data, and emits the
// Program the controller runs (models/program.hpp). Pure C++, no SystemC. The rules and the
// closed forms of the DRAM traffic are in docs/memory-system.md.
//
// Tiles: A tiles (Mt x Kt) fill one half of the ifmap buffer, B tiles (Kt x Nt) one half of the
// filter buffer, and the output tile (Mt x Nt) lives in one half of the ofmap buffer as int32
// accumulators (4 bytes each: partial sums over K-folds and K-tiles need the full precision). It
// is written back once, at OutputBytes per element, after its last K-tile. The K-tiles of an
// output tile are consecutive (k innermost); the order of the m and n loops is chosen by cost.
#pragma once

#include <cstdint>

#include "models/program.hpp"
#include "sim/config.hpp"

namespace ssim {

constexpr int kAccumulatorBytes = 4;  // int32 accumulators in the ofmap buffer

struct DramTraffic {
  int64_t ifmap = 0;   // bytes read
  int64_t filter = 0;  // bytes read
  int64_t ofmap = 0;   // bytes written
  int64_t total() const { return ifmap + filter + ofmap; }
};

// The DRAM traffic of a tiling, in closed form (docs/memory-system.md).
DramTraffic closed_form_traffic(const GemmShape& g, const TileSizes& t, LoopOrder order,
                                int input_bytes, int output_bytes);

struct TilingChoice {
  TileSizes tile;
  LoopOrder order = LoopOrder::MNK;
  double est_cycles = 0;  // the tiler's own estimate (used only to compare candidates)
};

// The tiling the tiler picks. Throws InputError (one line, naming the .cfg key) if a buffer
// cannot hold even the smallest tile: one array-width slice along each spatial dimension of the
// dataflow and one element along the streamed one, double buffered.
TilingChoice choose_tiling(const HwSpec& hw, const GemmShape& g);

// The program for a given tiling. Throws InputError if the tiles do not fit the buffers' halves
// or are not positive.
Program build_program(const HwSpec& hw, const GemmShape& g, const TileSizes& t, LoopOrder order);

// choose_tiling() then build_program().
Program plan_gemm(const HwSpec& hw, const GemmShape& g);

// Buffer capacities in bytes (KiB from the spec) and the bytes of one half.
int64_t sram_bytes(const HwSpec& hw, Operand op);
inline int64_t sram_half_bytes(const HwSpec& hw, Operand op) {
  return sram_bytes(hw, op) / 2;
}

}  // namespace ssim
