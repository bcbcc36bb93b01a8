// The DRAM channel: one channel of limited bandwidth and a fixed access latency between DRAM and
// the scratchpads. Requests (reads and writes of N bytes) are served strictly in the order they
// are issued. Timing (docs/memory-system.md):
//
//   A request issued in cycle t starts moving data at max(t, end of the previous request) and
//   occupies the channel for bytes / bandwidth cycles (fractional: time is kept exactly in units of
//   1 / (bandwidth in micro-bytes per cycle) of a cycle, so no rounding drifts over a run). Its
//   data is usable from cycle ceil(end) + latency: the cycle after the last byte crossed the
//   channel, plus the latency. Latency is pipelined: it delays each request's data, but does not
//   occupy the channel.
//
// Unlimited bandwidth: every request completes in the cycle it is issued (no transfer time, no
// latency). Bytes are still counted.
#pragma once

#include <array>
#include <cstdint>
#include <systemc>

#include "models/program.hpp"
#include "models/trace_observer.hpp"

namespace ssim {

struct DramParams {
  double bytes_per_cycle = 10;  // > 0 unless unlimited (resolution 1e-6 byte per cycle)
  int64_t latency = 0;          // cycles, >= 0
  bool unlimited = false;
  int64_t peak_window = 1000;  // cycles per window for the peak-bandwidth figure, >= 1
};

enum class DramDir { Read, Write };

struct DramTrafficStats {
  uint64_t bytes = 0;
  uint64_t requests = 0;
  int64_t first_cycle = -1;  // first cycle in which the channel moved this class's bytes
  int64_t last_cycle = -1;   // last such cycle (inclusive)
};

struct DramStats {
  // Per operand and direction: [operand][0 = read, 1 = write].
  std::array<std::array<DramTrafficStats, 2>, kNumOperands> traffic{};
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t requests = 0;
  double busy_cycles = 0;        // cycles the channel moved data (exact sum of transfer times)
  int64_t last_ready = -1;       // ready cycle of the last request (-1: none)
  double peak_window_bytes = 0;  // most bytes moved in one aligned window of peak_window cycles
  int64_t peak_window = 1000;

  const DramTrafficStats& of(Operand op, DramDir d) const {
    return traffic[size_t(op)][d == DramDir::Read ? 0 : 1];
  }
  // Highest bandwidth over any aligned window of peak_window cycles (a run shorter than one
  // window counts as one window of its length), in bytes per cycle.
  double peak_bytes_per_cycle(int64_t run_cycles) const;
  // Bytes read and written per cycle over a run of run_cycles (0 for an empty run).
  double avg_bytes_per_cycle(int64_t run_cycles) const {
    return run_cycles > 0 ? double(bytes_read + bytes_written) / double(run_cycles) : 0;
  }
};

// The busiest aligned window of a channel's transfers (DramStats::peak_window_bytes): fed every
// transfer in the order the channel serves it (start times never decrease). The channel keeps
// one; the periodic run of a GEMM's skipped groups replays a timeline through another
// (sim/run/periodic_run.cpp).
class WindowPeak {
 public:
  using Units = __int128;  // the channel's time units (1 / per_cycle of a cycle, one micro-byte)
  // `window` cycles per window (>= 1); `per_cycle` units per cycle (0: unlimited bandwidth, every
  // transfer counted in its issue cycle).
  void reset(int64_t window, Units per_cycle);
  // A transfer: with a limited channel its bytes cross from `start` to `end` (units, end >
  // start); unlimited: all `amount` units in cycle `issue`.
  void add(int64_t issue, Units start, Units end, Units amount);
  // The same for a limited channel's transfer given from the start of aligned window number
  // `window`: it spans units `from` to `to` after that start, 0 <= from < to < 2^62 (a replay of
  // a repeating stretch of timeline adds each repeat so, in 64 bits).
  void add_from(int64_t window, int64_t from, int64_t to);
  // The window's units (window * per_cycle), if below 2^61; else 0.
  int64_t window_units64() const {
    return window_units_ < (Units(1) << 61) ? int64_t(window_units_) : 0;
  }
  // The most units one aligned window holds so far.
  Units peak() const { return std::max(peak_, cur_units_); }
  // What no window can exceed (window * per_cycle; -1: unlimited, no bound).
  Units most() const { return per_cycle_ > 0 ? window_units_ : Units(-1); }
  // Moves the open window n windows later (a replay skipping n windows of repeated timeline).
  void shift_windows(int64_t n) {
    cur_ += n;
    cur_lo_ += Units(n) * window_units_;
  }

