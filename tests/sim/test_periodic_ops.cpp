// Periodic groups of a GEMM op (sim/run/periodic_run.hpp, docs/cycle-accounting.md, "Periodic
// groups: large GEMM ops"): a GEMM run as two head programs and extended by the inserted group's
// share must equal the whole program's run in every field of its result (every column of its
// layers.csv row comes from these): cycles and their split, MACs, folds, steps, DRAM bytes by
// operand and cause, first and last transfer cycles, the channel's busy cycles and its busiest
// aligned window, SRAM accesses, register traffic. The whole program is the reference: it runs
// every group on the same fast model, and on a share of the cases on the cycle-by-cycle array
// (the ground truth) for the cycles.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"
#include "sim/run/periodic_run.hpp"
#include "sim/spec/config.hpp"
#include "tests/sim/network_test_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

using G = PeriodicPlan::Groups;

std::string name(const HwSpec& hw, const GemmShape& g, const PeriodicPlan& p) {
  return to_string(hw.dataflow) + " " + std::to_string(hw.array_rows) + "x" +
         std::to_string(hw.array_cols) + " bw " + std::to_string(hw.dram_bytes_per_cycle) +
         (hw.unlimited_bandwidth ? " unlimited" : "") + (hw.fold_overlap ? " overlap" : "") +
         (hw.load_ahead ? " ahead" : "") + ", " + std::to_string(g.M) + "x" + std::to_string(g.N) +
         "x" + std::to_string(g.K) + " by " + p.name() + " cut " + std::to_string(p.cut.m) + "x" +
         std::to_string(p.cut.n) + "x" + std::to_string(p.cut.k);
}

// The whole program of the plan's cut, run on the fast model.
GemmRunResult whole_run(const HwSpec& hw, const GemmShape& g, const PeriodicPlan& p) {
  const Program prog = p.by == G::FoldColumns ? build_program(hw, g, plan_blocks(hw, g))
                                              : plan_gemm_rows(hw, g, p.cut, -1);
  return gemm_run_result(hw, prog, run_program(ArrayKind::Fast, accel_config(hw), prog));
}

struct Tally {
  int cases = 0, periodic = 0, on_cycle_model = 0;
};

// Runs g by the groups of cut t and compares with the whole run; false: not periodic (or too
// few groups).
bool check(const HwSpec& hw, const GemmShape& g, const SubGemms& t, Tally& tally) {
  const PeriodicPlan p = periodic_groups(hw, g, t);
  if (p.full < p.head + 2) return false;
  ++tally.cases;
  SCOPED_TRACE(name(hw, g, p));
  GemmOp op;
  op.name = "g";
  op.shape = g;
  const std::optional<GemmRunResult> r = run_gemm_periodic(ValidHw(hw), op, nullptr, p);
  if (!r) return false;  // not settled within the head: the caller runs the whole program
  ++tally.periodic;
  expect_same(*r, whole_run(hw, g, p));
  // On a share of the cases, against the ground truth: the cycle-by-cycle array on the whole
  // program.
  if (tally.periodic % 8 == 1) {
    ++tally.on_cycle_model;
    const Program prog = p.by == G::FoldColumns ? build_program(hw, g, plan_blocks(hw, g))
                                                : plan_gemm_rows(hw, g, p.cut, -1);
    const AccelResult cyc = run_program(ArrayKind::Cycle, accel_config(hw), prog);
    EXPECT_EQ(r->total_cycles, cyc.total_cycles);
    EXPECT_EQ(r->array_last_cycle, cyc.array.last_cycle);
    EXPECT_EQ(r->stall_cycles, cyc.array.idle_cycles);
  }
  EXPECT_EQ(r->macs, uint64_t(g.M * g.N * g.K));
  EXPECT_NE(r->periodic.find(p.name()), std::string::npos) << r->periodic;
  return true;
}

HwSpec small_hw(Dataflow df, int64_t bw, bool overlap, bool ahead, int rows, int cols) {
  HwSpec hw;
  hw.array_rows = rows;
  hw.array_cols = cols;
  hw.dataflow = df;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 4;
  hw.dram_bytes_per_cycle = double(std::max<int64_t>(bw, 1));
  hw.unlimited_bandwidth = bw == 0;
  hw.fold_overlap = overlap;
  hw.load_ahead = ahead;
  return hw;
}

