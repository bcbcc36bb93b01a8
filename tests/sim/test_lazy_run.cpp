// Planning lazily (docs/memory-system.md, "Planning lazily"): the controller runs a program whose
// steps are made as it needs them, holding only the records still in use, exactly as it runs the
// same program held whole. Checked here by running programs both ways (set_run_lazily() gives
// the controller every program through a StepPlan over its steps) and comparing every result
// field, step timings included; and the steps held at once, which must not grow with the GEMM.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"
#include "sim/run/periodic_run.hpp"
#include "tests/accel_test_util.hpp"
#include "tests/hw_test_util.hpp"
#include "tests/sim/network_test_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

using test::make_hw;

struct LazyOn {  // set_run_lazily(true) for a scope
  LazyOn() { set_run_lazily(true); }
  ~LazyOn() { set_run_lazily(false); }
};

// A random small accelerator: array, dataflow, overlap, buffers of 1-8 KiB, a channel from
// slow to stall-free, loads ahead on or off.
HwSpec random_hw(std::mt19937_64& rng) {
  const Dataflow dfs[] = {Dataflow::OS, Dataflow::WS, Dataflow::IS};
  HwSpec hw = make_hw(1 + int(rng() % 8), 1 + int(rng() % 8), dfs[rng() % 3], rng() % 2 == 0);
  hw.ifmap_sram_kb = 1 + int64_t(rng() % 8);
  hw.filter_sram_kb = 1 + int64_t(rng() % 8);
  hw.ofmap_sram_kb = 1 + int64_t(rng() % 8);
  const double bw[] = {0.5, 1.5, 4, 16, 0};
  hw.dram_bytes_per_cycle = bw[rng() % 5];
  if (hw.dram_bytes_per_cycle == 0) hw.unlimited_bandwidth = true;
  hw.dram_latency = int64_t(rng() % 20);
  hw.load_ahead = rng() % 4 != 0;
  return hw;
}

TEST(LazyRun, RunsAsTheHeldProgram) {
  std::mt19937_64 rng(20261206);
  int runs = 0, cycle_runs = 0, linked = 0, kcut = 0, spill = 0, whole_blocks = 0;
  for (int i = 0; i < 1200; ++i) {
    const HwSpec hw = random_hw(rng);
    const GemmShape g{1 + int64_t(rng() % 90), 1 + int64_t(rng() % 90), 1 + int64_t(rng() % 90)};
    const int64_t rep = 1 + int64_t(rng() % 3);
    Program prog;
    try {
      prog = plan_gemm_op(hw, g, rep, g.M, g.N);
    } catch (const InputError&) {
      continue;  // buffers too small for the smallest block
    }
    const bool cycle = i % 6 == 0;
    SCOPED_TRACE("case " + std::to_string(i) + ": " + std::to_string(g.M) + "x" +
                 std::to_string(g.N) + "x" + std::to_string(g.K) + " x" + std::to_string(rep) +
                 " on " + std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols) +
                 " " + to_string(hw.dataflow) + " " + prog.plan + (cycle ? " cycle" : ""));
    const std::string cut = prog.plan.substr(0, prog.plan.find(' '));  // "sub-gemm:MxNxK"
    kcut += cut.rfind("sub-gemm:", 0) == 0 && std::count(cut.begin(), cut.end(), 'x') == 2;
    spill += prog.plan.find("spill") != std::string::npos;
    whole_blocks += prog.plan.find(":whole") != std::string::npos;
    // With a link half of the time: the next job's weights prefetched, the write-backs handed on.
    JobLink link;
    link.next_filter = {int64_t(1 + rng() % 300), int64_t(1 + rng() % 300)};
    link.handoff = rng() % 2 == 0;
    const JobLink* l = rng() % 2 == 0 ? &link : nullptr;
    linked += l != nullptr;
    const AccelConfig cfg = accel_config(hw);
    // Value-carrying runs give each copy its own block of A, B and C.
    const GemmShape big{rep * g.M, rep * g.N, g.K};
    std::vector<int8_t> A(size_t(big.M * big.K)), B(size_t(big.K * big.N));
    for (auto& v : A) v = int8_t(int(rng() % 256) - 128);
    for (auto& v : B) v = int8_t(int(rng() % 256) - 128);
    std::vector<int32_t> C1(size_t(big.M * big.N)), C2(C1.size());
    GemmData d1{big, A.data(), B.data(), C1.data()}, d2{big, A.data(), B.data(), C2.data()};
    const ArrayKind kind = cycle ? ArrayKind::Cycle : ArrayKind::Fast;
    const AccelResult held = run_program(kind, cfg, prog, cycle ? &d1 : nullptr, l);
    AccelResult lazy;
    {
      const LazyOn on;
      lazy = run_program(kind, cfg, prog, cycle ? &d2 : nullptr, l);
    }
    expect_same_accel(held, lazy, i);
    EXPECT_EQ(held.vector_end, lazy.vector_end);
    EXPECT_EQ(held.stage_tail, lazy.stage_tail);
    EXPECT_EQ(held.ofmap_free[0], lazy.ofmap_free[0]);
    EXPECT_EQ(held.ofmap_free[1], lazy.ofmap_free[1]);
    ASSERT_EQ(held.prefetched.size(), lazy.prefetched.size());
    for (size_t p = 0; p < held.prefetched.size(); ++p) {
      EXPECT_EQ(held.prefetched[p].issued, lazy.prefetched[p].issued);
      EXPECT_EQ(held.prefetched[p].ready, lazy.prefetched[p].ready);
    }
    if (cycle) {
      EXPECT_EQ(C1, C2);
    }
    EXPECT_EQ(held.held_steps, prog.size());
    EXPECT_LE(lazy.held_steps, prog.size());
    ++runs;
    cycle_runs += cycle;
  }
  // The cases cover what the lazy path must get right: cuts of K (output tiles over several
  // sub-GEMMs), spilled partial sums (reloads reaching back), whole-matrix blocks (an operand
  // with no later load: loads ahead look past every step made), links, the cycle model.
  EXPECT_GE(runs, 900);
  EXPECT_GE(cycle_runs, 120);
  EXPECT_GE(linked, 300);
  EXPECT_GE(kcut, 10);
  EXPECT_GE(spill, 5);
  EXPECT_GE(whole_blocks, 60);
}

