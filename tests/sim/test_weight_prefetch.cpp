// Across ops (docs/network-schedule.md, "Across ops"): the next op's first weight blocks load
// while an op computes, and the output stage's exposed wait is its own part of an op's time.
// Cycles and bytes from the closed forms of docs/cycle-accounting.md and docs/memory-system.md
// worked out here, never from the planner or the controller.
#include <gtest/gtest.h>

#include "sim/run/network_run.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

Layer linear(const std::string& name, int64_t tokens, int64_t in, int64_t out,
             Activation act = Activation::None) {
  LinearLayer p;
  p.tokens = tokens, p.in = in, p.out = out, p.activation = act;
  return make_layer(name, p);
}

Network network(std::vector<Layer> layers) {
  Network n;
  n.name = "hand";
  n.layers = std::move(layers);
  return n;
}

// 8 x 8 WS, no fold overlap, 8 bytes per cycle, no latency, large buffers, nothing fused.
HwSpec channel_8x8() {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.dataflow = Dataflow::WS;
  hw.dram_bytes_per_cycle = 8;
  hw.dram_latency = 0;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 64;
  hw.fusion = false;
  return hw;
}

TEST(WeightPrefetch, TheNextOpsWeightsLoadWhileAnOpComputes) {
  // a: M x 8 -> 8, b: M x 8 -> 8 reading a; one 8 x 8 fold each (r = c = 8, T = M), one 64-byte
  // weight block each. a's output stays in the ifmap buffer (residency), b's is written.
  const int64_t M = 32;  // (at 64 the planner cuts a into two 32-row sub-GEMMs)
  const Network net = network({linear("a", M, 8, 8), linear("b", M, 8, 8)});
  HwSpec hw = channel_8x8();
  // A WS fold submitted at cycle q: preload q .. q+7, stream from s = q + 8, last output
  // E = s + T + R + c - 3 = q + M + 21 (docs/cycle-accounting.md).
  auto fold_end = [&](int64_t q) { return q + 8 + M + 8 + 8 - 3; };
  // a: input (M * 8 bytes) then weights (64) on the channel from cycle 0: ready at M and M + 8;
  // a starts at M + 8 and writes nothing: total E + 1.
  const int64_t a_total = fold_end(M + 8) + 1;
  // b on its own: its input is a view (ready at 0), its weights ready at 64 / 8 = 8; its M * 8
  // outputs are written from E + 1 at 8 bytes per cycle.
  const int64_t b_off = fold_end(8) + 1 + M;
  // b with its weights prefetched: a issued them after its own loads (cycle 0), on the channel
  // from M + 8 to M + 16, long before a ends; b starts at once.
  const int64_t b_on = fold_end(0) + 1 + M;

  hw.op_overlap = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  hw.op_overlap = true;
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  ASSERT_EQ(on.rows.size(), 2u);
  EXPECT_TRUE(on.rows[0].output_on_chip);
  EXPECT_EQ(off.rows[0].total_cycles, a_total);
  EXPECT_EQ(on.rows[0].total_cycles, a_total);
  EXPECT_EQ(off.rows[1].total_cycles, b_off);
  EXPECT_EQ(on.rows[1].total_cycles, b_on);
  EXPECT_EQ(on.total_cycles, a_total + b_on);
  // The weights count with the op that uses them, wherever they were loaded.
  EXPECT_EQ(on.rows[0].dram_read_bytes, uint64_t(M * 8 + 64));
  EXPECT_EQ(on.rows[1].dram_read_bytes, 64u);
  EXPECT_EQ(on.rows[1].dram_weight_bytes, 64u);
  EXPECT_EQ(on.rows[1].prefetched_weight_bytes, 64u);
  EXPECT_EQ(on.rows[1].overlap_cycles, a_total);  // issued in a's cycle 0
  EXPECT_EQ(off.rows[1].prefetched_weight_bytes, 0u);
  EXPECT_EQ(on.dram_read_bytes, off.dram_read_bytes);
  EXPECT_EQ(on.prefetched_weight_bytes, 64u);
}