TEST(PeriodicOps, FoldColumnsEqualTheWholeRunInEveryField) {
  Tally tally;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS, Dataflow::OS})
    for (int64_t bw : {0, 1, 3, 8})  // 0: a stall-free channel
      for (bool overlap : {false, true})
        for (bool ahead : {false, true})
          for (const GemmShape g : {GemmShape{48, 40, 24}, GemmShape{30, 36, 50}}) {
            const HwSpec hw = small_hw(df, bw, overlap, ahead, 4, 4);
            // (A stall-free OS array too: nothing holds the controller back, it submits every
            // step at once, so submit times stay where they are while ends move by the period.)
            EXPECT_TRUE(check(hw, g, SubGemms{g.M, g.N, g.K}, tally)) << name(hw, g, {});
          }
  EXPECT_EQ(tally.cases, 96);
  EXPECT_EQ(tally.periodic, 96);
  EXPECT_EQ(tally.on_cycle_model, 12);
}

TEST(PeriodicOps, BlockRowsAndOutputBlocksEqualTheWholeRunInEveryField) {
  Tally tally;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS, Dataflow::OS})
    for (int64_t bw : {1, 4})
      for (bool overlap : {false, true})
        for (bool ahead : {false, true})
          for (const GemmShape g : {GemmShape{200, 96, 128}, GemmShape{160, 64, 200}}) {
            const HwSpec hw = small_hw(df, bw, overlap, ahead, 8, df == Dataflow::OS ? 8 : 4);
            // Output blocks (the cut divides N), block rows (it does not), a K cut.
            for (const SubGemms t :
                 {SubGemms{16, 32, g.K}, SubGemms{16, 40, g.K}, SubGemms{24, 32, 64}})
              check(hw, g, t, tally);
          }
  EXPECT_EQ(tally.cases, 144);
  EXPECT_EQ(tally.periodic, tally.cases);
  EXPECT_EQ(tally.on_cycle_model, 18);
}

// Many short groups (a period far below the channel's 1000-cycle window): the busiest window is
// found by replaying the timeline with the repeating stretch fed once per window phase, not once
// per group (2500 groups: more than the at most 2 (1000 + 1000 / P + 2) fed); the result must
// still be the whole run's, window for window.
TEST(PeriodicOps, ManyShortGroupsReplayTheBusiestWindowExactly) {
  Tally tally;
  for (Dataflow df : {Dataflow::WS, Dataflow::OS})
    for (int64_t bw : {0, 1, 2, 5})
      for (bool overlap : {false, true}) {
        const HwSpec hw = small_hw(df, bw, overlap, true, 2, 2);
        const GemmShape g{df == Dataflow::WS ? 6 : 4, 5000, df == Dataflow::WS ? 4 : 6};
        check(hw, g, SubGemms{g.M, g.N, g.K}, tally);  // 2500 fold columns
      }
  EXPECT_EQ(tally.cases, 16);
  EXPECT_EQ(tally.periodic, 16);
}

