// Tests of the streaming planner (sim/mapping/tiler.*): DRAM traffic against closed forms worked
// out by hand (docs/memory-system.md, "Streaming planner"), blocks that fit the buffer halves,
// programs that cover every multiply-accumulate exactly once with each fold's segments in order,
// and the error for buffers too small for the smallest block.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sim/mapping/tiler.hpp"

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
  // WS on 32 x 32, M = 1000, N = 96, K = 100: 4 K-chunks (Sr) x 3 N-chunks (Sc), T = M = 1000.
  HwSpec hw = small_hw(32, 32, Dataflow::WS);
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 1024;
  const GemmShape g{1000, 96, 100};
  GemmPlan p = plan_blocks(hw, g);
  // A (100 KB) fits a 512 KiB half: read once. B once. C: 1000 x 32 int32 = 128 KB per column
  // of folds stays resident, so only the finished 96,000 outputs are written.
  EXPECT_EQ(p.ifmap, BlockPolicy::Whole);
  EXPECT_EQ(p.filter, BlockPolicy::Fold);
  EXPECT_EQ(p.ofmap, OutputPolicy::Resident);
  EXPECT_EQ(p.stream_block, 1000);
  EXPECT_EQ(p.traffic.ifmap, 100000);
  EXPECT_EQ(p.traffic.filter, 9600);
  EXPECT_EQ(p.traffic.ofmap, 96000);
  EXPECT_EQ(p.traffic.psum, 0);
  // 64 KiB buffers (32 KiB halves): A no longer fits whole, but one K-chunk's stream (1000 x 32
  // = 32,000 B) does; A is streamed again for each of the 3 N-chunks. The 128 KB accumulators do
  // not fit: partial sums spill in blocks of 32768 / (32 x 4) = 256 rows, 3 K-chunks of them go
  // out as int32 and come back. The stream is cut into ceil(1000 / 256) = 4 equal segments.
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 64;
  p = plan_blocks(hw, g);
  EXPECT_EQ(p.ifmap, BlockPolicy::Chunk);
  EXPECT_EQ(p.ofmap, OutputPolicy::Spill);
  EXPECT_EQ(p.segments, 4);
  EXPECT_EQ(p.stream_block, 250);
  EXPECT_EQ(p.out_tiles, 4);
  EXPECT_EQ(p.traffic.ifmap, 3 * 100000);
  EXPECT_EQ(p.traffic.filter, 9600);
  EXPECT_EQ(p.traffic.ofmap, 96000 + 3 * 96000 * 4);
  EXPECT_EQ(p.traffic.psum, 3 * 96000 * 4);

  // OS on 32 x 32, M = 100, N = 70, K = 90: 4 M-chunks (Sr, inner) x 3 N-chunks (Sc, outer).
  hw = small_hw(32, 32, Dataflow::OS);
  const GemmShape h{100, 70, 90};
  p = plan_blocks(hw, h);
  EXPECT_EQ(p.traffic.ifmap, 9000);
  EXPECT_EQ(p.traffic.filter, 6300);
  EXPECT_EQ(p.traffic.ofmap, 7000);
  // A 2 KiB filter buffer: one N-chunk's whole stream (90 x 32) does not fit a 1 KiB half; blocks
  // of at most 1024 / 32 = 32 rows of K (3 equal ones of 30), so B is streamed again for each
  // of the 4 M-chunks.
  hw.filter_sram_kb = 2;
  p = plan_blocks(hw, h);
  EXPECT_EQ(p.filter, BlockPolicy::Segment);
  EXPECT_EQ(p.stream_block, 30);
  EXPECT_EQ(p.blocks[1], 3);
  EXPECT_EQ(p.traffic.filter, 4 * 6300);
  EXPECT_EQ(p.traffic.ifmap, 9000);  // A (9000 B) still fits a 256 KiB half
}

TEST(Tiler, ProgramTrafficMatchesClosedForm) {
  std::mt19937_64 rng(11);
  int spills = 0, segments = 0;
  for (int i = 0; i < 600; ++i) {
    HwSpec hw = small_hw(1 + int(rng() % 8), 1 + int(rng() % 8), Dataflow(rng() % 3));
    hw.ifmap_sram_kb = 1 + int64_t(rng() % 3);
    hw.filter_sram_kb = 1 + int64_t(rng() % 3);
    hw.ofmap_sram_kb = 1 + int64_t(rng() % 3);
    hw.input_bytes = 1 << (rng() % 2);
    hw.output_bytes = 1 << (rng() % 3);
    const GemmShape g{1 + int64_t(rng() % 200), 1 + int64_t(rng() % 200), 1 + int64_t(rng() % 200)};
    const GemmPlan plan = plan_blocks(hw, g);
    const Program p = build_program(hw, g, plan);
    const DramTraffic cf = closed_form_traffic(hw, g, plan);
    ASSERT_EQ(p.load_bytes(Operand::Ifmap), cf.ifmap) << i;
    ASSERT_EQ(p.load_bytes(Operand::Filter), cf.filter) << i;
    ASSERT_EQ(p.load_bytes(Operand::Ofmap), cf.psum) << i;
    ASSERT_EQ(p.store_bytes(), cf.ofmap) << i;
    spills += plan.ofmap == OutputPolicy::Spill;
    segments += plan.ifmap == BlockPolicy::Segment || plan.filter == BlockPolicy::Segment;
  }
  EXPECT_GT(spills, 30);
  EXPECT_GT(segments, 30);
}

