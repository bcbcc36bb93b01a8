// Property test: the fast and the cycle-by-cycle array, under the same controller and memories,
// give identical cycles and statistics (memory stalls included) on random cases: array shapes,
// dataflows, fold overlap, GEMM shapes, tile sizes (standing in for SRAM sizes: the tile is what
// a buffer size decides), bandwidths (fractional, tiny, unlimited), latencies and output widths.
// The cycle-by-cycle run carries values, which must equal a plain reference GEMM.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "models/accelerator.hpp"
#include "models/systolic_array_cycle.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "tests/accel_test_util.hpp"

namespace ssim {
namespace {

std::vector<int32_t> reference(const GemmShape& g, const std::vector<int8_t>& A,
                               const std::vector<int8_t>& B) {
  std::vector<int32_t> C(size_t(g.M * g.N), 0);
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t n = 0; n < g.N; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < g.K; ++k)
        acc += int32_t(A[size_t(m * g.K + k)]) * B[size_t(k * g.N + n)];
      C[size_t(m * g.N + n)] = acc;
    }
  return C;
}

// A random GEMM on a random accelerator: array shapes, dataflows, fold overlap, bandwidths
// (fractional, tiny, unlimited), latencies, output widths and small buffers (1 to 3 KiB), so
// that streams span several blocks that arrive late.
struct GemmCase {
  HwSpec hw;
  GemmShape g;
  GemmPlan plan;
  Program p;
};

// Random array (1 .. max_dim per side, any dataflow, overlap on or off), output width and DRAM
// channel (bandwidth from a quarter byte per cycle, fractional, to max_bw_quarters / 4; a
// latency up to max_latency in half of the cases; unlimited in a tenth).
template <class Pick>
void random_array_and_dram(Pick& pick, HwSpec& hw, int max_dim, int max_bw_quarters,
                           int max_latency) {
  hw.array_rows = int(pick(1, max_dim));
  hw.array_cols = int(pick(1, max_dim));
  hw.dataflow = Dataflow(pick(0, 2));
  hw.fold_overlap = pick(0, 1) == 1;
  hw.output_bytes = 1 << pick(0, 2);
  hw.unlimited_bandwidth = pick(0, 9) == 0;
  hw.dram_bytes_per_cycle = double(pick(1, max_bw_quarters)) / 4.0;
  hw.dram_latency = pick(0, 1) ? pick(0, max_latency) : 0;
}

template <class Pick>
GemmCase random_gemm_case(Pick& pick) {
  GemmCase c;
  HwSpec& hw = c.hw;
  random_array_and_dram(pick, hw, 8, 160, 30);
  c.g = GemmShape{pick(1, 40), pick(1, 40), pick(1, 40)};
  hw.ifmap_sram_kb = pick(1, 3);
  hw.filter_sram_kb = pick(1, 3);
  hw.ofmap_sram_kb = pick(1, 2);
  c.plan = plan_blocks(hw, c.g);
  // The tiler's own choice (with a modelled channel it may cut the GEMM into sub-GEMMs) or
  // the buffer-independent fold-major plan.
  c.p = pick(0, 2) == 0 ? plan_gemm(hw, c.g) : build_program(hw, c.g, c.plan);
  return c;
}

TEST(AccelProperty, FastAndCycleModelsAgreeUnderTheSameMemorySystem) {
  std::mt19937_64 rng(20240611);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  const int kCases = 1000;
  int with_stalls = 0, multi_tile = 0, with_overlap = 0, spans = 0, spills = 0;
  for (int i = 0; i < kCases; ++i) {
    const GemmCase gc = random_gemm_case(pick);
    const HwSpec& hw = gc.hw;
    const GemmShape& g = gc.g;
    const Program& p = gc.p;
    for (const TileStep& s : p.steps) spans += s.folds.front().cont;
    spills += gc.plan.ofmap == OutputPolicy::Spill;
    const AccelConfig cfg = accel_config(hw);

    std::vector<int8_t> A(size_t(g.M * g.K)), B(size_t(g.K * g.N));
    for (auto& v : A) v = int8_t(pick(-128, 127));
    for (auto& v : B) v = int8_t(pick(-128, 127));
    std::vector<int32_t> C(size_t(g.M * g.N), 0);
    GemmData data{g, A.data(), B.data(), C.data()};

    const AccelResult fast = run_program(ArrayKind::Fast, cfg, p);
    const AccelResult cyc = run_program(ArrayKind::Cycle, cfg, p, &data);
    expect_same_accel(fast, cyc, i);
    ASSERT_EQ(C, reference(g, A, B)) << "case " << i;
    if (::testing::Test::HasFailure()) return;
    with_stalls += fast.array.idle_cycles > 0;
    multi_tile += p.steps.size() > 1;
    with_overlap += hw.fold_overlap;
  }
  // The random cases do exercise memory stalls, tiling and overlap.
  EXPECT_GT(with_stalls, kCases / 2);
  EXPECT_GT(multi_tile, kCases / 2);
  EXPECT_GT(with_overlap, kCases / 4);
  EXPECT_GT(spans, kCases / 4);    // segments that continue a fold's stream
  EXPECT_GT(spills, kCases / 40);  // partial sums out to DRAM and back
}

