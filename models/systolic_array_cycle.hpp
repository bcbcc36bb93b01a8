// The cycle-by-cycle, value-carrying systolic array: the ground truth for every cycle count
// (docs/cycle-accounting.md). One SC_THREAD advances the whole R x C grid of PE registers one
// cycle per wait(): operands move one PE per cycle with the skew of a real array, carry real int8
// values and flag bits (valid, bank/fold parity, last), partial sums and drain registers carry
// int32 values, and an output collector at the bottom edge adds every output into GemmData::C.
// The sequencer starts preloads, streams and drains when the conditions of the contract hold,
// observed from the registers; hazards (a too-early schedule) throw std::logic_error.
// How it is built and how fast it runs: docs/array-model.md.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "models/array_model.hpp"

namespace ssim {

class SystolicArrayCycle : public ArrayModel {
 public:
  explicit SystolicArrayCycle(sc_core::sc_module_name name);

  void configure(const ArrayConfig& cfg, int64_t origin) override;
  void submit(TileCmd cmd) override;

  // Cycles in which the grid was advanced in this job (cycles with nothing in flight are skipped).
  int64_t evaluated_cycles() const { return evaluated_; }

  // Test hook (process-wide): makes the sequencer start a fold `early_cycles` cycles before the
  // contract allows (OS: the stream; WS/IS: the preload), predicting the blocking fold's end from
  // the pipeline latency; with `disable_hazard_checks` the hazard checks are off too, so the
  // damage shows up in the values. (0, false) restores normal operation.
  static void inject_fault_for_tests(int early_cycles, bool disable_hazard_checks);

  // Test hooks (process-wide) for the temporal decoupling. With `lockstep` the model waits after
  // every cycle, as it did before. The counters add up over all jobs until reset: strides (runs
  // of cycles evaluated without a wait between them), the cycles evaluated in them, and tiles
  // submitted while the array was busy (in the middle of a job).
  struct DecouplingCounters {
    int64_t strides = 0, cycles = 0, busy_submits = 0;
  };
  static void set_lockstep_for_tests(bool lockstep);
  static DecouplingCounters& counters_for_tests();

 private:
  SC_HAS_PROCESS(SystolicArrayCycle);

  // Flag bits travelling with every streamed operand (and with OS's B operands).
  static constexpr uint8_t kValid = 1;   // part of a vector (zero-padded rows included for WS/IS)
  static constexpr uint8_t kParity = 2;  // bank (WS/IS) or fold parity (OS): fold number mod 2
  static constexpr uint8_t kLast = 4;    // OS: the fold's last pair, the PE moves its accumulator
  static constexpr uint8_t kSegEnd = 8;  // OS: last pair of a segment another segment follows

  static constexpr uint64_t kNone = ~uint64_t(0);

  struct FoldRec {
    Fold f;
    uint64_t seq = 0;          // record (segment) number within the job
    uint64_t chain = 0;        // fold number within the job (its segments share it)
    uint64_t tile = 0;         // tile number within the job
    int64_t arrival = 0;       // a_f
    int64_t start = -1;        // first cycle in flight (preload for WS/IS, stream for OS)
    int64_t preload_end = -1;  // WS/IS: last preload cycle
    int64_t stream = -1;       // s_f
    int64_t moves = 0;         // OS: accumulators moved into drain registers so far
    int64_t last_move = -1;    // OS: cycle of the last move
    int64_t pred_end = -1;     // E_f from the pipeline latency at stream start (OS overlap
                               // sequencer uses it; WS/IS only check the collector against it)
    int64_t collected = 0;     // outputs added into C
    int64_t end = -1;          // E_f: cycle of the last output collected
  };

  struct TileRec {
    uint64_t id = 0;
    uint64_t remaining = 0;  // folds not yet ended
    uint64_t unread = 0;     // folds whose last vector has not been issued yet
    int64_t last_read = -1;  // latest last-read cycle of its folds so far
    uint64_t unloaded = 0;   // WS/IS: its folds with a preload not yet complete
    int64_t last_preload = -1;
    int64_t end = -1;  // latest fold end so far
  };

  // What the row-0 / column-0 edge feeders issued in one cycle; row i (column j) takes its element
  // i (j) cycles later (the skew buffer).
  struct Issue {
    const int8_t* srcA = nullptr;  // streamed operand of row i: srcA[i * strideA] (nullptr: zero)
    const int8_t* srcB = nullptr;  // OS: operand of column j: srcB[j]
    int64_t strideA = 0;
    int32_t rows = 0;  // rows used by the fold (rows >= this get zeros)
    int32_t cols = 0;  // OS: columns used (columns >= this get bubbles)
    uint8_t flagsA = 0;
    uint8_t flagsB = 0;
  };

  void run();  // the SC_THREAD
  bool busy() const;
  int64_t decoupling_limit() const;  // last job cycle that may be stepped without a wait
  void step(int64_t n);
  void step_stationary(int64_t n);
  void step_output_stationary(int64_t n);

