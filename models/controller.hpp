// The tile-streaming controller: runs a Program on the array and the vector unit with the DRAM
// channel and the three double-buffered scratchpads (docs/memory-system.md).
// (controller_steps.cpp: its steps as they are made, checked and dropped; "Planning lazily".)
//
// In every cycle in which something can happen (the controller acts at integer cycles; it reacts
// to a tile finishing at E + 0.5 from cycle E + 1, docs/cycle-accounting.md) it, in this order:
//  1. takes the finished steps from the array and the vector unit: a block whose last user
//     finished frees its half from E + 1; a finished output tile is written back (one DRAM write
//     issued in cycle E + 1) and its ofmap half is free from the cycle that write completes;
//  2. issues the loads of the program in program order (ifmap before filter within a step), each
//     as soon as the half it goes to is free (and, for a step with wait_for_stores, once every
//     earlier step has finished and every earlier write-back has completed), on the in-order DRAM
//     channel; with loads ahead (set_load_ahead), while the head of that order waits for its
//     half, the next block of the other operand is loaded in the channel's idle time;
//  3. submits the next step, in program order, to the array (ArrayModel::submit) or the vector
//     unit (VectorUnit::submit) in the first cycle in which all its operand blocks are in SRAM
//     and, for a step that opens an output tile, its ofmap half is free.
// The array and the vector unit wait when data is late; those waits are their idle (stall) cycles.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <systemc>
#include <vector>

#include "models/array_model.hpp"
#include "models/dram_channel.hpp"
#include "models/program.hpp"
#include "models/scratchpad.hpp"
#include "models/vector_unit.hpp"
#include "models/window.hpp"

