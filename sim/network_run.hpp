// Running a whole network: every lowered op (workloads/lower.hpp) runs on the accelerator in
// order, one after another, and becomes one row of layers.csv (docs/report-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/gemm_run.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// One op's results, in the terms of layers.csv. total_cycles = compute_cycles +
// fill_drain_cycles + mem_stall_cycles + vector_cycles.
struct OpRow {
  int index = 0;   // row number
  int layer = 0;   // network layer the op came from
  std::string name;
  std::string type;  // conv, linear, gemm, attention-qk, attention-av, elementwise, activation, ...
  bool is_gemm = false;
  GemmShape shape;     // GEMM rows
  int64_t repeat = 0;  // GEMM rows
  uint64_t macs = 0, flops = 0, folds = 0;
  int64_t total_cycles = 0;
  int64_t compute_cycles = 0;     // the array streams operands
  int64_t fill_drain_cycles = 0;  // the array works but does not stream: preload, skew, drain
  int64_t mem_stall_cycles = 0;   // waiting for DRAM, incl. the final write-back
  int64_t vector_cycles = 0;      // the vector unit works
  double compute_util = 0;        // GEMM: macs / (R * C * (compute + fill_drain))
  double overall_util = 0;        // macs / (R * C * total)
  double mapping_eff = 0;         // GEMM: mean over folds of rows * cols / (R * C)
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
};

struct NetworkRunResult {
  std::string workload;  // network name
  int64_t layers = 0;    // network layers
  std::vector<OpRow> rows;
  std::vector<GemmRunResult> gemms;  // the GEMM ops' full results, in order (SCALE-Sim reports)
  bool values_checked = false;       // cycle fidelity: every GEMM ran with values ...
  bool values_ok = true;             // ... and every one equalled its reference
  // Totals over the rows.
  int64_t total_cycles = 0;
  uint64_t macs = 0, flops = 0, dram_read_bytes = 0, dram_write_bytes = 0;
};

// The row type of a lowered op of `net` (see docs/report-format.md, Types).
std::string op_type(const Network& net, const Op& op);

OpRow gemm_row(const HwSpec& hw, const GemmRunResult& r, int64_t repeat);

// Runs every op of the network in order. Throws InputError on an invalid spec or network.
NetworkRunResult run_network(const HwSpec& hw, const Network& net, uint64_t seed = 1);

// The two reference kernels of the roofline, simulated on the same hardware (fast fidelity):
// "Vector Add" (c = a + b over 2^24 elements) and "Matrix Multiply" (a 4096^3 GEMM).
struct CanonicalKernel {
  std::string description;
  uint64_t flops = 0, dram_bytes = 0;
  int64_t cycles = 0;
};
struct CanonicalKernels {
  CanonicalKernel vector_add, matrix_multiply;
};
CanonicalKernels run_canonical_kernels(const HwSpec& hw);

}  // namespace ssim
