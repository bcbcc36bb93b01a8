// Tests of the tiler (sim/tiler.*): DRAM traffic against closed forms worked out by hand, tiles
// that fit the buffers, programs that cover every multiply-accumulate exactly once, and the error
// for buffers too small for the smallest tile.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sim/tiler.hpp"

namespace ssim {
namespace {

HwSpec small_hw(int R, int C, Dataflow df) {
  HwSpec hw;
  hw.array_rows = R;
  hw.array_cols = C;
  hw.dataflow = df;
  return hw;
}

TEST(Tiler, ClosedFormTrafficWorkedExamples) {
  const GemmShape g{64, 64, 64};
  // Everything cut in two, k innermost: no block is used by two consecutive steps, so A is read
  // once per n-tile (2 x 64 x 64) and B once per m-tile.
  DramTraffic t = closed_form_traffic(g, {32, 32, 32}, LoopOrder::MNK, 1, 1);
  EXPECT_EQ(t.ifmap, 8192);
  EXPECT_EQ(t.filter, 8192);
  EXPECT_EQ(t.ofmap, 4096);
  // K whole: A(m) stays in SRAM while n moves (MNK): A once, B once per m-tile.
  t = closed_form_traffic(g, {32, 32, 64}, LoopOrder::MNK, 1, 4);
  EXPECT_EQ(t.ifmap, 4096);
  EXPECT_EQ(t.filter, 8192);
  EXPECT_EQ(t.ofmap, 4 * 4096);
  // ... and with m inside n, B(n) stays: B once, A once per n-tile.
  t = closed_form_traffic(g, {32, 32, 64}, LoopOrder::NMK, 1, 1);
  EXPECT_EQ(t.ifmap, 8192);
  EXPECT_EQ(t.filter, 4096);
  // K and N whole: a single B block serves every step.
  t = closed_form_traffic(g, {16, 64, 64}, LoopOrder::MNK, 2, 1);
  EXPECT_EQ(t.ifmap, 2 * 4096);
  EXPECT_EQ(t.filter, 2 * 4096);
}

// Traffic of a program counted by replaying its loop nest here: a block is loaded whenever it
// differs from the one the previous step used.
DramTraffic replay_traffic(const GemmShape& g, const TileSizes& t, LoopOrder order, int ib,
                           int ob) {
  DramTraffic d;
  const int64_t tm = (g.M + t.m - 1) / t.m, tn = (g.N + t.n - 1) / t.n, tk = (g.K + t.k - 1) / t.k;
  int64_t la = -1, lb = -1;
  for (int64_t o = 0; o < (order == LoopOrder::MNK ? tm : tn); ++o)
    for (int64_t i = 0; i < (order == LoopOrder::MNK ? tn : tm); ++i)
      for (int64_t k = 0; k < tk; ++k) {
        const int64_t m = order == LoopOrder::MNK ? o : i, n = order == LoopOrder::MNK ? i : o;
        const int64_t ml = std::min(t.m, g.M - m * t.m), nl = std::min(t.n, g.N - n * t.n);
        const int64_t kl = std::min(t.k, g.K - k * t.k);
        if (la != m * tk + k) d.ifmap += ml * kl * ib, la = m * tk + k;
        if (lb != k * tn + n) d.filter += kl * nl * ib, lb = k * tn + n;
        if (k == tk - 1) d.ofmap += ml * nl * ob;
      }
  return d;
}

TEST(Tiler, ProgramTrafficMatchesClosedForm) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 400; ++i) {
    HwSpec hw = small_hw(1 + int(rng() % 8), 1 + int(rng() % 8), Dataflow(rng() % 3));
    hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 1024;
    hw.input_bytes = 1 << (rng() % 2);
    hw.output_bytes = 1 << (rng() % 3);
    const GemmShape g{1 + int64_t(rng() % 40), 1 + int64_t(rng() % 40), 1 + int64_t(rng() % 40)};
    const TileSizes t{1 + int64_t(rng() % g.M), 1 + int64_t(rng() % g.N), 1 + int64_t(rng() % g.K)};
    const LoopOrder order = rng() % 2 ? LoopOrder::MNK : LoopOrder::NMK;
    const Program p = build_program(hw, g, t, order);
    const DramTraffic cf = closed_form_traffic(g, t, order, hw.input_bytes, hw.output_bytes);
    const DramTraffic rp = replay_traffic(g, t, order, hw.input_bytes, hw.output_bytes);
    ASSERT_EQ(cf.ifmap, rp.ifmap) << i;
    ASSERT_EQ(cf.filter, rp.filter) << i;
    ASSERT_EQ(cf.ofmap, rp.ofmap) << i;
    ASSERT_EQ(p.load_bytes(Operand::Ifmap), cf.ifmap) << i;
    ASSERT_EQ(p.load_bytes(Operand::Filter), cf.filter) << i;
    ASSERT_EQ(p.store_bytes(), cf.ofmap) << i;
  }
}

