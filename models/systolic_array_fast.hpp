// The fast array model: computes each fold's schedule from the recurrences in
// docs/cycle-accounting.md in one step, with no per-cycle work and no values. Its cycle counts
// equal the cycle-by-cycle model's for every shape, dataflow and option.
#pragma once

#include "models/array_model.hpp"

namespace ssim {

class SystolicArrayFast : public ArrayModel {
 public:
  explicit SystolicArrayFast(sc_core::sc_module_name name) : ArrayModel(name) {}
  void configure(const ArrayConfig& cfg, int64_t origin) override;
  void submit(TileCmd cmd) override;
  TileReads submit_now(uint64_t id, const FoldList& folds) override;
  bool synchronous() const override { return true; }

 private:
  // Schedules one fold that may start at job cycle `a`; returns its end cycle E.
  int64_t schedule(const Fold& f, int64_t a);

  // Recurrence state of the previous folds (see docs/cycle-accounting.md).
  int64_t p1_ = 0, r1_ = 0;  // previous fold's preload start and rows
  int64_t s1_ = 0, t1_ = 0;  // previous fold's stream start and length
  // End of the current fold (its latest segment so far), of the fold before it and of the one
  // before that.
  int64_t chain_ = -1, chain1_ = -1, chain2_ = -1;
  bool open_ = false;        // the last segment had `more` set: a continuation must follow
  int64_t busy_until_ = -1;  // latest end so far, for idle-cycle accounting
  int64_t last_read_ = -1;   // last scratchpad read of the last fold scheduled
};

}  // namespace ssim
