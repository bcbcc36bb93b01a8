// The head programs of a cut (docs/cycle-accounting.md, "Periodic groups"): the whole program
// with its middle block rows left out. The roofline's Matrix Multiply on the `gemmini` preset,
// run by its periodic groups (tests/sim/test_periodic_ops.cpp compares such runs with whole
// ones), moves the classic blocked-GEMM traffic of its cut (docs/memory-system.md, "Blocking K")
// and lands right of the ridge.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"
#include "sim/run/periodic_run.hpp"
#include "sim/spec/config.hpp"

namespace ssim {
namespace {

TEST(PeriodicRows, TheHeadProgramIsTheWholeProgramWithoutItsMiddleRows) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 4;
  hw.dram_bytes_per_cycle = 2;
  const GemmShape g{200, 96, 128};
  const SubGemms t{16, 48, 64};  // 13 block rows, the last of 8 rows
  const Program whole = plan_gemm_rows(hw, g, t, -1);
  const Program head = plan_gemm_rows(hw, g, t, 4);
  size_t kept = 0;
  for (const TileStep& s : whole.steps) {
    const int64_t row = s.m0 / t.m;
    if (row >= 4 && row < 12) continue;
    ASSERT_LT(kept, head.steps.size());
    const TileStep& h = head.steps[kept++];
    EXPECT_EQ(h.m0, s.m0);
    EXPECT_EQ(h.mlen, s.mlen);
    EXPECT_EQ(h.n0, s.n0);
    EXPECT_EQ(h.k0, s.k0);
    EXPECT_EQ(h.ifmap_load_bytes, s.ifmap_load_bytes);
    EXPECT_EQ(h.filter_load_bytes, s.filter_load_bytes);
    EXPECT_EQ(h.new_output, s.new_output);
    EXPECT_EQ(h.store_bytes, s.store_bytes);
    EXPECT_EQ(h.folds.size(), s.folds.size());
  }
  EXPECT_EQ(kept, head.steps.size());
  EXPECT_GT(whole.steps.size(), head.steps.size());
  // Within the usual limit and over the whole GEMM, the search is choose_sub_gemms()'s.
  for (const GemmShape s : {g, GemmShape{512, 512, 512}, GemmShape{64, 1000, 72}}) {
    const SubGemms a = choose_sub_gemms(hw, s), b = choose_sub_gemms_within(hw, s, kMaxCutSteps, 0);
    EXPECT_EQ(a.m, b.m);
    EXPECT_EQ(a.n, b.n);
    EXPECT_EQ(a.k, b.k);
    // ... and the one it also returns from a search with another limit.
    SubGemms c;
    (void)choose_sub_gemms_within(hw, s, 1000, 7, {}, true, &c);
    EXPECT_EQ(a.m, c.m);
    EXPECT_EQ(a.n, c.n);
    EXPECT_EQ(a.k, c.k);
    EXPECT_EQ(a.steps, c.steps);
  }
}

TEST(PeriodicRows, GemminisMatrixMultiplyIsBlockedAndRightOfItsRidge) {
  const HwSpec hw = parse_cfg_file(SSIM_SOURCE_DIR "/models/presets/gemmini.cfg", HwSpec{});
  const GemmShape g{4096, 4096, 4096};
  GemmOp op;
  op.shape = g;
  const std::optional<PeriodicPlan> p = periodic_plan(ValidHw(hw), op);
  ASSERT_TRUE(p);
  const SubGemms t = p->cut;
  // A whole program of this cut would exceed the usual limit; its head programs do not.
  ASSERT_GT(t.steps, kMaxCutSteps);
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n);
  const CanonicalKernels k = run_canonical_kernels(ValidHw(hw));
  SCOPED_TRACE(k.matrix_multiply.description);
  EXPECT_NE(k.matrix_multiply.description.find(p->name() + std::string(" simulated")),
            std::string::npos);
  // The classic blocked traffic: A once per column of output blocks, B once per row, C once.
  EXPECT_EQ(int64_t(k.matrix_multiply.dram_bytes),
            g.M * g.K * tn + g.K * g.N * tm + g.M * g.N * hw.output_bytes);
  EXPECT_EQ(k.matrix_multiply.flops, 2 * uint64_t(4096) * 4096 * 4096);
  // Right of the ridge: 2 ops per PE per cycle over 16 bytes per cycle is 32 ops per byte.
  const double ridge = 2.0 * 16 * 16 / 16;
  EXPECT_GT(double(k.matrix_multiply.flops) / double(k.matrix_multiply.dram_bytes), ridge);
  // And near the compute roof: no fewer cycles than the MACs over the 256 PEs.
  const double roof = double(g.M * g.N * g.K) / 256.0;
  EXPECT_GE(double(k.matrix_multiply.cycles), roof);
  EXPECT_LT(double(k.matrix_multiply.cycles), roof / 0.95);
}

}  // namespace
}  // namespace ssim
