#include "models/systolic_array_fast.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace ssim {

bool SystolicArrayFast::fold_by_fold_ = false;

void SystolicArrayFast::configure(const ArrayConfig& cfg, int64_t origin) {
  ArrayModel::configure(cfg, origin);
  x_ = State{};
  decisive_ = false;
  stepped_ = 0;
}

void SystolicArrayFast::submit(TileCmd cmd) {
  const TileReads r = submit_now(cmd.id, cmd.folds);
  // Known now: the controller takes them when this submit returns (no notification needed).
  if (r.preloaded >= 0) reads_done(cmd.id, r.preloaded, true, false);
  reads_done(cmd.id, r.read, false, false);
}

ArrayModel::TileReads SystolicArrayFast::submit_now(uint64_t id, const FoldGrid& g) {
  const uint64_t n = g.size();
  if (n == 0) throw std::logic_error("array: a tile command needs at least one fold");
  const FoldShape u = g.shape();  // every fold is as large as this or smaller
  if (u.rows < 1 || u.cols < 1 || u.T < 1 || u.rows > cfg_.rows || u.cols > cfg_.cols)
    throw std::logic_error("array: fold does not fit the array");
  ++submitted_;
  const int64_t a = job_cycle();
  // With fold overlap a narrow fold can end before the fold before it: the tile ends with the
  // latest of its folds (and has read its operands with the latest of theirs).
  TileMax t;
  if (trace_ || fold_by_fold_ || n <= 2) {
    for (uint64_t i = 0; i < n; ++i) {
      const Fold f = g[i];
      step(FoldShape{f.rows, f.cols, f.T}, f.cont, f.more, a, t, &f);
    }
  } else {  // the first and last folds carry the segment flags; those between are plain
    const int64_t nsr = g.sr_chunks(), last_sc = int64_t(n - 1) / nsr;
    step(g.shape_at(0, 0), g.cont, false, a, t);
    run_range(g, 1, n - 1, a, t);
    step(g.shape_at(last_sc, nsr - 1), false, g.more, a, t);
  }
  finish_tile(id, t.end);
  return TileReads{t.preloaded, t.read};
}

void SystolicArrayFast::run_range(const FoldGrid& g, uint64_t lo, uint64_t hi, int64_t a,
                                  TileMax& t) {
  const int64_t nsr = g.sr_chunks(), nsc = g.sc_chunks();
  const FoldShape u = g.shape();
  // Sr-chunks of the uniform row count in every Sc-chunk: all, or all but the edge.
  const int64_t uni = g.edge_rows() == u.rows ? nsr : nsr - 1;
  // Folds [from, to) of Sc-chunk sc: a run of identical folds, then the edge fold if included.
  auto column = [&](int64_t sc, int64_t from, int64_t to, TileMax& ct) {
    const FoldShape full = g.shape_at(sc, 0);
    const int64_t u_end = std::min(to, uni);
    if (u_end > from)
      repeat(uint64_t(u_end - from), ct, [&](TileMax& ft) { step(full, false, false, a, ft); });
    if (uni < nsr && from <= nsr - 1 && nsr - 1 < to)
      step(g.shape_at(sc, nsr - 1), false, false, a, ct);
  };
  int64_t i = int64_t(lo);
  const int64_t end = int64_t(hi);
  if (i % nsr != 0 && i < end) {  // the rest of a started Sc-chunk
    const int64_t sc = i / nsr, e = std::min(end, (sc + 1) * nsr);
    column(sc, i % nsr, e - sc * nsr, t);
    i = e;
  }
  if (i < end) {
    // Whole Sc-chunks sc0 .. sc1-1: those of the full column count are identical blocks.
    const int64_t sc0 = i / nsr, sc1 = end / nsr;
    const int64_t scu = g.edge_cols() == u.cols ? sc1 : std::min(sc1, nsc - 1);
    if (scu > sc0) repeat(uint64_t(scu - sc0), t, [&](TileMax& ct) { column(sc0, 0, nsr, ct); });
    for (int64_t sc = std::max(sc0, scu); sc < sc1; ++sc) column(sc, 0, nsr, t);
    i = sc1 * nsr;
    if (i < end) column(sc1, 0, end - i, t);  // the start of the last Sc-chunk
  }
}

