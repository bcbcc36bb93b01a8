// The network schedule (docs/network-schedule.md) on hand-worked networks: the fused output stage
// and on-chip residency, cycles and DRAM bytes from the closed forms worked out here (never from
// the planner), fast == cycle with a modelled channel, and a checker that no op reads a tensor
// from DRAM that was never written there (nor from the buffer one that is not there).
#include <gtest/gtest.h>

#include "sim/run/network_run.hpp"
#include "sim/run/op_run.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

HwSpec stall_free(int side, int64_t kb) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = side;
  hw.dataflow = Dataflow::WS;
  hw.unlimited_bandwidth = true;
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = kb;
  return hw;
}

Layer linear(const std::string& name, int64_t tokens, int64_t in, int64_t out,
             Activation act = Activation::None, std::vector<std::string> from = {}) {
  LinearLayer p;
  p.tokens = tokens, p.in = in, p.out = out, p.activation = act;
  Layer l = make_layer(name, p);
  l.from = std::move(from);
  return l;
}

Layer elementwise(const std::string& name, ElementwiseOp op, int64_t n,
                  std::vector<std::string> from = {}) {
  ElementwiseLayer p;
  p.op = op, p.elements = n;
  Layer l = make_layer(name, p);
  l.from = std::move(from);
  return l;
}

Network network(std::vector<Layer> layers) {
  Network n;
  n.name = "hand";
  n.layers = std::move(layers);
  return n;
}

const OpRow& row(const NetworkRunResult& r, const std::string& name) {
  for (const OpRow& x : r.rows)
    if (x.name == name) return x;
  throw std::logic_error("no row " + name);
}

TEST(NetworkSchedule, AFusedActivationCostsItsStageLatencyAndNoTraffic) {
  // fc: 256 tokens x 64 -> 32 with ReLU on 16 x 16, stall-free. Unfused, the ReLU is its own op
  // reading and writing 256 x 32 bytes; fused, the GEMM's last output tile is written back
  // ceil(e (passes - 1) / C) + latency = 0 + 2 cycles later (ReLU: 1 pass, latency 2), and the
  // ReLU row has no cycles and no bytes.
  const Network net = network({linear("fc", 256, 64, 32, Activation::Relu)});
  HwSpec hw = stall_free(16, 1024);
  hw.residency = false;
  hw.fusion = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  hw.fusion = true;
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  const int64_t n = 256 * 32;
  ASSERT_EQ(off.rows.size(), 2u);
  EXPECT_EQ(off.rows[1].dram_read_bytes, uint64_t(n));
  EXPECT_EQ(off.rows[1].dram_write_bytes, uint64_t(n));
  EXPECT_EQ(on.rows[0].total_cycles, off.rows[0].total_cycles + 2);
  EXPECT_EQ(on.rows[1].total_cycles, 0);
  EXPECT_EQ(on.rows[1].dram_read_bytes + on.rows[1].dram_write_bytes, 0u);
  EXPECT_EQ(on.rows[1].fused_into, "fc");
  EXPECT_EQ(on.rows[0].fused, "fc.relu");
  EXPECT_EQ(on.total_cycles, off.rows[0].total_cycles + 2);
  // DRAM: the input, the weights and the outputs once.
  EXPECT_EQ(on.dram_read_bytes, uint64_t(256 * 64 + 64 * 32));
  EXPECT_EQ(on.dram_write_bytes, uint64_t(n));
  EXPECT_EQ(on.dram_weight_bytes, uint64_t(64 * 32));
  EXPECT_EQ(on.dram_output_bytes, uint64_t(n));
  EXPECT_EQ(on.fused_ops, 1);
  // GELU takes 2 passes and latency 8: a tile of e outputs waits ceil(e (2 - 1) / 16) + 8
  // cycles. K = 64 is 4 K-chunks, so each of the 2 columns of folds keeps its 256 x 16
  // accumulators in one tile; the last tile's wait ends the op: ceil(4096 / 16) + 8 = 264.
  const Network gelu = network({linear("fc", 256, 64, 32, Activation::Gelu)});
  const NetworkRunResult g = run_network(ValidHw(hw), gelu);
  EXPECT_EQ(g.rows[0].total_cycles, off.rows[0].total_cycles + 256 + 8);
}

