// A sliding window over a sequence numbered from 0: records are pushed at the back and dropped at
// the front, and read by their number. The controller keeps its per-step, per-block and
// per-output-tile records in windows, so that a job planned lazily (docs/memory-system.md,
// "Planning lazily") holds only the records still in use.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace ssim {

template <class T>
class Window {
 public:
  void clear() {
    v_.clear();
    first_ = off_ = 0;
  }
  void reserve(size_t n) { v_.reserve(n); }
  size_t begin_index() const { return off_; }              // the first record kept
  size_t end_index() const { return first_ + v_.size(); }  // records pushed so far
  T& push_back(const T& x) {
    v_.push_back(x);
    return v_.back();
  }
  // Record i (std::logic_error if it was dropped or not pushed yet).
  T& operator[](size_t i) {
    if (i < off_ || i - first_ >= v_.size()) out_of_range();
    return v_[i - first_];
  }
  const T& operator[](size_t i) const {
    if (i < off_ || i - first_ >= v_.size()) out_of_range();
    return v_[i - first_];
  }
  // Drops the records before i. The storage moves down once half of it is dropped (amortised
  // constant time per record).
  void drop_before(size_t i) {
    if (i <= off_) return;
    off_ = std::min(i, end_index());
    if (2 * (off_ - first_) >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + std::ptrdiff_t(off_ - first_));
      first_ = off_;
    }
  }

 private:
  [[noreturn]] static void out_of_range() {
    throw std::logic_error("controller: a record read after it was dropped (window)");
  }
  std::vector<T> v_;  // records first_ .. end_index() - 1
  size_t first_ = 0;  // the number of v_[0]
  size_t off_ = 0;    // the first record kept (>= first_)
};

}  // namespace ssim
