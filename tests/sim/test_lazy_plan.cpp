// Planning lazily (docs/memory-system.md, "Planning lazily"): plan_gemm_lazy() must give
// plan_gemm()'s header and, one by one and field by field, its steps, over random arrays,
// dataflows, buffers, channels, GEMMs, convs and contexts (uncut GEMMs, M / N cuts and K cuts,
// every block and output policy); its size() is the steps' count, and a cursor cloned anywhere
// continues as the original.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/mapping/lazy_plan.hpp"
#include "sim/mapping/network_plan.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/op_run.hpp"
#include "tests/sim/random_plan_cases.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

using namespace plan_cases;

static_assert(sizeof(TileStep) == 256 && sizeof(FoldGrid) == 64 && sizeof(VectorWork) == 48 &&
                  sizeof(Program) == 208,
              "a step or program field was added: compare it below");

// Every field of a step (its folds' and vector work's included).
auto fields(const TileStep& s) {
  const FoldGrid& f = s.folds;
  const VectorWork& v = s.vector;
  return std::make_tuple(s.kind, s.m0, s.mlen, s.n0, s.nlen, s.k0, s.klen, s.ifmap_load_bytes,
                         s.ifmap_pad_only, s.filter_load_bytes, s.new_output, s.ofmap_tile_bytes,
                         s.store_bytes, s.psum_load_bytes, s.psum_back, s.side_load_bytes, s.stage,
                         s.wait_for_stores, s.copy, f.m0, f.n0, f.k0, f.mlen, f.nlen, f.klen, f.R,
                         f.C, f.df, f.cont, f.more, v.kind, v.elements, v.inputs, v.row, v.window,
                         v.after_previous);
}
bool same(const TileStep& a, const TileStep& b) {
  return fields(a) == fields(b);
}

std::string text(const TileStep& s) {
  const auto n = [](int64_t v) { return std::to_string(v); };
  return "m " + n(s.m0) + "+" + n(s.mlen) + " n " + n(s.n0) + "+" + n(s.nlen) + " k " + n(s.k0) +
         "+" + n(s.klen) + " loads " + n(s.ifmap_load_bytes) + (s.ifmap_pad_only ? "(pad)" : "") +
         "/" + n(s.filter_load_bytes) + " new " + n(s.new_output) + " tile " +
         n(s.ofmap_tile_bytes) + " store " + n(s.store_bytes) + " psum " + n(s.psum_load_bytes) +
         "@" + n(s.psum_back) + " side " + n(s.side_load_bytes) + " stage " + n(s.stage) +
         " copy " + n(s.copy) + " folds " + n(s.folds.m0) + "," + n(s.folds.n0) + "," +
         n(s.folds.k0) + " cont " + n(s.folds.cont) + " more " + n(s.folds.more);
}

// Every field but the steps and the generator.
auto header(const Program& p) {
  return std::make_tuple(p.shape.M, p.shape.N, p.shape.K, p.repeat, p.shared, p.copy_m, p.copy_n,
                         p.dataflow, p.tile.m, p.tile.n, p.tile.k, p.plan, p.input_bytes,
                         p.output_bytes, p.acc_bytes, p.stationary, p.ifmap_on_chip,
                         p.ofmap_on_chip, p.stage.passes, p.stage.latency, p.stage.lanes);
}

// Drives `src` to its end, expecting steps[from..] one by one; returns the steps it made.
size_t expect_steps(StepSource& src, const std::vector<TileStep>& steps, size_t from,
                    const char* who) {
  TileStep s;
  size_t j = from;
  for (; src.next(s); ++j) {
    if (j >= steps.size()) {
      ADD_FAILURE() << who << ": a step past the program's " << steps.size();
      return j - from;
    }
    if (!same(s, steps[j])) {
      ADD_FAILURE() << who << ": step " << j << " differs\n  lazy " << text(s) << "\n  held "
                    << text(steps[j]);
      return j - from;
    }
  }
  EXPECT_FALSE(src.next(s)) << who << ": a step after the end";
  return j - from;
}

// Expects `count` steps of `src` to be steps[0 .. count); returns how many were.
size_t expect_steps_upto(StepSource& src, const std::vector<TileStep>& steps, size_t count) {
  TileStep s;
  for (size_t j = 0; j < count; ++j)
    if (j >= steps.size() || !src.next(s) || !same(s, steps[j])) {
      ADD_FAILURE() << "step " << j << " differs or is missing";
      return j;
    }
  return count;
}

// The policies a program's plan text names ("ifmap:segment filter:fold ofmap:resident ...";
// a cut's: its first sub-GEMM's).
std::string policy(const std::string& plan, const std::string& key) {
  const size_t at = plan.find(key + ":");
  if (at == std::string::npos) return "?";
  const size_t from = at + key.size() + 1;
  return plan.substr(from, plan.find_first_of(" -", from) - from);
}