TEST(Tiler, ProgramCoversEveryMacExactlyOnce) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 200; ++i) {
    const int R = 1 + int(rng() % 6), C = 1 + int(rng() % 6);
    HwSpec hw = small_hw(R, C, Dataflow(rng() % 3));
    const GemmShape g{1 + int64_t(rng() % 17), 1 + int64_t(rng() % 17), 1 + int64_t(rng() % 17)};
    const TileSizes t{1 + int64_t(rng() % g.M), 1 + int64_t(rng() % g.N), 1 + int64_t(rng() % g.K)};
    const Program p = build_program(hw, g, t, rng() % 2 ? LoopOrder::MNK : LoopOrder::NMK);
    std::vector<int> seen(size_t(g.M * g.N * g.K), 0);
    int open = 0;
    for (const TileStep& s : p.steps) {
      // Output tiles open at their first K-tile and are stored after their last.
      EXPECT_EQ(s.new_output, s.k0 == 0);
      EXPECT_EQ(s.store_bytes > 0, s.k0 + s.klen == g.K);
      open += s.new_output;
      EXPECT_EQ(open, 1);
      if (s.store_bytes > 0) --open;
      for (const Fold& f : s.folds) {
        ASSERT_GE(f.rows, 1);
        ASSERT_LE(f.rows, R);
        ASSERT_GE(f.cols, 1);
        ASSERT_LE(f.cols, C);
        for (int64_t m = f.m0; m < f.m0 + f.mlen; ++m)
          for (int64_t n = f.n0; n < f.n0 + f.nlen; ++n)
            for (int64_t k = f.k0; k < f.k0 + f.klen; ++k) {
              // Inside the step's sub-GEMM.
              ASSERT_TRUE(m >= s.m0 && m < s.m0 + s.mlen && n >= s.n0 && n < s.n0 + s.nlen &&
                          k >= s.k0 && k < s.k0 + s.klen);
              ++seen[size_t((m * g.N + n) * g.K + k)];
            }
      }
    }
    for (size_t x = 0; x < seen.size(); ++x) ASSERT_EQ(seen[x], 1) << "case " << i << " mac " << x;
  }
}

TEST(Tiler, EachOperandReadOnceWhenItFits) {
  // Default buffers (512 / 512 / 256 KiB): A = 256 x 256 and B = 256 x 256 (64 KiB each) fit a
  // half; the 256 x 256 int32 outputs (256 KiB) do not fit an ofmap half, so C is tiled, but the
  // tiler still reads every operand exactly once.
  for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS}) {
    HwSpec hw = small_hw(32, 32, df);
    const GemmShape g{256, 256, 256};
    const Program p = plan_gemm(hw, g);
    EXPECT_EQ(p.load_bytes(Operand::Ifmap), 256 * 256) << to_string(df);
    EXPECT_EQ(p.load_bytes(Operand::Filter), 256 * 256) << to_string(df);
    EXPECT_EQ(p.store_bytes(), 256 * 256) << to_string(df);
    EXPECT_EQ(p.macs(), g.macs());
  }
}

