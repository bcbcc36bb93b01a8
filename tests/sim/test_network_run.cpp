// A whole network end to end: every lowered op on the accelerator, the same cycles under cycle and
// fast fidelity (the cycle-level array carrying values, checked against reference GEMMs), and
// rows whose parts add up.
#include <gtest/gtest.h>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/report/run_outputs.hpp"
#include "sim/run/network_run.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

Network small_network() {
  return load_workload(SSIM_SOURCE_DIR "/tests/data/workloads/all_layers.yaml");
}

TEST(NetworkRun, CycleAndFastFidelityGiveTheSameCyclesOnAWholeNetwork) {
  const Network net = small_network();
  struct Hw {
    int r, c;
    Dataflow df;
    bool overlap;
    double bw;
  };
  for (const Hw& h : {Hw{8, 8, Dataflow::WS, true, 4}, Hw{4, 6, Dataflow::OS, false, 16},
                      Hw{6, 4, Dataflow::IS, true, 1.5}}) {
    HwSpec hw;
    hw.array_rows = h.r;
    hw.array_cols = h.c;
    hw.dataflow = h.df;
    hw.fold_overlap = h.overlap;
    hw.dram_bytes_per_cycle = h.bw;
    hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 16;
    hw.fidelity = Fidelity::Fast;
    const NetworkRunResult fast = run_network(ValidHw(hw), net, 3);
    hw.fidelity = Fidelity::Cycle;
    const NetworkRunResult cycle = run_network(ValidHw(hw), net, 3);
    EXPECT_FALSE(fast.values_checked);
    EXPECT_TRUE(cycle.values_checked);
    EXPECT_TRUE(cycle.values_ok);
    ASSERT_EQ(fast.rows.size(), cycle.rows.size());
    EXPECT_EQ(fast.total_cycles, cycle.total_cycles);
    for (size_t i = 0; i < fast.rows.size(); ++i) {
      EXPECT_EQ(fast.rows[i].total_cycles, cycle.rows[i].total_cycles) << fast.rows[i].name;
      EXPECT_EQ(fast.rows[i].mem_stall_cycles, cycle.rows[i].mem_stall_cycles) << fast.rows[i].name;
      EXPECT_EQ(fast.rows[i].dram_read_bytes, cycle.rows[i].dram_read_bytes) << fast.rows[i].name;
    }
  }
}

TEST(NetworkRun, RowsAddUpAndCoverEveryOp) {
  // Op by op (--fusion off --residency off): every vector op is its own DRAM round trip.
  const Network net = small_network();
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.fusion = hw.residency = false;
  const NetworkRunResult r = run_network(ValidHw(hw), net, 1);
  const std::vector<Op> ops = lower(net);
  ASSERT_EQ(r.rows.size(), ops.size());
  int64_t cycles = 0;
  uint64_t macs = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpRow& row = r.rows[i];
    EXPECT_EQ(row.index, int(i));
    EXPECT_EQ(row.total_cycles,
              row.compute_cycles + row.fill_drain_cycles + row.mem_stall_cycles + row.vector_cycles)
        << row.name;
    EXPECT_GT(row.total_cycles, 0);
    if (const GemmOp* g = as_gemm(ops[i])) {
      // MACs from the shape, by hand; the array streams sum(T) cycles, at least T per fold.
      EXPECT_EQ(row.macs, uint64_t(g->repeat * g->shape.M * g->shape.N * g->shape.K));
      EXPECT_EQ(row.flops, 2 * row.macs);
      EXPECT_EQ(row.vector_cycles, 0);
      EXPECT_GT(row.compute_cycles, 0);
      EXPECT_GE(row.folds, uint64_t(g->repeat));
    } else {
      const VectorOp& v = std::get<VectorOp>(ops[i]);
      EXPECT_EQ(row.macs, 0u);
      EXPECT_EQ(row.flops, uint64_t(v.elements));
      EXPECT_GT(row.vector_cycles, 0);
      EXPECT_EQ(row.dram_read_bytes, uint64_t(v.inputs) * uint64_t(hw.input_bytes));
      EXPECT_EQ(row.dram_write_bytes, uint64_t(v.outputs) * uint64_t(hw.output_bytes));
    }
    cycles += row.total_cycles;
    macs += row.macs;
  }
  EXPECT_EQ(r.total_cycles, cycles);
  EXPECT_EQ(r.macs, macs);
  // layers.csv: a header and one line per op.
  const std::string csv = layers_csv(hw, r);
  EXPECT_EQ(size_t(std::count(csv.begin(), csv.end(), '\n')), ops.size() + 1);
}

// The memos of plans (sim/mapping/tiler.hpp) and of identical jobs (models/accelerator.hpp): a
// network run with them gives every row and total exactly as planning and simulating every op
// does, and it takes repeated layers from them.
TEST(NetworkRun, RepeatedLayersFromTheMemosEqualPlanningAndSimulatingThem) {
  struct Case {
    const char* workload;
    int rows;
    bool overlap;
    double bw;
  };
  for (const Case& c : {Case{"bert-base-128", 32, true, 16}, Case{"resnet50", 32, true, 16},
                        Case{"bert-base-128", 16, false, 10}, Case{"resnet50", 64, false, 4}}) {
    HwSpec hw;
    hw.array_rows = hw.array_cols = c.rows;
    hw.fold_overlap = c.overlap;
    hw.dram_bytes_per_cycle = c.bw;
    const Network net = load_workload(c.workload);
    set_job_memo(false);
    set_plan_memo(false);
    const NetworkRunResult plain = run_network(ValidHw(hw), net, 1);
    set_job_memo(true);
    set_plan_memo(true);
    const NetworkRunResult memo = run_network(ValidHw(hw), net, 1);
    const JobMemoStats st = job_memo_stats();
    std::printf("%s %dx%d: %llu hits, %llu misses\n", c.workload, c.rows, c.rows,
                (unsigned long long)st.hits, (unsigned long long)st.misses);
    EXPECT_EQ(layers_csv(hw, memo), layers_csv(hw, plain)) << c.workload;
    EXPECT_EQ(memo.total_cycles, plain.total_cycles);
    EXPECT_EQ(memo.energy.total(), plain.energy.total());
    EXPECT_GT(st.hits, 0u) << c.workload;
  }
}

}  // namespace
}  // namespace ssim
