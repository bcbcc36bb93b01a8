#include "models/systolic_array_fast.hpp"

#include <algorithm>
#include <stdexcept>

namespace ssim {

void SystolicArrayFast::configure(const ArrayConfig& cfg, int64_t origin) {
  ArrayModel::configure(cfg, origin);
  p1_ = r1_ = s1_ = t1_ = 0;
  chain_ = chain1_ = chain2_ = busy_until_ = -1;
  open_ = false;
}

void SystolicArrayFast::submit(TileCmd cmd) {
  const TileReads r = submit_now(cmd.id, cmd.folds);
  // Known now: the controller takes them when this submit returns (no notification needed).
  if (r.preloaded >= 0) reads_done(cmd.id, r.preloaded, true, false);
  reads_done(cmd.id, r.read, false, false);
}

ArrayModel::TileReads SystolicArrayFast::submit_now(uint64_t id, const FoldList& folds) {
  if (folds.empty()) throw std::logic_error("array: a tile command needs at least one fold");
  ++submitted_;
  const int64_t a = job_cycle();
  int64_t end = -1, read = -1;
  // With fold overlap a narrow fold can end before the fold before it: the tile ends with the
  // latest of its folds (and has read its operands with the latest of theirs).
  int64_t preloaded = -1;
  for (const Fold& f : folds) {
    end = std::max(end, schedule(f, a));
    read = std::max(read, last_read_);
    if (!f.cont && cfg_.dataflow != Dataflow::OS) preloaded = std::max(preloaded, p1_ + r1_ - 1);
  }
  finish_tile(id, end);
  return TileReads{preloaded, read};
}

int64_t SystolicArrayFast::schedule(const Fold& f, int64_t a) {
  const int64_t r = f.rows, c = f.cols, T = f.T, R = cfg_.rows;
  if (r < 1 || c < 1 || T < 1 || r > cfg_.rows || c > cfg_.cols)
    throw std::logic_error("array: fold does not fit the array");
  if (f.cont != open_)
    throw std::logic_error(f.cont ? "array: a continuation segment follows no open fold"
                                  : "array: a new fold starts before the last one's segments");
  if (!f.cont) {  // a new fold: the fold before becomes the previous one
    chain2_ = chain1_;
    chain1_ = chain_;
  }
  // (Segments of one fold end in order, so the fold's end is its latest segment's.)
  int64_t act = 0, end = 0;
  if (cfg_.dataflow == Dataflow::OS) {
    // The stream follows the previous segment without a gap unless its data is late; a new fold
    // without overlap waits for the previous fold's drain. The accumulators move (at the last
    // segment's end) only after the previous fold's drain has ended.
    int64_t s = std::max(a, s1_ + t1_);
    if (!f.cont && !cfg_.fold_overlap) s = std::max(a, chain1_ + 1);
    if (!f.more && cfg_.fold_overlap) s = std::max(s, chain1_ - T + 2);
    if (f.more) {
      end = s + T + r + c - 3;  // the segment's last MAC, in PE(r-1, c-1)
    } else {
      const int64_t d = std::max(s + T + r + c - 2, chain1_ + 1);
      end = d + R - 1;
    }
    act = s;
    s1_ = s;
    t1_ = T;
    last_read_ = s + T + std::max(r, c) - 2;
    if (trace_) trace_->fold(f, s, s, end);
  } else {
    int64_t p = 0, s = 0;
    if (f.cont) {  // no preload: the stream goes on behind the previous segment
      s = std::max(a, s1_ + t1_);
      p = s;
    } else if (cfg_.fold_overlap) {
      p = std::max({a, p1_ + r1_, chain2_ + 1});
      s = std::max(p + r, s1_ + t1_);
      p1_ = p;
      r1_ = r;
    } else {
      p = std::max(a, chain1_ + 1);
      s = p + r;
      p1_ = p;
      r1_ = r;
    }
    end = s + T + R + c - 3;
    act = f.cont ? s : p;
    if (trace_) trace_->fold(f, p, s, end);
    s1_ = s;
    t1_ = T;
    last_read_ = s + T + r - 2;
  }
  chain_ = end;
  open_ = f.more;

  stats_.macs += f.macs();
  stats_.folds += f.cont ? 0 : 1;
  stats_.segments += 1;
  stats_.mapped_pe_cycles += uint64_t(cfg_.rows) * uint64_t(cfg_.cols) * uint64_t(T);
  if (stats_.first_cycle < 0) stats_.first_cycle = act;
  stats_.idle_cycles += std::max<int64_t>(0, act - (busy_until_ + 1));
  busy_until_ = std::max(busy_until_, end);
  stats_.last_cycle = busy_until_;
  return end;
}

}  // namespace ssim