namespace ssim {

// Weight prefetch across jobs (docs/network-schedule.md, "Across ops"): while a job runs, the
// controller loads the next job's first filter blocks (its weights, which no op writes) into the
// filter halves this job has freed, as the TPU's weight FIFO fills while the array computes. They
// are handed to the next job, which starts with them in its halves.
// Its times count from the end of the job that loaded it (ControllerResult::total_cycles), which
// is cycle 0 of the next job: issued <= 0, ready may be later than 0 (still in flight).
struct PrefetchBlock {
  int64_t bytes = 0;
  int64_t issued = 0;  // the cycle the load was issued
  int64_t ready = 0;   // the cycle from which its data is in SRAM
};

// How consecutive jobs of a network are linked (docs/network-schedule.md, "Across ops").
struct JobLink {
  // What this job does for the next one: load its first filter blocks (`next_filter`: their
  // bytes in its load order, only weights; at most two are taken), and, with `handoff`, end as
  // soon as every store has been issued: the write-backs go on into the next job (the in-order
  // channel serves any later read of those outputs after them).
  std::vector<int64_t> next_filter;
  bool handoff = false;
  // What the previous job left, with `continues`: the channel as it was (DramChannel::continue_at
  // after `after_cycles`, the previous job's length), the filter blocks it prefetched for this
  // job (this job's first filter loads, already issued, in halves 0 and 1), and from which cycle
  // this job's ofmap halves 0 and 1 are free (its last output tiles still being written).
  bool continues = false;
  int64_t after_cycles = 0;
  std::vector<PrefetchBlock> carried;
  int64_t ofmap_free[2] = {0, 0};
};

struct StepTiming {
  int64_t submit = -1;  // job cycle the step was submitted to its unit (may start from then)
  int64_t end = -1;     // job cycle of its last output (E of its last fold; a vector command's end)
};

struct ControllerResult {
  int64_t total_cycles = 0;       // max(last E + 1, last write-back completion)
  int64_t array_end = -1;         // E of the last array step (-1: none)
  int64_t vector_end = -1;        // end cycle of the last vector step (-1: none)
  int64_t last_store_ready = -1;  // completion cycle of the last write-back (-1: none)
  // Cycles of the job's end that wait only for the output stage: from the last array or vector
  // step's end + 1 to the last final tile leaving the stage (0 without a stage).
  int64_t stage_tail = 0;
  std::vector<StepTiming> steps;
  std::vector<PrefetchBlock> prefetched;  // the next job's filter blocks this job loaded
  // The most step records the controller held at once: the whole program's steps, or for a
  // program planned lazily those made and not yet retired (docs/memory-system.md).
  size_t held_steps = 0;
  // With a handoff: from which cycle (counted from this job's end) the next job's ofmap halves 0
  // and 1 are free; the half of this job's last output tile is the next job's half 1.
  int64_t ofmap_free[2] = {0, 0};
};

class Controller : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Controller);
  explicit Controller(sc_core::sc_module_name name);

  void bind(DramChannel& dram, Scratchpad& ifmap, Scratchpad& filter, Scratchpad& ofmap);
  // The vector unit that runs StepKind::Vector steps (optional for programs without them).
  void bind_vector(VectorUnit& unit) { vector_ = &unit; }

  // Prepares a job and schedules its start at absolute cycle `origin` (>= now). The array, the
  // vector unit, the channel and the scratchpads must already be configured for the job. Checks
  // the program (std::logic_error: vector steps without a vector unit, blocks that do not fit a
  // half, folds that do not fit the array, malformed vector work, inconsistent reuse) before
  // anything is simulated.
  //
  // `link` (optional): the job's place in a network (JobLink). After this job's own loads, at
  // most the first two of link->next_filter are loaded into filter halves this job has freed
  // (ControllerResult::prefetched); link->carried are this job's first filter loads, already
  // issued by the previous job (their bytes must match).
  //
  // `keep_steps`: keep every step's timing (ControllerResult::steps); off, steps is empty.
  void start(const Program& prog, ArrayModel& array, int64_t origin, const JobLink* link = nullptr,
             bool keep_steps = true);

  // Loads ahead (docs/memory-system.md, "Loads ahead"): while the load at the head of the
  // program order waits for its half, the first later ifmap or filter block of the other operand
  // whose half is free is loaded in the channel's idle time, one array tile of bytes
  // (rows x cols elements) per request, as Gemmini's separate A and B load generators do. Off:
  // loads strictly in program order.
  void set_load_ahead(bool on) { load_ahead_ = on; }
  bool finished() const { return finished_; }
  // Tags every DRAM request and array step for a trace writer (--traces; nullptr: none).
  void set_trace(TraceObserver* t) { trace_ = t; }
  const ControllerResult& result() const { return result_; }
  // The finished job's step timings, moved out (result().steps is then empty).
  std::vector<StepTiming> take_steps() { return std::move(result_.steps); }

 private:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // The records start() makes per step, block, output tile and load hold step, block and tile
  // numbers as 32 bits (a program holds at most kMaxSteps steps) and are packed: they are most
  // of a large job's memory.
  static constexpr size_t kMaxSteps = size_t(std::numeric_limits<int32_t>::max());
  struct Block {  // an ifmap or filter block in a buffer half
    int64_t bytes = 0;
    int64_t ready = -1;        // job cycle its data is in SRAM (-1: load not issued yet)
    int64_t free_at = kNever;  // job cycle from which its half may be reused
    int64_t fetched = 0;       // bytes loaded ahead of the program order
    int64_t ahead_ready = -1;  // job cycle the last of them is in SRAM
    int64_t read_at = -1;      // the latest read of it by read_by (while not closed)
    int32_t last_user = -1;    // last step that reads it (of those made, until closed)
    int32_t read_by = -1;      // the latest step that has read it (while not closed)
    bool whole = false;        // larger than a half: takes the whole buffer
    bool placed = false;       // its half is taken (the first part of its load was issued)
    bool closed = false;       // last_user is final (the next block of its operand was made)
  };
  struct OutTile {
    int64_t acc_bytes = 0;
    int64_t store_bytes = 0;
    int64_t elements = 0;
    int64_t free_at = kNever;
    int64_t psum_bytes = 0;   // partial sums reloaded into it from DRAM before its first step
    int64_t psum_ready = -1;  // job cycle the reloaded partial sums are in SRAM (-1: not issued)
    int32_t last_step = -1;
    int32_t psum_src = -1;  // the earlier output tile that wrote the reloaded partial sums back
    bool whole = false;     // larger than a half: takes the whole buffer
    bool stage = false;     // its store passes the output stage (final outputs)
    bool closed = false;    // last_step is final (its storing step was made)
  };
  struct StepRef {              // what a step uses
    int32_t use[2] = {-1, -1};  // its ifmap / filter block (-1: none)
    int32_t out = -1;           // its output tile
    int32_t barrier = -1;       // the last step up to it that waits for stores (-1: none)
    bool done = false;          // finished
  };
  struct PendingStore {  // a write-back waiting for the output stage
    int64_t at = 0;      // job cycle it is issued
    int64_t tile = 0;
  };
  struct Load {
    int32_t block = 0;
    uint32_t step = 0;  // the step that loads it
    // 0 ifmap, 1 filter, 2 ofmap (partial sums and a fused add's operand; block = tile)
    int8_t op = 0;
    bool carried = false;  // issued by the previous job (weight prefetch)
  };

  // The steps as they are made (docs/memory-system.md, "Planning lazily"). make_step() makes
  // step made_ (the next one) and records what it uses; returns false when all are made. A
  // program planned lazily is made as the job needs it, into windows of records that retire()
  // drops when nothing can read them any more; any other program is made whole by start().
  bool make_step();
  void make_until(size_t j) {  // steps 0 .. j made (or all)
    while (made_ <= j && make_step()) {
    }
  }
  void close_block(int op, size_t b);
  void retire();
  const TileStep& base(size_t j) const { return lazy_ ? steps_[j] : prog_->base(j); }
  int64_t copy_of(size_t j) const {
    return prog_->shared == 1 ? base(j).copy : int64_t(j / base_n_);
  }
  const FoldGrid& grid(size_t j);  // step j's folds (a shared copy's moved into scratch_)
  // Loads ahead beyond the steps made: the first load of an operand after them, found by a
  // cursor of its own that runs ahead of the steps made without keeping them.
  struct FarScan {
    std::unique_ptr<StepSource> src;
    size_t pos = 0;         // the next step it makes
    int32_t barrier = -1;   // the last step up to pos that waits for stores
    int64_t last_use = -1;  // the last step it passed that reads the operand's current block
    bool found = false, ended = false;
    int64_t bytes = 0;  // the load's bytes (found)
  };
  // A load that may go ahead: in loads_ (far = false, i) or beyond the steps made (far = true,
  // the first load of `op` at step far_[op].pos).
  struct AheadLoad {
    bool far = false;
    int op = -1;
    size_t i = 0;
  };
  bool far_load(int op);  // far_[op] brought up to date; whether it found a load

  void thread();
  // One pass of the controller's work in cycle `now`; returns whether another pass in the same
  // cycle may find more to do.
  bool act(int64_t now);
  // Takes the array's records of tiles that have read their operands and frees their blocks;
  // returns the first cycle from which a block it freed is free (kNever: none).
  int64_t take_reads();
  // Frees the blocks step j has read by `cycle` (its stationary tile's, with `stationary`);
  // returns the cycle from which they are free (kNever: none).
  int64_t tile_read(size_t j, int64_t cycle, bool stationary);
  void finish_step(size_t j, int64_t end, int64_t now);
  void set_out_free(size_t o, int64_t at);      // output tile o's half free from `at`
  void issue_store(int64_t tile, int64_t now);  // writes back (or keeps on chip) a finished tile
  // Frees the halves of the blocks step j was the last to read: which = 1 the stationary
  // operand's, 0 the others', -1 all.
  void free_blocks(size_t j, int64_t last_read, int which);
  // For a step with wait_for_stores: the cycle from which it may load and start (kNever while an
  // earlier step is unfinished); `now` for other steps.
  int64_t barrier(size_t j, int64_t now) const;
  int64_t next_wake(int64_t now);
  // The cycle from which step j may be submitted: its wait for the stores is over, its operand
  // blocks are in SRAM and, opening an output tile, the tile's half is free and its reloaded
  // partial sums have arrived (kNever: not yet known).
  int64_t submit_from(size_t j, int64_t now) const;
  // Takes block l's half (or both halves) in its buffer and counts its SRAM writes.
  void place_block(const Load& l);
  // Loads ahead: the index in loads_ of the load that may go ahead (loads_.size(): none), and
  // the cycle from which it may (kNever: not yet known).
  AheadLoad ahead_candidate(int64_t now, int64_t* from);
  void load_ahead(int64_t now);
  // Weight prefetch: the cycle from which the next job's filter block p (0 or 1) may be loaded
  // into this job's filter buffer (kNever: not in this job, or not yet known).
  int64_t prefetch_free_at(size_t p) const;
  void prefetch(int64_t now);
  // The cycle from which load l may be issued as far as buffer halves and spilled partial sums
  // go (kNever: not yet known).
  int64_t load_free_at(const Load& l) const;
  // The same for block b of operand op (b may be the next one, not made yet).
  int64_t block_free_at(int op, size_t b, bool whole) const;
  // The cycle from which output tile o's half (both halves for a whole-buffer tile) is free.
  int64_t out_free_from(int64_t o) const;

  DramChannel* dram_ = nullptr;
  Scratchpad* buf_[3] = {nullptr, nullptr, nullptr};
  ArrayModel* array_ = nullptr;
  bool sync_array_ = false;  // array_->synchronous(): tiles submitted with submit_now()
  VectorUnit* vector_ = nullptr;
  const Program* prog_ = nullptr;
  FoldGrid scratch_;    // a shared copy's folds (Program::grid())
  size_t n_steps_ = 0;  // prog_->size()
  size_t base_n_ = 1;   // prog_->base_size()
  int64_t origin_ = 0;
  sc_core::sc_event go_;

  // Making the steps (make_step()): the lazy program's cursor and the steps it made (kept while
  // their records are), the steps made so far and the pre-pass's state after them.
  bool lazy_ = false;
  std::unique_ptr<StepSource> src_;
  Window<TileStep> steps_;
  size_t made_ = 0;
  int64_t cur_[2] = {-1, -1}, cur_out_ = -1;
  bool out_open_ = false;
  Fold prev_;               // the last fold segment (of the last array step)
  bool prev_fold_ = false;  // ... while another must follow it
  int32_t last_barrier_ = -1;
  int64_t keep_back_ = 2;      // output tiles kept before the oldest in use (psum sources)
  size_t placed_[2] = {0, 0};  // per operand, 1 + the last block placed in its buffer
  size_t done_upto_ = 0;       // steps 0 .. done_upto_ - 1 have finished
  FarScan far_[2];

  Window<Block> blocks_[2];
  Window<OutTile> outs_;
  Window<Load> loads_;
  std::vector<PendingStore> pending_;  // in issue order (non-decreasing `at`)
  Window<StepRef> ref_;                // per step
  // Per operand, the index in loads_ of its first load after the head of the program order that
  // is not carried (loads_.end_index(): none among the steps made), as ahead_candidate() last
  // found it: it only moves on.
  size_t ahead_next_[2] = {0, 0};
  bool ahead_found_[2] = {false, false};
  int64_t out_busy_[2] = {0, 0};  // per ofmap half, the latest free_at of its output tiles
  bool keep_steps_ = true;        // result_.steps kept (start())
  bool load_ahead_ = false;
  int64_t ahead_chunk_ = 0;  // bytes per load-ahead request (0: loads ahead off)
  // For next_wake(), what act() found: the cycle from which the load at the head of the program
  // order may go (load_from_) and what ahead_candidate() last returned in load_ahead()
  // (ahead_from_), while nothing they depend on has changed since (loads_known_: blocks freed,
  // steps finished, stores or prefetches issued clear it); the cycle from which the next step
  // may be submitted (submit_from_; nothing after act()'s submit phase changes it). kNever: none.
  int64_t load_from_ = kNever;
  int64_t ahead_from_ = kNever;
  bool loads_known_ = false;
  int64_t submit_from_ = kNever;
  size_t next_load_ = 0;
  size_t next_submit_ = 0;
  size_t completed_ = 0;
  int64_t max_end_ = -1;         // latest end of a finished step
  int64_t max_store_free_ = -1;  // latest completion of an issued write-back
  int input_bytes_ = 1;
  std::vector<int64_t> next_filter_;  // the next job's first filter blocks (bytes), at most 2
  bool handoff_ = false;              // JobLink::handoff
  int64_t carry_out_[2] = {0, 0};     // JobLink::ofmap_free of the previous job
  int64_t last_store_issue_ = -1;     // latest cycle a store was issued
  int64_t last_stage_out_ = -1;       // latest cycle a final tile left the output stage
  bool finished_ = true;
  ControllerResult result_;
  TraceObserver* trace_ = nullptr;
};

}  // namespace ssim
