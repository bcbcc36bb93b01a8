// im2col on chip (docs/memory-system.md, "Convolutions: im2col on chip"): a conv's DRAM reads of
// its input are raw input rows, re-derived here by brute force over every output pixel and
// filter tap of each block (a set of the input rows they touch), never from the planner's
// interval arithmetic. Padding costs no bytes; strided, dilated, grouped and depthwise convs;
// row bands with their halo when the input does not fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <utility>

#include "sim/mapping/tiler.hpp"
#include "sim/run/op_run.hpp"
#include "tests/workloads/wl_test_util.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

HwSpec stall_free_hw(int R, int C, Dataflow df, int64_t kb) {
  HwSpec hw;
  hw.array_rows = R;
  hw.array_cols = C;
  hw.dataflow = df;
  hw.unlimited_bandwidth = true;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = kb;
  return hw;
}

// The conv's one GEMM op.
GemmOp conv_op(const Conv2dLayer& c, int64_t batch = 1) {
  const auto ops = lower(make_layer("conv", c, batch));
  return *as_gemm(ops.at(0));
}

// Bytes of A's block [m0, m1) x [k0, k1) by brute force: the input rows (image, ih) that any of
// its pixels reads through any of its taps, whole rows of W pixels with the channels its taps
// name; or the expanded block if that is smaller.
int64_t brute_bytes(const GemmOp& op, int64_t m0, int64_t m1, int64_t k0, int64_t k1) {
  const ConvGeom& c = op.conv;
  std::set<std::pair<int64_t, int64_t>> out_rows;  // (image, oh)
  for (int64_t m = m0; m < m1; ++m)
    out_rows.insert({m / (c.out_h * c.out_w), (m % (c.out_h * c.out_w)) / c.out_w});
  std::set<int64_t> khs, chans;
  for (int64_t k = k0; k < k1; ++k) {
    khs.insert(k / (c.kernel_w * c.channels));
    chans.insert(k % c.channels);
  }
  std::set<std::pair<int64_t, int64_t>> rows;
  for (const auto& [img, oh] : out_rows)
    for (int64_t kh : khs) {
      const int64_t ih = oh * c.stride_h - c.pad_h + kh * c.dilation_h;
      if (ih >= 0 && ih < c.in_h) rows.insert({img, ih});
    }
  const int64_t raw = int64_t(rows.size()) * c.in_w * int64_t(chans.size());
  return std::min(raw, (m1 - m0) * (k1 - k0));
}

struct Case {
  const char* what;
  Conv2dLayer c;
  int64_t batch;
};

using test::conv;  // the same square-kernel conv as the workload tests

const Case kCases[] = {
    {"3x3 padded (ResNet layer1.0.conv2)", conv(56, 56, 64, 64, 3, 1, 1), 1},
    {"7x7 stride 2 padded (ResNet conv1)", conv(224, 224, 3, 64, 7, 2, 3), 1},
    {"3x3 stride 2", conv(28, 30, 16, 32, 3, 2, 1), 2},
    {"3x3 dilation 2", conv(20, 20, 8, 16, 3, 1, 2, 2), 1},
    {"1x1 stride 2 (skips rows)", conv(28, 28, 64, 128, 1, 2, 0), 1},
    {"grouped, 4 groups", conv(14, 14, 32, 64, 3, 1, 1, 1, 4), 1},
    {"depthwise", conv(28, 28, 32, 32, 3, 1, 1, 1, 32), 1},
};

TEST(Im2col, InputThatFitsIsReadOnceAndPaddingCostsNothing) {
  for (const Case& t : kCases)
    for (Dataflow df : {Dataflow::WS, Dataflow::OS, Dataflow::IS}) {
      const HwSpec hw = stall_free_hw(16, 16, df, 16384);
      const GemmOp op = conv_op(t.c, t.batch);
      const GemmShape& g = op.shape;
      // One pass over A's distinct blocks, by brute force.
      int64_t expect = 0;
      const GemmPlan plan = plan_blocks(hw, g, {&op.conv});
      if (df == Dataflow::IS) {  // A is stationary: one fold tile per K-chunk x M-chunk
        ASSERT_EQ(plan.ifmap, BlockPolicy::Fold);
        for (int64_t k0 = 0; k0 < g.K; k0 += 16)
          for (int64_t m0 = 0; m0 < g.M; m0 += 16)
            expect += brute_bytes(op, m0, std::min(g.M, m0 + 16), k0, std::min(g.K, k0 + 16));
      } else {
        ASSERT_EQ(plan.ifmap, BlockPolicy::Whole) << t.what;
        expect = brute_bytes(op, 0, g.M, 0, g.K);
      }
      expect *= op.repeat;
      const GemmRunResult r = run_gemm_op(ValidHw(hw), op);
      EXPECT_EQ(int64_t(r.dram_ifmap_bytes), expect) << t.what << " " << to_string(df);
      if (df != Dataflow::IS) {
        // Whole rows with all channels: the raw input, or fewer rows where no window reads.
        const int64_t raw = t.batch * t.c.in_h * t.c.in_w * t.c.in_c;
        EXPECT_LE(expect, raw) << t.what;
        if (t.c.stride_h <= t.c.kernel_h) {
          EXPECT_EQ(expect, raw) << t.what;
        }
      }
      // The schedule is the GEMM's: the same cycles as without the conv's geometry.
      GemmOp plain = op;
      plain.has_conv = false;
      EXPECT_EQ(r.total_cycles, run_gemm_op(ValidHw(hw), plain).total_cycles) << t.what;
    }
  // The case by hand: 56 x 56 x 64 int8 = 200,704 bytes, where im2col reads 1,806,336.
  const GemmOp l1 = conv_op(kCases[0].c);
  EXPECT_EQ(run_gemm_op(ValidHw(stall_free_hw(128, 128, Dataflow::WS, 1024)), l1).dram_ifmap_bytes,
            200704u);
}

