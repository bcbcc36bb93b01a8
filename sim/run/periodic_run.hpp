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
#include <vector>

#include "sim/mapping/network_plan.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/lower.hpp"

namespace ssim {

constexpr int64_t kPeriodicHead = 4;  // groups simulated before the last one
// An op of fewer groups runs whole: its two head runs would simulate 2 head + 3 = 11 of them.
constexpr int64_t kMinPeriodicGroups = 16;
// A channel whose time per group is not a whole number of cycles repeats every few groups (10
// B/cycle and an odd number of bytes per group: every 10): up to this many run as one.
constexpr int64_t kMaxPeriodGroups = 16;

struct PeriodicPlan {
  enum class Groups { FoldColumns, BlockRows, OutputBlocks, Copies } by = Groups::FoldColumns;
  SubGemms cut;        // the cut (m = M, n = N, k = K for fold columns and copies)
  int64_t groups = 0;  // in the whole GEMM
  int64_t full = 0;    // the groups before the tail (the last group, or the last block row)
  int64_t head = kPeriodicHead;
  int64_t head_steps = 0;    // at most this many steps in the larger head program
  const char* name() const;  // "fold columns", "block rows", "output blocks", "copies"
};

// The groups of cut t of g (t = the whole GEMM: its fold columns), with the default head and
// no step bound.
PeriodicPlan periodic_groups(const HwSpec& hw, const GemmShape& g, const SubGemms& t);

// How a GEMM op runs by groups: fast fidelity, outputs not pooled (OpPlacement::stored_outputs),
// at least kMinPeriodicGroups groups, head + 2 before the tail, periodic runs not turned off
// (set_periodic_ops()). Nothing otherwise. A repeated GEMM's groups are its copies (conv or
// not: every copy is the same program). One copy, not a conv: the cut is plan_gemm()'s, or the
// planner's best whose larger head program holds at most kMaxCutSteps steps if its estimate is
// lower (a cut finer than a whole program may hold, as for the roofline's reference GEMM); its
// output blocks are the groups if they divide N, else its block rows; an uncut GEMM's groups
// are its fold columns.
std::optional<PeriodicPlan> periodic_plan(const ValidHw& hw, const GemmOp& op,
                                          const OpPlacement* place = nullptr);

// Turns periodic runs on or off (on by default; the tests compare both).
void set_periodic_ops(bool on);

// The filter loads a job before the op may prefetch (first_filter_loads() of its whole
// program), from a head program when they lie within its first `head` groups; nothing
// otherwise (the caller plans the whole program). That head program is the first one
// run_gemm_periodic() runs (head + 1 groups and the tail): with `head_program`, it is kept there
// for it.
std::optional<std::vector<int64_t>> periodic_first_filter_loads(const ValidHw& hw, const GemmOp& op,
                                                                const OpPlacement* place,
                                                                const PeriodicPlan& plan,
                                                                Program* head_program = nullptr);

// The caller's fallback when run_gemm_periodic() gives nothing: throws InputError (`what`, then
// why, then `advice`) if the op's whole program would exceed kMaxPlanSteps.
void check_whole_program(const HwSpec& hw, const GemmOp& op, const PeriodicPlan& p,
                         const std::string& what, const std::string& advice);

// Runs the op so; its result's `periodic` says how. Nothing if the head runs do not show the
// steady state, or if replaying the channel's timeline would take more than 2^24 transfers
// (the caller runs the whole program). With a link (a network's op overlap, JobLink) both head
// runs start from the channel state and the link the whole run would start from; what the op
// hands to the next one (the weight blocks it prefetched, the channel's in-flight state) must
// then move by the period too, and is extended like the rest. `head_program`: the first head
// program if the caller has it (periodic_first_filter_loads()), else planned here.
std::optional<GemmRunResult> run_gemm_periodic(const ValidHw& hw, const GemmOp& op,
                                               const OpPlacement* place, const PeriodicPlan& plan,
                                               const JobLink* link = nullptr,
                                               Program head_program = {});

}  // namespace ssim