// The head program of h groups is the one of h + q groups without groups h .. h + q - 1, step for
// step (run_gemm_periodic() plans only the larger and erases those): output blocks, block rows
// and fold columns, on WS, IS and OS.
TEST(PeriodicOps, HeadProgramsNest) {
  int compared = 0;
  for (Dataflow df : {Dataflow::WS, Dataflow::IS, Dataflow::OS})
    for (const GemmShape g : {GemmShape{200, 96, 128}, GemmShape{160, 64, 200}})
      for (const SubGemms t : {SubGemms{16, 32, g.K}, SubGemms{16, 40, g.K}, SubGemms{24, 32, 64},
                               SubGemms{g.M, g.N, g.K}})
        for (int64_t q : {1, 2}) {
          const HwSpec hw = small_hw(df, 4, true, true, 8, 4);
          const PeriodicPlan p = periodic_groups(hw, g, t);
          const int64_t h = 5;
          if (p.full < h + q + 1) continue;
          SCOPED_TRACE(name(hw, g, p) + " q " + std::to_string(q));
          auto plan = [&](int64_t head) {
            return p.by == G::BlockRows      ? plan_gemm_rows(hw, g, t, head)
                   : p.by == G::OutputBlocks ? plan_gemm_blocks(hw, g, t, head)
                                             : build_program(hw, g, plan_blocks(hw, g), {}, head);
          };
          const Program small = plan(h), big = plan(h + q);
          // The groups of the larger one: its steps before group h, then q groups, then the tail.
          const int64_t tn = ceil_div(g.N, t.n);
          auto group = [&](const TileStep& s) {
            return p.by == G::BlockRows      ? s.m0 / t.m
                   : p.by == G::OutputBlocks ? s.m0 / t.m * tn + s.n0 / t.n
                                             : (df == Dataflow::IS ? s.m0 : s.n0) / hw.array_cols;
          };
          std::vector<const TileStep*> kept;
          for (const TileStep& s : big.steps)
            if (group(s) < h || group(s) >= h + q) kept.push_back(&s);
          ASSERT_EQ(kept.size(), small.steps.size());
          for (size_t i = 0; i < kept.size(); ++i) {
            const TileStep &a = *kept[i], &b = small.steps[i];
            ASSERT_EQ(std::tie(a.m0, a.mlen, a.n0, a.nlen, a.k0, a.klen, a.ifmap_load_bytes,
                               a.ifmap_pad_only, a.filter_load_bytes, a.new_output,
                               a.ofmap_tile_bytes, a.store_bytes, a.psum_load_bytes, a.psum_back,
                               a.side_load_bytes, a.stage, a.wait_for_stores, a.copy),
                      std::tie(b.m0, b.mlen, b.n0, b.nlen, b.k0, b.klen, b.ifmap_load_bytes,
                               b.ifmap_pad_only, b.filter_load_bytes, b.new_output,
                               b.ofmap_tile_bytes, b.store_bytes, b.psum_load_bytes, b.psum_back,
                               b.side_load_bytes, b.stage, b.wait_for_stores, b.copy))
                << "step " << i;
            ASSERT_EQ(a.folds.size(), b.folds.size()) << "step " << i;
            for (size_t f = 0; f < a.folds.size(); ++f) {
              const Fold &x = a.folds[f], &y = b.folds[f];
              ASSERT_EQ(std::tie(x.m0, x.n0, x.k0, x.mlen, x.nlen, x.klen, x.rows, x.cols, x.T,
                                 x.cont, x.more),
                        std::tie(y.m0, y.n0, y.k0, y.mlen, y.nlen, y.klen, y.rows, y.cols, y.T,
                                 y.cont, y.more))
                  << "step " << i << " fold " << f;
            }
          }
          EXPECT_EQ(big.tile.m, small.tile.m);
          EXPECT_EQ(big.tile.n, small.tile.n);
          EXPECT_EQ(big.tile.k, small.tile.k);
          EXPECT_EQ(big.plan, small.plan);
          ++compared;
        }
  EXPECT_GE(compared, 40);
}

// A --gemm run (one op, run_network) takes the periodic path and says so; its row equals the whole
// program's. The 65536^3 GEMM on 128 x 128, whose whole program (over 8 M steps) could not be held,
// runs by output blocks of the planner's best cut.
TEST(PeriodicOps, LargeGemmOpsRunByGroups) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.fold_overlap = true;
  Network net;
  net.name = "gemm";
  net.layers.push_back(make_layer("gemm", GemmLayer{4096, 4096, 4096}));
  const NetworkRunResult r = run_network(ValidHw(hw), net);
  ASSERT_EQ(r.gemms.size(), 1u);
  const GemmRunResult& g = r.gemms[0];
  EXPECT_NE(g.periodic.find("fold columns"), std::string::npos) << g.periodic;
  GemmOp op;
  op.shape = {4096, 4096, 4096};
  const std::optional<PeriodicPlan> p = periodic_plan(ValidHw(hw), op);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->by, G::FoldColumns);
  EXPECT_EQ(p->groups, 512);
  expect_same(g, whole_run(hw, op.shape, *p));

  HwSpec big;
  big.array_rows = big.array_cols = 128;
  op.shape = {65536, 65536, 65536};
  const std::optional<PeriodicPlan> q = periodic_plan(ValidHw(big), op);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->by, G::OutputBlocks);
  EXPECT_LE(q->head_steps, kMaxPlanSteps);
  Network n2;
  n2.name = "gemm";
  n2.layers.push_back(make_layer("gemm", GemmLayer{65536, 65536, 65536}));
  const NetworkRunResult r2 = run_network(ValidHw(big), n2);
  ASSERT_EQ(r2.gemms.size(), 1u);
  EXPECT_EQ(r2.gemms[0].macs, uint64_t(65536) * 65536 * 65536);
  EXPECT_NE(r2.gemms[0].periodic.find("output blocks"), std::string::npos);

  // The roofline's reference GEMM on a 1 x 1 array (16.8 M steps whole, refused before): its
  // 4096 fold columns, one MAC per cycle once streaming.
  HwSpec one;
  one.array_rows = one.array_cols = 1;
  const CanonicalKernels k = run_canonical_kernels(ValidHw(one));
  SCOPED_TRACE(k.matrix_multiply.description);
  EXPECT_NE(k.matrix_multiply.description.find("of its 4096 fold columns"), std::string::npos);
  EXPECT_EQ(k.matrix_multiply.flops, 2 * uint64_t(4096) * 4096 * 4096);
  EXPECT_GE(k.matrix_multiply.cycles, int64_t(4096) * 4096 * 4096);
}