bool SystolicArrayFast::shifted(const State& x, const State& y, int64_t& lambda) const {
  if (x.r1 != y.r1 || x.t1 != y.t1 || x.open != y.open) return false;
  const int64_t l = y.chain - x.chain;
  if (l <= 0) return false;
  // OS never preloads: p1 stays put.
  const bool p_ok = cfg_.dataflow == Dataflow::OS ? x.p1 == y.p1 : y.p1 - x.p1 == l;
  if (!p_ok || y.s1 - x.s1 != l || y.chain1 - x.chain1 != l || y.chain2 - x.chain2 != l ||
      y.busy_until - x.busy_until != l || y.last_read - x.last_read != l)
    return false;
  lambda = l;
  return true;
}

template <class Block>
void SystolicArrayFast::repeat(uint64_t n, TileMax& t, Block&& block) {
  // X_i, the state after i blocks, with what block i added: its maxima, its statistics, whether
  // the arrival decided a maximum in it. Kept for the last kPeriods + 1 blocks.
  constexpr uint64_t kPeriods = 4;
  struct Rec {
    State x;
    TileMax t;
    ArrayStats d;  // increments of macs, folds, segments, mapped_pe_cycles, idle_cycles
    bool decisive = false;
  };
  std::array<Rec, kPeriods + 1> h;
  const bool outer = decisive_;
  bool any = false;
  h[0].x = x_;
  uint64_t i = 0;
  while (i < n) {
    decisive_ = false;
    const ArrayStats before = stats_;
    Rec& r = h[(i + 1) % (kPeriods + 1)];
    r.t = TileMax{};
    block(r.t);
    ++i;
    r.x = x_;
    r.d.macs = stats_.macs - before.macs;
    r.d.folds = stats_.folds - before.folds;
    r.d.segments = stats_.segments - before.segments;
    r.d.mapped_pe_cycles = stats_.mapped_pe_cycles - before.mapped_pe_cycles;
    r.d.idle_cycles = stats_.idle_cycles - before.idle_cycles;
    r.decisive = decisive_;
    any = any || decisive_;
    t.end = std::max(t.end, r.t.end);
    t.read = std::max(t.read, r.t.read);
    t.preloaded = std::max(t.preloaded, r.t.preloaded);
    if (trace_ || fold_by_fold_) continue;
    // Periodic with period d: X_i = X_{i-d} + lambda, and the arrival decided nothing in the last
    // d blocks. Then every later block repeats the one d before it, lambda later
    // (docs/cycle-accounting.md, "Runs of identical folds"): jump over whole periods.
    for (uint64_t d = 1; d <= kPeriods && d <= i; ++d) {
      const uint64_t m = (n - i) / d;
      if (m == 0) break;
      int64_t lambda = 0;
      if (!shifted(h[(i - d) % (kPeriods + 1)].x, x_, lambda)) continue;
      bool free = true;
      for (uint64_t j = i - d + 1; j <= i && free; ++j) free = !h[j % (kPeriods + 1)].decisive;
      if (!free) continue;
      const int64_t s = int64_t(m) * lambda;
      auto later = [s](int64_t v) { return v < 0 ? v : v + s; };
      for (uint64_t j = i - d + 1; j <= i; ++j) {
        const Rec& q = h[j % (kPeriods + 1)];
        t.end = std::max(t.end, later(q.t.end));
        t.read = std::max(t.read, later(q.t.read));
        t.preloaded = std::max(t.preloaded, later(q.t.preloaded));
        stats_.macs += m * q.d.macs;
        stats_.folds += m * q.d.folds;
        stats_.segments += m * q.d.segments;
        stats_.mapped_pe_cycles += m * q.d.mapped_pe_cycles;
        stats_.idle_cycles += int64_t(m) * q.d.idle_cycles;
      }
      x_.p1 = cfg_.dataflow == Dataflow::OS ? x_.p1 : x_.p1 + s;
      x_.s1 += s;
      x_.chain += s;
      x_.chain1 += s;
      x_.chain2 += s;
      x_.busy_until += s;
      x_.last_read += s;
      stats_.last_cycle = x_.busy_until;
      i += m * d;
      // Fewer than d blocks are left: step them.
      break;
    }
  }
  decisive_ = outer || any;
}