TEST(NetworkSchedule, ResidencyKeepsAChainOnChip) {
  // a: 128 x 64 -> 96, b: 128 x 96 -> 48 reading a. The 12,288-byte tensor between them fits a
  // half of a 64 KiB ifmap buffer: a writes nothing, b reads nothing but its weights.
  const Network net = network({linear("a", 128, 64, 96), linear("b", 128, 96, 48)});
  HwSpec hw = stall_free(16, 64);
  const uint64_t w = 64 * 96 + 96 * 48, x = 128 * 64, t = 128 * 96, y = 128 * 48;
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  EXPECT_TRUE(row(on, "a").output_on_chip);
  EXPECT_TRUE(row(on, "b").input_on_chip);
  EXPECT_EQ(on.dram_read_bytes, w + x);
  EXPECT_EQ(on.dram_write_bytes, y);
  EXPECT_EQ(on.resident_tensors, 1);
  hw.residency = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  EXPECT_EQ(off.dram_read_bytes, w + x + t);
  EXPECT_EQ(off.dram_write_bytes, t + y);
  // Stall-free: the same cycles either way (only bytes change).
  EXPECT_EQ(on.total_cycles, off.total_cycles);
  // An ifmap buffer whose half cannot hold 12,288 bytes: written and read again.
  hw.residency = true;
  hw.ifmap_sram_kb = 16;
  const NetworkRunResult small = run_network(ValidHw(hw), net);
  EXPECT_FALSE(row(small, "a").output_on_chip);
  hw.residency = false;
  const NetworkRunResult small_off = run_network(ValidHw(hw), net);
  EXPECT_EQ(small.dram_read_bytes, small_off.dram_read_bytes);
  EXPECT_EQ(small.total_cycles, small_off.total_cycles);
}

TEST(NetworkSchedule, AResidualAddFusesIntoTheLaterBranch) {
  // a -> b -> add(a, b): the add joins b's output stage, its second operand a's output. With
  // residency a's output (read by b as A and by the stage) stays on chip; without, it is written
  // once and read twice (by b and by the stage), and the add's output is written by b's stage.
  const int64_t T = 64, D = 32, n = T * D;
  const Network net = network({linear("a", T, D, D), linear("b", T, D, D),
                               elementwise("add", ElementwiseOp::Add, n, {"a", "b"})});
  HwSpec hw = stall_free(8, 64);
  const NetworkRunResult on = run_network(ValidHw(hw), net);
  EXPECT_EQ(row(on, "add").fused_into, "b");
  EXPECT_EQ(row(on, "add").total_cycles, 0);
  EXPECT_EQ(on.dram_read_bytes, uint64_t(n + 2 * D * D));  // the input and two weights
  EXPECT_EQ(on.dram_write_bytes, uint64_t(n));             // the sum
  EXPECT_EQ(on.dram_side_bytes, 0u);
  hw.residency = false;
  const NetworkRunResult off = run_network(ValidHw(hw), net);
  EXPECT_EQ(off.dram_side_bytes, uint64_t(n));
  EXPECT_EQ(off.dram_read_bytes, uint64_t(n + 2 * D * D + n + n));
  EXPECT_EQ(off.dram_write_bytes, uint64_t(n + n));
  // Fusion off as well: the add is a vector op reading both operands, writing the sum.
  hw.fusion = false;
  const NetworkRunResult none = run_network(ValidHw(hw), net);
  EXPECT_EQ(row(none, "add").dram_read_bytes, uint64_t(2 * n));
  EXPECT_EQ(none.dram_read_bytes, uint64_t(n + 2 * D * D + n + 2 * n));
  EXPECT_EQ(none.dram_write_bytes, uint64_t(3 * n));
}

TEST(NetworkSchedule, AFusedPoolWritesOnlyThePooledOutputs) {
  // A 3x3 conv (16 x 16 x 8 -> 16 filters, padding 1) then a 2 x 2 max pool: the stage writes
  // 8 x 8 x 16 outputs, not 16 x 16 x 16.
  Conv2dLayer c;
  c.in_h = c.in_w = 16, c.in_c = 8, c.filters = 16, c.kernel_h = c.kernel_w = 3;
  c.pad_h = c.pad_w = 1;
  PoolLayer p;
  p.op = PoolOp::Max, p.in_h = p.in_w = 16, p.channels = 16, p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  const Network net = network({make_layer("conv", c), make_layer("pool", p)});
  HwSpec hw = stall_free(16, 256);
  const NetworkRunResult r = run_network(ValidHw(hw), net);
  EXPECT_EQ(row(r, "pool").fused_into, "conv");
  EXPECT_EQ(r.dram_write_bytes, uint64_t(8 * 8 * 16));
  EXPECT_EQ(r.dram_read_bytes, uint64_t(16 * 16 * 8 + 9 * 8 * 16));  // raw input and weights
}

