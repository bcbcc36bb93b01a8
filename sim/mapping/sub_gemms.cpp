// The planner's choice of sub-GEMMs (docs/memory-system.md, "Streaming planner", "Blocking K"):
// the candidate cuts of a GEMM, their estimated time and traffic, the plan of the chosen one, and
// repeated GEMMs. The blocks, folds and steps of one sub-GEMM are laid out in tiler.cpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/mapping/im2col.hpp"
#include "sim/mapping/lazy_plan.hpp"
#include "sim/mapping/tiler.hpp"

namespace ssim {

namespace {

// Candidate sub-GEMM sizes along a dimension of size D laid along array dimension u (1: the
// stream): the whole, even splits into 2 .. 8 rounded up to u, and powers of two times u.
std::vector<int64_t> tile_candidates(int64_t D, int64_t u) {
  u = std::max<int64_t>(1, std::min(u, D));
  std::vector<int64_t> c{D};
  for (int64_t p = 2; p <= 8 && p <= D; ++p) c.push_back(std::min(D, round_up(ceil_div(D, p), u)));
  for (int64_t t = std::max<int64_t>(u, 16); t < D; t *= 2) c.push_back(t);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

// The array's cycles for a GEMM's folds in closed form (docs/cycle-accounting.md): without fold
// overlap exact; with it, each fold costs at least its stream or its fill and drain.
double fold_cycles(const HwSpec& hw, const GemmShape& g) {
  const SpatialMap sm = spatial_map(hw.dataflow, g);
  const int64_t R = hw.array_rows, C = hw.array_cols;
  const int64_t nr = ceil_div(sm.Sr, R), nc = ceil_div(sm.Sc, C);
  const double lr = double(sm.Sr - (nr - 1) * R), lc = double(sm.Sc - (nc - 1) * C);
  double total = 0;
  for (int ir = 0; ir < 2; ++ir)
    for (int ic = 0; ic < 2; ++ic) {
      const double n = double(ir ? 1 : nr - 1) * double(ic ? 1 : nc - 1);
      if (n <= 0) continue;
      const double r = ir ? lr : double(R), c = ic ? lc : double(C), T = double(sm.T);
      const double fill = r + double(R) + c - 2;
      total += n * (hw.fold_overlap ? std::max(T, fill) : T + fill);
    }
  return total;
}

}  // namespace

namespace {

// Candidate k-block sizes (SubGemms::k): K itself, and for WS and IS plain GEMMs multiples of
// the array's rows (a fold's K-chunk), so a cut changes the order of the folds, not their shapes.
std::vector<int64_t> k_candidates(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  std::vector<int64_t> c{g.K};
  const int64_t R = hw.array_rows;
  if (hw.dataflow == Dataflow::OS || ctx.conv || g.K <= R) return c;
  for (int64_t p = 2; p <= 8; p *= 2) {
    const int64_t k = round_up(ceil_div(g.K, p), R);
    if (k < g.K) c.push_back(k);
  }
  for (int64_t t = 2 * R; t < g.K; t *= 2) c.push_back(t);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

// The distinct extents of the sub-GEMMs of a dimension D's candidate block sizes c (ascending,
// distinct): the blocks and the remainders (the last, possibly shorter, block). block[i] and
// last[i] index candidate c[i]'s two in `values` (c, then the remainders that are no candidate).
struct SubExtents {
  std::vector<int64_t> values;
  std::vector<size_t> block, last;
  SubExtents(int64_t D, const std::vector<int64_t>& c) {
    values.reserve(2 * c.size());
    values = c;
    block.resize(c.size());
    last.resize(c.size());
    for (size_t i = 0; i < c.size(); ++i) {
      block[i] = i;
      const int64_t r = D - (ceil_div(D, c[i]) - 1) * c[i];
      const auto in_c = std::lower_bound(c.begin(), c.end(), r);
      size_t j = size_t(in_c - c.begin());
      if (in_c == c.end() || *in_c != r) {
        j = size_t(std::find(values.begin() + ptrdiff_t(c.size()), values.end(), r) -
                   values.begin());
        if (j == values.size()) values.push_back(r);
      }
      last[i] = j;
    }
  }
  size_t size() const { return values.size(); }
};

// A sub-GEMM's terms in a cut's estimate, each times the number of such sub-GEMMs: its array
// cycles, DRAM bytes and program steps; `fits`: plan_blocks() planned it.
// `bounded`: the cycles and a lower bound of the bytes, known without planning it; `known`:
// planned.
struct SubCost {
  bool bounded = false, known = false, fits = false;
  double cycles = 0, traffic_low = 0, traffic = 0, steps = 0;
};

// A cut's estimate and its terms (the sums over its sub-GEMMs); `fits`: each sub-GEMM does.
struct CutCost {
  bool fits = true;
  double compute = 0, traffic = 0, steps = 0, est = 0;
};

// Calls f(sub, n, im, in, ik) for the (at most 8) distinct sub-GEMM shapes of a cut, how many
// there are, and whether each of its extents is the remainder (1) or a whole block (0).
template <class F>
void for_each_sub_gemm(const GemmShape& g, const SubGemms& t, F f) {
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n), tk = ceil_div(g.K, t.k);
  const int64_t lm = g.M - (tm - 1) * t.m, ln = g.N - (tn - 1) * t.n, lk = g.K - (tk - 1) * t.k;
  for (int im = 0; im < 2; ++im)
    for (int in = 0; in < 2; ++in)
      for (int ik = 0; ik < 2; ++ik) {
        const int64_t n = (im ? 1 : tm - 1) * (in ? 1 : tn - 1) * (ik ? 1 : tk - 1);
        if (n > 0) f(GemmShape{im ? lm : t.m, in ? ln : t.n, ik ? lk : t.k}, n, im, in, ik);
      }
}

}  // namespace

namespace {

// The cuts choose_sub_gemms() chose within a PlanMemoScope, by shape and context.
struct PlanMemo {
  const HwSpec* hw = nullptr;  // the scope's hardware (nullptr: no scope)
  bool enabled = true;
  using Key = std::array<int64_t, 22>;
  std::map<Key, SubGemms> cuts;
  // choose_sub_gemms_within()'s, by shape and context, rows, blocks and the limit's bits: the
  // cut and the whole GEMM's.
  std::map<std::pair<Key, std::array<int64_t, 3>>, std::pair<SubGemms, SubGemms>> within;
};

PlanMemo& plan_memo() {
  static PlanMemo m;
  return m;
}

// Off: search_sub_gemms() plans every sub-GEMM of every cut, without its table or the lower bound
// (set_search_pruning()).
bool search_pruning = true;
int64_t lazy_plan_steps = kLazyPlanSteps;  // set_lazy_plan_steps()

PlanMemo::Key plan_key(const GemmShape& g, const GemmContext& ctx) {
  static_assert(sizeof(GemmContext) == 24 && sizeof(ConvGeom) == 120,
                "a planning input was added: add it to plan_key()");
  const ConvGeom c = ctx.conv ? *ctx.conv : ConvGeom{};
  return {g.M,
          g.N,
          g.K,
          ctx.side_bytes,
          ctx.a_on_chip,
          ctx.c_on_chip,
          ctx.conv != nullptr,
          c.batch,
          c.in_h,
          c.in_w,
          c.channels,
          c.kernel_h,
          c.kernel_w,
          c.stride_h,
          c.stride_w,
          c.pad_h,
          c.pad_w,
          c.dilation_h,
          c.dilation_w,
          c.out_h,
          c.out_w,
          c.m_base};
}

// With whole_best, also the cut choose_sub_gemms() would choose (the default limits), found in
// the same pass.
SubGemms search_sub_gemms(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx,
                          double max_steps = kMaxCutSteps, int64_t rows = 0, bool blocks = false,
                          SubGemms* whole_best = nullptr);

}  // namespace

PlanMemoScope::PlanMemoScope(const HwSpec& hw) {
  plan_memo().cuts.clear();
  plan_memo().within.clear();
  plan_memo().hw = &hw;
}

PlanMemoScope::~PlanMemoScope() {
  plan_memo().cuts.clear();
  plan_memo().within.clear();
  plan_memo().hw = nullptr;
}

void set_plan_memo(bool on) {
  plan_memo().enabled = on;
}

void set_search_pruning(bool on) {
  search_pruning = on;
}

void set_lazy_plan_steps(int64_t steps) {
  lazy_plan_steps = steps;
}

bool plans_lazily(double steps) {
  return lazy_plan_steps >= 0 && steps > double(lazy_plan_steps);
}

int64_t max_program_steps(bool held) {
  return held || lazy_plan_steps < 0 ? kMaxPlanSteps : kMaxLazySteps;
}

std::string program_steps_limit_text(bool held) {
  const int64_t n = max_program_steps(held);
  return "the " + std::to_string(n) +
         (n == kMaxPlanSteps ? " (about 5 GiB of memory) one op may hold"
                             : " one op may run (the controller numbers its steps in 32 bits)");
}

SubGemms choose_sub_gemms(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  PlanMemo& memo = plan_memo();
  if (memo.hw != &hw || !memo.enabled) return search_sub_gemms(hw, g, ctx);
  const PlanMemo::Key key = plan_key(g, ctx);
  if (const auto it = memo.cuts.find(key); it != memo.cuts.end()) return it->second;
  const SubGemms t = search_sub_gemms(hw, g, ctx);
  memo.cuts.emplace(key, t);
  return t;
}

SubGemms choose_sub_gemms_within(const HwSpec& hw, const GemmShape& g, double max_steps,
                                 int64_t rows, const GemmContext& ctx, bool blocks,
                                 SubGemms* whole) {
  PlanMemo& memo = plan_memo();
  if (memo.hw != &hw || !memo.enabled)
    return search_sub_gemms(hw, g, ctx, max_steps, rows, blocks, whole);
  int64_t limit = 0;
  std::memcpy(&limit, &max_steps, sizeof limit);
  const PlanMemo::Key key = plan_key(g, ctx);
  const auto wkey = std::make_pair(key, std::array<int64_t, 3>{rows, blocks, limit});
  auto it = memo.within.find(wkey);
  if (it == memo.within.end()) {
    SubGemms w;
    const SubGemms t = search_sub_gemms(hw, g, ctx, max_steps, rows, blocks, &w);
    it = memo.within.emplace(wkey, std::make_pair(t, w)).first;
    memo.cuts.emplace(key, w);  // (the same search's choose_sub_gemms())
  }
  if (whole) *whole = it->second.second;
  return it->second.first;
}

namespace {

SubGemms search_sub_gemms(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx,
                          double max_steps, int64_t rows, bool blocks, SubGemms* whole_best) {
  const GemmPlan whole = plan_blocks(hw, g, ctx);  // the whole GEMM's smallest blocks must fit
  const SpatialMap wsm = spatial_map(hw.dataflow, g);
  const double uncut = double(ceil_div(wsm.Sr, hw.array_rows)) *
                       double(ceil_div(wsm.Sc, hw.array_cols)) * double(whole.segments);
  if (hw.dram_stall_free()) {  // the buffer-independent schedule
    if (whole_best) *whole_best = {g.M, g.N, g.K, uncut};
    return {g.M, g.N, g.K, uncut};
  }

  // A modelled channel: the GEMM may also be cut into sub-GEMMs along M and N, and (WS, IS) K,
  // each run fold-major after the last, when that saves more transfer time than it costs in
  // fills and drains: TPU-style blocking of the activations to the accumulators, with the
  // weights reloaded per block, and Gemmini-style blocking of K into the accumulators.
  const double bw = hw.dram_bw(), lat = double(hw.dram_latency);
  const int64_t R = hw.array_rows, C = hw.array_cols;
  int64_t um = 1, un = 1;
  switch (hw.dataflow) {
    case Dataflow::OS:
      um = R, un = C;
      break;
    case Dataflow::WS:
      un = C;
      break;
    case Dataflow::IS:
      um = C;
      break;
  }
  const int64_t out_half = sram_bytes(hw, Operand::Ofmap) / 2;
  const std::vector<int64_t> mc = tile_candidates(g.M, um), nc = tile_candidates(g.N, un),
                             kc = k_candidates(hw, g, ctx);
  // The cuts share their sub-GEMM shapes (a cut's blocks and remainders along each dimension):
  // each distinct one is planned once, on first use, its terms kept in a table by extent index.
  const SubExtents em(g.M, mc), en(g.N, nc), ek(g.K, kc);
  thread_local std::vector<SubCost> costs;
  costs.assign(em.size() * en.size() * ek.size(), SubCost{});
  thread_local std::vector<int64_t> conv_a;  // a conv's A bytes per (m, k) extent (-1: not yet)
  conv_a.assign(ctx.conv ? em.size() * ek.size() : 0, -1);
  const int64_t a_half = sram_half_bytes(hw, Operand::Ifmap);
  // A sub-GEMM's array cycles, and a lower bound of its DRAM bytes without planning it: B's
  // bytes, the outputs', and A's; each operand is read at least once, and a conv's A (raw input
  // rows), when it is streamed and fits a half, is read once whole (plan_blocks()).
  const auto bound = [&](const GemmShape& sub, size_t i, size_t mk) -> const SubCost& {
    SubCost& e = costs[i];
    if (e.bounded && search_pruning) return e;
    e.bounded = true;
    e.cycles = fold_cycles(hw, sub);
    int64_t a = 0;
    if (ctx.a_on_chip) {
    } else if (!ctx.conv) {
      a = sub.M * sub.K * hw.input_bytes;
    } else if (hw.dataflow != Dataflow::IS) {
      if (conv_a[mk] < 0 || !search_pruning)
        conv_a[mk] = a_bytes(ctx.conv, 0, sub.M, 0, sub.K, hw.input_bytes);
      a = conv_a[mk] <= a_half ? conv_a[mk] : 0;
    }
    const int64_t b = sub.K * sub.N * hw.input_bytes;
    if (sub.K < g.K)
      e.traffic_low = double(a) + double(b);
    else
      e.traffic_low = double(a + b + sub.M * sub.N * (hw.output_bytes + ctx.side_bytes) -
                             (ctx.c_on_chip ? sub.M * sub.N * hw.output_bytes : 0));
    return e;
  };
  const auto cost = [&](const GemmShape& sub, size_t i, size_t mk) -> const SubCost& {
    SubCost& e = costs[i];
    if (e.known && search_pruning) return e;
    e.known = true;
    try {
      const bool all = sub.M == g.M && sub.N == g.N && sub.K == g.K;
      const GemmPlan p = all ? whole : plan_blocks(hw, sub, ctx);  // (the first sub-GEMM's rows)
      const SpatialMap sm = spatial_map(hw.dataflow, sub);
      const double a = ctx.a_on_chip ? 0.0 : double(p.traffic.ifmap);
      if (sub.K < g.K)  // the outputs once per output block, in estimate()
        e.traffic = a + double(p.traffic.filter);
      else
        e.traffic = double(p.traffic.total() - p.traffic.ifmap + int64_t(a) -
                           (ctx.c_on_chip ? sub.M * sub.N * hw.output_bytes : 0));
      e.steps = double(ceil_div(sm.Sr, R) * ceil_div(sm.Sc, C) * p.segments);
      e.fits = true;
      if (bound(sub, i, mk).traffic_low > e.traffic)
        throw std::logic_error("search_sub_gemms: a sub-GEMM's bytes below their lower bound");
    } catch (const InputError&) {
      e.fits = false;
    }
    return e;
  };
  const double outputs_k_cut =  // a k-block cut's outputs, once per output block
      double(g.M * g.N) * double(ctx.side_bytes + (ctx.c_on_chip ? 0 : int64_t(hw.output_bytes)));
  // The estimate of cut (mc[mi], nc[ni], kc[ki]), or with `low` a lower bound of it: each term
  // at most the estimate's, added in the same order.
  const auto estimate = [&](size_t mi, size_t ni, size_t ki, bool low) {
    const int64_t Mt = mc[mi], Nt = nc[ni], Kt = kc[ki];
    const size_t at[3][2] = {
        {em.block[mi], em.last[mi]}, {en.block[ni], en.last[ni]}, {ek.block[ki], ek.last[ki]}};
    CutCost c;
    for_each_sub_gemm(
        g, SubGemms{Mt, Nt, Kt}, [&](const GemmShape& sub, int64_t n, int im, int in, int ik) {
          if (!c.fits) return;
          const size_t i = (at[0][im] * en.size() + at[1][in]) * ek.size() + at[2][ik];
          const size_t mk = at[0][im] * ek.size() + at[2][ik];
          const SubCost& e = low ? bound(sub, i, mk) : cost(sub, i, mk);
          if (e.known && !e.fits) {
            c.fits = false;
            return;
          }
          c.compute += double(n) * e.cycles;
          c.traffic += double(n) * (low ? e.traffic_low : e.traffic);
          c.steps += double(n) * e.steps;
        });
    if (Kt < g.K) c.traffic += outputs_k_cut;
    // The first sub-GEMM's first blocks before anything computes.
    // (An A already on chip costs nothing.)
    const double first =
        ctx.a_on_chip ? 0.0
                      : double(std::min(Mt, g.M) * std::min<int64_t>(Kt, R) * hw.input_bytes) / bw;
    const int64_t tm = ceil_div(g.M, Mt), tn = ceil_div(g.N, Nt), tk = ceil_div(g.K, Kt);
    c.est = std::max(c.compute, c.traffic / bw) + first + 2 * lat +
            double(tm * tn * tk);  // a cycle per sub-GEMM: ties go to fewer
    return c;
  };
  // The uncut GEMM, the last candidate (within every limit, and it fits: `whole`), bounds the
  // best from the start: a cut whose lower bound exceeds it or the best so far cannot be chosen,
  // nor tie, nor make a `limited` (which compares with the final best, at most both): it is not
  // planned.
  const double uncut_est = estimate(mc.size() - 1, nc.size() - 1, kc.size() - 1, false).est;
  SubGemms best_t{g.M, g.N, g.K, uncut};
  double best = std::numeric_limits<double>::infinity(), best_whole = best, limited = best,
         limited_whole = best;
  if (whole_best) *whole_best = best_t;
  for (size_t mi = 0; mi < mc.size(); ++mi)
    for (size_t ni = 0; ni < nc.size(); ++ni)
      for (size_t ki = 0; ki < kc.size(); ++ki) {
        const int64_t Mt = mc[mi], Nt = nc[ni], Kt = kc[ki];
        // A k-block cut keeps the block's accumulators (and a fused add's operand) in a half.
        if (Kt < g.K && Mt * Nt * (kAccumulatorBytes + ctx.side_bytes) > out_half) continue;
        if (search_pruning) {
          const CutCost lo = estimate(mi, ni, ki, true);
          if (!lo.fits) continue;  // (a sub-GEMM planned before did not fit)
          if (lo.est > std::min(best, uncut_est) &&
              (!whole_best || lo.est > std::min(best_whole, uncut_est)))
            continue;
        }
        const CutCost c = estimate(mi, ni, ki, false);
        const double steps = c.steps;
        const int64_t tm = ceil_div(g.M, Mt), tn = ceil_div(g.N, Nt);
        // The cost of simulating follows the steps: no cut that makes more than max_steps of
        // them (unless the uncut plan has more already); with `rows`, in the first rows block
        // rows (what run_gemm_periodic() simulates).
        double simulated = rows > 0 && rows < tm ? steps * double(rows) / double(tm) : steps;
        if (rows > 0 && blocks && g.N % Nt == 0) {  // output blocks (periodic_groups())
          const double sim = double(rows - 1 + (g.M % Mt ? tn : 1));
          simulated = steps * std::min(1.0, sim / (double(tm) * double(tn)));
        }
        const bool cut = Mt < g.M || Nt < g.N || Kt < g.K;
        const bool within = !(simulated > max_steps && cut);
        const bool whole_ok = whole_best && !(steps > kMaxCutSteps && cut);
        if (!c.fits) continue;
        const double est = c.est;
        if (!within) limited = std::min(limited, est);
        if (cut && steps > kMaxCutSteps) limited_whole = std::min(limited_whole, est);
        if (!within && !whole_ok) continue;
        SubGemms t{Mt, Nt, Kt};
        t.steps = steps;
        t.bound = std::max(c.compute, c.traffic / bw);
        if (within && est < best) {
          best = est;
          best_t = t;
        }
        if (whole_ok && est < best_whole) {
          best_whole = est;
          *whole_best = t;
        }
      }
  best_t.limited = limited <= best;
  if (whole_best) whole_best->limited = limited_whole <= best_whole;
  return best_t;
}

}  // namespace

namespace {

// The sub-GEMMs of a cut in run order (SubGemmOrder): f(m0, n0, k0, sub, its plan, its context)
// for each, then block_done(bm, bn) after each output block.
template <class F, class Done>
void for_each_sub_gemm_in_order(const HwSpec& hw, const GemmShape& g, const SubGemms& t,
                                const GemmContext& ctx, F f, Done block_done) {
  for (SubGemmOrder o(g, t, ctx.conv); !o.done(); o.next()) {
    const GemmContext sc = o.context(ctx);
    const GemmShape sub = o.sub();
    f(o.m0(), o.n0(), o.k0(), sub, plan_blocks(hw, sub, sc), sc);
    if (o.block_last()) block_done(sub.M, sub.N);
  }
}

}  // namespace

DramTraffic gemm_traffic(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  const SubGemms t = choose_sub_gemms(hw, g, ctx);
  const bool kcut = t.k < g.K;
  DramTraffic d;
  for_each_sub_gemm_in_order(
      hw, g, t, ctx,
      [&](int64_t, int64_t, int64_t, const GemmShape&, const GemmPlan& p, const GemmContext&) {
        d.ifmap += p.traffic.ifmap;
        d.filter += p.traffic.filter;
        if (kcut) return;  // the block's outputs, once, below
        d.ofmap += p.traffic.ofmap;
        d.psum += p.traffic.psum;
        d.side += p.traffic.side;
      },
      [&](int64_t bm, int64_t bn) {
        if (!kcut) return;
        d.ofmap += bm * bn * hw.output_bytes;
        d.side += bm * bn * ctx.side_bytes;
      });
  return d;
}

Program plan_gemm(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  return plan_gemm_rows(hw, g, choose_sub_gemms(hw, g, ctx), -1, ctx);
}

int64_t tail_block(const GemmShape& g, const SubGemms& t) {
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n);
  return g.M % t.m ? (tm - 1) * tn : tm * tn - 1;
}

namespace {
Program plan_cut(const HwSpec& hw, const GemmShape& g, const SubGemms& t, int64_t head, bool blocks,
                 const GemmContext& ctx, bool lazy = false);
}  // namespace

Program plan_gemm_rows(const HwSpec& hw, const GemmShape& g, const SubGemms& t, int64_t head_rows,
                       const GemmContext& ctx) {
  return plan_cut(hw, g, t, head_rows, false, ctx);
}

Program plan_gemm_blocks(const HwSpec& hw, const GemmShape& g, const SubGemms& t,
                         int64_t head_blocks, const GemmContext& ctx) {
  return plan_cut(hw, g, t, head_blocks, true, ctx);
}

Program plan_gemm_lazy(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  return plan_cut(hw, g, choose_sub_gemms(hw, g, ctx), -1, false, ctx, true);
}

namespace {
Program plan_cut(const HwSpec& hw, const GemmShape& g, const SubGemms& t, int64_t head, bool blocks,
                 const GemmContext& ctx, bool lazy) {
  const GemmPlan whole = plan_blocks(hw, g, ctx);
  const bool uncut = t.m >= g.M && t.n >= g.N && t.k >= g.K;
  if (uncut && !lazy) return build_program(hw, g, whole, ctx);

  CutSteps steps(hw, g, t, ctx, head, blocks);
  Program p = gemm_program(hw, g,
                           uncut ? whole.describe()
                                 : "sub-gemm:" + std::to_string(t.m) + "x" + std::to_string(t.n) +
                                       (t.k < g.K ? "x" + std::to_string(t.k) : std::string()) +
                                       " " + steps.sub_steps().plan().describe());
  if (lazy) {
    p.lazy = lazy_cut_plan(hw, g, t, ctx, p.tile);
    return p;
  }
  // The whole program's steps, as the search counted them: reserved (growing by doubling copied
  // every step about once more, 11 % of a large conv's run on a small array, with the page faults
  // of the copies).
  if (head < 0 && t.steps > 0 && t.steps <= double(kMaxPlanSteps)) p.steps.reserve(size_t(t.steps));
  steps.append(p);
  return p;
}
}  // namespace

int64_t plan_steps_bound(const HwSpec& hw, const GemmShape& g, int64_t repeat) {
  const double copies = double(std::max<int64_t>(1, repeat));
  // choose_sub_gemms() keeps the uncut GEMM or a cut of at most kMaxCutSteps steps, so when
  // that bound is small enough the choice itself (a search over cuts, 27 % of a ResNet-50 run's
  // instructions) need not be made here. plan_blocks() still refuses a GEMM whose smallest
  // blocks do not fit.
  const GemmPlan whole = plan_blocks(hw, g, GemmContext{});
  const SpatialMap sm = spatial_map(hw.dataflow, g);
  const double uncut = double(ceil_div(sm.Sr, hw.array_rows)) *
                       double(ceil_div(sm.Sc, hw.array_cols)) * double(whole.segments);
  const double loose = std::max(uncut, kMaxCutSteps) * copies;
  const double one =
      loose <= double(kMaxPlanSteps) ? loose / copies : choose_sub_gemms(hw, g).steps;
  return int64_t(std::min(one * copies, 4e18));
}

int64_t plan_steps_bound(const HwSpec& hw, const VectorOp& op) {
  return ceil_div(op.outputs, choose_vector_chunks(hw, op).outputs);
}

// --- Repeated GEMMs ------------------------------------------------------------------------------

Program repeat_program(const Program& one, int64_t repeat, int64_t m_stride, int64_t n_stride) {
  if (repeat < 1)
    throw InputError("gemm op: repeat = " + std::to_string(repeat) + ", allowed: >= 1");
  if (one.shared != 1)
    throw std::logic_error("repeat_program: the copies of a program share steps");
  Program p = one;
  p.repeat = one.repeat * repeat;
  p.steps.clear();
  p.steps.reserve(one.steps.size() * size_t(repeat));
  for (int64_t i = 0; i < repeat; ++i) {
    const int64_t dm = i * m_stride, dn = i * n_stride;
    for (const TileStep& s : one.steps) {
      p.steps.push_back(s);
      TileStep& t = p.steps.back();
      t.copy = i;
      t.m0 += dm;
      t.n0 += dn;
      t.folds.shift(dm, dn, 0);
    }
  }
  return p;
}

Program unshared(Program p) {
  if (p.lazy) p = materialized(std::move(p));
  if (p.shared == 1) return p;
  const int64_t copies = p.shared, dm = p.copy_m, dn = p.copy_n;
  p.repeat = p.shared = 1;
  p.copy_m = p.copy_n = 0;
  return repeat_program(p, copies, dm, dn);
}

Program plan_gemm_op(const HwSpec& hw, const GemmShape& g, int64_t repeat, int64_t m_stride,
                     int64_t n_stride, const GemmContext& ctx) {
  if (repeat < 1)
    throw InputError("gemm op: repeat = " + std::to_string(repeat) + ", allowed: >= 1");
  // A program of more than kLazyPlanSteps steps is planned lazily (docs/memory-system.md,
  // "Planning lazily"): its steps are made as the controller needs them.
  const SubGemms t = choose_sub_gemms(hw, g, ctx);
  double steps = t.steps;
  if (steps <= 0) {  // (the uncut GEMM, not estimated: its folds' segments)
    const SpatialMap sm = spatial_map(hw.dataflow, g);
    steps = double(ceil_div(sm.Sr, hw.array_rows)) * double(ceil_div(sm.Sc, hw.array_cols)) *
            double(plan_blocks(hw, g, ctx).segments);
  }
  Program p = plan_cut(hw, g, t, -1, false, ctx, plans_lazily(steps * double(repeat)));
  // The copies share copy 0's steps (Program::shared).
  p.repeat = p.shared = repeat;
  p.copy_m = repeat > 1 ? m_stride : 0;
  p.copy_n = repeat > 1 ? n_stride : 0;
  return p;
}

}  // namespace ssim
