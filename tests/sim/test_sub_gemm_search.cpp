// The sub-GEMM search's pruning (docs/memory-system.md, "Streaming planner"): planning each
// distinct sub-GEMM once per search and skipping a cut whose lower bound reaches neither the
// uncut GEMM's estimate nor the best so far must choose exactly what the exhaustive search
// (set_search_pruning(false): every sub-GEMM of every cut planned) chooses, over random arrays,
// dataflows, buffers, channels, GEMMs, convs and contexts: every SubGemms field, and the same
// InputError where the search throws.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <variant>

#include "sim/mapping/network_plan.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/op_run.hpp"
#include "tests/sim/random_plan_cases.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

using namespace plan_cases;

// A search's result, or the message of the InputError it threw.
using Outcome = std::variant<SubGemms, std::string>;

Outcome run(bool pruning, const std::function<SubGemms()>& search) {
  set_search_pruning(pruning);
  try {
    return search();
  } catch (const InputError& e) {
    return std::string(e.what());
  }
}

// Restores the defaults however the test ends.
struct Switches {
  Switches() { set_plan_memo(false); }  // every call searches (no PlanMemoScope here either)
  ~Switches() {
    set_search_pruning(true);
    set_plan_memo(true);
  }
};

std::string text(const SubGemms& t) {
  return std::to_string(t.m) + "x" + std::to_string(t.n) + "x" + std::to_string(t.k) + " steps " +
         std::to_string(t.steps) + " bound " + std::to_string(t.bound) +
         (t.limited ? " limited" : "");
}

// The same outcome: bit-equal fields (both add the same terms in the same order).
void expect_same(const Outcome& pruned, const Outcome& all, const char* what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(pruned.index(), all.index())
      << (pruned.index() ? std::get<1>(pruned) : text(std::get<0>(pruned))) << " vs "
      << (all.index() ? std::get<1>(all) : text(std::get<0>(all)));
  if (pruned.index()) {
    EXPECT_EQ(std::get<1>(pruned), std::get<1>(all));
    return;
  }
  const SubGemms &p = std::get<0>(pruned), &a = std::get<0>(all);
  EXPECT_EQ(p.m, a.m) << text(p) << " vs " << text(a);
  EXPECT_EQ(p.n, a.n) << text(p) << " vs " << text(a);
  EXPECT_EQ(p.k, a.k) << text(p) << " vs " << text(a);
  EXPECT_EQ(p.steps, a.steps) << text(p) << " vs " << text(a);
  EXPECT_EQ(p.bound, a.bound) << text(p) << " vs " << text(a);
  EXPECT_EQ(p.limited, a.limited) << text(p) << " vs " << text(a);
}

TEST(SubGemmSearch, PruningChoosesWhatTheExhaustiveSearchChooses) {
  Switches switches;
  Rng r;
  const int kCases = 600;
  int searched = 0, cut = 0, limited = 0, errors = 0, convs = 0;
  for (int i = 0; i < kCases; ++i) {
    const HwSpec hw = random_hw(r);
    GemmOp op;
    const GemmContext ctx = random_gemm(r, hw, op);
    convs += ctx.conv != nullptr;
    const GemmShape g = op.shape;
    static const double limits[] = {kMaxCutSteps, 1e6, 1000, 64, 8, 1};
    const double max_steps = r.pick(limits);
    const int64_t rows = r.chance(30) ? 0 : r.in(1, 6);
    const bool blocks = r.chance(50);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + to_string(hw.dataflow) + " " +
                 std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols) + " KiB " +
                 std::to_string(hw.ifmap_sram_kb) + "/" + std::to_string(hw.filter_sram_kb) + "/" +
                 std::to_string(hw.ofmap_sram_kb) + " bw " + std::to_string(hw.dram_bw()) +
                 " lat " + std::to_string(hw.dram_latency) + (ctx.conv ? " conv " : " gemm ") +
                 std::to_string(g.M) + "x" + std::to_string(g.N) + "x" + std::to_string(g.K) +
                 " side " + std::to_string(ctx.side_bytes) + " a_on_chip " +
                 std::to_string(ctx.a_on_chip) + " c_on_chip " + std::to_string(ctx.c_on_chip) +
                 " max_steps " + std::to_string(max_steps) + " rows " + std::to_string(rows) +
                 " blocks " + std::to_string(blocks));

    const auto choose = [&] { return choose_sub_gemms(hw, g, ctx); };
    const Outcome a = run(true, choose), b = run(false, choose);
    expect_same(a, b, "choose_sub_gemms");
    const auto within = [&] {
      return choose_sub_gemms_within(hw, g, max_steps, rows, ctx, blocks);
    };
    expect_same(run(true, within), run(false, within), "choose_sub_gemms_within");
    SubGemms wp, wa;
    const auto within_p = [&] {
      return choose_sub_gemms_within(hw, g, max_steps, rows, ctx, blocks, &wp);
    };
    const auto within_a = [&] {
      return choose_sub_gemms_within(hw, g, max_steps, rows, ctx, blocks, &wa);
    };
    const Outcome c = run(true, within_p), d = run(false, within_a);
    expect_same(c, d, "choose_sub_gemms_within with whole");
    if (!c.index() && !d.index()) {
      expect_same(wp, wa, "choose_sub_gemms_within's whole");
      expect_same(wp, a, "choose_sub_gemms_within's whole is choose_sub_gemms'");
    }
    if (HasFailure()) return;  // (the first case that differs)

    if (a.index()) {
      ++errors;
      continue;
    }
    const SubGemms& t = std::get<0>(a);
    searched += t.bound > 0;
    cut += t.m < g.M || t.n < g.N || t.k < g.K;
    limited += t.limited || (!c.index() && std::get<0>(c).limited);
  }
  // The cases exercise what the pruning may change: searches, chosen cuts, cuts left out for
  // their steps, and buffers too small for the GEMM.
  EXPECT_GT(searched, kCases / 2);
  EXPECT_GT(cut, 20);
  EXPECT_GT(limited, 10);
  EXPECT_GT(errors, 5);
  EXPECT_GT(convs, 50);
  std::printf("%d cases: %d searched, %d cut, %d limited, %d InputError, %d convs\n", kCases,
              searched, cut, limited, errors, convs);
}

}  // namespace
}  // namespace ssim
