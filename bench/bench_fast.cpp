// Speed of the fast path: a GEMM tiled by sim/mapping/tiler.* and run on the SystemC accelerator
// (DRAM channel, double-buffered scratchpads, controller) with the fast array model. The cost
// should follow the number of tiles and folds, not the MACs or the simulated cycles:
//   GemmSize/*      square GEMMs on 128 x 128 from 512^3 to 8192^3 (MACs x 4096), the whole
//                   program planned once and simulated per iteration
//   SramSize/*      4096^3 with buffers from 64 KiB to 4 MiB: same MACs, tiles vary
//   Bandwidth/*     4096^3 with 1 to 1000 bytes/cycle: same tiles, cycles vary 100x
//   Plan, Simulate  4096^3 split into the tiler and the simulation
//   Op/*            square GEMMs as the executable runs a --gemm (run_network: by its periodic
//                   groups when it has many), per tile of the whole GEMM
//   Lazy/*          square GEMMs planned lazily (plan_gemm_lazy(), docs/memory-system.md,
//                   "Planning lazily"), made and simulated per iteration: the cost per tile
//                   with the planner's generator, and the steps the controller held at once
// Every benchmark also counts SystemC delta cycles per tile (sc_delta_count()): how many
// evaluation rounds of the SystemC kernel a tile costs.
//   build-*/bench_fast [--benchmark_filter=...]     (figures in docs/memory-system.md)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <systemc>

#include "models/accelerator.hpp"
#include "sim/mapping/lazy_plan.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"

