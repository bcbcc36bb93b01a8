// The vector unit: runs the non-GEMM ops of a network (elementwise add/mul, activations, softmax,
// layernorm, max/avg pooling) on `lanes` parallel lanes. A timing model with the same interface
// pattern as the array models (models/array_model.hpp): configure(cfg, origin) between jobs,
// submit(cmd) at an integer cycle, in-order execution, one notification per finished command at
// (end + 0.5) ns and pop_done(). The timing rules and their closed forms are in
// docs/vector-unit.md; the unit carries no values.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <systemc>

#include "models/sim_time.hpp"
#include "models/types.hpp"

namespace ssim {

constexpr int kNumVectorKinds = static_cast<int>(VectorKind::AvgPool) + 1;

// How a kind of op is grouped for timing (docs/vector-unit.md).
enum class VectorShape {
  Elementwise,  // add, mul, relu, relu6, gelu, silu, sigmoid, tanh: one element per lane per pass
  Row,          // softmax, layernorm: passes over each row with cross-lane reductions between
  Window,       // maxpool, avgpool: each lane reads the window of one output, one element a cycle
};
VectorShape vector_shape(VectorKind k);

// Timing parameters of one kind of op. Every number is in cycles; see docs/vector-unit.md for the
// defaults and why.
struct VectorKindTiming {
  int64_t passes = 1;       // sweeps over the data (cycles per element per lane); >= 1
  int64_t latency = 0;      // pipeline latency: cycles after the op's last issue cycle until its
                            // last result is written; >= 0
  int64_t reductions = 0;   // Row kinds only: cross-lane reductions per row, ceil(log2 lanes) each
  int64_t row_latency = 0;  // Row kinds only: further fixed stall cycles per row (pipeline
                            // turnaround between passes, reciprocal / rsqrt)
};
using VectorTimingTable = std::array<VectorKindTiming, kNumVectorKinds>;  // indexed by VectorKind

// The defaults of docs/vector-unit.md (assumed, not calibrated against a particular chip).
const VectorTimingTable& default_vector_timing();

struct VectorConfig {
  int lanes = 16;  // elements per cycle and pass (HwSpec::vector_lanes, key VectorLanes)
  VectorTimingTable timing = default_vector_timing();
  VectorKindTiming& operator[](VectorKind k) { return timing[static_cast<size_t>(k)]; }
  const VectorKindTiming& operator[](VectorKind k) const { return timing[static_cast<size_t>(k)]; }
};

// Throws InputError (one line naming the key/field, the value and what is allowed) unless
// lanes >= 1, every passes >= 1, every latency >= 0, and reductions / row_latency are >= 0 for
// Row kinds and 0 for the others.
void validate_vector_config(const VectorConfig& cfg);

// A command to the vector unit: one op (or an independent slice of one, e.g. a tile of whole rows)
// whose inputs are all in the scratchpad.
struct VectorCmd {
  uint64_t id = 0;
  VectorKind kind = VectorKind::Add;
  int64_t elements = 0;  // output elements written; >= 1
  int64_t inputs = 0;    // distinct input elements read (add/mul: 2 * elements; pooling: the
                         // input image); for DRAM/SRAM traffic, no effect on timing
  int64_t row = 0;       // Row kinds: elements per row, must divide `elements`; 0: one row of all
                         // the elements. Ignored by other kinds.
  int64_t window = 1;    // Window kinds: input elements per output (R * S); >= 1. Ignored by
                         // other kinds.
  // true: the op reads the previous command's results, so it enters the lanes only after the
  // previous command's last result is written. false: independent; it enters the lanes as soon
  // as the previous command's last element has (pipelined issue).
  bool after_previous = false;
};

// Cycles in which the command occupies the lanes' issue stage (I in docs/vector-unit.md), and
// I + latency: the cycles of the command run alone on an idle unit. Throw std::logic_error on a
// malformed command (elements < 1, a row that does not divide elements, window < 1, inputs < 0).
int64_t vector_issue_cycles(const VectorConfig& cfg, const VectorCmd& cmd);
int64_t vector_cycles(const VectorConfig& cfg, const VectorCmd& cmd);

// Completion of a vector command (job-relative cycles).
struct VectorDone {
  uint64_t id = 0;
  int64_t start_cycle = 0;  // first issue cycle
  int64_t end_cycle = 0;    // cycle in which its last result was written
};

// What the unit counts over a job.
struct VectorStats {
  uint64_t ops = 0;               // commands executed
  uint64_t elements_read = 0;     // sum of cmd.inputs (distinct elements: the DRAM-side count)
  uint64_t elements_written = 0;  // sum of cmd.elements
  uint64_t sram_reads = 0;        // element reads by the lanes from the scratchpad, all passes:
                                  // Elementwise: inputs; Row: passes * elements; Window:
                                  // window * elements
  uint64_t lane_ops = 0;          // element-operations issued: passes * elements (Window kinds:
                                  // passes * window * elements); lane utilisation is
                                  // lane_ops / (lanes * issue_cycles)
  int64_t issue_cycles = 0;       // sum of the commands' issue cycles I
  int64_t first_cycle = -1;       // first issue cycle of the job
  int64_t last_cycle = -1;        // end cycle of the last command
  int64_t idle_cycles = 0;        // cycles in [0, last_cycle] with no command in flight (a command
                                  // is in flight from its start to its end cycle)
};

class VectorUnit : public sc_core::sc_module {
 public:
  explicit VectorUnit(sc_core::sc_module_name name);

  // Sets lanes and timing for the next job and clears all state and statistics. Call only while
  // the unit is idle (between jobs). `origin` is the absolute cycle counted as cycle 0 of the job.
  // Throws InputError on a bad configuration (validate_vector_config).
  void configure(const VectorConfig& cfg, int64_t origin);

  // Called from a SystemC process at an integer cycle time: the command may start in this cycle
  // or later. Commands execute in submission order; their ends never decrease (results are
  // written in order). Throws std::logic_error on a malformed command.
  void submit(const VectorCmd& cmd);

  // One notification per finished command, at (end_cycle + 0.5) ns; take the command with
  // pop_done(), which returns only commands whose end has been reached in simulated time.
  sc_core::sc_event_queue done_events;
  bool pop_done(VectorDone& out);
  // Whether every submitted command has finished and been taken.
  bool drained() const { return done_.empty() && submitted_ == finished_; }

  const VectorStats& stats() const { return stats_; }
  const VectorConfig& config() const { return cfg_; }
  // Job-relative cycle of the current simulation time (of the local clock while it is on).
  int64_t job_cycle() const { return clock_.now(); }
  // The controller's local clock, as ArrayModel::set_local_cycle (the unit is synchronous: a
  // command's timing is known when it is submitted).
  void set_local_cycle(int64_t cycle) { clock_.local = cycle; }
  int64_t next_done_cycle() const { return done_.empty() ? -1 : done_.front().end_cycle; }

 private:
  VectorConfig cfg_;
  JobClock clock_;
  VectorStats stats_;
  std::deque<VectorDone> done_;
  uint64_t submitted_ = 0;
  uint64_t finished_ = 0;
  // Schedule state (docs/vector-unit.md): the previous command's start, issue cycles and end.
  int64_t prev_start_ = 0;
  int64_t prev_issue_ = 0;
  int64_t prev_end_ = -1;
};

}  // namespace ssim