// Every op that reads another op's output reads it where that op left it.
void check_dependencies(const NetworkRunResult& r, const NetworkPlan& plan,
                        const std::string& what) {
  for (size_t j = 0; j < plan.ops.size(); ++j) {
    const OpPlacement& p = plan.ops[j];
    if (p.fused_into >= 0) continue;
    const auto where = [&](int src) {
      const int run =
          plan.ops[size_t(src)].fused_into >= 0 ? plan.ops[size_t(src)].fused_into : src;
      return r.rows[size_t(run)].output_on_chip;
    };
    if (p.input_op >= 0 && p.input_dram_elements < 0) {
      EXPECT_EQ(p.input_on_chip, where(p.input_op)) << what << ": " << r.rows[j].name;
      EXPECT_LT(p.input_op, int(j)) << what << ": " << r.rows[j].name;
    }
    if (p.side_op >= 0) {
      EXPECT_EQ(p.side_on_chip, where(p.side_op)) << what << ": " << r.rows[j].name;
      EXPECT_LT(p.side_op, int(j)) << what << ": " << r.rows[j].name;
    }
  }
}

TEST(NetworkSchedule, NoOpReadsATensorWhereItIsNot) {
  for (const char* name : {"resnet50", "mobilenetv2", "bert-base-128", "vit-b16"})
    for (int64_t kb : {64, 512, 24576}) {
      const Network net = load_workload(name);
      HwSpec hw = stall_free(32, kb);
      const NetworkRunResult r = run_network(ValidHw(hw), net);
      check_dependencies(r, plan_network(hw, net, lower(net)),
                         std::string(name) + " " + std::to_string(kb) + " KiB");
      // By cause, the bytes add up.
      EXPECT_EQ(r.dram_weight_bytes + r.dram_input_bytes + r.dram_output_bytes +
                    r.dram_spill_bytes + r.dram_side_bytes,
                r.dram_read_bytes + r.dram_write_bytes)
          << name;
    }
}

TEST(NetworkSchedule, CycleEqualsFastWithFusionAndResidencyOnAModelledChannel) {
  // A residual block of convs through a slow channel: stalls, side loads, on-chip tensors and
  // stage delays, the same under both array models; the cycle model checks every GEMM's values.
  const Network net = parse_yaml_network(
      "name: block\nlayers:\n"
      "  - {name: c1, type: conv2d, input: [10, 10, 8], filters: 8, kernel: 3, padding: 1, "
      "activation: relu}\n"
      "  - {name: c2, type: conv2d, input: [10, 10, 8], filters: 8, kernel: 3, padding: 1}\n"
      "  - {name: add, type: elementwise, op: add, elements: 800, from: [c1, c2]}\n"
      "  - {name: relu, type: elementwise, op: gelu, elements: 800}\n"
      "  - {name: pool, type: pool, op: max, input: [10, 10, 8], kernel: 2}\n"
      "  - {name: fc, type: linear, in: 200, out: 10}\n",
      "block.yaml");
  for (bool residency : {false, true})
    for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS}) {
      HwSpec hw = stall_free(4, 4);
      hw.unlimited_bandwidth = false;
      hw.dram_bytes_per_cycle = 3;
      hw.dram_latency = 7;
      hw.dataflow = df;
      hw.residency = residency;
      hw.fidelity = Fidelity::Fast;
      const NetworkRunResult f = run_network(ValidHw(hw), net, 5);
      hw.fidelity = Fidelity::Cycle;
      const NetworkRunResult c = run_network(ValidHw(hw), net, 5);
      EXPECT_TRUE(c.values_checked && c.values_ok);
      EXPECT_EQ(f.fused_ops, 4);  // c1's relu into c1; add, gelu and pool into c2
      ASSERT_EQ(f.rows.size(), c.rows.size());
      for (size_t i = 0; i < f.rows.size(); ++i) {
        EXPECT_EQ(f.rows[i].total_cycles, c.rows[i].total_cycles) << f.rows[i].name;
        EXPECT_EQ(f.rows[i].dram_read_bytes, c.rows[i].dram_read_bytes) << f.rows[i].name;
      }
    }
}

}  // namespace
}  // namespace ssim
