#include "sim/run/periodic_run.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "models/accelerator.hpp"
#include "models/dram_channel.hpp"
#include "models/trace_observer.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/op_run.hpp"

namespace ssim {
namespace {

using Units = WindowPeak::Units;

// One request as the channel served it (TraceObserver::dram_transfer), its times in 64 bits
// (a head run's; TransferLog::overflow if one does not fit).
struct Transfer {
  int64_t issue = 0;
  int64_t start = 0, end = 0;  // the channel's units
  int64_t bytes = 0;
  int32_t op = 0;
  bool write = false;
};

// Whether b is a moved `shift` cycles (`units` channel units) later.
bool shifted(const Transfer& a, const Transfer& b, int64_t shift, Units units) {
  return b.issue == a.issue + shift && Units(b.start) == a.start + units &&
         Units(b.end) == a.end + units && b.bytes == a.bytes && b.op == a.op && b.write == a.write;
}
// A step's submit cycle may also stay where it was: submitted before it could start either way
// (a stall-free channel holds nothing back, and the controller submits every step at once).
bool shifted(const StepTiming& a, const StepTiming& b, int64_t shift) {
  return (b.submit == a.submit + shift || b.submit == a.submit) && b.end == a.end + shift;
}

// Whether x is y with x[a, a + d) inserted, x[0, a) being y's: the inserted stretch repeats the
// d before it and those the d before them, one period later each (same(u, v, 1): v is u one
// period later), and x from a + d on is y from a on one period later.
template <class T, class Same>
bool inserted(const std::vector<T>& y, const std::vector<T>& x, size_t a, size_t d, Same same) {
  if (x.size() != y.size() + d || a < 2 * d) return d == 0 && x.size() == y.size() && a == y.size();
  for (size_t i = 0; i < d; ++i)
    if (!same(x[a - d + i], x[a + i], 1) || !same(x[a - 2 * d + i], x[a - d + i], 1)) return false;
  for (size_t i = a; i < y.size(); ++i)
    if (!same(y[i], x[i + d], 1)) return false;
  return true;
}

// Records the channel's transfers of the jobs it watches.
class TransferLog final : public TraceObserver {
 public:
  std::vector<Transfer> log;
  Units per_cycle = 0;    // the channel's units per cycle (0: unlimited)
  bool overflow = false;  // a time beyond 64 bits
  void dram_tag(Cause, int, int64_t, int64_t) override {}
  void dram_transfer(Operand op, bool write, int64_t bytes, int64_t issue, __int128 start,
                     __int128 end, __int128 per) override {
    per_cycle = per;
    constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
    overflow = overflow || end > kMax;
    log.push_back({issue, int64_t(start), int64_t(end), bytes, int32_t(op), write});
  }
  void step(size_t, size_t, int64_t) override {}
  void fold(const Fold&, int64_t, int64_t, int64_t) override {}
};

struct HeadRun {
  Program prog;  // (X's steps are moved on into Y's program)
  ProgramSums sums;
  AccelResult ar;
  size_t steps = 0;  // the program's
  std::vector<Transfer> log;
  Units per_cycle = 0;
  bool overflow = false;      // TransferLog::overflow
  std::vector<size_t> first;  // first[r]: the first step of group r (r = head: the last group)
  Units busy_after = 0;       // the channel's in-flight state the run left (channel_busy_units)
};

bool periodic_on = true;

// The first `head` groups and the tail, planned as the op's program would be.
Program head_program(const ValidHw& valid, const GemmOp& op, const OpPlacement* place,
                     const PeriodicPlan& p, int64_t head) {
  const HwSpec& hw = valid;
  const GemmShape& g = op.shape;
  const GemmContext ctx = gemm_context(hw, op, place);
  using G = PeriodicPlan::Groups;
  if (p.by == G::Copies) {  // the first head copies and the last: head + 1 copies
    GemmOp few = op;
    few.repeat = head + 1;
    return unshared(plan_gemm_program(valid, few, place));  // (attempt() leaves copies out)
  }
  Program prog = p.by == G::BlockRows ? plan_gemm_rows(hw, g, p.cut, head, ctx)
                 : p.by == G::OutputBlocks
                     ? plan_gemm_blocks(hw, g, p.cut, head, ctx)
                     : build_program(hw, g, plan_blocks(hw, g, ctx), ctx, head);
  if (place) place_program(prog, *place, hw.output_bytes);
  return prog;
}

// first[r]: the first step of group r of a head program of `head` groups (r = head: the last).
std::vector<size_t> first_steps(const HwSpec& hw, const PeriodicPlan& p, const Program& prog,
                                int64_t head) {
  using G = PeriodicPlan::Groups;
  const bool along_m = hw.dataflow == Dataflow::IS;
  const int64_t C = hw.array_cols, tn = ceil_div(prog.shape.N, p.cut.n);
  std::vector<size_t> first(size_t(head) + 1, prog.steps.size());
  for (size_t j = prog.steps.size(); j-- > 0;) {
    const TileStep& s = prog.steps[j];
    const int64_t r = p.by == G::Copies         ? s.copy
                      : p.by == G::BlockRows    ? s.m0 / p.cut.m
                      : p.by == G::OutputBlocks ? s.m0 / p.cut.m * tn + s.n0 / p.cut.n
                                                : (along_m ? s.m0 : s.n0) / C;
    first[size_t(std::min(head, r))] = j;
  }
  return first;
}

// Runs a head program of `head` groups, from the channel state `busy` and the link; its steps
// stay in h.prog.
HeadRun head_run(const ValidHw& valid, const PeriodicPlan& p, int64_t head, Program prog,
                 Units busy, const JobLink* link) {
  const HwSpec& hw = valid;
  HeadRun h;
  h.prog = std::move(prog);
  TransferLog log;
  log.log.reserve(3 * h.prog.size() + 16);  // (about two a step; no copies as it grows)
  set_trace_observer(&log);
  set_channel_busy_units(busy);
  try {
    h.ar = run_program(ArrayKind::Fast, accel_config(hw), h.prog, nullptr, link);
  } catch (...) {
    set_trace_observer(nullptr);
    throw;
  }
  set_trace_observer(nullptr);
  h.busy_after = channel_busy_units();
  h.log = std::move(log.log);
  h.per_cycle = log.per_cycle;
  h.overflow = log.overflow;
  h.first = first_steps(hw, p, h.prog, head);
  h.steps = h.prog.size();
  h.sums = program_sums(hw, h.prog);
  return h;
}

// x extended linearly: y with k more groups of (x - y) each.
int64_t lin(int64_t y, int64_t x, int64_t k) {
  return y + k * (x - y);
}
uint64_t lin(uint64_t y, uint64_t x, int64_t k) {
  return uint64_t(lin(int64_t(y), int64_t(x), k));
}
Units lin(Units y, Units x, int64_t k) {
  return y + Units(k) * (x - y);
}

// The most units any aligned window holds in the whole run's channel timeline: Y's transfers
// before index a, then k copies of X's inserted slice [a, a + d) (copy j moved j periods later),
// then Y's transfers from a on moved k periods later. A window holds the same content k copies
// later once the copies moved it by whole windows (every L = W / gcd(P, W) copies), so only
// about 2 L copies are fed (plus those a window may span). -1: more than `budget` transfers.
Units replay_peak(const std::vector<Transfer>& Y, const std::vector<Transfer>& X, size_t a,
                  size_t d, int64_t k, int64_t P, int64_t W, Units per_cycle, int64_t budget) {
  WindowPeak wp;
  wp.reset(W, per_cycle);
  const Units pu = Units(P) * per_cycle;
  int64_t fed = 0;
  // false: stop (over the budget, or a window already full: none can hold more).
  // A limited channel's times below 2^60 units are added in 64 bits (WindowPeak::add_from).
  const int64_t wu = per_cycle > 0 ? wp.window_units64() : 0;
  constexpr int64_t kFits = int64_t(1) << 60;
  auto feed = [&](const Transfer& t, int64_t j) {
    if (j == 0 && wu > 0 && t.end < kFits)
      wp.add_from(0, t.start, t.end);
    else
      wp.add(t.issue + j * P, t.start + j * pu, t.end + j * pu,
             Units(t.bytes) * DramChannel::kScale);
    return ++fed <= budget && wp.peak() != wp.most();
  };
  // The inserted slice from its first start, in 64 bits (a copy spans at most one period), to
  // add each copy from the window its first start falls in: no 128-bit arithmetic per transfer.
  // Else (an unlimited channel, or times beyond 2^60) transfer by transfer.
  const bool rel = wu > 0 && d > 0 && pu < kFits && X[a + d - 1].end - X[a].start < kFits;
  std::vector<int64_t> span(rel ? 2 * d : 0);
  for (size_t i = 0; i < span.size() / 2; ++i) {
    span[2 * i] = X[a + i].start - X[a].start;
    span[2 * i + 1] = X[a + i].end - X[a].start;
  }
  auto copies = [&](int64_t from, int64_t to) {
    int64_t w = 0, off = 0, step_w = 0, step_off = 0;
    if (rel && from < to) {  // copy `from`'s first start: window w, `off` units into it
      const Units o = X[a].start + Units(from) * pu;
      w = int64_t(o / wu);
      off = int64_t(o - Units(w) * wu);
      step_w = int64_t(pu / wu);
      step_off = int64_t(pu % wu);
    }
    for (int64_t j = from; j < to; ++j) {
      if (!rel || fed + int64_t(d) > budget) {  // (the last copies before the budget: one by one)
        for (size_t i = 0; i < d; ++i)
          if (!feed(X[a + i], j)) return false;
      } else {
        for (size_t i = 0; i < d; ++i) wp.add_from(w, off + span[2 * i], off + span[2 * i + 1]);
        fed += int64_t(d);
        if (wp.peak() == wp.most()) return false;  // a window already full
      }
      w += step_w;
      off += step_off;
      if (off >= wu) {
        off -= wu;
        ++w;
      }
    }
    return true;
  };
  auto replay = [&] {
    for (size_t i = 0; i < a; ++i)
      if (!feed(Y[i], 0)) return;
    const int64_t L = W / std::gcd(P, W), lit = L + W / P + 2;
    if (k <= 2 * lit) {
      if (!copies(0, k)) return;
    } else {
      if (!copies(0, lit)) return;
      const int64_t m = (k - 2 * lit) / L;  // m L copies skipped: m L P / W whole windows
      wp.shift_windows(m * L * P / W);
      if (!copies(lit + m * L, k)) return;
    }
    for (size_t i = a; i < Y.size(); ++i)
      if (!feed(Y[i], k)) return;
  };
  replay();
  return fed > budget ? Units(-1) : wp.peak();
}

constexpr int64_t kReplayBudget = int64_t(1) << 24;

}  // namespace

const char* PeriodicPlan::name() const {
  return by == Groups::BlockRows      ? "block rows"
         : by == Groups::OutputBlocks ? "output blocks"
         : by == Groups::Copies       ? "copies"
                                      : "fold columns";
}

void set_periodic_ops(bool on) {
  periodic_on = on;
}

PeriodicPlan periodic_groups(const HwSpec& hw, const GemmShape& g, const SubGemms& t) {
  using G = PeriodicPlan::Groups;
  PeriodicPlan p;
  p.cut = t;
  if (t.m >= g.M && t.n >= g.N && t.k >= g.K) {
    p.by = G::FoldColumns;
    p.groups = ceil_div(spatial_map(hw.dataflow, g).Sc, int64_t(hw.array_cols));
    p.full = p.groups - 1;
  } else if (g.N % t.n == 0) {
    p.by = G::OutputBlocks;
    p.groups = ceil_div(g.M, t.m) * ceil_div(g.N, t.n);
    p.full = tail_block(g, t);
  } else {
    p.by = G::BlockRows;
    p.groups = ceil_div(g.M, t.m);
    p.full = p.groups - 1;
  }
  return p;
}

std::optional<PeriodicPlan> periodic_plan(const ValidHw& valid, const GemmOp& op,
                                          const OpPlacement* place) {
  const HwSpec& hw = valid;
  const GemmShape& g = op.shape;
  if (!periodic_on || hw.fidelity == Fidelity::Cycle) return std::nullopt;
  if (g.M < 1 || g.N < 1 || g.K < 1 || op.repeat < 1) return std::nullopt;
  if (place && place->stored_outputs >= 0) return std::nullopt;
  // A head program with a period of q groups (run_gemm_periodic()) holds at most
  // max(head, 2 q + 1) + 2 q - 1 full groups and the tail.
  const int64_t n = std::max(kPeriodicHead, 2 * kMaxPeriodGroups + 1) + 2 * kMaxPeriodGroups - 1;
  PeriodicPlan p;
  if (op.repeat > 1) {  // the copies, each the same program
    p.by = PeriodicPlan::Groups::Copies;
    p.cut = SubGemms{g.M, g.N, g.K};
    p.groups = op.repeat;
    p.full = op.repeat - 1;
    p.head_steps = plan_steps_bound(hw, g, std::min(n, p.full) + 1);
    return p.groups < kMinPeriodicGroups ? std::nullopt : std::optional<PeriodicPlan>(p);
  }
  const GemmContext ctx = gemm_context(hw, op, place);
  // The planner's cut, from the search with the limit on the head programs that also gives a
  // finer one (both memoized within a network run); the finer one is taken only if the step
  // limit of a whole program left out a cut as fast as the planner's (SubGemms::limited: else
  // the two searches choose the same).
  SubGemms whole, finer;
  if (op.has_conv)
    whole = finer = choose_sub_gemms(hw, g, ctx);
  else
    finer = choose_sub_gemms_within(hw, g, kMaxCutSteps, kPeriodicHead + 2, ctx, true, &whole);
  if (op.has_conv) {
    // One copy of a conv by its fold columns along N only (WS, OS), uncut: every column reads
    // the same input rows. (Its blocks of output rows differ at the image's edges.)
    if (hw.dataflow == Dataflow::IS || whole.m < g.M || whole.n < g.N || whole.k < g.K)
      return std::nullopt;
  } else if (!whole.limited) {
    finer = whole;
  }
  p = periodic_groups(
      hw, g, finer.bound > 0 && whole.bound > 0 && finer.bound < whole.bound ? finer : whole);
  if (p.full < p.head + 2 || p.groups < kMinPeriodicGroups) return std::nullopt;
  // Every full group has the most steps: n of them and the tail hold at most (n + tail) / full
  // of the whole.
  const int64_t tail = p.groups - p.full;
  const int64_t steps =
      p.by == PeriodicPlan::Groups::FoldColumns ? plan_steps_bound(hw, g, 1) : int64_t(p.cut.steps);
  p.head_steps = int64_t(std::min<__int128>(
      steps, (__int128(steps) * (std::min(n, p.full) + tail) + p.full - 1) / p.full));
  return p;
}

void check_whole_program(const HwSpec& hw, const GemmOp& op, const PeriodicPlan& p,
                         const std::string& what, const std::string& advice) {
  const int64_t steps = plan_steps_bound(hw, op.shape, 1);
  if (steps <= max_program_steps(false)) return;  // (planned lazily, plan_gemm_op())
  throw InputError(what + ": its " + std::to_string(p.groups) + " " + p.name() +
                   " do not settle into a period within the first " + std::to_string(p.head + 1) +
                   ", and its whole program of " + std::to_string(steps) + " steps is more than " +
                   program_steps_limit_text(false) + "; " + advice);
}

namespace {

// One try: Y runs the first hy groups and the tail, X the first hy + q; the whole GEMM is Y with
// (full - hy) / q times X's q inserted groups. *q_next: the groups a period of the channel
// spans if it is not a whole number of cycles per q groups (0: it is, or no channel).
std::optional<GemmRunResult> attempt(const ValidHw& valid, const GemmOp& op,
                                     const OpPlacement* place, const PeriodicPlan& p, int64_t hy,
                                     int64_t q, Units busy, const JobLink* link, Program xprog,
                                     int64_t* q_next) {
  *q_next = 0;
  const HwSpec& hw = valid;
  if ((p.full - hy) % q != 0 || p.full - hy < q) return std::nullopt;
  // X first; Y is X's program without groups hy .. hy + q - 1 (what head_program(hy) plans,
  // PeriodicOps.HeadProgramsNest): one program planned, its memory reused.
  if (xprog.steps.empty()) xprog = head_program(valid, op, place, p, hy + q);
  HeadRun X = head_run(valid, p, hy + q, std::move(xprog), busy, link);
  std::vector<TileStep> steps = std::move(X.prog.steps);
  X.prog.steps.clear();
  steps.erase(steps.begin() + std::ptrdiff_t(X.first[size_t(hy)]),
              steps.begin() + std::ptrdiff_t(X.first[size_t(hy + q)]));
  Program yprog = X.prog;  // (shape, tile, plan: the same)
  yprog.steps = std::move(steps);
  HeadRun Y = head_run(valid, p, hy, std::move(yprog), busy, link);
  // The channel's time for X's q more groups: if not a whole number of cycles, the timeline
  // repeats only every q_next groups (per_cycle / gcd(units, per_cycle) periods).
  const Units pc = std::max(Y.per_cycle, X.per_cycle);
  if (pc > 0) {
    Units units = 0;
    for (const Transfer& t : X.log) units += t.end - t.start;
    for (const Transfer& t : Y.log) units -= t.end - t.start;
    Units a = units, b = pc;
    while (b != 0) a = std::exchange(b, a % b);
    if (a > 0 && pc / a > 1) *q_next = q * int64_t(pc / a);
  }
  // X must be Y with one group's worth of steps inserted, and the same for the channel's
  // transfers: the first a as in Y, then d inserted that repeat the two times d before them
  // period after period, then Y's from a on, one period later (inserted(), below). A step's
  // timing may depend on the steps after it (loads ahead), so the insertion need not start at a
  // group's first step.
  const std::vector<StepTiming>&ys = Y.ar.steps, &xs = X.ar.steps;
  if (ys.size() != Y.steps || xs.size() != X.steps || Y.overflow || X.overflow) return std::nullopt;
  if (xs.size() <= ys.size() || X.first[size_t(hy)] != Y.first[size_t(hy)]) return std::nullopt;
  const size_t dn = xs.size() - ys.size();
  size_t at = 0;
  while (at < ys.size() && shifted(ys[at], xs[at], 0)) ++at;
  if (at < 2 * dn) return std::nullopt;
  const int64_t P = xs[at].end - xs[at - dn].end;
  if (P <= 0) return std::nullopt;
  if (!inserted(ys, xs, at, dn, [&](const StepTiming& a, const StepTiming& b, int64_t n) {
        return shifted(a, b, n * P);
      }))
    return std::nullopt;
  const Units per_cycle = std::max(Y.per_cycle, X.per_cycle);
  const Units pu = Units(P) * per_cycle;
  const std::vector<Transfer>&yl = Y.log, &xl = X.log;
  if (xl.size() < yl.size()) return std::nullopt;
  const size_t d = xl.size() - yl.size();
  size_t a = 0;
  while (a < yl.size() && shifted(yl[a], xl[a], 0, 0)) ++a;
  if (d > 0 && a < 2 * d) return std::nullopt;
  if (!inserted(yl, xl, a, d, [&](const Transfer& x, const Transfer& y, int64_t n) {
        return shifted(x, y, n * P, n * pu);
      }))
    return std::nullopt;

  // What must not change with the groups: first cycles, peaks of buffer occupancy, what the op
  // before handed over, what is handed to the next op relative to the end, the next op's
  // prefetched weight blocks. The channel's in-flight state at the end (its last transfer)
  // moves by the period, or stays if no transfer follows the inserted groups.
  const AccelResult &ya = Y.ar, &xa = X.ar;
  if (ya.array.first_cycle != xa.array.first_cycle || ya.ifmap.peak_bytes != xa.ifmap.peak_bytes ||
      ya.filter.peak_bytes != xa.filter.peak_bytes || ya.ofmap.peak_bytes != xa.ofmap.peak_bytes ||
      ya.vector_end != xa.vector_end || ya.stage_tail != xa.stage_tail ||
      ya.carried_bytes != xa.carried_bytes || ya.carried_from != xa.carried_from ||
      ya.ofmap_free[0] != xa.ofmap_free[0] || ya.ofmap_free[1] != xa.ofmap_free[1] ||
      ya.prefetched.size() != xa.prefetched.size())
    return std::nullopt;
  // (The blocks are loaded as soon as a filter half is free for good, in the first groups in
  // every network we run: the same in both runs. A block loaded after the inserted groups would
  // be loaded a period later in X; that case is not extended: the whole program runs.)
  for (size_t i = 0; i < ya.prefetched.size(); ++i) {
    const PrefetchBlock &yb = ya.prefetched[i], &xb = xa.prefetched[i];
    if (xb.bytes != yb.bytes || xb.issued != yb.issued || xb.ready != yb.ready) return std::nullopt;
  }
  if (X.busy_after != Y.busy_after + pu && X.busy_after != Y.busy_after) return std::nullopt;
  for (size_t o = 0; o < ya.dram.traffic.size(); ++o)
    for (size_t w = 0; w < 2; ++w)
      if (ya.dram.traffic[o][w].first_cycle != xa.dram.traffic[o][w].first_cycle)
        return std::nullopt;

  const int64_t k = (p.full - hy) / q;  // times X's q groups are inserted into Y
  const int64_t W = ya.dram.peak_window;
  const Units peak = replay_peak(yl, xl, a, d, k, P, W, per_cycle, kReplayBudget);
  if (peak < 0) return std::nullopt;

  AccelResult z = ya;
  z.steps.clear();
  z.total_cycles = lin(ya.total_cycles, xa.total_cycles, k);
  z.array_end = lin(ya.array_end, xa.array_end, k);
  z.last_store_ready = lin(ya.last_store_ready, xa.last_store_ready, k);
  ArrayStats& as = z.array;
  as.macs = lin(ya.array.macs, xa.array.macs, k);
  as.folds = lin(ya.array.folds, xa.array.folds, k);
  as.segments = lin(ya.array.segments, xa.array.segments, k);
  as.mapped_pe_cycles = lin(ya.array.mapped_pe_cycles, xa.array.mapped_pe_cycles, k);
  as.last_cycle = lin(ya.array.last_cycle, xa.array.last_cycle, k);
  as.idle_cycles = lin(ya.array.idle_cycles, xa.array.idle_cycles, k);
  DramStats& ds = z.dram;
  for (size_t o = 0; o < ds.traffic.size(); ++o)
    for (size_t w = 0; w < 2; ++w) {
      const DramTrafficStats &yt = ya.dram.traffic[o][w], &xt = xa.dram.traffic[o][w];
      ds.traffic[o][w].bytes = lin(yt.bytes, xt.bytes, k);
      ds.traffic[o][w].requests = lin(yt.requests, xt.requests, k);
      ds.traffic[o][w].last_cycle = lin(yt.last_cycle, xt.last_cycle, k);
    }
  ds.bytes_read = lin(ya.dram.bytes_read, xa.dram.bytes_read, k);
  ds.bytes_written = lin(ya.dram.bytes_written, xa.dram.bytes_written, k);
  ds.requests = lin(ya.dram.requests, xa.dram.requests, k);
  ds.last_ready = lin(ya.dram.last_ready, xa.dram.last_ready, k);
  Units used = 0;  // Y's transfer time and k inserted slices'
  for (const Transfer& t : yl) used += t.end - t.start;
  for (size_t i = a; i < a + d; ++i) used += Units(k) * (xl[i].end - xl[i].start);
  ds.busy_cycles = per_cycle > 0 ? double(used) / double(per_cycle) : 0;
  ds.peak_window_bytes = double(peak) / double(DramChannel::kScale);
  for (auto [zs, ys_, xs_] :
       {std::tuple{&z.ifmap, &ya.ifmap, &xa.ifmap}, std::tuple{&z.filter, &ya.filter, &xa.filter},
        std::tuple{&z.ofmap, &ya.ofmap, &xa.ofmap}}) {
    zs->reads = lin(ys_->reads, xs_->reads, k);
    zs->writes = lin(ys_->writes, xs_->writes, k);
    zs->blocks = lin(ys_->blocks, xs_->blocks, k);
  }

  const ProgramSums &sy = Y.sums, &sx = X.sums;
  ProgramSums s;
  s.steps = lin(sy.steps, sx.steps, k);
  s.fold_pe = lin(sy.fold_pe, sx.fold_pe, k);
  s.final_out = lin(sy.final_out, sx.final_out, k);
  s.side = lin(sy.side, sx.side, k);
  s.regs.read_bits = lin(sy.regs.read_bits, sx.regs.read_bits, k);
  s.regs.write_bits = lin(sy.regs.write_bits, sx.regs.write_bits, k);
  s.regs.transfer_bits = lin(sy.regs.transfer_bits, sx.regs.transfer_bits, k);
  s.regs.macs = lin(sy.regs.macs, sx.regs.macs, k);

  Y.prog.repeat = op.repeat;  // (copies: the head program's)
  GemmRunResult res = gemm_run_result(hw, Y.prog, s, z);
  res.name = op.name;
  set_channel_busy_units(lin(Y.busy_after, X.busy_after, k));
  res.periodic = std::to_string(hy + q + p.groups - p.full) + " of its " +
                 std::to_string(p.groups) + " " + p.name() + " simulated, every " +
                 (q > 1 ? std::to_string(q) + " others" : std::string("other one")) +
                 " a period of " + std::to_string(P) + " cycles";
  return res;
}

}  // namespace

std::optional<GemmRunResult> run_gemm_periodic(const ValidHw& hw, const GemmOp& op,
                                               const OpPlacement* place, const PeriodicPlan& p,
                                               const JobLink* link, Program first) {
  // Every head run starts from the channel state the whole run would start from; if none
  // settles, the caller's whole run too.
  const Units busy = channel_busy_units();
  // The same op from the same state and link as one run before (a network's repeated layers):
  // its result, kept in the memo of identical jobs.
  if (first.steps.empty()) first = head_program(hw, op, place, p, p.head + 1);
  const DerivedMemo memo(
      accel_config(hw), first, link,
      {int64_t(p.by), p.groups, p.full, p.head, p.cut.m, p.cut.n, p.cut.k, op.repeat});
  if (const DerivedMemo::Entry* e = memo.find()) {
    set_channel_busy_units(e->busy_after);
    std::optional<GemmRunResult> r = std::any_cast<std::optional<GemmRunResult>>(e->value);
    if (r) r->name = op.name;
    return r;
  }
  auto run = [&]() -> std::optional<GemmRunResult> {
    int64_t q = 0;
    std::optional<GemmRunResult> r =
        attempt(hw, op, place, p, p.head, 1, busy, link, std::move(first), &q);
    if (r || q < 2 || q > kMaxPeriodGroups) return r;
    // A period of the channel spanning q groups: q groups at a time, after at least 2 q + 1.
    int64_t hy = std::max(p.head, 2 * q + 1);
    while ((p.full - hy) % q != 0) ++hy;
    int64_t unused = 0;
    return attempt(hw, op, place, p, hy, q, busy, link, Program{}, &unused);
  };
  std::optional<GemmRunResult> r = run();
  if (!r) set_channel_busy_units(busy);
  memo.keep(r, channel_busy_units());
  return r;
}

std::optional<std::vector<int64_t>> periodic_first_filter_loads(const ValidHw& hw, const GemmOp& op,
                                                                const OpPlacement* place,
                                                                const PeriodicPlan& p,
                                                                Program* head_program_out) {
  constexpr size_t kMost = 2;  // (first_filter_loads()'s default)
  // The first head program run_gemm_periodic() runs; its first `head` groups are those of
  // head_program(head) (the programs nest, PeriodicOps.HeadProgramsNest).
  Program prog = head_program(hw, op, place, p, p.head + 1);
  // Among the steps of the first `head` groups: those before the first step of group `head`.
  std::vector<int64_t> out =
      first_filter_loads(prog, kMost, first_steps(hw, p, prog, p.head + 1)[size_t(p.head)]);
  if (head_program_out) *head_program_out = std::move(prog);
  if (out.size() < kMost) return std::nullopt;
  return out;
}

}  // namespace ssim