// Networks, with their ops' links (weight prefetch, carried blocks, handoffs), fused output
// stages, side loads, on-chip residency and vector ops: every row and result equal, with every
// program given to the controller lazily (set_run_lazily()), and with every GEMM op planned
// lazily by the planner's generator (set_lazy_plan_steps(0): fused poolings' stored outputs
// rescaled as the steps are made, place_program()) against every one held.
TEST(LazyRun, NetworksRunAsHeld) {
  for (const char* name : {"mlp", "alexnet", "mobilenetv2", "bert-base-128", "gpt2-decode"}) {
    Network net;
    try {
      net = load_workload(name);
    } catch (const InputError&) {
      ADD_FAILURE() << "built-in network " << name << " missing";
      continue;
    }
    for (Dataflow df : {Dataflow::WS, Dataflow::OS, Dataflow::IS}) {
      HwSpec hw = make_hw(16, 16, df);
      hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 16;
      hw.dram_bytes_per_cycle = 8;
      SCOPED_TRACE(std::string(name) + " " + to_string(df));
      set_periodic_ops(false);  // every op's whole program through the controller
      set_lazy_plan_steps(-1);
      const NetworkRunResult held = run_network(ValidHw(hw), net);
      NetworkRunResult lazy, planned;
      {
        const LazyOn on;
        lazy = run_network(ValidHw(hw), net);
      }
      set_lazy_plan_steps(0);
      planned = run_network(ValidHw(hw), net);
      set_lazy_plan_steps(kLazyPlanSteps);
      set_periodic_ops(true);
      expect_same_networks(held, lazy);
      expect_same_networks(held, planned);
    }
  }
}

// The steps held at once do not grow with the GEMM: the same for a GEMM 16 times as tall, with
// loads ahead (which look past the steps made) on and off, in every dataflow.
TEST(LazyRun, HoldsTheStepsInFlightNotTheProgram) {
  for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS})
    for (bool ahead : {false, true}) {
      HwSpec hw = make_hw(8, 8, df);
      hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 2;
      hw.dram_bytes_per_cycle = 4;
      hw.load_ahead = ahead;
      SCOPED_TRACE(to_string(df) + (ahead ? " ahead" : ""));
      size_t held[2] = {0, 0}, steps[2] = {0, 0};
      for (int big = 0; big < 2; ++big) {
        const GemmShape g{big ? 4096 : 256, 64, 96};
        const Program prog = as_lazy(plan_gemm(hw, g));
        const AccelResult r = run_program(ArrayKind::Fast, accel_config(hw), prog);
        EXPECT_TRUE(r.steps.empty());  // (no timings kept for a lazy program)
        held[big] = r.held_steps;
        steps[big] = prog.size();
      }
      EXPECT_GE(steps[1], 16 * steps[0] - 16);
      EXPECT_GT(held[0], 0u);
      EXPECT_EQ(held[1], held[0]);
      EXPECT_LT(held[1] * 50, steps[1]);
    }
}

