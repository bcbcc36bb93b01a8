// Comparing two runs of the accelerator (models/accelerator.hpp) field by field: the fast array
// model against the cycle-by-cycle one, a program against an equivalent one.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "models/accelerator.hpp"

namespace ssim {

// The totals, the array's statistics, every step's submit and end cycle, the channel's traffic
// and the scratchpads' counters; `i` names the case in messages.
inline void expect_same_accel(const AccelResult& f, const AccelResult& c, int i) {
  ASSERT_EQ(f.total_cycles, c.total_cycles) << "case " << i;
  EXPECT_EQ(f.array_end, c.array_end) << "case " << i;
  EXPECT_EQ(f.last_store_ready, c.last_store_ready) << "case " << i;
  EXPECT_EQ(f.array.macs, c.array.macs) << "case " << i;
  EXPECT_EQ(f.array.folds, c.array.folds) << "case " << i;
  EXPECT_EQ(f.array.mapped_pe_cycles, c.array.mapped_pe_cycles) << "case " << i;
  EXPECT_EQ(f.array.first_cycle, c.array.first_cycle) << "case " << i;
  EXPECT_EQ(f.array.last_cycle, c.array.last_cycle) << "case " << i;
  EXPECT_EQ(f.array.idle_cycles, c.array.idle_cycles) << "case " << i;
  ASSERT_EQ(f.steps.size(), c.steps.size()) << "case " << i;
  for (size_t j = 0; j < f.steps.size(); ++j) {
    ASSERT_EQ(f.steps[j].submit, c.steps[j].submit) << "case " << i << " step " << j;
    ASSERT_EQ(f.steps[j].end, c.steps[j].end) << "case " << i << " step " << j;
  }
  EXPECT_EQ(f.dram.bytes_read, c.dram.bytes_read) << "case " << i;
  EXPECT_EQ(f.dram.bytes_written, c.dram.bytes_written) << "case " << i;
  EXPECT_EQ(f.dram.requests, c.dram.requests) << "case " << i;
  EXPECT_EQ(f.dram.last_ready, c.dram.last_ready) << "case " << i;
  EXPECT_EQ(f.dram.peak_window_bytes, c.dram.peak_window_bytes) << "case " << i;
  for (int op = 0; op < kNumOperands; ++op)
    for (int d = 0; d < 2; ++d) {
      EXPECT_EQ(f.dram.traffic[op][d].bytes, c.dram.traffic[op][d].bytes) << "case " << i;
      EXPECT_EQ(f.dram.traffic[op][d].first_cycle, c.dram.traffic[op][d].first_cycle) << i;
      EXPECT_EQ(f.dram.traffic[op][d].last_cycle, c.dram.traffic[op][d].last_cycle) << i;
    }
  using Pair = std::pair<const ScratchpadStats*, const ScratchpadStats*>;
  const Pair bufs[] = {{&f.ifmap, &c.ifmap}, {&f.filter, &c.filter}, {&f.ofmap, &c.ofmap}};
  for (const auto& [a, b] : bufs) {
    EXPECT_EQ(a->reads, b->reads) << "case " << i;
    EXPECT_EQ(a->writes, b->writes) << "case " << i;
    EXPECT_EQ(a->blocks, b->blocks) << "case " << i;
    EXPECT_EQ(a->peak_bytes, b->peak_bytes) << "case " << i;
  }
}

}  // namespace ssim
