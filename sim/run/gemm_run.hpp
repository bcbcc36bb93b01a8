// Running one GEMM through the SystemC accelerator model: the tiler (sim/mapping/tiler.*) cuts it
// into SRAM-sized tiles and the accelerator (models/accelerator.*) runs them with the DRAM channel,
// the double-buffered scratchpads and the chosen array model. See docs/memory-system.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/accelerator.hpp"
#include "models/types.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/energy.hpp"
#include "sim/spec/valid_hw.hpp"

namespace ssim {

// An op's share of the network schedule across ops (docs/network-schedule.md, "Across ops").
struct OpLinkStats {
  int64_t stage_cycles = 0;    // of the write-back cycles: the end waits only for the output stage
  int64_t carried_bytes = 0;   // its first weight blocks, loaded while the op before it ran
  int64_t overlap_cycles = 0;  // cycles its first prefetched load ran before the op started
  std::vector<PrefetchBlock> prefetched;  // the next op's weight blocks it loaded
  int64_t ofmap_free[2] = {0, 0};         // handed to the next op (JobLink::ofmap_free)
};
OpLinkStats link_stats(const AccelResult& ar);

struct GemmRunResult {
  std::string name;           // layer / GEMM name
  GemmShape shape;            // of one copy
  int64_t stream_cycles = 0;  // sum over folds of T: cycles the array streams operands
  int64_t repeat = 1;  // copies of the GEMM run back to back (GemmOp::repeat); totals cover all
  int64_t total_cycles = 0;    // cycle 0 to the last output written back to DRAM, inclusive
  int64_t compute_cycles = 0;  // cycles with a fold in flight on the array
  int64_t stall_cycles = 0;    // cycles before the array's last cycle with no fold in flight:
                               // the array waited for data (memory stalls, incl. the first load)
  uint64_t macs = 0;
  uint64_t folds = 0;
  double compute_util = 0;      // macs / (R * C * total_cycles)
  double mapping_eff = 0;       // macs / sum over folds of (R * C * T)
  bool values_checked = false;  // the cycle-level model ran with values and C was compared
  bool values_ok = false;       // ... and equalled the reference GEMM bit for bit
  OpLinkStats link;

  // --- the memory system (docs/memory-system.md) ----------------------------------------------
  // total_cycles = compute_cycles + stall_cycles + writeback_cycles.
  int64_t writeback_cycles = 0;    // after the array's last cycle, until the last write-back ends
  int64_t array_first_cycle = -1;  // first cycle a fold was in flight
  int64_t array_last_cycle = -1;   // last cycle of the last fold (E)
  double array_util = 0;           // macs / (R * C * compute_cycles): utilization while busy
  double fold_pe_eff = 0;          // mean over folds of rows * cols / (R * C) (SCALE-Sim's)

  int64_t tile_m = 0, tile_n = 0, tile_k = 0;  // the largest step's extents (a fold segment)
  std::string plan;                            // GemmPlan::describe(): blocks per buffer
  uint64_t tiles = 0;                          // program steps (fold segments)
  // How a large GEMM ran as a few of its groups (sim/run/periodic_run.hpp; "": whole).
  std::string periodic;

  // DRAM traffic in bytes; ifmap and filter are read, ofmap written.
  uint64_t dram_ifmap_bytes = 0;
  uint64_t dram_filter_bytes = 0;
  uint64_t dram_ofmap_bytes = 0;      // written: outputs, and spilled int32 partial sums
  uint64_t dram_psum_read_bytes = 0;  // spilled partial sums read back
  // By cause (docs/network-schedule.md): final outputs written, spilled partial sums written and
  // read back, and a fused add's second operand read.
  uint64_t dram_output_bytes = 0;
  uint64_t dram_spill_bytes = 0;
  uint64_t dram_side_bytes = 0;
  uint64_t dram_read_bytes = 0;
  uint64_t dram_write_bytes = 0;
  // First and last cycle the channel moved each operand's bytes (-1: none).
  int64_t dram_ifmap_first = -1, dram_ifmap_last = -1;
  int64_t dram_filter_first = -1, dram_filter_last = -1;
  int64_t dram_ofmap_first = -1, dram_ofmap_last = -1;
  double dram_avg_bw = 0;   // bytes per cycle: (read + written) / total_cycles
  double dram_peak_bw = 0;  // bytes per cycle in the busiest aligned window of dram_peak_window
  int64_t dram_peak_window = 0;
  double dram_busy_cycles = 0;  // cycles the channel was moving data

  // Scratchpad accesses in elements (counting rules in docs/memory-system.md).
  uint64_t sram_ifmap_reads = 0, sram_ifmap_writes = 0;
  uint64_t sram_filter_reads = 0, sram_filter_writes = 0;
  uint64_t sram_ofmap_reads = 0, sram_ofmap_writes = 0;

  // PE register and PE-to-PE transfer traffic of the folds that ran, in bits (docs/energy.md).
  uint64_t register_read_bits = 0, register_write_bits = 0, transfer_bits = 0;

  // Element sizes the run used (for converting bytes to SCALE-Sim's words).
  int input_bytes = 1;
  int output_bytes = 1;
};

// The accelerator configuration of a spec: SRAM capacities in bytes, DRAM bandwidth (bytes per
// cycle, HwSpec::dram_bw()), latency, the unlimited-bandwidth switch and the vector unit
// (VectorLanes lanes, default timing).
AccelConfig accel_config(const HwSpec& hw);

// What gemm_run_result() reads of a program's steps: sums over them (a periodic run adds up the
// skipped groups' share, sim/run/periodic_run.hpp).
struct ProgramSums {
  uint64_t steps = 0;
  uint64_t fold_pe = 0;    // over folds (a chain of segments once): rows * cols
  uint64_t final_out = 0;  // store bytes of the steps that write final outputs (TileStep::stage)
  uint64_t side = 0;       // Program::side_bytes()
  RegisterTraffic regs;    // register_traffic()
};
ProgramSums program_sums(const HwSpec& hw, const Program& prog);

// The result fields of a GEMM program's run (everything but name, values_checked and values_ok).
GemmRunResult gemm_run_result(const HwSpec& hw, const Program& prog, const AccelResult& ar);
// The same with the step sums given (prog's shape, tile, plan and placement flags are read).
GemmRunResult gemm_run_result(const HwSpec& hw, const Program& prog, const ProgramSums& sums,
                              const AccelResult& ar);

// Simulates C = A * B on the configured accelerator. With Fidelity::Cycle the value-carrying
// cycle-by-cycle array runs on random int8 operands (from `seed`) and its output is compared with
// a reference GEMM. Throws InputError on a shape that is not positive or SRAM buffers too small
// for the smallest tile (the spec was checked when `hw` was made).
GemmRunResult run_gemm(const ValidHw& hw, const GemmShape& shape, uint64_t seed = 1);

}  // namespace ssim