TEST(Tiler, ProgramCoversEveryMacExactlyOnceFoldByFold) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 300; ++i) {
    const int R = 1 + int(rng() % 6), C = 1 + int(rng() % 6);
    HwSpec hw = small_hw(R, C, Dataflow(rng() % 3));
    hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 1;
    const GemmShape g{1 + int64_t(rng() % 30), 1 + int64_t(rng() % 30), 1 + int64_t(rng() % 30)};
    const GemmPlan plan = plan_blocks(hw, g);
    const Program p = build_program(hw, g, plan);
    // The folds in canonical order, each a chain of segments covering its whole stream.
    const FoldGrid canon = FoldGrid::make(hw.dataflow, R, C, 0, g.M, 0, g.N, 0, g.K);
    std::vector<int> seen(size_t(g.M * g.N * g.K), 0);
    size_t fold = 0;
    int64_t streamed = 0;
    int open = 0;
    for (const TileStep& s : p.steps) {
      ASSERT_EQ(s.folds.size(), 1u);
      const Fold& f = s.folds.front();
      if (!f.cont) {
        if (streamed) ++fold;
        streamed = 0;
      }
      ASSERT_LT(fold, canon.size()) << i;
      EXPECT_EQ(f.rows, canon[fold].rows) << i;
      EXPECT_EQ(f.cols, canon[fold].cols) << i;
      streamed += f.T;
      EXPECT_EQ(f.more, streamed < canon[fold].T) << i;
      open += s.new_output;
      EXPECT_EQ(open, 1) << i;
      if (s.store_bytes > 0) --open;
      for (int64_t m = f.m0; m < f.m0 + f.mlen; ++m)
        for (int64_t n = f.n0; n < f.n0 + f.nlen; ++n)
          for (int64_t k = f.k0; k < f.k0 + f.klen; ++k) {
            ASSERT_TRUE(m >= canon[fold].m0 && m < canon[fold].m0 + canon[fold].mlen &&
                        n >= canon[fold].n0 && n < canon[fold].n0 + canon[fold].nlen &&
                        k >= canon[fold].k0 && k < canon[fold].k0 + canon[fold].klen);
            ++seen[size_t((m * g.N + n) * g.K + k)];
          }
    }
    EXPECT_EQ(fold + 1, canon.size()) << i;
    EXPECT_EQ(p.folds(), canon.size()) << i;
    for (size_t x = 0; x < seen.size(); ++x) ASSERT_EQ(seen[x], 1) << "case " << i << " mac " << x;
  }
}

TEST(Tiler, EachOperandReadOnceWhenItFits) {
  // Default buffers (512 KiB each): A = 256 x 256 and B = 256 x 256 (64 KiB each) fit a half,
  // and so do the accumulators of one column of folds (256 x 32 x 4 B): every operand crosses
  // the channel once.
  for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS}) {
    HwSpec hw = small_hw(32, 32, df);
    const GemmShape g{256, 256, 256};
    const Program p = plan_gemm(hw, g);
    EXPECT_EQ(p.load_bytes(Operand::Ifmap), 256 * 256) << to_string(df);
    EXPECT_EQ(p.load_bytes(Operand::Filter), 256 * 256) << to_string(df);
    EXPECT_EQ(p.load_bytes(Operand::Ofmap), 0) << to_string(df);
    EXPECT_EQ(p.store_bytes(), 256 * 256) << to_string(df);
    EXPECT_EQ(p.macs(), g.macs());
  }
}