// The cycle-by-cycle array advances many cycles per SystemC wait when no other process can act
// before them (temporal decoupling, docs/array-model.md): under the controller and the DRAM
// channel, whose loads complete and tiles arrive between those strides, the decoupled model gives
// exactly what the same model waiting after every cycle (lock-step) gives, what the fast model's
// recurrences give, and the reference GEMM's values.
TEST(AccelProperty, DecoupledCycleArrayEqualsLockStep) {
  std::mt19937_64 rng(4711);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  using Counters = SystolicArrayCycle::DecouplingCounters;
  Counters& counters = SystolicArrayCycle::counters_for_tests();
  struct Restore {  // decoupled again after this test, whatever happens in it
    ~Restore() { SystolicArrayCycle::set_lockstep_for_tests(false); }
  } restore;
  const int kCases = 300;
  int long_strides_and_arrivals = 0;  // cases with both: strides of many cycles, tiles between
  for (int i = 0; i < kCases; ++i) {
    const GemmCase gc = random_gemm_case(pick);
    const GemmShape& g = gc.g;
    const AccelConfig cfg = accel_config(gc.hw);
    std::vector<int8_t> A(size_t(g.M * g.K)), B(size_t(g.K * g.N));
    for (auto& v : A) v = int8_t(pick(-128, 127));
    for (auto& v : B) v = int8_t(pick(-128, 127));
    std::vector<int32_t> C(size_t(g.M * g.N), 0), C_lock(C);
    GemmData data{g, A.data(), B.data(), C.data()};
    GemmData data_lock{g, A.data(), B.data(), C_lock.data()};

    SystolicArrayCycle::set_lockstep_for_tests(true);
    counters = Counters{};
    const AccelResult lock = run_program(ArrayKind::Cycle, cfg, gc.p, &data_lock);
    const Counters lock_counters = counters;
    SystolicArrayCycle::set_lockstep_for_tests(false);
    counters = Counters{};
    const AccelResult dec = run_program(ArrayKind::Cycle, cfg, gc.p, &data);
    const Counters dec_counters = counters;
    const AccelResult fast = run_program(ArrayKind::Fast, cfg, gc.p);

    expect_same_accel(lock, dec, i);
    expect_same_accel(fast, dec, i);
    const std::vector<int32_t> want = reference(g, A, B);
    ASSERT_EQ(C_lock, want) << "case " << i;
    ASSERT_EQ(C, want) << "case " << i;
    if (::testing::Test::HasFailure()) return;
    // Lock-step waits after every cycle; the decoupled run evaluates the same cycles.
    EXPECT_EQ(lock_counters.strides, lock_counters.cycles) << "case " << i;
    EXPECT_EQ(dec_counters.cycles, lock_counters.cycles) << "case " << i;
    EXPECT_EQ(dec_counters.busy_submits, lock_counters.busy_submits) << "case " << i;
    long_strides_and_arrivals +=
        dec_counters.cycles >= 4 * dec_counters.strides && dec_counters.busy_submits > 0;
  }
  EXPECT_GT(long_strides_and_arrivals, kCases / 4);
}