  FoldRec& fold(uint64_t seq) { return folds_[seq - fold_base_]; }
  // Record `seq`, made from its command's grid if it is not yet (seq < folds_total_).
  FoldRec& upcoming(uint64_t seq);
  const FoldRec& fold(uint64_t seq) const { return folds_[seq - fold_base_]; }
  void start_fold(FoldRec& f, int64_t n);
  void end_fold(FoldRec& f, int64_t n);
  void retire();
  void issued_last(const FoldRec& f, int64_t n);  // f's last vector entered the skew buffer
  Issue make_issue(const FoldRec& f, int64_t t) const;
  void begin_stream(FoldRec& f);  // the edge feeder starts issuing f's vectors
  void feed(int64_t n);           // it issues cycle n's vector (or a bubble) into the skew buffer
  void check_bank_free(int bank, int64_t n) const;

  static int fault_early_;
  static bool lockstep_;
  static DecouplingCounters counters_;
  static bool fault_unchecked_;

  sc_core::sc_event wake_;
  int R_ = 0, C_ = 0;
  int64_t evaluated_ = 0;

  // ---- registers (flat, row-major R x C) ----
  std::vector<int8_t> aval_;   // streamed operand (WS/IS) or A (OS), moving right
  std::vector<uint8_t> aflg_;  // its flags
  std::vector<int8_t> bval_;   // OS: B, moving down
  std::vector<uint8_t> bflg_;
  std::vector<int8_t> w_[2];  // WS/IS: the two stationary banks
  std::vector<int32_t>
      psum_;  // WS/IS: partial sums moving down, below a zero row; OS: accumulators
  std::vector<int32_t> psum_next_;  // WS/IS: the partial sums of the next cycle
  std::vector<int32_t> drain_;      // OS: drain registers, shifting down during a drain
  std::vector<uint8_t> dvalid_;
  std::vector<int32_t> lrow_;  // OS: per row, operands carrying the last bit
  std::vector<Issue> ring_;    // skew buffer: issue of cycle n at ring_[n & ring_mask_]
  int64_t ring_mask_ = 0;
  int64_t valid_in_grid_ = 0;  // valid operands inside the grid

  // ---- sequencer and collector state ----
  // A command's grid whose folds have not all been made into records yet: the sequencer takes
  // them one by one as it starts them, so only the folds in flight exist as records.
  struct PendingGrid {
    FoldGrid g;
    uint64_t next = 0;  // its next fold to make
    uint64_t tile = 0;
    int64_t arrival = 0;
  };
  std::deque<PendingGrid> pending_;
  std::deque<FoldRec> folds_;         // records made and not retired
  uint64_t fold_base_ = 0;            // seq of folds_.front()
  uint64_t folds_total_ = 0;          // records submitted this job (made or pending)
  uint64_t chains_total_ = 0;         // folds (chains of segments) begun this job
  bool chain_open_ = false;           // the last record submitted had `more` set
  Fold last_submitted_;               // ... and was this one
  uint64_t bank_last_[2] = {0, 0};    // WS/IS: latest record started on each bank
  std::deque<uint64_t> seg_pending_;  // OS: streaming segments with `more`, by end cycle
  std::deque<TileRec> tiles_;
  uint64_t tile_base_ = 0;
  uint64_t tiles_total_ = 0;
  uint64_t next_start_ = 0;       // next fold to start (preload for WS/IS, stream for OS)
  uint64_t next_stream_ = 0;      // WS/IS: next fold to stream
  uint64_t preload_seq_ = kNone;  // WS/IS: fold preloading now
  int64_t preload_q_ = 0;
  uint64_t stream_seq_ = kNone;  // fold whose vectors the edge feeder is issuing
  int64_t stream_t_ = 0;
  FoldRec* stream_fold_ = nullptr;
  Issue feed_;                               // the issue of vector stream_t_ of the streaming fold
  int64_t feed_stepA_ = 0, feed_stepB_ = 0;  // its srcA, srcB advance per vector
  bool bank_busy_[2] = {false, false};
  int32_t bank_cols_[2] = {0, 0};   // columns used by the bank's last owner
  std::vector<uint64_t> col_seq_;   // WS/IS collector: fold of the next output in column j
  std::vector<int64_t> col_t_;      // ... and its vector number
  std::vector<FoldRec*> col_fold_;  // ... and the fold itself (nullptr: look it up)
  uint64_t move_seq_ = 0;           // OS: fold whose accumulators are being moved
  uint64_t drain_next_ = 0;         // OS: next fold to drain
  uint64_t drain_seq_ = kNone;      // OS: fold draining now
  int64_t drain_q_ = 0;
  int64_t prev_pred_end_ = -1;  // OS: predicted end of the last fold started
  uint64_t ended_ = 0;          // folds ended
  int64_t in_flight_ = 0;       // folds started and not ended
  int64_t last_busy_ = -1;      // latest fold end so far
};

}  // namespace ssim
