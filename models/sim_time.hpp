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

}  // namespace ssim