TEST(WeightPrefetch, ItWaitsForAFreeHalfAndTheChannel) {
  // a: M x 8 -> 16, two column folds with a 64-byte weight block each (one per half); b:
  // M x 16 -> 8 reading a, two K-chunks (two folds adding into one output tile), two blocks.
  const int64_t M = 32;
  const Network net = network({linear("a", M, 8, 16), linear("b", M, 16, 8)});
  HwSpec hw = channel_8x8();
  auto fold_end = [&](int64_t p) { return p + 8 + M + 8 + 8 - 3; };  // preload from p
  // a: input ready at M, its blocks at M + 8 and M + 16; fold 1 preloads from M + 8, fold 2
  // from E1 + 1 (no fold overlap).
  const int64_t a_e1 = fold_end(M + 8), a_e2 = fold_end(a_e1 + 1), a_total = a_e2 + 1;
  // b's first block goes into the half of a's first block, free once a's fold 1 has preloaded
  // (M + 16): on the channel M + 16 .. M + 24. Its second block needs a's second half, free once
  // a's fold 2 has preloaded (a_e1 + 9): a_e1 + 9 .. a_e1 + 17, still before a ends.
  // b then starts at once; its second block is in SRAM before its second fold, as it would have
  // been anyway (loaded at 8 .. 16 under the first fold): only the first block's 8 cycles go.
  const int64_t b_on = fold_end(fold_end(0) + 1) + 1 + M;  // + its M * 8 outputs written
  const int64_t b_off = fold_end(fold_end(8) + 1) + 1 + M;
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  hw.op_overlap = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  ASSERT_EQ(on.rows.size(), 2u);
  EXPECT_EQ(on.rows[0].total_cycles, a_total);
  EXPECT_EQ(off.rows[0].total_cycles, a_total);
  EXPECT_EQ(on.rows[1].total_cycles, b_on);
  EXPECT_EQ(off.rows[1].total_cycles, b_off);
  EXPECT_EQ(on.rows[1].prefetched_weight_bytes, 2u * 64u);
  EXPECT_EQ(on.rows[1].dram_weight_bytes, 2u * 64u);
  EXPECT_EQ(on.rows[1].overlap_cycles, a_total - (M + 16));
}

TEST(WeightPrefetch, AnOpHandsOffOnceItsStoresAreIssued) {
  // a: M x 8 -> 8, b: M x 8 -> 8 reading a's output from DRAM (residency off): with op overlap a
  // ends when its last store is issued and b starts then; b's read of a's outputs queues behind
  // a's write on the in-order channel, so it still sees them written.
  const int64_t M = 24;  // (from 40 rows on the planner cuts M into sub-GEMMs here)
  const Network net = network({linear("a", M, 8, 8), linear("b", M, 8, 8)});
  HwSpec hw = channel_8x8();
  hw.residency = false;
  auto fold_end = [&](int64_t q) { return q + 8 + M + 8 + 8 - 3; };
  // Op by op: input ready at M, weights at M + 8, fold from M + 8, outputs written from E + 1 at
  // 8 bytes per cycle (M cycles); b the same.
  const int64_t one = fold_end(M + 8) + 1 + M;
  // Overlapped: a ends at E + 1, having issued its write (channel busy M more cycles) and b's
  // weights before it (M + 8 .. M + 16). b's input load waits for the write: M .. 2M, its fold
  // from 2M, then its own write (the last op's, included).
  const int64_t a_on = fold_end(M + 8) + 1;
  const int64_t b_on = fold_end(2 * M) + 1 + M;
  hw.op_overlap = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  hw.op_overlap = true;
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  hw.fidelity = Fidelity::Cycle;
  const NetworkRunResult cyc = run_network(ValidHw(hw), net);
  ASSERT_EQ(on.rows.size(), 2u);
  EXPECT_EQ(off.rows[0].total_cycles, one);
  EXPECT_EQ(off.rows[1].total_cycles, one);
  EXPECT_EQ(on.rows[0].total_cycles, a_on);
  EXPECT_EQ(on.rows[1].total_cycles, b_on);
  EXPECT_EQ(on.total_cycles, a_on + b_on);  // 8 cycles less: only the prefetched weights
  EXPECT_EQ(cyc.rows[0].total_cycles, a_on);
  EXPECT_EQ(cyc.rows[1].total_cycles, b_on);
  EXPECT_TRUE(cyc.values_ok);
  EXPECT_EQ(on.dram_write_bytes, uint64_t(2 * M * 8));
}