namespace {

using namespace ssim;

HwSpec tpu_like() {
  HwSpec hw;
  hw.array_rows = 128;
  hw.array_cols = 128;
  hw.dataflow = Dataflow::WS;
  hw.fidelity = Fidelity::Fast;
  return hw;  // default SRAM 512/512/256 KiB, 10 bytes/cycle
}

void report(benchmark::State& state, const GemmRunResult& r, uint64_t deltas) {
  state.counters["deltas/tile"] = double(deltas) / double(state.iterations()) / double(r.tiles);
  state.counters["tiles"] = double(r.tiles);
  state.counters["folds"] = double(r.folds);
  state.counters["sim_cycles"] = double(r.total_cycles);
  state.counters["MACs"] = double(r.macs);
  // Wall time per tile and per fold (seconds, shown with an SI prefix).
  state.counters["t/tile"] = benchmark::Counter(
      double(r.tiles), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["t/fold"] = benchmark::Counter(
      double(r.folds), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Gemm(benchmark::State& state, HwSpec hw, GemmShape g) {
  // The fast model's cost: the program planned once, outside the timed loop (Op/* below times
  // the planner too).
  const Program prog = plan_gemm(hw, g);
  const AccelConfig cfg = accel_config(hw);
  GemmRunResult r;
  const uint64_t d0 = sc_core::sc_delta_count();
  for (auto _ : state) {
    r = gemm_run_result(hw, prog, run_program(ArrayKind::Fast, cfg, prog));
    benchmark::DoNotOptimize(r.total_cycles);
  }
  report(state, r, sc_core::sc_delta_count() - d0);
}

// A --gemm run of the executable, in process: a one-layer network.
void BM_Op(benchmark::State& state, HwSpec hw, GemmShape g) {
  Network net;
  net.name = "gemm";
  net.layers.push_back(make_layer("gemm", GemmLayer{g.M, g.N, g.K}));
  GemmRunResult r;
  const uint64_t d0 = sc_core::sc_delta_count();
  for (auto _ : state) {
    NetworkRunResult n = run_network(ValidHw(hw), net);
    r = std::move(n.gemms.at(0));
    benchmark::DoNotOptimize(r.total_cycles);
  }
  report(state, r, sc_core::sc_delta_count() - d0);
  state.SetLabel(r.periodic.empty() ? "whole program" : r.periodic);
}

void BM_Lazy(benchmark::State& state, HwSpec hw, GemmShape g) {
  const Program prog = plan_gemm_lazy(hw, g);  // (no steps: made as the controller runs)
  const AccelConfig cfg = accel_config(hw);
  GemmRunResult r;
  size_t held = 0;
  const uint64_t d0 = sc_core::sc_delta_count();
  for (auto _ : state) {
    const AccelResult ar = run_program(ArrayKind::Fast, cfg, prog);
    held = ar.held_steps;
    r = gemm_run_result(hw, prog, ar);
    benchmark::DoNotOptimize(r.total_cycles);
  }
  report(state, r, sc_core::sc_delta_count() - d0);
  state.counters["held_steps"] = double(held);
}

void BM_Plan(benchmark::State& state) {
  const HwSpec hw = tpu_like();
  const GemmShape g{4096, 4096, 4096};
  size_t steps = 0;
  for (auto _ : state) {
    const Program p = plan_gemm(hw, g);
    steps = p.steps.size();
    benchmark::DoNotOptimize(steps);
  }
  state.counters["tiles"] = double(steps);
}

void BM_Simulate(benchmark::State& state) {
  const HwSpec hw = tpu_like();
  const GemmShape g{4096, 4096, 4096};
  const Program p = plan_gemm(hw, g);
  const AccelConfig cfg = accel_config(hw);
  int64_t cycles = 0;
  for (auto _ : state) {
    const AccelResult r = run_program(ArrayKind::Fast, cfg, p);
    cycles = r.total_cycles;
    benchmark::DoNotOptimize(cycles);
  }
  state.counters["tiles"] = double(p.steps.size());
  state.counters["sim_cycles"] = double(cycles);
  state.counters["t/tile"] =
      benchmark::Counter(double(p.steps.size()), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

void register_all() {
  auto add = [](const std::string& name, const HwSpec& hw, GemmShape g) {
    benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, hw, g)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3);
  };
  add("Gemm4096/128x128/ws", tpu_like(), {4096, 4096, 4096});
  for (int64_t n : {512, 1024, 2048, 4096, 8192}) {
    add("GemmSize/" + std::to_string(n), tpu_like(), {n, n, n});
  }
  for (int64_t kb : {64, 128, 256, 512, 1024, 4096}) {
    HwSpec hw = tpu_like();
    hw.ifmap_sram_kb = hw.filter_sram_kb = kb;
    hw.ofmap_sram_kb = kb / 2;
    add("SramSize/" + std::to_string(kb) + "KiB", hw, {4096, 4096, 4096});
  }
  for (double bw : {1.0, 10.0, 100.0, 1000.0}) {
    HwSpec hw = tpu_like();
    hw.dram_bytes_per_cycle = bw;
    add("Bandwidth/" + std::to_string(int(bw)) + "B_per_cycle", hw, {4096, 4096, 4096});
  }
  for (Dataflow df : {Dataflow::OS, Dataflow::IS}) {
    HwSpec hw = tpu_like();
    hw.dataflow = df;
    add("Gemm4096/128x128/" + to_string(df), hw, {4096, 4096, 4096});
  }
  for (int64_t n : {512, 1024, 2048, 4096, 8192, 16384, 65536})
    benchmark::RegisterBenchmark(("Op/" + std::to_string(n)).c_str(), BM_Op, tpu_like(),
                                 GemmShape{n, n, n})
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3);
  for (int64_t n : {512, 2048, 8192, 16384})
    benchmark::RegisterBenchmark(("Lazy/" + std::to_string(n)).c_str(), BM_Lazy, tpu_like(),
                                 GemmShape{n, n, n})
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.3);
  benchmark::RegisterBenchmark("Plan/4096", BM_Plan)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Simulate/4096", BM_Simulate)->Unit(benchmark::kMillisecond);
}

}  // namespace

int sc_main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Our main() takes precedence over libsystemc's; it silences the SystemC banner.
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
