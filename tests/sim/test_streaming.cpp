// The compute schedule does not depend on the SRAM size (issue: fidelity at network scale I):
// with a stall-free DRAM (unlimited bandwidth or SCALE-Sim's InterfaceBandwidth CALC) every
// buffer size that holds the smallest legal block gives the cycles of the whole GEMM's folds on
// the array alone (docs/cycle-accounting.md, re-derived here from the closed form where it
// applies); the buffers change only the DRAM traffic.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "models/array_harness.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"

namespace ssim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The fewest stream vectors in one of operand i's blocks (docs/memory-system.md: segment k of
// S covers [floor(k T / S), floor((k + 1) T / S)); block j of B holds segments
// [floor(j S / B), floor((j + 1) S / B))).
int64_t min_block(const GemmPlan& p, int64_t T, int i) {
  const int64_t S = p.segments, B = p.blocks[i];
  int64_t least = T;
  for (int64_t j = 0; j < B; ++j) {
    const int64_t k0 = j * S / B, k1 = (j + 1) * S / B;
    least = std::min(least, k1 * T / S - k0 * T / S);
  }
  return least;
}

// docs/cycle-accounting.md without fold overlap: sum over folds of r + T + R + c - 2 for WS and
// IS, T + r + c + R - 2 for OS (the same sum), folds of the whole GEMM.
int64_t no_overlap_closed_form(const HwSpec& hw, const GemmShape& g) {
  const SpatialMap sm = spatial_map(hw.dataflow, g);
  const int64_t R = hw.array_rows, C = hw.array_cols;
  int64_t total = 0;
  for (int64_t r0 = 0; r0 < sm.Sr; r0 += R)
    for (int64_t c0 = 0; c0 < sm.Sc; c0 += C)
      total += std::min(R, sm.Sr - r0) + sm.T + R + std::min(C, sm.Sc - c0) - 2;
  return total;
}

TEST(Streaming, CyclesDoNotDependOnTheBufferSizeWhenDramNeverStalls) {
  std::mt19937_64 rng(31337);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  std::vector<std::pair<HwSpec, GemmShape>> cases;
  std::vector<GemmRunResult> runs;
  int cut = 0, spilled = 0;
  for (int i = 0; i < 160; ++i) {
    HwSpec hw;
    hw.array_rows = int(pick(1, 16));
    hw.array_cols = int(pick(1, 16));
    hw.dataflow = Dataflow(pick(0, 2));
    hw.fold_overlap = pick(0, 1) == 1;
    hw.output_bytes = int(1 << pick(0, 2));
    if (pick(0, 1))
      hw.unlimited_bandwidth = true;
    else
      hw.interface_bandwidth = "CALC";  // SCALE-Sim's: stall-free, whatever Bandwidth says
    hw.dram_bytes_per_cycle = 0.5;      // never simulated: must not shape the plan
    const GemmShape g{pick(1, 300), pick(1, 300), pick(1, 300)};
    // The smallest stall-free buffers for this shape (docs/memory-system.md): plan with 1 KiB
    // and grow until the plan fits and every cut streamed block holds at least the vectors that
    // hide the next block's load behind the array's skew (WS/IS 2R - 1, OS max(R, C) - 1).
    const int64_t need = hw.dataflow == Dataflow::OS ? std::max(hw.array_rows, hw.array_cols) - 1
                                                     : 2 * int64_t(hw.array_rows) - 1;
    const int64_t T = spatial_map(hw.dataflow, g).T;
    for (int64_t* kb : {&hw.ifmap_sram_kb, &hw.filter_sram_kb, &hw.ofmap_sram_kb}) *kb = 1;
    for (;;) {
      try {
        const GemmPlan p = plan_blocks(hw, g);
        if (std::min(min_block(p, T, 0), min_block(p, T, 1)) >= std::min(need, T)) break;
      } catch (const InputError&) {
      }
      for (int64_t* kb : {&hw.ifmap_sram_kb, &hw.filter_sram_kb, &hw.ofmap_sram_kb}) *kb *= 2;
    }
    const int64_t lo[3] = {hw.ifmap_sram_kb, hw.filter_sram_kb, hw.ofmap_sram_kb};
    for (int size = 0; size < 3; ++size) {
      // The smallest, a random size and a large one.
      HwSpec h = hw;
      int64_t* kbs[3] = {&h.ifmap_sram_kb, &h.filter_sram_kb, &h.ofmap_sram_kb};
      for (int b = 0; b < 3; ++b)
        *kbs[b] = size == 0 ? lo[b] : size == 1 ? lo[b] + pick(0, 64) : 16384;
      const GemmPlan plan = plan_blocks(h, g);
      cut += plan.stream_block < spatial_map(h.dataflow, g).T;
      spilled += plan.ofmap == OutputPolicy::Spill;
      cases.emplace_back(h, g);
      runs.push_back(run_gemm(ValidHw(h), g));
    }
  }
  EXPECT_GT(cut, 40);
  EXPECT_GT(spilled, 12);
  // The array alone may only run after the accelerator has (one SystemC design per process).
  for (size_t i = 0; i < runs.size(); ++i) {
    const HwSpec& hw = cases[i].first;
    const GemmShape& g = cases[i].second;
    const std::string what = std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols) +
                             " " + to_string(hw.dataflow) + (hw.fold_overlap ? " overlap" : "") +
                             " M" + std::to_string(g.M) + " N" + std::to_string(g.N) + " K" +
                             std::to_string(g.K) + " buffers " + std::to_string(hw.ifmap_sram_kb) +
                             "/" + std::to_string(hw.filter_sram_kb) + "/" +
                             std::to_string(hw.ofmap_sram_kb);
    const int64_t alone = run_gemm_on_array(ArrayKind::Fast, hw.array(), g).total_cycles;
    ASSERT_EQ(runs[i].total_cycles, alone) << what;
    ASSERT_EQ(runs[i].stall_cycles, 0) << what;
    if (!hw.fold_overlap) {
      ASSERT_EQ(runs[i].total_cycles, no_overlap_closed_form(hw, g)) << what;
    }
    ASSERT_EQ(runs[i].folds, uint64_t(ceil_div(spatial_map(hw.dataflow, g).Sr, hw.array_rows) *
                                      ceil_div(spatial_map(hw.dataflow, g).Sc, hw.array_cols)))
        << what;
  }
}

}  // namespace
}  // namespace ssim
