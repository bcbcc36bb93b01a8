// The 64-bit counter checks of tests/sim/test_robustness.cpp (RobustCounters), at sizes too slow
// for the test suite, and where their time goes:
//   Gemm65536/sram64MiB      65536^3 on 256 x 256, 64 MiB buffers (the suite's case): 2^17 folds
//   Gemm65536/default/Plan   65536^3 with the default 512 KiB buffers: the tiler alone (2^24 folds)
//   Gemm65536/default/Simulate  ... the SystemC run of that program alone
//   Gemm65536/default        ... both (run_gemm_op, what `systolic-sim --gemm` does)
//   Network10000             10,000 GEMM layers (M, N, K from 1 to 200) on 32 x 32, parsed from
//                            YAML and run (the suite's case)
// Each runs once; peak_rss_MiB is the process's high-water mark so far (run one filter at a time
// to attribute it). build-*/bench_counters --benchmark_filter=Gemm65536/default/Plan
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <systemc>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/network_run.hpp"
#include "sim/run/op_run.hpp"
#include "workloads/readers.hpp"

namespace {

using namespace ssim;

HwSpec array256(int64_t sram_kb) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 256;
  hw.dataflow = Dataflow::WS;
  hw.fidelity = Fidelity::Fast;
  if (sram_kb > 0) hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = sram_kb;
  return hw;
}

const GemmShape kBig{65536, 65536, 65536};

void peak_rss(benchmark::State& state) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  state.counters["peak_rss_MiB"] = double(u.ru_maxrss) / 1024;
}

void BM_Gemm(benchmark::State& state, int64_t sram_kb) {
  GemmOp op;
  op.name = "gemm";
  op.shape = kBig;
  GemmRunResult r;
  for (auto _ : state) r = run_gemm_op(ValidHw(array256(sram_kb)), op);
  state.counters["folds"] = double(r.folds);
  state.counters["tiles"] = double(r.tiles);
  state.counters["MACs"] = double(r.macs);
  state.counters["sim_cycles"] = double(r.total_cycles);
  peak_rss(state);
}

void BM_Plan(benchmark::State& state) {
  size_t steps = 0;
  for (auto _ : state) {
    const Program p = plan_gemm_op(array256(0), kBig, 1);
    steps = p.steps.size();
    benchmark::DoNotOptimize(steps);
  }
  state.counters["steps"] = double(steps);
  peak_rss(state);
}

void BM_Simulate(benchmark::State& state) {
  const HwSpec hw = array256(0);
  const Program p = plan_gemm_op(hw, kBig, 1);
  int64_t cycles = 0;
  for (auto _ : state) cycles = run_program(ArrayKind::Fast, accel_config(hw), p).total_cycles;
  state.counters["steps"] = double(p.steps.size());
  state.counters["sim_cycles"] = double(cycles);
  peak_rss(state);
}

void BM_Network10000(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dim(1, 200);
  std::ostringstream y;
  y << "name: generated\nlayers:\n";
  for (int i = 0; i < 10000; ++i)
    y << "  - {name: g" << i << ", type: gemm, M: " << dim(rng) << ", N: " << dim(rng)
      << ", K: " << dim(rng) << "}\n";
  HwSpec hw;
  hw.array_rows = hw.array_cols = 32;
  hw.fidelity = Fidelity::Fast;
  hw.unlimited_bandwidth = true;
  NetworkRunResult r;
  for (auto _ : state) r = run_network(ValidHw(hw), parse_yaml_network(y.str(), "generated.yaml"));
  state.counters["ops"] = double(r.rows.size());
  state.counters["MACs"] = double(r.macs);
  state.counters["sim_cycles"] = double(r.total_cycles);
  peak_rss(state);
}

}  // namespace

int sc_main(int argc, char** argv) {
  auto once = [](benchmark::internal::Benchmark* b) {
    b->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
  };
  once(benchmark::RegisterBenchmark("Gemm65536/sram64MiB", BM_Gemm, int64_t(65536)));
  once(benchmark::RegisterBenchmark("Gemm65536/default/Plan", BM_Plan));
  once(benchmark::RegisterBenchmark("Gemm65536/default/Simulate", BM_Simulate));
  once(benchmark::RegisterBenchmark("Gemm65536/default", BM_Gemm, int64_t(0)));
  once(benchmark::RegisterBenchmark("Network10000", BM_Network10000));
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
