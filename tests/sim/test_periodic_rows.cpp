// Periodic block rows (docs/cycle-accounting.md, "Periodic block rows"): a GEMM cut into many
// identical block rows, run as its first rows and its last, then extended by one period per
// skipped row, must give the whole program's run exactly: its cycles on the fast model and on
// the cycle-by-cycle array (the ground truth), its DRAM bytes and its MACs. The roofline's
// Matrix Multiply on the `gemmini` preset, run that way, moves the classic blocked-GEMM traffic
// of its cut (docs/memory-system.md, "Blocking K") and lands right of the ridge.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"

namespace ssim {
namespace {

std::string name(const HwSpec& hw, const GemmShape& g, const SubGemms& t) {
  return to_string(hw.dataflow) + " " + std::to_string(hw.array_rows) + "x" +
         std::to_string(hw.array_cols) + " bw " + std::to_string(hw.dram_bytes_per_cycle) +
         (hw.unlimited_bandwidth ? " unlimited" : "") + (hw.fold_overlap ? " overlap" : "") +
         (hw.load_ahead ? " ahead" : "") + ", " + std::to_string(g.M) + "x" + std::to_string(g.N) +
         "x" + std::to_string(g.K) + " cut " + std::to_string(t.m) + "x" + std::to_string(t.n) +
         "x" + std::to_string(t.k);
}

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
  }
}

TEST(PeriodicRows, RowsAdvancedByThePeriodEqualTheWholeRun) {
  int periodic = 0, cases = 0, on_cycle_model = 0;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS, Dataflow::OS})
    for (int64_t bw : {1, 4})
      for (bool overlap : {false, true})
        for (bool ahead : {false, true})
          for (const GemmShape g : {GemmShape{200, 96, 128}, GemmShape{160, 64, 200}}) {
            HwSpec hw;
            hw.array_rows = 8;
            hw.array_cols = df == Dataflow::OS ? 8 : 4;
            hw.dataflow = df;
            hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 4;
            hw.dram_bytes_per_cycle = double(bw);
            hw.fold_overlap = overlap;
            hw.load_ahead = ahead;
            // The finest cut the search allows for 5 simulated rows: many block rows.
            const SubGemms t = choose_sub_gemms_within(hw, g, 1e9, 6);
            if (ceil_div(g.M, t.m) < 7) continue;
            ++cases;
            SCOPED_TRACE(name(hw, g, t));
            const std::optional<RowsRun> r = run_gemm_by_rows(ValidHw(hw), g, t, 5);
            if (!r) {
              ADD_FAILURE() << "not periodic";
              continue;
            }
            ++periodic;
            const Program whole = plan_gemm_rows(hw, g, t, -1);
            const AccelResult fast = run_program(ArrayKind::Fast, accel_config(hw), whole);
            EXPECT_EQ(r->rows, ceil_div(g.M, t.m));
            EXPECT_EQ(r->total_cycles, fast.total_cycles);
            EXPECT_EQ(r->dram_bytes, fast.dram.bytes_read + fast.dram.bytes_written);
            EXPECT_EQ(r->macs, uint64_t(g.M * g.N * g.K));
            EXPECT_EQ(fast.array.macs, uint64_t(g.M * g.N * g.K));
            if (bw == 1 && !ahead) {  // the cycle-by-cycle array, on a share of the cases
              ++on_cycle_model;
              const AccelResult cyc = run_program(ArrayKind::Cycle, accel_config(hw), whole);
              EXPECT_EQ(r->total_cycles, cyc.total_cycles);
            }
          }
  // The cases do cut into many rows, and their head rows show the steady state.
  EXPECT_GE(cases, 30);
  EXPECT_EQ(periodic, cases);
  EXPECT_GE(on_cycle_model, 8);
}

TEST(PeriodicRows, FoldColumnsAdvancedByThePeriodEqualTheWholeRun) {
  int periodic = 0, cases = 0, on_cycle_model = 0;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS, Dataflow::OS})
    for (int64_t bw : {0, 1, 8})  // 0: a stall-free channel
      for (bool overlap : {false, true})
        for (bool ahead : {false, true})
          for (const GemmShape g : {GemmShape{48, 40, 24}, GemmShape{30, 36, 50}}) {
            HwSpec hw;
            hw.array_rows = hw.array_cols = 4;
            hw.dataflow = df;
            hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 4;
            hw.dram_bytes_per_cycle = double(std::max<int64_t>(bw, 1));
            hw.unlimited_bandwidth = bw == 0;
            hw.fold_overlap = overlap;
            hw.load_ahead = ahead;
            const SpatialMap sm = spatial_map(df, g);
            if (ceil_div(sm.Sc, hw.array_cols) < 7) continue;
            ++cases;
            SCOPED_TRACE(name(hw, g, SubGemms{g.M, g.N, g.K}));
            const std::optional<RowsRun> r = run_gemm_by_columns(ValidHw(hw), g, 5);
            // No result where the schedule is not periodic within the head columns, and the
            // caller runs the whole program: at 1 B/cycle the loads fall behind for longer than
            // the head, and with a stall-free channel on OS the controller submits every step at
            // once (nothing holds it back), so submit times do not repeat though the array's
            // ends do. At 8 B/cycle every case settles.
            if (!r) {
              EXPECT_LE(bw, 1) << "not periodic";
              continue;
            }
            ++periodic;
            const Program whole = build_program(hw, g, plan_blocks(hw, g));
            const AccelResult fast = run_program(ArrayKind::Fast, accel_config(hw), whole);
            EXPECT_EQ(r->rows, ceil_div(sm.Sc, hw.array_cols));
            EXPECT_EQ(r->total_cycles, fast.total_cycles);
            EXPECT_EQ(r->dram_bytes, fast.dram.bytes_read + fast.dram.bytes_written);
            EXPECT_EQ(r->macs, uint64_t(g.M * g.N * g.K));
            if (bw != 8 && !ahead) {
              ++on_cycle_model;
              const AccelResult cyc = run_program(ArrayKind::Cycle, accel_config(hw), whole);
              EXPECT_EQ(r->total_cycles, cyc.total_cycles);
            }
          }
  EXPECT_GE(cases, 60);
  EXPECT_GE(periodic, cases * 3 / 4);
  EXPECT_GE(on_cycle_model, 12);
}

TEST(PeriodicRows, GemminisMatrixMultiplyIsBlockedAndRightOfItsRidge) {
  const HwSpec hw = parse_cfg_file(SSIM_SOURCE_DIR "/models/presets/gemmini.cfg", HwSpec{});
  const GemmShape g{4096, 4096, 4096};
  const SubGemms t = choose_sub_gemms_within(hw, g, kCanonicalRowsSteps, kCanonicalHeadRows + 1);
  // A whole program of this cut would exceed the usual limit; five of its rows do not.
  ASSERT_GT(t.steps, kMaxCutSteps);
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n);
  ASSERT_GE(tm, kCanonicalHeadRows + 2);
  const CanonicalKernels k = run_canonical_kernels(ValidHw(hw));
  SCOPED_TRACE(k.matrix_multiply.description);
  EXPECT_NE(k.matrix_multiply.description.find("block rows simulated"), std::string::npos);
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
