// A sliding window over a sequence numbered from 0: records are pushed at the back and dropped at
// the front, and read by their number. The controller keeps its per-step, per-block and
// per-output-tile records in windows, so that a job planned lazily (docs/memory-system.md,
// "Planning lazily") holds only the records still in use. In the sanitizer build
// (SSIM_CHECKED_WINDOWS) a read of a record dropped or not yet pushed throws std::logic_error;
// the release build does not check (the checks cost 4 % of a large GEMM's run).
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssim {

template <class T>
class Window {
 public:
  void clear() {
    v_.clear();
    first_ = lo_ = hi_ = 0;
    d_ = v_.data();
  }
  void reserve(size_t n) {
    v_.reserve(n);
    d_ = v_.data();
  }
  size_t begin_index() const { return lo_; }  // the first record kept
  size_t end_index() const { return hi_; }    // records pushed so far
  T& push_back(const T& x) {
    v_.push_back(x);
    d_ = v_.data();
    ++hi_;
    return v_.back();
  }
  // Record i (which must be kept: begin_index() <= i < end_index()).
  T& operator[](size_t i) {
    check(i);
    return d_[i - first_];
  }
  const T& operator[](size_t i) const {
    check(i);
    return d_[i - first_];
  }
  // Drops the records before i. The storage moves down once half of it is dropped (amortised
  // constant time per record).
  void drop_before(size_t i) {
    if (i <= lo_) return;
    lo_ = std::min(i, hi_);
    if (2 * (lo_ - first_) >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + std::ptrdiff_t(lo_ - first_));
      first_ = lo_;
      d_ = v_.data();
    }
  }

 private:
  void check([[maybe_unused]] size_t i) const {
#ifdef SSIM_CHECKED_WINDOWS
    if (i < lo_ || i >= hi_)
      throw std::logic_error("controller: record " + std::to_string(i) + " read, kept " +
                             std::to_string(lo_) + " .. " + std::to_string(hi_) + " (window)");
#endif
  }
  std::vector<T> v_;  // records first_ .. hi_ - 1
  T* d_ = nullptr;    // v_.data()
  size_t first_ = 0;  // the number of v_[0]
  size_t lo_ = 0;     // the first record kept (>= first_)
  size_t hi_ = 0;     // first_ + v_.size()
};

}  // namespace ssim
