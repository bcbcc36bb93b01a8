// The accelerator top: DRAM channel, ifmap / filter / ofmap scratchpads, the tile-streaming
// controller, the vector unit and BOTH array models (cycle-by-cycle and fast). A job picks one
// array model, so the same controller and memories drive either. One design per process, elaborated
// on first use and reused for every later job (like models/array_harness.*); it also elaborates the
// array harness, so a process may use both (call run_program() before the first run_on_array()).
#pragma once

#include <any>
#include <vector>

#include "models/array_harness.hpp"
#include "models/controller.hpp"
#include "models/dram_channel.hpp"
#include "models/program.hpp"
#include "models/scratchpad.hpp"
#include "models/vector_unit.hpp"

namespace ssim {

struct AccelConfig {
  ArrayConfig array;
  int64_t ifmap_sram_bytes = 512 * 1024;  // capacity of each buffer (both halves)
  int64_t filter_sram_bytes = 512 * 1024;
  int64_t ofmap_sram_bytes = 256 * 1024;
  DramParams dram;
  VectorConfig vector;      // lanes and timing of the vector unit
  bool load_ahead = false;  // Controller::set_load_ahead
};

struct AccelResult {
  int64_t total_cycles = 0;       // cycle 0 to the last output written back, inclusive
  int64_t array_end = -1;         // E of the last array tile (-1: none)
  int64_t vector_end = -1;        // end of the last vector step (-1: none)
  int64_t last_store_ready = -1;  // completion of the last write-back
  ArrayStats array;
  VectorStats vector;
  DramStats dram;
  ScratchpadStats ifmap, filter, ofmap;
  // Per program step; empty within a JobMemoScope unless a trace observer watched the job (a
  // network run reads none of them, and they were most of the memo's memory: ResNet-50 on 32x32,
  // 1,770 more page faults), and for a program planned lazily (Program::lazy).
  std::vector<StepTiming> steps;
  int64_t stage_tail = 0;  // ControllerResult::stage_tail
  size_t held_steps = 0;   // ControllerResult::held_steps
  // Weight prefetch (docs/network-schedule.md, "Across ops"): the next job's filter blocks this
  // job loaded, and what the previous job loaded for this one. The DRAM and filter-SRAM counters
  // above count each block with the job that uses it (the channel's busy cycles, first/last
  // cycles and peak stay with the job in whose time the transfer happened).
  std::vector<PrefetchBlock> prefetched;
  int64_t carried_bytes = 0;       // bytes of the blocks the previous job prefetched for this one
  int64_t carried_from = 0;        // job cycle (<= 0) the first of them was issued (0: none)
  int64_t ofmap_free[2] = {0, 0};  // ControllerResult::ofmap_free (with a handoff)
};

// Runs a program on the accelerator with the chosen array model (vector steps run on the vector
// unit). With data (a value-carrying model), the array accumulates into data->C. Throws
// std::logic_error on a program that does not fit the configuration and InputError on invalid DRAM
// parameters or vector-unit configuration.
AccelResult run_program(ArrayKind kind, const AccelConfig& cfg, const Program& prog,
                        const GemmData* data = nullptr, const JobLink* link = nullptr);

// What the process's SystemC design holds besides the fast array model: the cycle-level array
// and the array harness (run_on_array(), models/array_harness.hpp). Both by default: the tests
// use both in one process. A process that runs one command of a known fidelity leaves out what
// it cannot use (run_cli() in the binary and the Python module's child: the harness, and in fast
// fidelity the cycle-level array; 0.1 ms of a small run, README "Performance"). SystemC builds
// the design once, at the first run: std::logic_error when set after that, and when run_program()
// is asked for the cycle-level array the design left out.
struct DesignParts {
  bool cycle_array = true;
  bool harness = true;
};
void set_design_parts(const DesignParts& parts);

// The DRAM channel's in-flight state as the last job left it (DramChannel::busy_units: when it
// frees, in its units, relative to that job's cycle 0), and setting it: a job run twice from the
// same state (sim/run/periodic_run.*) restores it in between, and sets the state a longer run
// would have left.
__int128 channel_busy_units();
void set_channel_busy_units(__int128 u);

// The bytes of a program's filter loads in load order, at most `most` of them (what a job before
// it may prefetch), among its steps before `end`.
std::vector<int64_t> first_filter_loads(const Program& prog, size_t most = 2,
                                        size_t end = size_t(-1));

// The memo of identical jobs (docs/cycle-accounting.md, "Identical jobs"). A job's result is a
// function of the hardware (AccelConfig), the program, the link from the job before (JobLink but
// for after_cycles) and the DRAM channel's in-flight transfer at its start; a network repeats
// jobs (BERT's twelve layers, ResNet's bottleneck blocks) whose inputs are all equal. While a
// JobMemoScope exists, run_program() keeps the result of every fast-fidelity job without data
// or a trace, and for a job equal in all those inputs to one it ran, returns that result, sets
// the channel's in-flight state as that job left it and advances the simulated time by its
// length, instead of simulating it again. Scopes nest; the memo is cleared when the outermost
// ends. set_job_memo(false) turns it off (the tests compare both).
class JobMemoScope {
 public:
  JobMemoScope();
  ~JobMemoScope();
  JobMemoScope(const JobMemoScope&) = delete;
  JobMemoScope& operator=(const JobMemoScope&) = delete;
};
void set_job_memo(bool on);
// On: run_program() runs every program it is given through the controller's lazy path
// (as_lazy(), docs/memory-system.md, "Planning lazily"): the tests compare both paths.
void set_run_lazily(bool on);
// Results derived from a job's inputs, kept in the memo of identical jobs: an op run by its
// periodic groups (sim/run/periodic_run.*) is a function of its first head program, the link,
// the channel's state at its start and a few numbers (`extra`: the groups). A DerivedMemo reads
// the channel's present state when made; find() gives the value kept under the same inputs
// (nullptr: none, or outside a JobMemoScope, or the memo off), keep() keeps one with the
// channel state it left (set by find()'s caller on a hit).
class DerivedMemo {
 public:
  struct Entry {
    std::any value;
    __int128 busy_after = 0;
  };
  DerivedMemo(const AccelConfig& cfg, const Program& prog, const JobLink* link,
              const std::vector<int64_t>& extra);
  const Entry* find() const;
  void keep(std::any value, __int128 busy_after) const;

 private:
  bool on_ = false;
  uint64_t key_[3] = {0, 0, 0};
};

struct JobMemoStats {
  uint64_t hits = 0, misses = 0;
};
JobMemoStats job_memo_stats();  // since the outermost scope began

}  // namespace ssim
