// Speed of the cycle-by-cycle, value-carrying array (models/systolic_array_cycle.*): PE-cycles
// per second (R * C * total cycles / CPU time) for a GEMM run through the harness's SystemC
// design, with real int8 values (or timing only) in every dataflow, fold overlap on and off.
//   build-*/bench_array --benchmark_filter=32x32     (see docs/array-model.md)
// FastGrid/*: the fast model on a whole GEMM as one command (one FoldGrid): its cost per fold,
// which the closed form for runs of identical folds makes O(distinct fold shapes), not O(folds);
// /fold-by-fold steps every fold for comparison (docs/cycle-accounting.md, "Runs of identical
// folds").
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <systemc>
#include <vector>

#include "models/array_harness.hpp"
#include "models/systolic_array_fast.hpp"
#include "models/types.hpp"

namespace {

using namespace ssim;

struct Operands {
  std::vector<int8_t> A, B;
  std::vector<int32_t> C;
  GemmData data;
  explicit Operands(const GemmShape& g) {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<int> v(-128, 127);
    A.resize(size_t(g.M * g.K));
    B.resize(size_t(g.K * g.N));
    for (auto& x : A) x = int8_t(v(rng));
    for (auto& x : B) x = int8_t(v(rng));
    C.assign(size_t(g.M * g.N), 0);
    data = GemmData{g, A.data(), B.data(), C.data()};
  }
};

void BM_CycleArray(benchmark::State& state, int R, int C, GemmShape g, Dataflow df, bool overlap,
                   bool values) {
  const ArrayConfig cfg{R, C, df, overlap};
  Operands ops(g);
  int64_t cycles = 0;
  for (auto _ : state) {
    std::fill(ops.C.begin(), ops.C.end(), 0);
    const HarnessResult r =
        run_gemm_on_array(ArrayKind::Cycle, cfg, g, values ? &ops.data : nullptr);
    cycles = r.total_cycles;
    benchmark::DoNotOptimize(ops.C.data());
  }
  const double pe_cycles = double(R) * double(C) * double(cycles);
  state.counters["cycles"] = double(cycles);
  state.counters["PE_cycles/s"] =
      benchmark::Counter(pe_cycles, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["cycles/s"] =
      benchmark::Counter(double(cycles), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_FastGrid(benchmark::State& state, int R, int C, GemmShape g, Dataflow df, bool overlap,
                 bool fold_by_fold) {
  const ArrayConfig cfg{R, C, df, overlap};
  SystolicArrayFast::set_fold_by_fold_for_tests(fold_by_fold);
  HarnessResult r;
  for (auto _ : state) {
    r = run_gemm_on_array(ArrayKind::Fast, cfg, g);
    benchmark::DoNotOptimize(r.total_cycles);
  }
  SystolicArrayFast::set_fold_by_fold_for_tests(false);
  state.counters["folds"] = double(r.stats.folds);
  state.counters["stepped"] = double(r.stepped_folds);
  state.counters["cycles"] = double(r.total_cycles);
  state.counters["t/fold"] =
      benchmark::Counter(double(r.stats.folds), benchmark::Counter::kIsIterationInvariantRate |
                                                    benchmark::Counter::kInvert);
}

void register_fast() {
  struct Case {
    int R, C;
    GemmShape g;
  };
  const Case cases[] = {{8, 8, {4096, 4096, 4096}},
                        {4, 4, {8192, 8192, 8192}},
                        {8, 8, {4100, 4100, 4100}},  // edges: an Sr and an Sc edge
                        {128, 128, {65536, 65536, 65536}}};
  for (const Case& c : cases)
    for (Dataflow df : {Dataflow::WS, Dataflow::OS, Dataflow::IS})
      for (bool ov : {true, false}) {
        const std::string name = "FastGrid/" + std::to_string(c.R) + "x" + std::to_string(c.C) +
                                 "/" + std::to_string(c.g.M) + "^3/" + to_string(df) +
                                 (ov ? "/overlap" : "/no-overlap");
        // A fixed count: every run advances the harness's SystemC time by the GEMM's cycles (up
        // to 3.4e10 here), and the process's time must stay below 2^53 ps (9e12 cycles: cycle
        // times go through a double), which the library's own count for a microsecond run would
        // pass. About 1e11 cycles per benchmark.
        const double cycles = double(c.g.M) * double(c.g.N) * double(c.g.K) / (c.R * c.C);
        const int64_t iters =
            std::max<int64_t>(10, std::min<int64_t>(2000, int64_t(1e11 / cycles)));
        benchmark::RegisterBenchmark(name.c_str(), BM_FastGrid, c.R, c.C, c.g, df, ov, false)
            ->Unit(benchmark::kMicrosecond)
            ->Iterations(iters);
        if (c.R == 8 && c.g.M == 4096 && df == Dataflow::WS)
          benchmark::RegisterBenchmark((name + "/fold-by-fold").c_str(), BM_FastGrid, c.R, c.C, c.g,
                                       df, ov, true)
              ->Unit(benchmark::kMillisecond)
              ->Iterations(10);
      }
}

void register_all() {
  register_fast();
  struct Shape {
    int R, C;
    GemmShape g;
  };
  const Shape main_shape{32, 32, {512, 512, 512}};
  const Shape others[] = {
      {8, 8, {128, 128, 128}},     {16, 64, {256, 256, 256}}, {64, 16, {256, 256, 256}},
      {128, 128, {512, 512, 256}}, {4, 4, {64, 64, 64}},      {32, 32, {100, 300, 70}},
  };
  const Dataflow dfs[] = {Dataflow::OS, Dataflow::WS, Dataflow::IS};
  auto name = [](const Shape& s, Dataflow df, bool ov, bool values) {
    return std::to_string(s.R) + "x" + std::to_string(s.C) + "/" + std::to_string(s.g.M) + "x" +
           std::to_string(s.g.N) + "x" + std::to_string(s.g.K) + "/" + to_string(df) +
           (ov ? "/overlap" : "/no-overlap") + (values ? "/values" : "/timing");
  };
  auto add = [&](const Shape& s, Dataflow df, bool ov, bool values) {
    benchmark::RegisterBenchmark(("CycleArray/" + name(s, df, ov, values)).c_str(), BM_CycleArray,
                                 s.R, s.C, s.g, df, ov, values)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  };
  for (Dataflow df : dfs)
    for (bool ov : {true, false}) add(main_shape, df, ov, true);
  for (Dataflow df : dfs) add(main_shape, df, true, false);
  for (const Shape& s : others)
    for (Dataflow df : dfs) add(s, df, true, true);
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
