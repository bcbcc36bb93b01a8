// Running a whole network: every lowered op (workloads/lower.hpp) runs on the accelerator in
// order, one after another, and becomes one row of layers.csv (docs/report-format.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/run/gemm_run.hpp"
#include "sim/run/periodic_run.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// One op's results, in the terms of layers.csv. total_cycles = compute_cycles +
// fill_drain_cycles + mem_stall_cycles + vector_cycles.
struct OpRow {
  int index = 0;  // row number
  int layer = 0;  // network layer the op came from
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
  int64_t stage_cycles = 0;       // the end waits only for the output stage (fused ops)
  double compute_util = 0;        // GEMM: macs / (R * C * (compute + fill_drain))
  double overall_util = 0;        // macs / (R * C * total)
  double mapping_eff = 0;         // GEMM: mean over folds of rows * cols / (R * C)
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  // The network schedule (docs/network-schedule.md): DRAM bytes by cause (they add up to read +
  // write), what fused into what, and what stayed on chip.
  uint64_t dram_weight_bytes = 0;  // weights (a GEMM's B when it is a weight)
  uint64_t dram_input_bytes = 0;   // activations read (A; B when it is an activation)
  uint64_t dram_output_bytes = 0;  // outputs written
  uint64_t dram_spill_bytes = 0;   // spilled partial sums, written and read back
  uint64_t dram_side_bytes = 0;    // a fused add's second operand read
  std::string fused_into;          // a fused op: the GEMM op whose output stage applies it
  std::string fused;               // a GEMM: the ops its output stage applies ("a;b")
  bool input_on_chip = false;      // its input was read from the ifmap buffer
  bool output_on_chip = false;     // its output stayed in the ifmap buffer
  // Across ops (docs/network-schedule.md): its first weight blocks were loaded while the op
  // before it ran (bytes, and how many cycles before its start the first of them was issued).
  uint64_t prefetched_weight_bytes = 0;
  int64_t overlap_cycles = 0;
  // Energy (docs/energy.md): what the op counted, priced with the spec's table.
  EnergyCounts counts;
  EnergyBreakdown energy;  // pJ by component
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
  uint64_t dram_weight_bytes = 0, dram_input_bytes = 0, dram_output_bytes = 0;
  uint64_t dram_spill_bytes = 0, dram_side_bytes = 0;
  int64_t fused_ops = 0;                 // vector ops applied in an output stage
  int64_t resident_tensors = 0;          // op outputs that stayed on chip
  uint64_t prefetched_weight_bytes = 0;  // weights loaded during the op before their own
  int64_t overlap_cycles = 0;            // sum of the rows' overlap_cycles
  EnergyBreakdown energy;                // sum of the rows' energy, pJ
};

// The row type of a lowered op of `net` (see docs/report-format.md, Types).
std::string op_type(const Network& net, const Op& op);

OpRow gemm_row(const HwSpec& hw, const GemmRunResult& r, int64_t repeat);

// Runs every op of the network in order, placed by plan_network() (sim/mapping/network_plan.hpp):
// fused ops get a row of no cycles naming their GEMM. Throws InputError on an invalid network.
// `on_op_done`, if set, is called after each op (progress).
NetworkRunResult run_network(const ValidHw& hw, const Network& net, uint64_t seed = 1,
                             const std::function<void(const Op&)>& on_op_done = {});

// Refuses (InputError) an op whose program would hold more than kMaxPlanSteps steps (about 5 GiB,
// docs/bad-input.md, "Limits"), from the planner's own step count; run_network() calls it before
// anything runs. An op with a PeriodicPlan in `periodic` (one per op, or nullptr) is checked by
// its larger head program's steps; an op the network plan fuses into a GEMM's output stage is
// not planned, and not checked.
void check_plan_sizes(const HwSpec& hw, const std::vector<Op>& ops,
                      const std::vector<std::optional<PeriodicPlan>>* periodic = nullptr,
                      const NetworkPlan* plan = nullptr);

// The two reference kernels of the roofline, simulated on the same hardware (fast fidelity):
// "Vector Add" (c = a + b over 2^24 elements) and "Matrix Multiply" (a 4096^3 GEMM).
struct CanonicalKernel {
  std::string description;
  uint64_t flops = 0, dram_bytes = 0;
  int64_t cycles = 0;
};
struct CanonicalKernels {
  bool computed = false;  // run_canonical_kernels() filled them in
  std::string source;     // "simulated", or "cached: PATH" (sim/run/canonical_cache.hpp)
  CanonicalKernel vector_add, matrix_multiply;
};
// The kernels' sizes: a vector add of 2^24 int8 elements, a 4096^3 int8 GEMM.
constexpr int64_t kCanonicalVectorAddElements = int64_t(1) << 24;
constexpr int64_t kCanonicalMatrixMultiplySize = 4096;
// Both run as an op of the network would (the GEMM as `--gemm 4096,4096,4096` runs it: by its
// periodic groups when its whole program is large, sim/run/periodic_run.hpp).
CanonicalKernels run_canonical_kernels(const ValidHw& hw);

}  // namespace ssim