void SystolicArrayFast::step(const FoldShape& f, bool cont, bool more, int64_t a, TileMax& t,
                             const Fold* fold) {
  const int64_t r = f.rows, c = f.cols, T = f.T, R = cfg_.rows;
  State& x = x_;
  if (cont != x.open)
    throw std::logic_error(cont ? "array: a continuation segment follows no open fold"
                                : "array: a new fold starts before the last one's segments");
  ++stepped_;
  if (!cont) {  // a new fold: the fold before becomes the previous one
    x.chain2 = x.chain1;
    x.chain1 = x.chain;
  }
  // max(a, v), noting when the arrival wins.
  auto after_a = [&](int64_t v) {
    if (a > v) decisive_ = true;
    return std::max(a, v);
  };
  // (Segments of one fold end in order, so the fold's end is its latest segment's.)
  int64_t act = 0, end = 0;
  if (cfg_.dataflow == Dataflow::OS) {
    // The stream follows the previous segment without a gap unless its data is late; a new fold
    // without overlap waits for the previous fold's drain. The accumulators move (at the last
    // segment's end) only after the previous fold's drain has ended.
    int64_t s = !cont && !cfg_.fold_overlap ? after_a(x.chain1 + 1) : after_a(x.s1 + x.t1);
    if (!more && cfg_.fold_overlap) s = std::max(s, x.chain1 - T + 2);
    if (more) {
      end = s + T + r + c - 3;  // the segment's last MAC, in PE(r-1, c-1)
    } else {
      const int64_t d = std::max(s + T + r + c - 2, x.chain1 + 1);
      end = d + R - 1;
    }
    act = s;
    x.s1 = s;
    x.t1 = T;
    x.last_read = s + T + std::max(r, c) - 2;
    if (fold && trace_) trace_->fold(*fold, s, s, end);
  } else {
    int64_t p = 0, s = 0;
    if (cont) {  // no preload: the stream goes on behind the previous segment
      s = after_a(x.s1 + x.t1);
      p = s;
    } else if (cfg_.fold_overlap) {
      p = after_a(std::max(x.p1 + x.r1, x.chain2 + 1));
      s = std::max(p + r, x.s1 + x.t1);
      x.p1 = p;
      x.r1 = r;
    } else {
      p = after_a(x.chain1 + 1);
      s = p + r;
      x.p1 = p;
      x.r1 = r;
    }
    end = s + T + R + c - 3;
    act = cont ? s : p;
    if (fold && trace_) trace_->fold(*fold, p, s, end);
    x.s1 = s;
    x.t1 = T;
    x.last_read = s + T + r - 2;
    if (!cont) t.preloaded = std::max(t.preloaded, p + r - 1);
  }
  x.chain = end;
  x.open = more;
  t.end = std::max(t.end, end);
  t.read = std::max(t.read, x.last_read);

  stats_.macs += uint64_t(r) * uint64_t(c) * uint64_t(T);
  stats_.folds += cont ? 0 : 1;
  stats_.segments += 1;
  stats_.mapped_pe_cycles += uint64_t(cfg_.rows) * uint64_t(cfg_.cols) * uint64_t(T);
  if (stats_.first_cycle < 0) stats_.first_cycle = act;
  stats_.idle_cycles += std::max<int64_t>(0, act - (x.busy_until + 1));
  x.busy_until = std::max(x.busy_until, end);
  stats_.last_cycle = x.busy_until;
}

}  // namespace ssim