TEST(WeightPrefetch, TheOutputStageWaitIsItsOwnPart) {
  // fc: 256 tokens x 64 -> 32 with GELU on 16 x 16, stall-free: the last output tile waits
  // ceil(e (passes - 1) / C) + latency = ceil(4096 / 16) + 8 = 264 cycles in the output stage
  // (docs/network-schedule.md); that is the row's stage_cycles, not memory stall.
  const Network net = network({linear("fc", 256, 64, 32, Activation::Gelu)});
  HwSpec hw;
  hw.array_rows = hw.array_cols = 16;
  hw.unlimited_bandwidth = true;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 1024;
  const NetworkRunResult r = run_network(ValidHw(hw), net);
  ASSERT_EQ(r.rows.size(), 2u);
  const OpRow& g = r.rows[0];
  EXPECT_EQ(g.stage_cycles, 256 + 8);
  EXPECT_EQ(g.compute_cycles + g.fill_drain_cycles + g.mem_stall_cycles + g.vector_cycles +
                g.stage_cycles,
            g.total_cycles);
  EXPECT_EQ(g.mem_stall_cycles, 0);  // stall-free: nothing else waits
}

TEST(WeightPrefetch, CycleEqualsFastAcrossOps) {
  // A chain of convs and linears on a slow channel with a latency: the prefetch decisions depend
  // on when halves free, which the cycle model learns from its read notifications and the fast
  // model at submit; both must give the same cycles op by op.
  Network net;
  net.name = "chain";
  Conv2dLayer c1;
  c1.in_h = c1.in_w = 10, c1.in_c = 8, c1.filters = 24, c1.kernel_h = c1.kernel_w = 3;
  c1.pad_h = c1.pad_w = 1, c1.activation = Activation::Relu;
  net.layers.push_back(make_layer("c1", c1));
  Conv2dLayer c2 = c1;
  c2.in_c = 24, c2.filters = 16, c2.stride_h = c2.stride_w = 2;
  net.layers.push_back(make_layer("c2", c2));
  net.layers.push_back(linear("fc", 25, 16, 40, Activation::Gelu));
  net.layers.push_back(linear("fc2", 25, 40, 12));
  for (Dataflow df : {Dataflow::WS, Dataflow::OS, Dataflow::IS}) {
    for (bool overlap : {false, true}) {
      HwSpec hw = channel_8x8();
      hw.dataflow = df;
      hw.fold_overlap = overlap;
      hw.dram_bytes_per_cycle = 3;
      hw.dram_latency = 7;
      hw.fusion = true;
      hw.filter_sram_kb = 1;
      hw.fidelity = Fidelity::Fast;
      const NetworkRunResult fast = run_network(ValidHw(hw), net);
      hw.fidelity = Fidelity::Cycle;
      const NetworkRunResult cycle = run_network(ValidHw(hw), net);
      ASSERT_EQ(fast.rows.size(), cycle.rows.size());
      EXPECT_TRUE(cycle.values_ok);
      EXPECT_GT(fast.prefetched_weight_bytes, 0u) << to_string(df);
      for (size_t i = 0; i < fast.rows.size(); ++i) {
        EXPECT_EQ(fast.rows[i].total_cycles, cycle.rows[i].total_cycles)
            << fast.rows[i].name << " " << to_string(df) << " overlap " << overlap;
        EXPECT_EQ(fast.rows[i].prefetched_weight_bytes, cycle.rows[i].prefetched_weight_bytes);
        EXPECT_EQ(fast.rows[i].overlap_cycles, cycle.rows[i].overlap_cycles);
      }
    }
  }
}

}  // namespace
}  // namespace ssim
