// Blocking K (docs/memory-system.md, "Blocking K"): with a modelled channel a WS or IS GEMM may be
// cut along K as well as M and N, its m x n output block's accumulators staying in one ofmap
// tile while its k-blocks run. The traffic then follows the classic blocked-GEMM closed form
// derived here (A read once per column of output blocks, B once per row of them, C written once),
// the values equal the reference in cycle fidelity, and fast == cycle.
#include <gtest/gtest.h>

#include "sim/mapping/tiler.hpp"
#include "sim/run/op_run.hpp"

namespace ssim {
namespace {

HwSpec small_buffers(Dataflow df) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.dataflow = df;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 4;
  hw.dram_bytes_per_cycle = 2;
  return hw;
}

TEST(KBlocking, BlockedTrafficFollowsTheClosedFormAndValuesHold) {
  int cut = 0;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS})
    for (const GemmShape g : {GemmShape{64, 64, 256}, GemmShape{128, 128, 512},
                              GemmShape{96, 80, 200}, GemmShape{40, 24, 300}}) {
      HwSpec hw = small_buffers(df);
      const SubGemms t = choose_sub_gemms(hw, g);
      if (t.k >= g.K) continue;
      ++cut;
      SCOPED_TRACE(to_string(df) + " " + std::to_string(g.M) + "x" + std::to_string(g.N) + "x" +
                   std::to_string(g.K) + " cut " + std::to_string(t.m) + "x" + std::to_string(t.n) +
                   "x" + std::to_string(t.k));
      EXPECT_EQ(t.k % hw.array_rows, 0);
      // The block's int32 accumulators fit a half of the 4 KiB ofmap buffer.
      EXPECT_LE(t.m * t.n * 4, 2048);
      const int64_t tm = (g.M + t.m - 1) / t.m, tn = (g.N + t.n - 1) / t.n;
      GemmOp op;
      op.name = "g";
      op.shape = g;
      hw.fidelity = Fidelity::Cycle;
      const GemmRunResult cyc = run_gemm_op(ValidHw(hw), op);
      hw.fidelity = Fidelity::Fast;
      const GemmRunResult fast = run_gemm_op(ValidHw(hw), op);
      EXPECT_TRUE(cyc.values_checked);
      EXPECT_TRUE(cyc.values_ok);
      EXPECT_EQ(fast.total_cycles, cyc.total_cycles);
      // Every k-block of every output block loads its A block and its B tiles once.
      EXPECT_EQ(int64_t(cyc.dram_ifmap_bytes), g.M * g.K * tn);
      EXPECT_EQ(int64_t(cyc.dram_filter_bytes), g.K * g.N * tm);
      EXPECT_EQ(int64_t(cyc.dram_ofmap_bytes), g.M * g.N);  // int8 outputs, once, no spill
      EXPECT_EQ(cyc.dram_spill_bytes, 0u);
      const DramTraffic cf = gemm_traffic(hw, g);
      EXPECT_EQ(cf.ifmap, g.M * g.K * tn);
      EXPECT_EQ(cf.filter, g.K * g.N * tm);
      EXPECT_EQ(cf.ofmap, g.M * g.N);
    }
  EXPECT_GE(cut, 4);  // the cases above do cut K
}

TEST(KBlocking, NeverWithAStallFreeChannelOrOutputStationary) {
  const GemmShape g{128, 128, 512};
  HwSpec hw = small_buffers(Dataflow::WS);
  hw.unlimited_bandwidth = true;
  EXPECT_EQ(choose_sub_gemms(hw, g).k, g.K);
  hw = small_buffers(Dataflow::OS);
  EXPECT_EQ(choose_sub_gemms(hw, g).k, g.K);
}

}  // namespace
}  // namespace ssim
