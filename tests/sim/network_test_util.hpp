// Comparing two runs of a GEMM op or a network field by field (the periodic groups against the
// whole program, a lazy plan against a held one).
#pragma once

#include <gtest/gtest.h>

#include "sim/run/gemm_run.hpp"
#include "sim/run/network_run.hpp"

namespace ssim {

// Every field of two results but the name and `periodic`.
inline void expect_same(const GemmRunResult& a, const GemmRunResult& b) {
#define SAME(f) EXPECT_EQ(a.f, b.f) << #f
  SAME(shape.M);
  SAME(shape.N);
  SAME(shape.K);
  SAME(stream_cycles);
  SAME(repeat);
  SAME(total_cycles);
  SAME(compute_cycles);
  SAME(stall_cycles);
  SAME(macs);
  SAME(folds);
  SAME(compute_util);
  SAME(mapping_eff);
  SAME(writeback_cycles);
  SAME(array_first_cycle);
  SAME(array_last_cycle);
  SAME(array_util);
  SAME(fold_pe_eff);
  SAME(tile_m);
  SAME(tile_n);
  SAME(tile_k);
  SAME(plan);
  SAME(tiles);
  SAME(dram_ifmap_bytes);
  SAME(dram_filter_bytes);
  SAME(dram_ofmap_bytes);
  SAME(dram_psum_read_bytes);
  SAME(dram_output_bytes);
  SAME(dram_spill_bytes);
  SAME(dram_side_bytes);
  SAME(dram_read_bytes);
  SAME(dram_write_bytes);
  SAME(dram_ifmap_first);
  SAME(dram_ifmap_last);
  SAME(dram_filter_first);
  SAME(dram_filter_last);
  SAME(dram_ofmap_first);
  SAME(dram_ofmap_last);
  SAME(dram_avg_bw);
  SAME(dram_peak_bw);
  SAME(dram_peak_window);
  SAME(dram_busy_cycles);
  SAME(sram_ifmap_reads);
  SAME(sram_ifmap_writes);
  SAME(sram_filter_reads);
  SAME(sram_filter_writes);
  SAME(sram_ofmap_reads);
  SAME(sram_ofmap_writes);
  SAME(register_read_bits);
  SAME(register_write_bits);
  SAME(transfer_bits);
  SAME(link.stage_cycles);
  SAME(link.carried_bytes);
  SAME(link.overlap_cycles);
  SAME(link.ofmap_free[0]);
  SAME(link.ofmap_free[1]);
#undef SAME
}

// Every row of two network runs, and every field of their GEMM results.
inline void expect_same_networks(const NetworkRunResult& a, const NetworkRunResult& b) {
  ASSERT_EQ(a.rows.size(), b.rows.size());
  ASSERT_EQ(a.gemms.size(), b.gemms.size());
  for (size_t i = 0; i < a.gemms.size(); ++i) {
    SCOPED_TRACE(a.gemms[i].name);
    expect_same(a.gemms[i], b.gemms[i]);
  }
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const OpRow &x = a.rows[i], &y = b.rows[i];
    SCOPED_TRACE(x.name);
#define SAME(f) EXPECT_EQ(x.f, y.f) << #f
    SAME(total_cycles);
    SAME(compute_cycles);
    SAME(fill_drain_cycles);
    SAME(mem_stall_cycles);
    SAME(vector_cycles);
    SAME(stage_cycles);
    SAME(folds);
    SAME(dram_read_bytes);
    SAME(dram_write_bytes);
    SAME(dram_weight_bytes);
    SAME(dram_input_bytes);
    SAME(dram_output_bytes);
    SAME(prefetched_weight_bytes);
    SAME(overlap_cycles);
    SAME(counts.sram_reads[0]);
    SAME(counts.sram_reads[1]);
    SAME(counts.sram_writes[2]);
    SAME(counts.transfer_bits);
    SAME(energy.total());
#undef SAME
  }
  EXPECT_EQ(a.total_cycles, b.total_cycles);
  EXPECT_EQ(a.overlap_cycles, b.overlap_cycles);
  EXPECT_EQ(a.prefetched_weight_bytes, b.prefetched_weight_bytes);
}

}  // namespace ssim