// A vector op of more chunks than set_lazy_plan_steps()' threshold (kLazyPlanSteps; 100 here) is
// planned lazily (its chunks made as the controller needs them, sim/mapping/vector_tiler.cpp): the
// plan makes the held program's steps,
// field for field, a partly resident input's DRAM bytes shared among the chunks as a held
// program's are; it runs to the held program's result; and it holds a few steps whatever its
// size (a 1 KiB buffer's 2^31-element add held 4.2 M steps, 3.5 GB).
TEST(LazyRun, VectorOpsArePlannedLazilyAsHeld) {
  HwSpec hw = make_hw(8, 8, Dataflow::WS);
  hw.ifmap_sram_kb = hw.ofmap_sram_kb = 1;
  hw.dram_bytes_per_cycle = 4;
  hw.input_bytes = 2;  // (bytes and elements differ)
  auto op = [](VectorKind kind, int64_t outputs, int64_t per_output, int64_t inputs, int64_t row) {
    VectorOp v;
    v.name = "v";
    v.kind = kind;
    v.outputs = outputs;
    v.elements = outputs * per_output;
    v.inputs = inputs;
    v.row = row;
    return v;
  };
  const VectorOp ops[] = {op(VectorKind::Add, 200000, 1, 400000, 0),
                          op(VectorKind::Relu, 150001, 1, 150001, 0),
                          op(VectorKind::Softmax, 96 * 2000, 1, 96 * 2000, 96),
                          op(VectorKind::MaxPool, 70000, 9, 4 * 70000, 0)};
  int lazy_runs = 0;
  for (const VectorOp& v : ops)
    for (const VectorStepPlace place :
         {VectorStepPlace{}, VectorStepPlace{true, -1}, VectorStepPlace{true, 12345}}) {
      SCOPED_TRACE(to_string(v.kind) + (place.stage ? " staged" : "") +
                   (place.input_dram_bytes >= 0 ? " part resident" : ""));
      set_lazy_plan_steps(-1);
      const Program held = plan_vector(hw, v, place);
      set_lazy_plan_steps(100);
      const Program lazy = plan_vector(hw, v, place);
      set_lazy_plan_steps(kLazyPlanSteps);
      ASSERT_GT(held.steps.size(), 200u);
      ASSERT_TRUE(lazy.lazy && lazy.steps.empty());
      ASSERT_EQ(lazy.size(), held.steps.size());
      EXPECT_EQ(lazy.tile.m, held.tile.m);
      size_t j = 0;
      int64_t dram_in = 0;
      lazy.for_each_base([&](const TileStep& s) {
        const TileStep& h = held.steps[j++];
        ASSERT_EQ(std::tie(s.kind, s.m0, s.mlen, s.ifmap_load_bytes, s.new_output,
                           s.ofmap_tile_bytes, s.store_bytes, s.stage, s.vector.kind,
                           s.vector.elements, s.vector.inputs, s.vector.row, s.vector.window),
                  std::tie(h.kind, h.m0, h.mlen, h.ifmap_load_bytes, h.new_output,
                           h.ofmap_tile_bytes, h.store_bytes, h.stage, h.vector.kind,
                           h.vector.elements, h.vector.inputs, h.vector.row, h.vector.window))
            << "step " << j - 1;
        dram_in += s.ifmap_load_bytes;
      });
      // The inputs' bytes from DRAM: all of them, or the resident share's rest exactly.
      EXPECT_EQ(dram_in,
                place.input_dram_bytes >= 0 ? place.input_dram_bytes : v.inputs * hw.input_bytes);
      const AccelResult a = run_program(ArrayKind::Fast, accel_config(hw), held);
      const AccelResult b = run_program(ArrayKind::Fast, accel_config(hw), lazy);
      EXPECT_EQ(a.total_cycles, b.total_cycles);
      EXPECT_EQ(a.vector_end, b.vector_end);
      EXPECT_EQ(a.last_store_ready, b.last_store_ready);
      EXPECT_EQ(a.dram.bytes_read, b.dram.bytes_read);
      EXPECT_EQ(a.dram.bytes_written, b.dram.bytes_written);
      EXPECT_EQ(a.dram.requests, b.dram.requests);
      EXPECT_EQ(a.dram.peak_window_bytes, b.dram.peak_window_bytes);
      EXPECT_EQ(a.ifmap.writes, b.ifmap.writes);
      EXPECT_EQ(a.ofmap.reads, b.ofmap.reads);
      EXPECT_EQ(a.held_steps, held.steps.size());
      EXPECT_LT(b.held_steps, 64u);  // the steps in flight, not the program
      ++lazy_runs;
    }
  EXPECT_EQ(lazy_runs, 12);
}

}  // namespace
}  // namespace ssim
