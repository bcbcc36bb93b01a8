#include "models/dram_channel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "models/sim_time.hpp"

namespace ssim {

double DramStats::peak_bytes_per_cycle(int64_t run_cycles) const {
  if (peak_window_bytes <= 0) return 0;
  const int64_t w = std::max<int64_t>(1, std::min(peak_window, std::max<int64_t>(run_cycles, 1)));
  return peak_window_bytes / double(w);
}

DramChannel::DramChannel(sc_core::sc_module_name name) : sc_core::sc_module(name) {}

namespace {
// a / b for the channel's 128-bit units (a >= 0, b > 0): one 64-bit division when both fit, as
// they do unless a run lasts beyond 2^63 micro-bytes (libgcc's 128-bit division cost 7 % of a
// run).
int64_t div_units(__int128 a, __int128 b) {
  constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
  if (a <= kMax && b <= kMax) return int64_t(uint64_t(a) / uint64_t(b));
  return static_cast<int64_t>(a / b);
}
}  // namespace

void DramChannel::configure(const DramParams& p, int64_t origin) {
  if (!p.unlimited) {
    if (!(p.bytes_per_cycle > 0) || !std::isfinite(p.bytes_per_cycle))
      throw InputError("DRAM bandwidth " + std::to_string(p.bytes_per_cycle) +
                       " bytes/cycle: expected a positive number");
    const double micro = std::round(p.bytes_per_cycle * double(kScale));
    if (micro < 1)
      throw InputError("DRAM bandwidth " + std::to_string(p.bytes_per_cycle) +
                       " bytes/cycle: below the resolution of 1e-6 bytes/cycle");
    if (micro > 1e18)
      throw InputError("DRAM bandwidth " + std::to_string(p.bytes_per_cycle) +
                       " bytes/cycle: expected at most 1e12");
    per_cycle_ = Units(static_cast<int64_t>(micro));
  } else {
    per_cycle_ = 0;
  }
  if (p.latency < 0)
    throw InputError("DRAM latency " + std::to_string(p.latency) + ": expected >= 0 cycles");
  if (p.peak_window < 1)
    throw InputError("DRAM peak window " + std::to_string(p.peak_window) + ": expected >= 1");
  params_ = p;
  free_at_ = 0;
  free_cycle_ = 0;
  restart(origin);
}

void DramChannel::continue_at(int64_t origin, int64_t elapsed) {
  if (elapsed < 0) throw std::logic_error("dram: a job cannot start before the previous one");
  const Units shift = Units(elapsed) * per_cycle_;
  set_busy_units(free_at_ > shift ? free_at_ - shift : 0);
  restart(origin);
}

void DramChannel::set_busy_units(__int128 u) {
  free_at_ = u;
  free_cycle_ = per_cycle_ > 0 ? div_units(free_at_, per_cycle_) : 0;
}

void DramChannel::restart(int64_t origin) {
  origin_ = origin;
  last_issue_ = 0;
  busy_units_ = 0;
  window_.reset(params_.peak_window, per_cycle_);
  stats_ = DramStats{};
  stats_.peak_window = params_.peak_window;
}

void WindowPeak::reset(int64_t window, Units per_cycle) {
  window_ = window;
  per_cycle_ = per_cycle;
  window_units_ = Units(window) * per_cycle;
  cur_ = -1;
  cur_units_ = 0;
  peak_ = 0;
}

void WindowPeak::account(int64_t window, Units amount) {
  if (window != cur_) {
    peak_ = std::max(peak_, cur_units_);
    cur_units_ = 0;
    cur_ = window;
    cur_lo_ = Units(window) * window_units_;
  }
  cur_units_ += amount;
}

void WindowPeak::add(int64_t issue, Units start, Units end, Units amount) {
  if (per_cycle_ == 0) {
    account(issue / window_, amount);
    return;
  }
  // Within the open window (most transfers of a run follow one another): no division.
  if (cur_ >= 0 && start >= cur_lo_ && end <= cur_lo_ + window_units_) {
    cur_units_ += end - start;
    return;
  }
  // Spread the transfer over the aligned windows it covers.
  const int64_t w1 = div_units(start, window_units_);
  const int64_t w2 = div_units(end - 1, window_units_);
  if (w1 == w2) {
    account(w1, end - start);
  } else {
    account(w1, Units(w1 + 1) * window_units_ - start);
    if (w2 > w1 + 1) peak_ = std::max(peak_, window_units_);  // a window wholly busy
    account(w2, end - Units(w2) * window_units_);
  }
}

void WindowPeak::add_from(int64_t window, int64_t from, int64_t to) {
  const int64_t wu = int64_t(window_units_);  // (window_units64() > 0: the caller checked)
  const int64_t q1 = from / wu, q2 = (to - 1) / wu;
  if (q1 == q2) {
    account(window + q1, to - from);
  } else {
    account(window + q1, (q1 + 1) * wu - from);
    if (q2 > q1 + 1) peak_ = std::max(peak_, window_units_);  // a window wholly busy
    account(window + q2, to - q2 * wu);
  }
}

int64_t DramChannel::request(Operand op, DramDir dir, int64_t bytes) {
  return request_at(now_cycle() - origin_, op, dir, bytes);
}

int64_t DramChannel::request_at(int64_t cycle, Operand op, DramDir dir, int64_t bytes) {
  if (bytes < 0) throw std::logic_error("dram: negative request size");
  if (cycle < last_issue_) throw std::logic_error("dram: requests must be issued in time order");
  last_issue_ = cycle;
  if (bytes == 0) return cycle;

  DramTrafficStats& ts = stats_.traffic[size_t(op)][dir == DramDir::Read ? 0 : 1];
  ts.bytes += uint64_t(bytes);
  ts.requests += 1;
  stats_.requests += 1;
  (dir == DramDir::Read ? stats_.bytes_read : stats_.bytes_written) += uint64_t(bytes);
  const Units amount = Units(bytes) * kScale;

  int64_t first = 0, last = 0, ready = 0;
  if (params_.unlimited) {
    first = last = ready = cycle;
    window_.add(cycle, 0, 0, amount);
    if (trace_) trace_->dram_transfer(op, dir == DramDir::Write, bytes, cycle, 0, 0, 0);
  } else {
    const Units start = std::max(Units(cycle) * per_cycle_, free_at_);
    const Units end = start + amount;
    free_at_ = end;
    free_cycle_ = div_units(end, per_cycle_);
    busy_units_ += amount;
    if (trace_)
      trace_->dram_transfer(op, dir == DramDir::Write, bytes, cycle, start, end, per_cycle_);
    first = div_units(start, per_cycle_);
    const int64_t end_ceil = div_units(end + per_cycle_ - 1, per_cycle_);
    last = end_ceil - 1;
    ready = end_ceil + params_.latency;
    window_.add(cycle, start, end, amount);
  }
  if (ts.first_cycle < 0) ts.first_cycle = first;
  ts.last_cycle = std::max(ts.last_cycle, last);
  stats_.last_ready = std::max(stats_.last_ready, ready);
  return ready;
}

const DramStats& DramChannel::stats() const {
  stats_.peak_window_bytes = double(window_.peak()) / double(kScale);
  stats_.busy_cycles = per_cycle_ > 0 ? double(busy_units_) / double(per_cycle_) : 0;
  return stats_;
}

}  // namespace ssim
