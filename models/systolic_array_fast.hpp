// The fast array model: computes each fold's schedule from the recurrences in
// docs/cycle-accounting.md in one step, with no per-cycle work and no values. Its cycle counts
// equal the cycle-by-cycle model's for every shape, dataflow and option. A command's grid of folds
// is consumed run by run: once a run of identical folds has become periodic (the state after a
// fold, or a few, is the state before plus one constant), the rest of the run is advanced in
// closed form (docs/cycle-accounting.md, "Runs of identical folds"), so a command costs
// O(distinct fold shapes), not O(folds).
#pragma once

#include "models/array_model.hpp"

namespace ssim {

class SystolicArrayFast : public ArrayModel {
 public:
  explicit SystolicArrayFast(sc_core::sc_module_name name) : ArrayModel(name) {}
  void configure(const ArrayConfig& cfg, int64_t origin) override;
  void submit(TileCmd cmd) override;
  TileReads submit_now(uint64_t id, const FoldGrid& folds) override;
  bool synchronous() const override { return true; }

  // Test hook (process-wide): with `on` every fold is stepped by the recurrences, none is jumped
  // over in closed form (as with --traces). false restores normal operation.
  static void set_fold_by_fold_for_tests(bool on) { fold_by_fold_ = on; }
  // Folds stepped one by one in this job (the rest were advanced in closed form).
  uint64_t stepped_folds() const { return stepped_; }

 private:
  // Recurrence state of the previous folds (see docs/cycle-accounting.md).
  struct State {
    int64_t p1 = 0, r1 = 0;  // previous fold's preload start and rows
    int64_t s1 = 0, t1 = 0;  // previous fold's stream start and length
    // End of the current fold (its latest segment so far), of the fold before it and of the one
    // before that.
    int64_t chain = -1, chain1 = -1, chain2 = -1;
    int64_t busy_until = -1;  // latest end so far, for idle-cycle accounting
    int64_t last_read = -1;   // last scratchpad read of the last fold scheduled
    bool open = false;        // the last segment had `more` set: a continuation must follow
  };
  // What a tile reports of its folds so far: the latest end, the latest scratchpad read, the
  // latest end of a stationary preload (-1: none yet).
  struct TileMax {
    int64_t end = -1, read = -1, preloaded = -1;
  };

  // Schedules one fold of shape `f` that may start at job cycle `a` (`fold`: the fold itself, for
  // the trace); sets decisive_ when `a` decided one of the maxima.
  void step(const FoldShape& f, bool cont, bool more, int64_t a, TileMax& t,
            const Fold* fold = nullptr);
  // Folds [lo, hi) of a grid, none of them a continuation or continued.
  void run_range(const FoldGrid& g, uint64_t lo, uint64_t hi, int64_t a, TileMax& t);
  // Runs `n` identical blocks of folds (block(TileMax&) schedules one), jumping over whole periods
  // once the state has become periodic.
  template <class Block>
  void repeat(uint64_t n, TileMax& t, Block&& block);
  // Whether y is x plus one constant lambda > 0 in every time component (the rest equal).
  bool shifted(const State& x, const State& y, int64_t& lambda) const;

  static bool fold_by_fold_;

  State x_;
  bool decisive_ = false;  // the command's arrival decided a maximum since this was cleared
  uint64_t stepped_ = 0;
};

}  // namespace ssim