// Programs that mix GEMM parts and vector parts (each part a whole GEMM of the same shape or a
// whole vector op, the first step of a later part waiting for the earlier stores or not): the two
// array models under the same controller, vector unit and memories give identical schedules and
// counters, every GEMM part adds A * B into C, and each vector part's unit time is its closed
// form's issue cycles (docs/vector-unit.md: the sum of its commands' I).
TEST(AccelProperty, MixedGemmAndVectorProgramsAgree) {
  std::mt19937_64 rng(77);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  const VectorKind kinds[] = {VectorKind::Add,     VectorKind::Relu,    VectorKind::Gelu,
                              VectorKind::Softmax, VectorKind::MaxPool, VectorKind::LayerNorm};
  const int kCases = 500;
  int waited = 0;
  for (int i = 0; i < kCases; ++i) {
    HwSpec hw;
    random_array_and_dram(pick, hw, 6, 80, 20);
    hw.vector_lanes = int(pick(1, 8));
    hw.ifmap_sram_kb = pick(1, 3);
    hw.filter_sram_kb = pick(1, 3);
    hw.ofmap_sram_kb = pick(1, 3);
    const GemmShape g{pick(1, 16), pick(1, 16), pick(1, 16)};

    Program p;
    p.input_bytes = hw.input_bytes;
    p.output_bytes = hw.output_bytes;
    int gemms = 0;
    uint64_t issue = 0;  // expected issue cycles of all vector parts
    const int parts = int(pick(2, 4));
    for (int part = 0; part < parts; ++part) {
      Program q;
      if (pick(0, 1) == 0) {
        q = plan_gemm(hw, g);
        ++gemms;
      } else {
        VectorOp op;
        op.name = "v";
        op.kind = kinds[pick(0, 5)];
        const int64_t row = pick(1, 40);
        op.outputs = row * pick(1, 30);
        op.inputs = op.kind == VectorKind::Add ? 2 * op.outputs : op.outputs;
        op.elements = op.outputs;
        if (op.kind == VectorKind::Softmax || op.kind == VectorKind::LayerNorm) op.row = row;
        if (op.kind == VectorKind::MaxPool) {
          op.inputs = 4 * op.outputs;
          op.elements = 9 * op.outputs;
        }
        q = plan_vector(hw, op);
        for (const TileStep& s : q.steps) {
          VectorCmd c;
          c.kind = s.vector.kind;
          c.elements = s.vector.elements;
          c.row = s.vector.row;
          c.window = s.vector.window;
          issue += uint64_t(vector_issue_cycles(accel_config(hw).vector, c));
        }
      }
      if (part > 0 && pick(0, 1) == 1) {
        q.steps.front().wait_for_stores = true;
        ++waited;
      }
      p.steps.insert(p.steps.end(), q.steps.begin(), q.steps.end());
    }
    const AccelConfig cfg = accel_config(hw);
    std::vector<int8_t> A(size_t(g.M * g.K)), B(size_t(g.K * g.N));
    for (auto& v : A) v = int8_t(pick(-128, 127));
    for (auto& v : B) v = int8_t(pick(-128, 127));
    std::vector<int32_t> C(size_t(g.M * g.N), 0);
    GemmData data{g, A.data(), B.data(), C.data()};

    const AccelResult fast = run_program(ArrayKind::Fast, cfg, p);
    const AccelResult cyc = run_program(ArrayKind::Cycle, cfg, p, &data);
    expect_same_accel(fast, cyc, i);
    EXPECT_EQ(fast.vector_end, cyc.vector_end) << "case " << i;
    EXPECT_EQ(fast.vector.idle_cycles, cyc.vector.idle_cycles) << "case " << i;
    EXPECT_EQ(uint64_t(fast.vector.issue_cycles), issue) << "case " << i;
    std::vector<int32_t> want = reference(g, A, B);
    for (auto& v : want) v *= gemms;
    ASSERT_EQ(C, want) << "case " << i;
    // A step that waits for the stores starts after every earlier step has ended.
    int64_t last_end = -1;
    for (size_t j = 0; j < p.steps.size(); ++j) {
      if (p.steps[j].wait_for_stores) {
        EXPECT_GT(fast.steps[j].submit, last_end) << "case " << i << " step " << j;
      }
      last_end = std::max(last_end, fast.steps[j].end);
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(waited, kCases / 4);
}

}  // namespace
}  // namespace ssim
