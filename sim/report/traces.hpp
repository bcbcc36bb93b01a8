// SCALE-Sim's six cycle traces per GEMM op (--traces; docs/report-format.md, "Traces"): the
// IFMAP/FILTER/OFMAP SRAM traces expanded on the fly from the folds the array model scheduled (fast
// or cycle), and the IFMAP/FILTER/OFMAP DRAM traces from the DRAM channel's transfers, streamed to
// disk (plain or gzip) as they are produced, with IfmapOffset/FilterOffset/OfmapOffset as address
// offsets.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/program.hpp"
#include "models/trace_observer.hpp"
#include "sim/run/op_observer.hpp"
#include "sim/spec/config.hpp"
#include "workloads/lower.hpp"

namespace ssim {

struct TraceOptions {
  bool on = false;
  bool gz = false;                  // --traces gz: each file gzip-compressed (.csv.gz)
  std::vector<std::string> layers;  // --trace-layers: op or layer names (empty: every GEMM op)
  // --trace-cycles A:B (job cycles of each op, inclusive). Without it every cycle, including the
  // negative ones of weights loaded while the op before ran.
  bool windowed = false;
  int64_t first_cycle = std::numeric_limits<int64_t>::min();
  int64_t last_cycle = std::numeric_limits<int64_t>::max();
  uint64_t limit_bytes = uint64_t(2) << 30;  // --trace-limit
  bool limit_given = false;
};

// Flag values; each throws InputError with one line naming the flag, the value and what is allowed.
void parse_traces_flag(const std::string& v, TraceOptions& o);        // on | gz
void parse_trace_cycles_flag(const std::string& v, TraceOptions& o);  // A:B
void parse_trace_limit_flag(const std::string& v, TraceOptions& o);   // BYTES, e.g. 2G, 500M
void parse_trace_layers_flag(const std::string& v, TraceOptions& o);  // NAME[,NAME...]

// Whether `op` is traced under `o` (a GEMM op whose name or layer name is listed, or any GEMM op).
bool trace_selected(const TraceOptions& o, const GemmOp& op);

// Checks the options against the run before anything is simulated (InputError): a trace flag
// without --traces, every --trace-layers name naming a GEMM op
// or a layer with one, and the estimated size against --trace-limit.
void check_traces(const HwSpec& hw, const TraceOptions& o, const std::vector<Op>& ops);
// The estimated bytes of the (uncompressed) trace files of the selected ops.
uint64_t estimate_trace_bytes(const HwSpec& hw, const TraceOptions& o, const std::vector<Op>& ops);

// Receives a run's jobs (run_network() calls begin_op/end_op around each op while one is active)
// and writes the traces of the selected ops into `dir`/layer<N>/ (N: the op's row in layers.csv).
class TraceSession : public TraceObserver, public OpObserver {
 public:
  TraceSession(const HwSpec& hw, const TraceOptions& o, std::string dir);
  ~TraceSession() override;

  // The session the run reports to (nullptr: none): installing one makes it run_network()'s
  // OpObserver and the accelerator's TraceObserver (set_trace_observer).
  static TraceSession* active();
  static void activate(TraceSession* s);

  // Op `row` of the run starts: `g` its GEMM (nullptr for a vector op, never traced), `prog` its
  // program. The weight blocks the op before prefetched for it are written first, at the negative
  // cycles they moved at (counted from this op's start).
  void begin_op(size_t row, const GemmOp* g, const Program& prog) override;
  // The op ended after `total_cycles` (its job's length: the frame of the next job starts there).
  void end_op(int64_t total_cycles) override;
  // Closes every file (the DRAM traces padded to their widest row). Call once after the run.
  void finish();
  const std::string& dir() const { return dir_; }
  size_t traced_ops() const { return folders_.size(); }

  void dram_tag(Cause cause, int op, int64_t block, int64_t offset) override;
  void dram_transfer(Operand op, bool write, int64_t bytes, int64_t issue, __int128 start,
                     __int128 end, __int128 per_cycle) override;
  void step(size_t step, size_t folds, int64_t copy) override;
  void fold(const Fold& f, int64_t preload, int64_t stream, int64_t end) override;

  // Moves the layer folders into `out_dir` after a successful run, first removing the trace
  // folders a previous run left there (layer<N>/ holding only *_TRACE.csv[.gz] files), so the
  // folder holds this run's traces only. Throws std::system_error.
  void move_into(const std::string& out_dir) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string dir_;
  std::vector<std::string> folders_;
};

}  // namespace ssim
