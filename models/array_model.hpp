// The interface every systolic-array model offers the controller: the cycle-by-cycle,
// value-carrying model and the fast model are interchangeable behind it and must report the same
// cycles (docs/cycle-accounting.md).
#pragma once

#include <deque>
#include <stdexcept>
#include <systemc>

#include "models/sim_time.hpp"
#include "models/trace_observer.hpp"
#include "models/types.hpp"

namespace ssim {

class ArrayModel : public sc_core::sc_module {
 public:
  explicit ArrayModel(sc_core::sc_module_name name);

  // Sets the array shape, dataflow and options for the next job and clears all state and
  // statistics. Call only while the array is idle (between jobs). `origin` is the absolute cycle
  // counted as cycle 0 of the job.
  virtual void configure(const ArrayConfig& cfg, int64_t origin);

  // Operand and result matrices for a value-carrying run; nullptr for timing only. Models that do
  // not carry values ignore it.
  void bind_data(const GemmData* data) { data_ = data; }

  // Called from a SystemC process at an integer cycle time: the tile's folds may start in this
  // cycle or later. Tiles execute in submission order.
  virtual void submit(TileCmd cmd) = 0;

  // One notification per finished tile, at (end_cycle + 0.5) ns; take the tile with pop_done(),
  // which returns only tiles whose end has been reached in simulated time.
  sc_core::sc_event_queue done_events;
  bool pop_done(TileDone& out);
  // One notification per tile when it has read the last of its operands from the scratchpads
  // (its last streamed vector entered the last row or column it uses: WS/IS s + T + r - 2, OS
  // s + T + max(r, c) - 2 of its last fold), at that cycle + 0.5 ns; its blocks may be reused
  // from the next cycle. pop_read() returns such records as soon as the model knows them, which
  // may be before that cycle (the fast model knows at submit and sends no notification); the
  // caller frees the blocks from end_cycle + 1 (end_cycle = that read cycle). WS/IS
  // tiles whose first fold begins with a preload also report its last preload cycle
  // (stationary = true): the stationary tile is in the PEs, its scratchpad block may be reused.
  sc_core::sc_event_queue read_events;
  bool pop_read(TileDone& out);
  // Whether pop_read() or pop_done() would return a record now.
  bool has_reads() const { return !reads_.empty(); }
  bool has_done() const { return !done_.empty() && clock_.reached(done_.front().end_cycle); }
  bool has_records() const { return has_reads() || has_done(); }
  // Whether every submitted tile has finished and been taken.
  bool drained() const { return done_.empty() && submitted_ == finished_; }

  const ArrayStats& stats() const { return stats_; }
  const ArrayConfig& config() const { return cfg_; }
  // Job-relative cycle of the current simulation time (of the local clock while it is on).
  int64_t job_cycle() const { return clock_.now(); }

  // Whether the model knows every tile's timing when the tile is submitted (the fast model): the
  // controller may then run a job on its own clock, without a SystemC wait per event
  // (docs/cycle-accounting.md, "The controller's local clock").
  virtual bool synchronous() const { return false; }
  // A synchronous model's submit() without its read records: submits the tile (its end is
  // queued as by submit()) and returns the cycles the read records would hold (the controller
  // frees the blocks at once instead of taking the records back from a queue).
  struct TileReads {
    int64_t preloaded = -1;  // last preload cycle of the stationary tile (-1: no preload)
    int64_t read = -1;       // last scratchpad read of the tile's operands
  };
  virtual TileReads submit_now(uint64_t id, const FoldGrid& folds) {
    (void)id, (void)folds;
    throw std::logic_error("array: submit_now needs a synchronous model");
  }
  // The local clock: while on (cycle >= 0), job_cycle() is `cycle`, pop_done() compares with it,
  // and finished tiles send no notification. set_local_cycle(-1) turns it off (configure() too).
  void set_local_cycle(int64_t cycle) { clock_.local = cycle; }
  // End cycle of the oldest finished tile not yet taken (-1: none).
  int64_t next_done_cycle() const { return done_.empty() ? -1 : done_.front().end_cycle; }
  // Sees every fold segment scheduled (--traces; only the fast model reports them).
  void set_trace(TraceObserver* t) { trace_ = t; }

 protected:
  // Records a finished tile (job-relative end cycle) and schedules its notification.
  void finish_tile(uint64_t id, int64_t end_cycle);
  // Records that a tile has read all of its operands by `read_cycle` (job-relative).
  void reads_done(uint64_t id, int64_t read_cycle, bool stationary = false, bool notify = true);
  // Job cycle -> SystemC time of its middle (when the array evaluates it).
  sc_core::sc_time eval_time(int64_t job_cycle) const { return clock_.eval_time(job_cycle); }

  ArrayConfig cfg_;
  JobClock clock_;
  const GemmData* data_ = nullptr;
  ArrayStats stats_;
  std::deque<TileDone> done_;
  std::deque<TileDone> reads_;  // not necessarily in cycle order
  uint64_t submitted_ = 0;      // tiles submitted this job (models count them in submit())
  uint64_t finished_ = 0;       // tiles passed to finish_tile()
  TraceObserver* trace_ = nullptr;
};

}  // namespace ssim
