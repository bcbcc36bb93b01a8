// The tiler: cuts a GEMM into SRAM-sized tiles, picks a loop order that reuses data, and emits the
// Program the controller runs (models/program.hpp); repeats a GEMM's program for GEMM ops with a
// repeat count; cuts a vector op into SRAM-sized chunks. The rules and the closed forms of the
// DRAM traffic are in docs/memory-system.md.
//
// Tiles: A tiles (Mt x Kt) fill one half of the ifmap buffer, B tiles (Kt x Nt) one half of the
// filter buffer, and the output tile (Mt x Nt) lives in one half of the ofmap buffer as int32
// accumulators (4 bytes each: partial sums over K-folds and K-tiles need the full precision). It
// is written back once, at OutputBytes per element, after its last K-tile. The K-tiles of an
// output tile are consecutive (k innermost); the order of the m and n loops is chosen by cost.
#pragma once

#include <cstdint>

#include "models/program.hpp"
#include "models/vector_unit.hpp"
#include "sim/config.hpp"
#include "workloads/lower.hpp"

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

// --- Repeated GEMMs (GemmOp::repeat) -----------------------------------------------------------
//
// `repeat` copies of one copy's program, back to back in one program: the steps of copy 0, then
// those of copy 1, ... Every copy loads its operands anew (its first step loads both blocks), so
// the loads of copy i+1 overlap the compute of copy i. Copy i's steps and folds are shifted by
// i * m_stride in M and i * n_stride in N (a value-carrying run gives each copy its own block of
// A, B and C that way; 0 lets all copies share one A, B and C). Throws InputError if repeat < 1.
Program repeat_program(const Program& one, int64_t repeat, int64_t m_stride = 0,
                       int64_t n_stride = 0);

// plan_gemm(hw, g) repeated.
Program plan_gemm_op(const HwSpec& hw, const GemmShape& g, int64_t repeat, int64_t m_stride = 0,
                     int64_t n_stride = 0);

// --- Vector ops
// -----------------------------------------------------------------------------------
//
// A vector op streams through the ifmap buffer (its inputs) and the ofmap buffer (its results, at
// OutputBytes each) in chunks of `outputs` output elements; one chunk is one Vector step (one
// VectorCmd, one ifmap block, one output tile written back after it). Softmax and layernorm chunks
// hold whole rows; the other kinds' chunks are multiples of the lanes (so the chunks' issue cycles
// add up to the whole op's). A chunk of outputs [s, s + n) reads the inputs
// floor(inputs * (s + n) / outputs) - floor(inputs * s / outputs) (pooling: the halo of
// overlapping windows is not re-read). See docs/memory-system.md, "Vector steps".

// The vector unit's configuration of a spec: VectorLanes lanes, the default timing.
VectorConfig vector_config(const HwSpec& hw);

struct VectorChunking {
  int64_t outputs = 0;  // output elements per chunk (the last chunk may hold fewer)
  int64_t chunks = 0;
  double est_cycles = 0;  // the estimate that chose it
};

// The chunk size: the one with the smallest estimated run time (first load, then the larger of
// the rest's compute and transfers, then the last store; plus one cycle per chunk). Throws
// InputError on a malformed op (one line naming the op) and if a buffer half cannot hold the
// smallest chunk (one row of a softmax / layernorm, one output otherwise), naming the .cfg key
// and the KiB needed.
VectorChunking choose_vector_chunks(const HwSpec& hw, const VectorOp& op);

// The program for chunks of `chunk_outputs` output elements (InputError if they do not fit).
Program build_vector_program(const HwSpec& hw, const VectorOp& op, int64_t chunk_outputs);

// choose_vector_chunks() then build_vector_program().
Program plan_vector(const HwSpec& hw, const VectorOp& op);

// Buffer capacities in bytes (KiB from the spec) and the bytes of one half.
int64_t sram_bytes(const HwSpec& hw, Operand op);
inline int64_t sram_half_bytes(const HwSpec& hw, Operand op) {
  return sram_bytes(hw, op) / 2;
}

}  // namespace ssim