TEST(Tiler, BlocksFitTheBufferHalves) {
  std::mt19937_64 rng(13);
  int whole = 0;
  for (int i = 0; i < 300; ++i) {
    HwSpec hw = small_hw(8 << (rng() % 5), 8 << (rng() % 5), Dataflow(rng() % 3));
    hw.ifmap_sram_kb = 64 + int64_t(rng() % 1024);
    hw.filter_sram_kb = 64 + int64_t(rng() % 1024);
    hw.ofmap_sram_kb = 64 + int64_t(rng() % 512);
    hw.input_bytes = 1 << (rng() % 2);
    hw.unlimited_bandwidth = rng() % 2;
    const GemmShape g{1 + int64_t(rng() % 1500), 1 + int64_t(rng() % 1500),
                      1 + int64_t(rng() % 1500)};
    const GemmPlan plan = plan_blocks(hw, g);
    const Program p = build_program(hw, g, plan);
    const int64_t ha = hw.ifmap_sram_kb * 512, hb = hw.filter_sram_kb * 512;
    // Resident accumulators may take the whole ofmap buffer, every other tile one half.
    const int64_t hc = hw.ofmap_sram_kb * 512 * (plan.out_whole ? 2 : 1);
    whole += plan.out_whole;
    EXPECT_EQ(p.macs(), g.macs()) << i;
    for (const TileStep& s : p.steps) {
      ASSERT_LE(s.ifmap_load_bytes, ha) << i;
      ASSERT_LE(s.filter_load_bytes, hb) << i;
      ASSERT_LE(s.ofmap_tile_bytes, hc) << i;
      ASSERT_LE(s.psum_load_bytes, s.ofmap_tile_bytes) << i;
    }
  }
  EXPECT_GT(whole, 5);
}

TEST(Tiler, OsKeepsItsAccumulatorsInThePes) {
  // OS on 128 x 128 with SCALE-Sim's 64 KiB buffers: the ofmap buffer holds finished int8
  // outputs (128 x 128 x 1 B = 16 KiB per fold), never int32 partial sums.
  HwSpec hw = small_hw(128, 128, Dataflow::OS);
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 64;
  const GemmPlan p = plan_blocks(hw, GemmShape{3025, 96, 363});
  EXPECT_EQ(p.ofmap, OutputPolicy::Final);
  const Program prog = build_program(hw, GemmShape{3025, 96, 363}, p);
  for (const TileStep& s : prog.steps) ASSERT_LE(s.ofmap_tile_bytes, 128 * 128);
  EXPECT_EQ(prog.store_bytes(), 3025 * 96);
}

std::string too_small_message(const HwSpec& hw, const GemmShape& g) {
  try {
    plan_blocks(hw, g);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Tiler, SramTooSmallNamesTheBufferAndTheNeededSize) {
  // WS on 128 x 128: one fold's weights are 128 x 128 int8 = 16 KiB; they move into the PEs at
  // the preload, so one tile may take the whole buffer (single-buffered): 16 KiB.
  HwSpec hw = small_hw(128, 128, Dataflow::WS);
  hw.filter_sram_kb = 15;
  std::string msg = too_small_message(hw, GemmShape{512, 512, 512});
  EXPECT_NE(msg.find("FilterSramSzkB 15"), std::string::npos) << msg;
  EXPECT_NE(msg.find("16 KiB, single-buffered); needs at least 16 KiB"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  hw.filter_sram_kb = 16;
  EXPECT_EQ(too_small_message(hw, GemmShape{512, 512, 512}), "");
  // A GEMM narrower than the array needs only its own width: K = N = 64 -> 4 KiB.
  hw.filter_sram_kb = 4;
  EXPECT_EQ(too_small_message(hw, GemmShape{512, 64, 64}), "");

  // OS on 32 x 32: one fold's finished outputs are 32 x 32 x 1 B = 1 KiB per half -> 2 KiB
  // (double-buffered: 10 B/cycle cannot drain a row of 32 outputs per cycle).
  hw = small_hw(32, 32, Dataflow::OS);
  hw.ofmap_sram_kb = 1;
  msg = too_small_message(hw, GemmShape{100, 100, 100});
  EXPECT_NE(msg.find("OfmapSramSzkB 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs at least 2 KiB"), std::string::npos) << msg;

  // IS on 64 x 64 with 2-byte inputs: one fold's A tile is 64 x 64 x 2 B = 8 KiB.
  hw = small_hw(64, 64, Dataflow::IS);
  hw.input_bytes = 2;
  hw.ifmap_sram_kb = 7;
  msg = too_small_message(hw, GemmShape{100, 100, 100});
  EXPECT_NE(msg.find("IfmapSramSzkB 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs at least 8 KiB"), std::string::npos) << msg;
}

TEST(Tiler, RejectsBadSegmentsAndShapes) {
  HwSpec hw = small_hw(8, 8, Dataflow::WS);
  const GemmShape g{64, 64, 64};
  GemmPlan p = plan_blocks(hw, g);
  p.segments = 0;
  EXPECT_THROW(build_program(hw, g, p), InputError);
  p.segments = 65;  // more segments than vectors
  EXPECT_THROW(build_program(hw, g, p), InputError);
  p.segments = 64;
  EXPECT_EQ(build_program(hw, g, p).steps.size(), 64u * 64u);  // 64 folds of 64 segments
  EXPECT_THROW(plan_blocks(hw, GemmShape{0, 8, 8}), InputError);
}

}  // namespace
}  // namespace ssim
