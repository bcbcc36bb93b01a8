// Cycle <-> SystemC time. One cycle is 1 ns of simulated time; controllers and memories act at
// integer nanoseconds and the array evaluates cycle n at n + 0.5 ns (docs/cycle-accounting.md).
#pragma once

#include <cstdint>
#include <systemc>

namespace ssim {

inline const sc_core::sc_time& cycle_period() {
  static const sc_core::sc_time p(1, sc_core::SC_NS);
  return p;
}
inline sc_core::sc_time half_cycle() {
  return cycle_period() / 2;
}

// The cycle that contains the current simulation time.
inline int64_t now_cycle() {
  return static_cast<int64_t>(sc_core::sc_time_stamp().value() / cycle_period().value());
}
// The SystemC time at which cycle c begins.
inline sc_core::sc_time cycle_start(int64_t c) {
  return cycle_period() * static_cast<double>(c);
}

// Waits (in an SC_THREAD) until the beginning of cycle c; returns at once if it has begun.
inline void wait_until_cycle(int64_t c) {
  const sc_core::sc_time t = cycle_start(c);
  if (t > sc_core::sc_time_stamp()) sc_core::wait(t - sc_core::sc_time_stamp());
}

// A unit's job time, shared by the array models and the vector unit: job cycle 0 is absolute
// cycle `origin`; while the controller's local clock is on (`local` >= 0, docs/cycle-accounting.md,
// "The controller's local clock") the current job cycle is `local`, otherwise SystemC's time.
struct JobClock {
  int64_t origin = 0;
  int64_t local = -1;

  int64_t now() const { return local >= 0 ? local : now_cycle() - origin; }
  // SystemC time of the middle of job cycle c (when the array evaluates it).
  sc_core::sc_time eval_time(int64_t c) const { return cycle_start(origin + c) + half_cycle(); }
  // Whether work ending in job cycle `end` is seen now: from end + 0.5, by the local clock from
  // cycle end + 1.
  bool reached(int64_t end) const {
    return local >= 0 ? end < local : eval_time(end) <= sc_core::sc_time_stamp();
  }
  // Notifies `q` at end + 0.5 (not under the local clock: the controller asks for the time).
  void notify_at(sc_core::sc_event_queue& q, int64_t end) const {
    if (local >= 0) return;
    const sc_core::sc_time at = eval_time(end), t = sc_core::sc_time_stamp();
    q.notify(at > t ? at - t : sc_core::SC_ZERO_TIME);
  }
};

}  // namespace ssim