TEST(Tiler, ChosenTilesFitTheBufferHalves) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 300; ++i) {
    HwSpec hw = small_hw(8 << (rng() % 5), 8 << (rng() % 5), Dataflow(rng() % 3));
    hw.ifmap_sram_kb = 64 + int64_t(rng() % 1024);
    hw.filter_sram_kb = 64 + int64_t(rng() % 1024);
    hw.ofmap_sram_kb = 128 + int64_t(rng() % 512);
    hw.input_bytes = 1 << (rng() % 2);
    hw.fold_overlap = rng() % 2;
    hw.unlimited_bandwidth = rng() % 4 == 0;
    hw.dram_bytes_per_cycle = 0.5 + double(rng() % 64);
    const GemmShape g{1 + int64_t(rng() % 1500), 1 + int64_t(rng() % 1500),
                      1 + int64_t(rng() % 1500)};
    const Program p = plan_gemm(hw, g);
    const int64_t ha = hw.ifmap_sram_kb * 512, hb = hw.filter_sram_kb * 512;
    const int64_t hc = hw.ofmap_sram_kb * 512;
    EXPECT_EQ(p.macs(), g.macs()) << i;
    for (const TileStep& s : p.steps) {
      ASSERT_LE(s.ifmap_load_bytes, ha) << i;
      ASSERT_LE(s.filter_load_bytes, hb) << i;
      ASSERT_LE(s.mlen * s.nlen * 4, hc) << i;
      ASSERT_LE(s.ofmap_tile_bytes, hc) << i;
    }
  }
}

TEST(Tiler, UnlimitedBandwidthKeepsTheStreamedDimensionWhole) {
  // Cutting the streamed dimension repeats preloads (WS, IS) or drains (OS) for nothing when the
  // bandwidth is unlimited.
  HwSpec hw = small_hw(32, 32, Dataflow::WS);
  hw.unlimited_bandwidth = true;
  EXPECT_EQ(choose_tiling(hw, GemmShape{1000, 256, 256}).tile.m, 1000);
  hw.dataflow = Dataflow::OS;
  EXPECT_EQ(choose_tiling(hw, GemmShape{256, 256, 1000}).tile.k, 1000);
  hw.dataflow = Dataflow::IS;
  EXPECT_EQ(choose_tiling(hw, GemmShape{256, 1000, 256}).tile.n, 1000);
}

std::string too_small_message(const HwSpec& hw, const GemmShape& g) {
  try {
    choose_tiling(hw, g);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Tiler, SramTooSmallNamesTheBufferAndTheNeededSize) {
  // WS on 128 x 128: the smallest filter tile is 128 x 128 int8 = 16 KiB per half -> 32 KiB.
  HwSpec hw = small_hw(128, 128, Dataflow::WS);
  hw.filter_sram_kb = 31;
  std::string msg = too_small_message(hw, GemmShape{512, 512, 512});
  EXPECT_NE(msg.find("FilterSramSzkB 31"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs at least 32 KiB"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  hw.filter_sram_kb = 32;
  EXPECT_EQ(too_small_message(hw, GemmShape{512, 512, 512}), "");
  // A GEMM narrower than the array needs only its own width: K = N = 64 -> 4 KiB per half.
  hw.filter_sram_kb = 8;
  EXPECT_EQ(too_small_message(hw, GemmShape{512, 64, 64}), "");

  // OS on 32 x 32: the smallest output tile is 32 x 32 int32 accumulators = 4 KiB -> 8 KiB.
  hw = small_hw(32, 32, Dataflow::OS);
  hw.ofmap_sram_kb = 4;
  msg = too_small_message(hw, GemmShape{100, 100, 100});
  EXPECT_NE(msg.find("OfmapSramSzkB 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs at least 8 KiB"), std::string::npos) << msg;

  // IS on 64 x 64 with 2-byte inputs: the smallest A tile is K x M = 64 x 64 x 2 B = 8 KiB.
  hw = small_hw(64, 64, Dataflow::IS);
  hw.input_bytes = 2;
  hw.ifmap_sram_kb = 15;
  msg = too_small_message(hw, GemmShape{100, 100, 100});
  EXPECT_NE(msg.find("IfmapSramSzkB 15"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs at least 16 KiB"), std::string::npos) << msg;
}

TEST(Tiler, RejectsTilesThatDoNotFit) {
  HwSpec hw = small_hw(8, 8, Dataflow::WS);
  hw.ifmap_sram_kb = 2;  // 1 KiB halves
  EXPECT_THROW(build_program(hw, GemmShape{64, 64, 64}, {64, 8, 32}, LoopOrder::MNK), InputError);
  EXPECT_NO_THROW(build_program(hw, GemmShape{64, 64, 64}, {32, 8, 32}, LoopOrder::MNK));
  EXPECT_THROW(build_program(hw, GemmShape{64, 64, 64}, {0, 8, 32}, LoopOrder::MNK), InputError);
  EXPECT_THROW(choose_tiling(hw, GemmShape{0, 8, 8}), InputError);
}

}  // namespace
}  // namespace ssim