struct NetTally {
  int runs = 0, periodic = 0, copies = 0, convs = 0;
};

// The network with periodic ops against the same with every op's whole program.
void check_network(const HwSpec& hw, const Network& net, NetTally& t) {
  SCOPED_TRACE(net.name + " on " + std::to_string(hw.array_rows) + "x" +
               std::to_string(hw.array_cols) + " " + to_string(hw.dataflow) +
               (hw.op_overlap ? " op overlap" : "") + (hw.load_ahead ? " ahead" : "") + " bw " +
               std::to_string(hw.dram_bytes_per_cycle));
  set_periodic_ops(false);
  const NetworkRunResult whole = run_network(ValidHw(hw), net);
  set_periodic_ops(true);
  const NetworkRunResult r = run_network(ValidHw(hw), net);
  ++t.runs;
  for (const GemmRunResult& g : whole.gemms) EXPECT_EQ(g.periodic, "");
  for (const GemmRunResult& g : r.gemms) {
    t.periodic += !g.periodic.empty();
    t.copies += g.periodic.find("copies") != std::string::npos;
    t.convs += g.periodic.find("fold columns") != std::string::npos && g.name.find("conv") == 0;
  }
  expect_same_networks(r, whole);
}

// A network's ops are linked (op overlap, the default: the next op's first weight blocks are
// prefetched, write-backs go on into the next op, the channel's in-flight transfer carries
// over): a periodic op starts from the state the whole run would, and hands over the blocks and
// the channel state the whole run would. Repeated GEMMs (depthwise convs, attention heads) run by
// their copies. Every GEMM's result and every row equals the run of whole programs.
TEST(PeriodicOps, LinkedAndRepeatedOpsEqualTheWholeRuns) {
  NetTally t;
  for (const char* name : {"mobilenetv2", "alexnet"})
    for (Dataflow df : {Dataflow::WS, Dataflow::OS})
      for (bool overlap : {true, false}) {
        HwSpec hw;
        hw.array_rows = hw.array_cols = 32;
        hw.dataflow = df;
        hw.op_overlap = overlap;
        hw.load_ahead = df == Dataflow::WS;
        check_network(hw, load_workload(name), t);
      }
  // Small arrays and buffers, slow channels with a latency: depthwise and grouped convs (by
  // their copies), a GEMM, a conv (by its fold columns) and attention heads, each many groups.
  Network net;
  net.name = "mixed";
  Conv2dLayer dw;
  dw.in_h = dw.in_w = 9, dw.in_c = dw.filters = dw.groups = 24, dw.kernel_h = dw.kernel_w = 3;
  dw.pad_h = dw.pad_w = 1, dw.activation = Activation::Relu;
  net.layers.push_back(make_layer("dw", dw));
  Conv2dLayer gc = dw;
  gc.in_c = 24, gc.filters = 48, gc.groups = 24, gc.stride_h = gc.stride_w = 2;
  gc.activation = Activation::None;
  net.layers.push_back(make_layer("grouped", gc));
  net.layers.push_back(make_layer("fc", GemmLayer{25, 160, 48}));
  Conv2dLayer conv = dw;  // one copy, 18 fold columns of 4 filters (WS, OS)
  conv.in_h = conv.in_w = 6, conv.in_c = 12, conv.filters = 72, conv.groups = 1;
  net.layers.push_back(make_layer("conv", conv));
  AttentionLayer at;
  at.seq = 12, at.d_model = 32, at.heads = 16, at.d_head = 4;
  net.layers.push_back(make_layer("attn", at));
  for (Dataflow df : {Dataflow::WS, Dataflow::OS, Dataflow::IS})
    for (int bw : {1, 3, 10})
      for (bool ahead : {false, true}) {
        HwSpec hw;
        hw.array_rows = hw.array_cols = 4;
        hw.dataflow = df;
        hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 2;
        hw.dram_bytes_per_cycle = bw;
        hw.dram_latency = bw == 3 ? 7 : 0;
        hw.fold_overlap = bw != 10;
        hw.load_ahead = ahead;
        check_network(hw, net, t);
      }
  EXPECT_EQ(t.runs, 26);
  EXPECT_GE(t.periodic, 100) << "periodic ops";
  EXPECT_GE(t.copies, 60) << "ops by their copies";
  EXPECT_GE(t.convs, 4) << "convs by their fold columns";
}

}  // namespace
}  // namespace ssim
