// A double-buffered scratchpad (SRAM) buffer: the ifmap, filter or ofmap buffer of the
// accelerator. Its capacity is split into two halves; the controller loads (or accumulates) one
// block per half, so the load of the next tile overlaps the compute of the current one.
// The buffer counts accesses in elements (words, as SCALE-Sim does); the counting rules are in
// docs/memory-system.md:
//   ifmap / filter: writes = elements filled from DRAM; reads = operand elements the array reads
//                   (per fold: A is mlen x klen, B is klen x nlen).
//   ofmap:          writes = outputs the array delivers (per fold mlen x nlen, partial sums
//                   included); reads = partial sums read back to accumulate (folds with k0 > 0)
//                   plus outputs read for the write-back to DRAM.
#pragma once

#include <array>
#include <cstdint>
#include <systemc>

namespace ssim {

struct ScratchpadStats {
  uint64_t reads = 0;      // elements
  uint64_t writes = 0;     // elements
  uint64_t blocks = 0;     // blocks placed in a half (ifmap/filter loads, ofmap output tiles)
  int64_t peak_bytes = 0;  // most bytes held at once (both halves)
};

class Scratchpad : public sc_core::sc_module {
 public:
  explicit Scratchpad(sc_core::sc_module_name name);

  // Sets the capacity for the next job (both halves together) and clears state and statistics.
  void configure(int64_t capacity_bytes);

  int64_t capacity_bytes() const { return capacity_; }
  int64_t half_bytes() const { return capacity_ / 2; }

  // Places a block of `bytes` in half h (0 or 1). The half must be free and the block must fit
  // (std::logic_error otherwise: the tiler guarantees both).
  void occupy(int h, int64_t bytes);
  void release(int h);
  bool busy(int h) const { return used_[size_t(h)] >= 0; }

  void count_reads(uint64_t elements) { stats_.reads += elements; }
  void count_writes(uint64_t elements) { stats_.writes += elements; }

  const ScratchpadStats& stats() const { return stats_; }

 private:
  int64_t capacity_ = 0;
  std::array<int64_t, 2> used_{{-1, -1}};  // bytes held per half, -1 when free
  ScratchpadStats stats_;
};

}  // namespace ssim
