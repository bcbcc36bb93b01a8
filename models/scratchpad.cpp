#include "models/scratchpad.hpp"

#include <stdexcept>
#include <string>

namespace ssim {

Scratchpad::Scratchpad(sc_core::sc_module_name name) : sc_core::sc_module(name) {}

void Scratchpad::configure(int64_t capacity_bytes) {
  if (capacity_bytes < 2) throw std::logic_error("scratchpad: capacity must be >= 2 bytes");
  capacity_ = capacity_bytes;
  used_ = {{-1, -1}};
  stats_ = ScratchpadStats{};
}

void Scratchpad::occupy(int h, int64_t bytes) {
  if (h < 0 || h > 1) throw std::logic_error("scratchpad: half must be 0 or 1");
  if (busy(h))
    throw std::logic_error(std::string(name()) + ": half " + std::to_string(h) +
                           " is still in use");
  if (bytes < 0 || bytes > half_bytes())
    throw std::logic_error(std::string(name()) + ": block of " + std::to_string(bytes) +
                           " bytes does not fit a half of " + std::to_string(half_bytes()));
  used_[size_t(h)] = bytes;
  stats_.blocks += 1;
  const int64_t held = (used_[0] > 0 ? used_[0] : 0) + (used_[1] > 0 ? used_[1] : 0);
  if (held > stats_.peak_bytes) stats_.peak_bytes = held;
}

void Scratchpad::release(int h) {
  if (h < 0 || h > 1 || !busy(h)) throw std::logic_error("scratchpad: releasing a free half");
  used_[size_t(h)] = -1;
}

}  // namespace ssim
