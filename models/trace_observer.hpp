// What a trace writer (sim/report/traces.*) sees of a job: the DRAM channel's transfers, tagged by
// the controller with what they move, and the fold segments the array model scheduled. Installed
// for a job by run_program() when set_trace_observer() holds one (--traces); null otherwise, so a
// run without traces pays one pointer test per request, step and fold.
#pragma once

#include <cstdint>

#include "models/program.hpp"
#include "models/types.hpp"

namespace ssim {

class TraceObserver {
 public:
  virtual ~TraceObserver() = default;

  // What the controller's next DRAM request moves (a tag, then the channel's dram_transfer()).
  enum class Cause {
    Load,      // block `block` of operand `op` (0 ifmap, 1 filter), from its byte `offset` on
    OutLoad,   // output tile `block`'s partial sums and fused-add operand (ofmap reads)
    Store,     // output tile `block` written back (at OutputBytes, or int32 when spilled)
    Prefetch,  // the next job's filter block number `block` (0 or 1) (JobLink::next_filter)
  };
  virtual void dram_tag(Cause cause, int op, int64_t block, int64_t offset) = 0;
  // One request as the channel serves it: issued in job cycle `issue`; with a limited channel its
  // bytes cross from `start` to `end`, in units of 1 / `per_cycle` of a cycle (job-relative);
  // unlimited: all at `issue` (per_cycle = 0).
  virtual void dram_transfer(Operand op, bool write, int64_t bytes, int64_t issue, __int128 start,
                             __int128 end, __int128 per_cycle) = 0;
  // The controller submits array step `step`, of `folds` fold segments, of copy `copy` of a
  // repeated GEMM (its folds follow through fold()).
  virtual void step(size_t step, size_t folds, int64_t copy) = 0;
  // A fold segment as the array scheduled it (the fast model when it is submitted, the cycle model
  // when its stream starts; in order either way): preload from `preload` (WS, IS first segments),
  // stream from `stream`, last output at `end` (docs/cycle-accounting.md).
  virtual void fold(const Fold& f, int64_t preload, int64_t stream, int64_t end) = 0;
};

// The observer run_program() installs for the jobs it runs (nullptr: none).
inline TraceObserver*& trace_observer_slot() {
  static TraceObserver* slot = nullptr;
  return slot;
}
inline void set_trace_observer(TraceObserver* t) {
  trace_observer_slot() = t;
}

}  // namespace ssim