TEST(LazyPlan, MakesThePlannersStepsFieldByField) {
  Rng r(20261206);
  const int kCases = 3000;
  const size_t kMaxSteps = 40000;  // (keeps the test short; larger plans are skipped)
  int uncut = 0, mn_cut = 0, k_cut = 0, convs = 0, errors = 0, skipped = 0, clones = 0;
  std::set<std::string> policies;
  for (int i = 0; i < kCases;) {
    const HwSpec hw = random_hw(r);
    GemmOp op;
    const GemmContext ctx = random_gemm(r, hw, op);
    const GemmShape g = op.shape;
    SCOPED_TRACE("case " + std::to_string(i) + ": " + to_string(hw.dataflow) + " " +
                 std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols) + " KiB " +
                 std::to_string(hw.ifmap_sram_kb) + "/" + std::to_string(hw.filter_sram_kb) + "/" +
                 std::to_string(hw.ofmap_sram_kb) + " bw " + std::to_string(hw.dram_bw()) +
                 (ctx.conv ? " conv " : " gemm ") + std::to_string(g.M) + "x" +
                 std::to_string(g.N) + "x" + std::to_string(g.K) + " side " +
                 std::to_string(ctx.side_bytes) + " a_on_chip " + std::to_string(ctx.a_on_chip) +
                 " c_on_chip " + std::to_string(ctx.c_on_chip));

    PlanMemoScope memo(hw);  // (one search for the three calls below)
    SubGemms t;
    try {
      t = choose_sub_gemms(hw, g, ctx);
    } catch (const InputError& e) {
      // The lazy planner refuses what the planner refuses, with the same message.
      try {
        plan_gemm_lazy(hw, g, ctx);
        ADD_FAILURE() << "plan_gemm_lazy accepted what plan_gemm refuses: " << e.what();
      } catch (const InputError& f) {
        EXPECT_EQ(std::string(f.what()), std::string(e.what()));
      }
      ++errors, ++i;
      continue;
    }
    if (t.steps > double(kMaxSteps)) {
      ++skipped;
      continue;
    }
    ++i;
    const Program held = plan_gemm(hw, g, ctx);
    Program lazy = plan_gemm_lazy(hw, g, ctx);
    ASSERT_FALSE(held.lazy);
    ASSERT_TRUE(lazy.lazy);
    EXPECT_TRUE(lazy.steps.empty());
    EXPECT_EQ(header(held), header(lazy));
    EXPECT_EQ(lazy.lazy->size(), held.steps.size());
    EXPECT_EQ(lazy.base_size(), held.steps.size());

    // The steps, with clones taken at a few random places, each driven to the end after the
    // original has moved on.
    const size_t n = held.steps.size();
    std::vector<size_t> at;
    for (int c = 0; c < 3; ++c) at.push_back(size_t(r.in(0, int64_t(n))));
    std::vector<std::pair<size_t, std::unique_ptr<StepSource>>> copies;
    auto src = lazy.lazy->begin();
    TileStep s;
    size_t j = 0;
    for (;; ++j) {
      for (size_t a : at)
        if (a == j) copies.emplace_back(j, src->clone());
      if (!src->next(s)) break;
      if (j >= n || !same(s, held.steps[j])) {
        ADD_FAILURE() << "step " << j << " differs\n  lazy " << text(s) << "\n  held "
                      << (j < n ? text(held.steps[j]) : "(none)");
        return;
      }
    }
    EXPECT_EQ(j, n);
    lazy = Program{};  // the cursors hold the plan
    for (auto& [from, copy] : copies) {
      EXPECT_EQ(expect_steps(*copy, held.steps, from, "clone"), n - from);
      ++clones;
    }
    if (HasFailure()) return;  // (the first case that differs)

    const bool cut = t.m < g.M || t.n < g.N, kc = t.k < g.K;
    uncut += !cut && !kc;
    mn_cut += cut && !kc;
    k_cut += kc;
    convs += ctx.conv != nullptr;
    for (const char* key : {"ifmap", "filter", "ofmap"})
      policies.insert(std::string(key) + ":" + policy(held.plan, key));
  }
  // The cases cover what the generator must follow: uncut GEMMs, cuts of M / N and of K, convs,
  // every block policy of both operands and every output policy.
  EXPECT_GT(uncut, 50);
  EXPECT_GT(mn_cut, 20);
  EXPECT_GT(k_cut, 10);
  EXPECT_GT(convs, 50);
  EXPECT_GT(errors, 5);
  for (const char* p :
       {"ifmap:whole", "ifmap:chunk", "ifmap:segment", "ifmap:fold", "filter:whole", "filter:chunk",
        "filter:segment", "filter:fold", "ofmap:final", "ofmap:resident", "ofmap:spill"})
    EXPECT_EQ(policies.count(p), 1u) << p << " never planned";
  std::printf(
      "%d cases: %d uncut, %d M/N cuts, %d K cuts, %d convs, %d InputError, %d clones; "
      "%d larger skipped; %zu policies\n",
      kCases, uncut, mn_cut, k_cut, convs, errors, clones, skipped, policies.size());
}

// A GEMM whose steps would not fit in memory (2^26 folds on an 8 x 8 array, several segments
// each: tens of GiB of steps) is planned at once, its size() counted in closed form, and a cursor
// makes its first steps: those of the head program with its first fold column (build_program()
// with head_cols = 1).
TEST(LazyPlan, AGemmTooLargeToHoldIsPlannedWithoutItsSteps) {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 8;
  hw.interface_bandwidth = "CALC";  // stall-free: the uncut GEMM, no search
  const GemmShape g{65536, 65536, 65536};
  const GemmPlan plan = plan_blocks(hw, g);
  const Program lazy = plan_gemm_lazy(hw, g);
  ASSERT_TRUE(lazy.lazy);
  const size_t folds = size_t(65536 / 8) * size_t(65536 / 8);  // WS: K / R x N / C
  ASSERT_GT(plan.segments, 1);
  EXPECT_EQ(lazy.lazy->size(), folds * size_t(plan.segments));
  EXPECT_EQ(lazy.plan, plan.describe());
  const Program head = build_program(hw, g, plan, {}, 1);
  const size_t first_column = size_t(65536 / 8) * size_t(plan.segments);
  auto src = lazy.lazy->begin();
  EXPECT_EQ(expect_steps_upto(*src, head.steps, first_column), first_column);
}

}  // namespace
}  // namespace ssim
