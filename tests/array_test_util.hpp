// Comparing two runs of the array harness (models/array_harness.hpp) field by field: the fast
// model against the cycle-by-cycle one, or the fast model's closed form against fold-by-fold
// stepping.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "models/array_harness.hpp"

namespace ssim {

// The read records as (tile, stationary, cycle), sorted: the models take them in different
// orders.
inline std::vector<std::tuple<uint64_t, bool, int64_t>> sorted_reads(const HarnessResult& r) {
  std::vector<std::tuple<uint64_t, bool, int64_t>> v;
  for (const TileDone& d : r.reads) v.emplace_back(d.id, d.stationary, d.end_cycle);
  std::sort(v.begin(), v.end());
  return v;
}

// Every ArrayStats field, the total, every tile end (in completion order) and every read record.
inline void expect_same_run(const HarnessResult& a, const HarnessResult& b,
                            const std::string& what) {
  EXPECT_EQ(a.total_cycles, b.total_cycles) << what;
  EXPECT_EQ(a.stats.macs, b.stats.macs) << what;
  EXPECT_EQ(a.stats.folds, b.stats.folds) << what;
  EXPECT_EQ(a.stats.segments, b.stats.segments) << what;
  EXPECT_EQ(a.stats.mapped_pe_cycles, b.stats.mapped_pe_cycles) << what;
  EXPECT_EQ(a.stats.first_cycle, b.stats.first_cycle) << what;
  EXPECT_EQ(a.stats.last_cycle, b.stats.last_cycle) << what;
  EXPECT_EQ(a.stats.idle_cycles, b.stats.idle_cycles) << what;
  ASSERT_EQ(a.done.size(), b.done.size()) << what;
  for (size_t i = 0; i < a.done.size(); ++i) {
    EXPECT_EQ(a.done[i].id, b.done[i].id) << what << " tile " << i;
    EXPECT_EQ(a.done[i].end_cycle, b.done[i].end_cycle) << what << " tile " << i;
  }
  EXPECT_EQ(sorted_reads(a), sorted_reads(b)) << what;
}

}  // namespace ssim
