// Runs tile commands on an array model with no memory system: each tile arrives at a given cycle.
// One SystemC design per process, elaborated on first use and reused for every later call, so a
// test or a benchmark can run many jobs in one process.
#pragma once

#include <vector>

#include "models/types.hpp"

namespace ssim {

enum class ArrayKind { Cycle, Fast };

struct TileArrival {
  int64_t cycle = 0;  // job cycle from which the tile may start
  TileCmd tile;
};

struct HarnessResult {
  int64_t total_cycles = 0;  // last tile's end cycle + 1
  ArrayStats stats;
  std::vector<TileDone> done;   // in completion order
  std::vector<TileDone> reads;  // read records (ArrayModel::pop_read), in the order taken
  // The fast model: folds it stepped one by one (the rest it advanced in closed form).
  uint64_t stepped_folds = 0;
};

// Runs the tiles (sorted by arrival, ties in order) on a model of the given kind. With data, a
// value-carrying model accumulates into data->C.
HarnessResult run_on_array(ArrayKind kind, const ArrayConfig& cfg,
                           const std::vector<TileArrival>& tiles, const GemmData* data = nullptr);

// Convenience: the whole GEMM as one tile available at cycle 0, folded in canonical order.
HarnessResult run_gemm_on_array(ArrayKind kind, const ArrayConfig& cfg, const GemmShape& g,
                                const GemmData* data = nullptr);

}  // namespace ssim
