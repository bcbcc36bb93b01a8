#include "models/systolic_array_fast.hpp"

#include <algorithm>
#include <stdexcept>

namespace ssim {

void SystolicArrayFast::configure(const ArrayConfig& cfg, int64_t origin) {
  ArrayModel::configure(cfg, origin);
  p1_ = r1_ = s1_ = t1_ = 0;
  e1_ = e2_ = busy_until_ = -1;
}

void SystolicArrayFast::submit(TileCmd cmd) {
  if (cmd.folds.empty()) throw std::logic_error("array: a tile command needs at least one fold");
  ++submitted_;
  const int64_t a = job_cycle();
  int64_t end = -1;
  // With fold overlap a narrow fold can end before the fold before it: the tile ends with the
  // latest of its folds.
  for (const Fold& f : cmd.folds) end = std::max(end, schedule(f, a));
  finish_tile(cmd.id, end);
}

int64_t SystolicArrayFast::schedule(const Fold& f, int64_t a) {
  const int64_t r = f.rows, c = f.cols, T = f.T, R = cfg_.rows;
  if (r < 1 || c < 1 || T < 1 || r > cfg_.rows || c > cfg_.cols)
    throw std::logic_error("array: fold does not fit the array");
  int64_t act = 0, end = 0;
  if (cfg_.dataflow == Dataflow::OS) {
    const int64_t s = cfg_.fold_overlap ? std::max({a, s1_ + t1_, e1_ - T + 2})
                                        : std::max(a, e1_ + 1);
    const int64_t d = std::max(s + T + r + c - 2, e1_ + 1);
    end = d + R - 1;
    act = s;
    s1_ = s;
    t1_ = T;
  } else {
    int64_t p = 0, s = 0;
    if (cfg_.fold_overlap) {
      p = std::max({a, p1_ + r1_, e2_ + 1});
      s = std::max(p + r, s1_ + t1_);
    } else {
      p = std::max(a, e1_ + 1);
      s = p + r;
    }
    end = s + T + R + c - 3;
    act = p;
    p1_ = p;
    r1_ = r;
    s1_ = s;
    t1_ = T;
  }
  e2_ = e1_;
  e1_ = end;

  stats_.macs += f.macs();
  stats_.folds += 1;
  stats_.mapped_pe_cycles += uint64_t(cfg_.rows) * uint64_t(cfg_.cols) * uint64_t(T);
  if (stats_.first_cycle < 0) stats_.first_cycle = act;
  stats_.idle_cycles += std::max<int64_t>(0, act - (busy_until_ + 1));
  busy_until_ = std::max(busy_until_, end);
  stats_.last_cycle = busy_until_;
  return end;
}

}  // namespace ssim
