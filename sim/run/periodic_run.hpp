// A large GEMM op run as a few of its identical groups of steps (docs/cycle-accounting.md,
// "Periodic groups: large GEMM ops"): the block rows of its cut, or the fold columns of a GEMM the
// planner does not cut. Two head programs run on the fast model, with the first `head` groups
// and the last, and with the first head + 1 and the last; if the second is the first with one
// group inserted (every step and every DRAM transfer after the insertion exactly one period
// later, the inserted group the one before it a period later, the groups before it unchanged) the
// whole GEMM is the first with G - 1 - head groups inserted: each counter of the result grows by
// the inserted group's share per group, each last cycle by the period, and the channel's busiest
// window is found by replaying the whole timeline (a repeating stretch of it once per phase of
// the window). Otherwise the whole program runs. The result equals the whole program's run in
// every field (tests/sim/test_periodic_ops.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/mapping/network_plan.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/lower.hpp"

namespace ssim {

constexpr int64_t kPeriodicHead = 4;  // groups simulated before the last one
// A channel whose time per group is not a whole number of cycles repeats every few groups (10
// B/cycle and an odd number of bytes per group: every 10): up to this many run as one.
constexpr int64_t kMaxPeriodGroups = 16;

struct PeriodicPlan {
  enum class Groups { FoldColumns, BlockRows, OutputBlocks } by = Groups::FoldColumns;
  SubGemms cut;        // the cut (m = M, n = N, k = K for fold columns)
  int64_t groups = 0;  // in the whole GEMM
  int64_t full = 0;    // the groups before the tail (the last group, or the last block row)
  int64_t head = kPeriodicHead;
  int64_t head_steps = 0;    // at most this many steps in the larger head program
  const char* name() const;  // "fold columns", "block rows", "output blocks"
};

// The groups of cut t of g (t = the whole GEMM: its fold columns), with the default head and
// no step bound.
PeriodicPlan periodic_groups(const HwSpec& hw, const GemmShape& g, const SubGemms& t);

// How a GEMM op runs by groups: fast fidelity, one copy, not a conv, outputs not pooled
// (OpPlacement::stored_outputs), at least head + 2 groups before the tail. Nothing otherwise.
// (Whether the op is linked to its neighbours is the caller's test: a prefetch or handoff
// across ops is not periodic.) The cut: plan_gemm()'s, or the planner's best whose larger head
// program holds at most kMaxCutSteps steps if its estimate is lower (a cut finer than a whole
// program may hold, as for the roofline's reference GEMM); its output blocks are the groups if
// they divide N, else its block rows; an uncut GEMM's groups are its fold columns.
std::optional<PeriodicPlan> periodic_plan(const ValidHw& hw, const GemmOp& op,
                                          const OpPlacement* place = nullptr);

// The caller's fallback when run_gemm_periodic() gives nothing: throws InputError (`what`, then
// why, then `advice`) if the op's whole program would exceed kMaxPlanSteps.
void check_whole_program(const HwSpec& hw, const GemmOp& op, const PeriodicPlan& p,
                         const std::string& what, const std::string& advice);

// Runs the op so; its result's `periodic` says how. Nothing if the head runs do not show the
// steady state, or if replaying the channel's timeline would take more than 2^24 transfers
// (the caller runs the whole program).
std::optional<GemmRunResult> run_gemm_periodic(const ValidHw& hw, const GemmOp& op,
                                               const OpPlacement* place, const PeriodicPlan& plan);

}  // namespace ssim