TEST(Im2col, RowBandsReReadTheirHalo) {
  // WS with an ifmap buffer far smaller than the input: A streams in bands of output pixels, each
  // reading its input rows plus the halo the 3x3 window needs; every K-chunk its own channels.
  int banded = 0;
  for (const Case& t : kCases) {
    HwSpec hw = stall_free_hw(32, 128, Dataflow::WS, 1024);
    hw.ifmap_sram_kb = 4;
    const GemmOp op = conv_op(t.c, t.batch);
    const GemmShape& g = op.shape;
    const GemmPlan p = plan_blocks(hw, g, {&op.conv});
    if (p.ifmap != BlockPolicy::Segment) continue;  // the input fits after all
    ++banded;
    const int64_t T = g.M;
    ASSERT_LE(g.N, 128) << "one column of folds: A streams once";
    int64_t expect = 0;
    for (int64_t k0 = 0; k0 < g.K; k0 += 32)
      for (int64_t j = 0; j < p.blocks[0]; ++j) {
        // Block j holds segments [floor(j S / B), floor((j + 1) S / B)); segment s starts at
        // floor(s T / S) (sim/mapping/tiler.hpp).
        const int64_t s0 = j * p.segments / p.blocks[0], s1 = (j + 1) * p.segments / p.blocks[0];
        const int64_t m0 = s0 * T / p.segments, m1 = s1 * T / p.segments;
        const int64_t bytes = brute_bytes(op, m0, m1, k0, std::min(g.K, k0 + 32));
        EXPECT_LE(bytes, 2 * 1024) << t.what << ": a block fits its half";
        expect += bytes;
      }
    expect *= op.repeat;
    const GemmRunResult r = run_gemm_op(ValidHw(hw), op);
    EXPECT_EQ(int64_t(r.dram_ifmap_bytes), expect) << t.what;
    EXPECT_EQ(int64_t(r.dram_ifmap_bytes), gemm_traffic(hw, g, {&op.conv}).ifmap * op.repeat)
        << t.what;
    EXPECT_LE(expect, g.M * g.K * op.repeat) << t.what << ": never more than the im2col matrix";
    std::printf("im2col bands: %s: %lld bytes in %lld bands, raw input %lld, im2col %lld\n", t.what,
                static_cast<long long>(expect), static_cast<long long>(p.blocks[0]),
                static_cast<long long>(t.batch * t.c.in_h * t.c.in_w * t.c.in_c),
                static_cast<long long>(g.M * g.K * op.repeat));
  }
  EXPECT_GE(banded, 5);
}

TEST(Im2col, CycleModelEqualsFastModelOnConvsWithAModelledChannel) {
  // Raw-row blocks (and all-padding blocks of no bytes) through a slow channel: the value-carrying
  // array checks the outputs and the fast model gives the same cycles and stalls.
  for (const Case& t : {kCases[2], kCases[3], kCases[5], kCases[6]})
    for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS}) {
      HwSpec hw = stall_free_hw(8, 8, df, 4);
      hw.unlimited_bandwidth = false;
      hw.dram_bytes_per_cycle = 2;
      hw.dram_latency = 5;
      const GemmOp op = conv_op(t.c, t.batch);
      hw.fidelity = Fidelity::Cycle;
      const GemmRunResult c = run_gemm_op(ValidHw(hw), op, 3);
      hw.fidelity = Fidelity::Fast;
      const GemmRunResult f = run_gemm_op(ValidHw(hw), op, 3);
      EXPECT_TRUE(c.values_ok) << t.what << " " << to_string(df);
      EXPECT_EQ(c.total_cycles, f.total_cycles) << t.what << " " << to_string(df);
      EXPECT_EQ(c.stall_cycles, f.stall_cycles) << t.what << " " << to_string(df);
      EXPECT_EQ(c.dram_ifmap_bytes, f.dram_ifmap_bytes) << t.what << " " << to_string(df);
      EXPECT_EQ(int64_t(f.dram_ifmap_bytes),
                gemm_traffic(hw, op.shape, {&op.conv}).ifmap * op.repeat)
          << t.what << " " << to_string(df);
    }
}

}  // namespace
}  // namespace ssim
