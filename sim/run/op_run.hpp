// Running one lowered op (workloads/lower.hpp) on the accelerator: a GEMM op (with its repeat
// count) on the systolic array, or a vector op on the vector unit, both through the DRAM channel
// and the scratchpads. sim/run/network_run.* builds whole networks from these.
#pragma once

#include <cstdint>
#include <string>

#include "sim/mapping/network_plan.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// A GEMM op: `op.repeat` independent GEMMs of op.shape (heads, groups, batch) run back to back
// in one program, so loads of copy i+1 overlap the compute of copy i. Totals cover all copies
// (macs = repeat * M * N * K). With Fidelity::Cycle each copy runs on the value-carrying array
// and values_ok says whether every output equalled the reference. Every copy gets its own random
// A and B (one tall A of repeat * M rows, one wide B of repeat * N columns; copy i's outputs are
// the diagonal block i of a (repeat * M) x (repeat * N) C, whose other blocks must stay zero);
// when that C would exceed 256 MiB all copies share one A, B and C instead, and C must equal
// repeat times the reference. The result is named after the op. Throws InputError on a shape or
// repeat that is not positive, or buffers too small for the smallest tile.
// `place`: where a network op's data lives and what its output stage applies
// (sim/mapping/network_plan.hpp); nullptr: an op on its own (inputs from DRAM, outputs to DRAM).
// `link`: weight prefetch across a network's ops (models/accelerator.hpp, JobLink); `planned`:
// the op's program as plan_gemm_program() made it (nullptr: planned here).
GemmRunResult run_gemm_op(const ValidHw& hw, const GemmOp& op, uint64_t seed = 1,
                          const OpPlacement* place = nullptr, const JobLink* link = nullptr,
                          const Program* planned = nullptr);
// What the planner knows of a GEMM op beyond its shape (its conv, a fused add's operand from
// DRAM, residency), as plan_gemm_program() plans it.
GemmContext gemm_context(const HwSpec& hw, const GemmOp& op, const OpPlacement* place);
// The program run_gemm_op runs (validates the op first).
Program plan_gemm_program(const ValidHw& hw, const GemmOp& op, const OpPlacement* place = nullptr);

struct VectorRunResult {
  std::string name;
  VectorKind kind = VectorKind::Add;
  int64_t elements = 0, inputs = 0, outputs = 0, row = 0;
  // total_cycles = vector_cycles + stall_cycles + writeback_cycles.
  int64_t total_cycles = 0;       // cycle 0 to the last output written back to DRAM, inclusive
  int64_t vector_cycles = 0;      // cycles the vector unit had an op in flight
  int64_t stall_cycles = 0;       // cycles before its last cycle with nothing in flight (data late)
  int64_t writeback_cycles = 0;   // after the unit's last cycle, until the last write-back ends
  uint64_t dram_read_bytes = 0;   // inputs * input_bytes
  uint64_t dram_write_bytes = 0;  // outputs * output_bytes
  uint64_t sram_reads = 0, sram_writes = 0;  // elements
  double dram_avg_bw = 0;                    // bytes per cycle
  double dram_peak_bw = 0;                   // bytes per cycle

  // --- details (docs/memory-system.md, "Vector steps") -------------------------------------------
  int lanes = 0;                    // VectorLanes
  int64_t chunks = 0;               // vector steps (VectorCmds) the op was cut into
  int64_t chunk_outputs = 0;        // output elements per chunk (the last may hold fewer)
  int64_t issue_cycles = 0;         // sum of the chunks' issue cycles (docs/vector-unit.md)
  int64_t vector_first_cycle = -1;  // first issue cycle
  int64_t vector_last_cycle = -1;   // last result written
  uint64_t lane_ops = 0;            // element operations issued (VectorStats::lane_ops)
  double lane_util = 0;             // lane_ops / (lanes * vector_cycles)
  // Per buffer, elements: ifmap writes = inputs filled from DRAM, ifmap reads = the lanes' reads
  // (all passes), ofmap writes = results, ofmap reads = results read for the write-back.
  // sram_reads = ifmap + ofmap reads, sram_writes = ifmap + ofmap writes.
  uint64_t sram_ifmap_reads = 0, sram_ifmap_writes = 0;
  uint64_t sram_ofmap_reads = 0, sram_ofmap_writes = 0;
  int64_t dram_read_first = -1, dram_read_last = -1;    // cycles the channel moved input bytes
  int64_t dram_write_first = -1, dram_write_last = -1;  // ... and output bytes
  double dram_busy_cycles = 0;
  int input_bytes = 1, output_bytes = 1;
  OpLinkStats link;
};

// A vector op: its inputs stream from DRAM through the ifmap scratchpad in double-buffered
// chunks, the vector unit processes each chunk, results collect in the ofmap scratchpad and are
// written back. Timing only (either fidelity). Throws InputError on a malformed op or a buffer
// half too small for one chunk (one row of a softmax / layernorm, one output
// otherwise): the message names the .cfg key and the KiB needed.
VectorRunResult run_vector_op(const ValidHw& hw, const VectorOp& op,
                              const OpPlacement* place = nullptr, const JobLink* link = nullptr,
                              const Program* planned = nullptr);
Program plan_vector_program(const ValidHw& hw, const VectorOp& op,
                            const OpPlacement* place = nullptr);

// The placement's changes to a GEMM op's program: on-chip input and output, the output stage,
// the stored outputs of a pooling stage (each final tile's store scaled, at least 1 byte). (A
// vector op's: plan_vector_program().)
void place_program(Program& prog, const OpPlacement& place, int output_bytes);

}  // namespace ssim