 private:
  void account(int64_t window, Units amount);
  int64_t window_ = 1000;
  Units per_cycle_ = 0, window_units_ = 0;
  int64_t cur_ = -1;
  Units cur_lo_ = 0;  // the open window's first unit (cur_ * window_units_, limited channel)
  Units cur_units_ = 0, peak_ = 0;
};

class DramChannel : public sc_core::sc_module {
 public:
  static constexpr int64_t kScale = 1000000;  // micro-bytes per byte (the channel's time units)

  explicit DramChannel(sc_core::sc_module_name name);

  // Sets the parameters for the next job and clears state and statistics. `origin` is the
  // absolute cycle counted as cycle 0 of the job. Throws InputError on a bandwidth that is not
  // positive and finite (or below the 1e-6 byte/cycle resolution), a negative latency or window.
  void configure(const DramParams& p, int64_t origin = 0);
  // Starts the next job at absolute cycle `origin` on the same channel and parameters, its cycle 0
  // being cycle `elapsed` of the job before (the end of that job, whatever time the simulation
  // stopped at): a request still in flight (a weight prefetch, docs/network-schedule.md) keeps
  // the channel busy into the new job; the statistics restart.
  void continue_at(int64_t origin, int64_t elapsed);

  // Enqueues a request of `bytes` (>= 0) issued in job cycle `cycle`, which must not be earlier
  // than the previous request's. Returns the job cycle from which the data is usable (read: in
  // the scratchpad; write: in DRAM). A request of 0 bytes completes at `cycle` and is not counted.
  int64_t request_at(int64_t cycle, Operand op, DramDir dir, int64_t bytes);
  // The same, issued in the current cycle of the simulation (call from a SystemC process).
  int64_t request(Operand op, DramDir dir, int64_t bytes);

  const DramParams& params() const { return params_; }
  // The first job cycle from which a request starts with the channel already free or freeing
  // within that cycle, so it follows the previous request with no gap (0 when idle from the start).
  int64_t free_cycle() const { return free_cycle_; }
  const DramStats& stats() const;
  // The state a job leaves to the next one (continue_at): the time the channel frees, in its
  // internal units, relative to the job's cycle 0. For the accelerator's memo of identical jobs
  // (models/accelerator.hpp, JobMemoScope): read at a job's start and end, set after a job whose
  // result was taken from the memo.
  __int128 busy_units() const { return free_at_; }
  void set_busy_units(__int128 u);
  // Sees every request as it is served (--traces; nullptr: none).
  void set_trace(TraceObserver* t) { trace_ = t; }

 private:
  using Units = __int128;  // time in units of 1 / per_cycle_ of a cycle; 1 unit = 1 micro-byte

  void restart(int64_t origin);  // a new job's origin and statistics (not the busy state)

  DramParams params_;
  int64_t origin_ = 0;
  Units per_cycle_ = 0;     // bandwidth in micro-bytes per cycle
  Units free_at_ = 0;       // the channel is busy until this time (units)
  int64_t free_cycle_ = 0;  // free_at_ in whole cycles, rounded down (free_cycle())
  int64_t last_issue_ = 0;
  Units busy_units_ = 0;
  WindowPeak window_;
  mutable DramStats stats_;
  TraceObserver* trace_ = nullptr;
};

}  // namespace ssim
