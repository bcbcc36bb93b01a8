// The tiler (the streaming planner): lays a GEMM's folds onto the SRAM buffers and emits the
// Program the controller runs (models/program.hpp); repeats a GEMM's program for GEMM ops with a
// repeat count; cuts a vector op into SRAM-sized chunks. The rules and the closed forms of the
// DRAM traffic are in docs/memory-system.md ("Streaming planner").
//
// The schedule is fold-major and does not depend on the buffer sizes: the folds of the whole
// GEMM in canonical order (docs/cycle-accounting.md), each streaming its whole T. The buffers
// decide only where a fold's stream is cut into segments (one SRAM block each) and which blocks
// are reused, so with a stall-free DRAM the cycles are the same for every buffer size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "models/program.hpp"
#include "models/vector_unit.hpp"
#include "sim/spec/config.hpp"
#include "workloads/lower.hpp"

namespace ssim {

constexpr int kAccumulatorBytes = 4;  // int32 partial sums in the ofmap buffer

struct DramTraffic {
  int64_t ifmap = 0;   // bytes read
  int64_t filter = 0;  // bytes read
  int64_t ofmap = 0;   // bytes written (finished outputs, plus spilled partial sums)
  int64_t psum = 0;    // bytes of spilled partial sums read back
  int64_t side = 0;    // bytes of a fused residual add's second operand read (GemmContext)
  int64_t total() const { return ifmap + filter + ofmap + psum + side; }
};

// How an operand's blocks are laid out in its buffer's halves.
enum class BlockPolicy {
  Whole,    // the whole matrix in one block, loaded once
  Chunk,    // a streamed operand: one block per spatial chunk, holding its whole stream
  Segment,  // a streamed operand: one block per chunk and stream block (Tb vectors)
  Fold,     // the stationary operand: one block per fold (its R x C tile)
  None,
};
// How the outputs meet the ofmap buffer.
enum class OutputPolicy {
  Final,     // no K split across folds (or OS): finished outputs at OutputBytes
  Resident,  // K split: a fold column's int32 accumulators stay in one half across its K-chunks
  Spill,     // K split and they do not fit: int32 partial sums written out and read back
};
const char* to_string(BlockPolicy p);   // "whole", "chunk", "segment", "fold", "none"
const char* to_string(OutputPolicy p);  // "final", "resident", "spill"

struct GemmPlan {
  BlockPolicy ifmap = BlockPolicy::None, filter = BlockPolicy::None;
  OutputPolicy ofmap = OutputPolicy::Final;
  bool out_cut = false;    // WS/IS: output tiles are cut at the stream blocks
  bool out_whole = false;  // Resident accumulators take the whole ofmap buffer
  // A fold's stream of T vectors is cut into `segments` near-equal segments (segment k covers
  // [floor(k T / segments), floor((k+1) T / segments))); a cut streamed operand's blocks, and
  // cut output tiles, each hold a near-equal number of consecutive segments.
  int64_t stream_block = 0;  // the longest segment, ceil(T / segments)
  int64_t segments = 1;
  int64_t blocks[2] = {1, 1};    // ifmap / filter blocks per fold stream (1: not cut)
  int64_t out_tiles = 1;         // output tiles per fold stream (1: not cut)
  DramTraffic traffic;           // closed_form_traffic() of this plan
  std::string describe() const;  // "ifmap:segment filter:fold ofmap:resident block:2048"
};

// The plan the tiler picks: per operand the largest blocks that fit a buffer half. Throws
// InputError (one line, naming the .cfg key and the KiB needed) if a half cannot hold the
// smallest block: one stream vector of a streamed operand, one fold's tile of the stationary
// one, one output vector (WS/IS; int32 when K is split) or one fold's outputs (OS).
// What the planner knows of a GEMM beyond its shape (the same for the functions below):
// - conv: the GEMM is a conv's im2col GEMM (A's blocks are raw input rows,
//   docs/memory-system.md, "Convolutions: im2col on chip"); nullptr for a plain GEMM;
// - side_bytes: per output, the bytes of a second operand the output stage adds (a fused residual
//   add, docs/network-schedule.md): loaded into each final output tile's half from DRAM when the
//   tile opens; 0: none.
// - a_on_chip, c_on_chip: A is already in the ifmap buffer, C stays there (residency): the
//   sub-GEMM cut does not count their traffic.
struct GemmContext {
  const ConvGeom* conv = nullptr;
  int64_t side_bytes = 0;
  bool a_on_chip = false, c_on_chip = false;
};
GemmPlan plan_blocks(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx = {});

// The DRAM traffic of a plan, in closed form (docs/memory-system.md).
DramTraffic closed_form_traffic(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan,
                                const GemmContext& ctx = {});

// The program of a plan. With head_cols >= 0, only its first head_cols fold columns (the folds
// at Sc offsets below head_cols * C, all their rows and segments) and its last column; the steps
// keep their positions (sim/run/periodic_run.hpp, docs/cycle-accounting.md, "Periodic groups").
Program build_program(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan,
                      const GemmContext& ctx = {}, int64_t head_cols = -1);
// The same steps appended to p.steps, their sub-GEMMs (and folds) moved by `at` (a sub-GEMM of
// a cut, at its place in the whole GEMM), p.tile grown to them.
struct StepOffset {
  int64_t m0 = 0, n0 = 0, k0 = 0;
};
void append_program_steps(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan,
                          const GemmContext& ctx, int64_t head_cols, StepOffset at, Program& p);

// How plan_gemm() cuts a GEMM into sub-GEMMs of m x n x k run one after another (m = M, n = N,
// k = K: not cut; always so with a stall-free channel). With a modelled channel the sizes
// minimise max(array cycles, bytes / bandwidth) over candidates of at most kMaxCutSteps steps
// (the uncut GEMM whatever its steps). A cut of
// K (WS and IS, not a conv; k a multiple of the array's rows) keeps the m x n output block's int32
// accumulators in one output tile of the ofmap buffer (at most a half) while its k-blocks run
// one after another, k-blocks inner (docs/memory-system.md, "Blocking K").
struct SubGemms {
  int64_t m = 0, n = 0, k = 0;
  double steps = 0;  // the program steps of the cut (the folds' segments)
  // The estimate's main term, max(array cycles, DRAM bytes / bandwidth) (0: not estimated, the
  // uncut GEMM kept without a search).
  double bound = 0;
  // A cut left out for its steps (more than the search's limit) was estimated as fast as this
  // one or faster: a search with a looser limit may choose another.
  bool limited = false;
};
SubGemms choose_sub_gemms(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx = {});
constexpr double kMaxCutSteps = 262144;

// The same search with another limit: cuts whose first `rows` block rows (of m rows each; 0: the
// whole GEMM) make at most max_steps steps. (run_gemm_periodic() simulates only
// a few block rows of a GEMM, so a finer cut than the whole GEMM's limit allows is affordable.)
// With `blocks`, a cut that divides N is counted by its output blocks instead: the first
// rows - 1 and the last (the whole last block row if M is not a multiple of m), as
// plan_gemm_blocks() emits them. With `whole`, also choose_sub_gemms()'s cut, from the same
// search (memoized within a PlanMemoScope, which then also holds choose_sub_gemms()'s cut).
SubGemms choose_sub_gemms_within(const HwSpec& hw, const GemmShape& g, double max_steps,
                                 int64_t rows, const GemmContext& ctx = {}, bool blocks = false,
                                 SubGemms* whole = nullptr);

// The DRAM traffic of plan_gemm()'s program in closed form: the sum of its sub-GEMMs'
// closed_form_traffic().
DramTraffic gemm_traffic(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx = {});

// choose_sub_gemms(), then plan_blocks() and build_program() for each sub-GEMM.
Program plan_gemm(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx = {});

// The program of cut t (plan_gemm()'s for that cut), with head_rows >= 0 only its first head_rows
// block rows (steps with m0 < head_rows * t.m) and its last block row; the steps keep the
// positions they have in the whole program (head_rows < 0: all of it).
Program plan_gemm_rows(const HwSpec& hw, const GemmShape& g, const SubGemms& t, int64_t head_rows,
                       const GemmContext& ctx = {});
// The same by output blocks (m x n, all their k-blocks; N a multiple of t.n): the first
// head_blocks blocks in run order and the tail, the last block or, if M is not a multiple of
// t.m, the whole last block row (sim/run/periodic_run.hpp).
Program plan_gemm_blocks(const HwSpec& hw, const GemmShape& g, const SubGemms& t,
                         int64_t head_blocks, const GemmContext& ctx = {});
// The block (run order) where plan_gemm_blocks()'s tail starts.
int64_t tail_block(const GemmShape& g, const SubGemms& t);

// --- Repeated GEMMs (GemmOp::repeat) -----------------------------------------------------------
//
// `repeat` copies of one copy's program, back to back in one program: the steps of copy 0, then
// those of copy 1, ... Every copy loads its operands anew (its first step loads both blocks), so
// the loads of copy i+1 overlap the compute of copy i. Copy i's steps and folds are shifted by
// i * m_stride in M and i * n_stride in N (a value-carrying run gives each copy its own block of
// A, B and C that way; 0 lets all copies share one A, B and C). Throws InputError if repeat < 1.
Program repeat_program(const Program& one, int64_t repeat, int64_t m_stride = 0,
                       int64_t n_stride = 0);

// plan_gemm(hw, g) repeated: one copy's steps, shared by the `repeat` copies (Program::shared;
// the program runs as repeat_program()'s would, docs/memory-system.md, "Repeated GEMMs"). A
// program of more than kLazyPlanSteps steps (all copies) is planned lazily (plan_gemm_lazy(),
// Program::lazy): its steps are made as the controller needs them, never held.
Program plan_gemm_op(const HwSpec& hw, const GemmShape& g, int64_t repeat, int64_t m_stride = 0,
                     int64_t n_stride = 0, const GemmContext& ctx = {});

// The same program with every copy's steps held (repeat_program() of its copy 0), for a caller
// that changes the steps of some copies only (a head program without some of its copies, store
// bytes rescaled over all the steps).
Program unshared(Program p);

// Within a PlanMemoScope for `hw`, choose_sub_gemms() for that same HwSpec object keeps the cuts
// it chose and returns the kept one for a call with the same shape and context (a conv's
// geometry compared by value) instead of searching again: a network's repeated layers (BERT's
// twelve encoders) were three quarters of its run's instructions in that search. The choice is a
// function of those inputs and hw, so the memo changes no result. Scopes do not nest.
class PlanMemoScope {
 public:
  explicit PlanMemoScope(const HwSpec& hw);
  ~PlanMemoScope();
  PlanMemoScope(const PlanMemoScope&) = delete;
  PlanMemoScope& operator=(const PlanMemoScope&) = delete;
};
void set_plan_memo(bool on);  // off: every call searches (the tests compare both)
// Off: the search plans every sub-GEMM of every candidate cut, each time it occurs, without the
// lower bound that skips a cut or the table that plans each distinct sub-GEMM once (the tests
// compare both; docs/memory-system.md).
void set_search_pruning(bool on);
// The steps above which plan_gemm_op() plans lazily (kLazyPlanSteps; 0: every program, < 0:
// none, every program's steps held however many: the tests compare them).
void set_lazy_plan_steps(int64_t steps);
// Whether a program of `steps` steps is planned lazily (more than that threshold, lazy planning
// on).
bool plans_lazily(double steps);

// Shares of `total` in proportion to parts that add up to `all`, one part after another: the
// difference of the running sums' floors, at least `floor_bytes` (bytes rescaled over steps:
// a pooling stage's stored outputs, a vector op's inputs from DRAM).
struct Shares {
  __int128 all = 0, cum = 0;
  int64_t total = 0, floor_bytes = 0;
  int64_t next(int64_t part) {
    const int64_t b0 = int64_t(cum * total / all);
    cum += part;
    return std::max(floor_bytes, int64_t(cum * total / all) - b0);
  }
};

// --- Vector ops
// -----------------------------------------------------------------------------------
//
// A vector op streams through the ifmap buffer (its inputs) and the ofmap buffer (its results, at
// OutputBytes each) in chunks of `outputs` output elements; one chunk is one Vector step (one
// VectorCmd, one ifmap block, one output tile written back after it). Softmax and layernorm chunks
// hold whole rows; the other kinds' chunks are multiples of the lanes (so the chunks' issue cycles
// add up to the whole op's). A chunk of outputs [s, s + n) reads the inputs
// floor(inputs * (s + n) / outputs) - floor(inputs * s / outputs) (pooling: the halo of
// overlapping windows is not re-read). See docs/memory-system.md, "Vector steps".

// The command for a lowered op. VectorOp does not record a row length, so pass it for softmax
// (attention: the kv length; softmax layer: `length`) and layernorm (the normalised dimension);
// 0 treats the whole op as one row. Pooling's window is op.elements / op.outputs. The id is 0
// and after_previous false: set them as needed.
VectorCmd to_vector_cmd(const VectorOp& op, int64_t row = 0);

// The vector unit's configuration of a spec: VectorLanes lanes, the default timing.
VectorConfig vector_config(const HwSpec& hw);

struct VectorChunking {
  int64_t outputs = 0;  // output elements per chunk (the last chunk may hold fewer)
  int64_t chunks = 0;
  double est_cycles = 0;  // the estimate that chose it
};

// The chunk size: the one with the smallest estimated run time (first load, then the larger of
// the rest's compute and transfers, then the last store; plus one cycle per chunk). Throws
// InputError on a malformed op (one line naming the op) and if a buffer half cannot hold the
// smallest chunk (one row of a softmax / layernorm, one output otherwise), naming the .cfg key
// and the KiB needed.
VectorChunking choose_vector_chunks(const HwSpec& hw, const VectorOp& op);

// What an op's place in a network changes in its vector steps (sim/run/op_run.cpp,
// place_program()): a final result (TileStep::stage) and, when part of its inputs is resident,
// the bytes it loads from DRAM (`input_dram_bytes` >= 0), shared among the chunks in proportion
// to their inputs (Shares).
struct VectorStepPlace {
  bool stage = false;
  int64_t input_dram_bytes = -1;  // -1: every input from DRAM
};

// The program for chunks of `chunk_outputs` output elements (InputError if they do not fit),
// with its steps held, or, more than set_lazy_plan_steps()' threshold of them, made as the
// controller needs them (Program::lazy, docs/memory-system.md, "Planning lazily").
Program build_vector_program(const HwSpec& hw, const VectorOp& op, int64_t chunk_outputs,
                             const VectorStepPlace& place = {});

// The program steps plan_gemm_op() runs for `repeat` copies of g (every copy's, whether they
// share them or not: the controller's state is per step run), and the steps plan_vector() makes for
// a vector op: what a run holds in memory per op (bad-input.md, "Limits"), without building the
// program.
int64_t plan_steps_bound(const HwSpec& hw, const GemmShape& g, int64_t repeat);
int64_t plan_steps_bound(const HwSpec& hw, const VectorOp& op);
// Steps one op's program may have: about 0.6 KiB each with the controller's state (16384^3 on
// 128 x 128, 524,288 steps, measured 313 MB), so about 5 GiB.
constexpr int64_t kMaxPlanSteps = int64_t(1) << 23;
// Steps above which plan_gemm_op() plans lazily: a held program of this many steps is about
// 17 MiB of steps and 6 MiB of the controller's records.
constexpr int64_t kLazyPlanSteps = int64_t(1) << 16;
// Steps a program planned lazily may have: it holds only the steps in flight, but the controller
// numbers steps in 32 bits.
constexpr int64_t kMaxLazySteps = (int64_t(1) << 31) - 1;
// The most steps a GEMM op's whole program may have: kMaxLazySteps when plan_gemm_op() plans it
// lazily, kMaxPlanSteps when its steps are held (`held`: a vector op's, a head program's; or
// lazy planning off). Checked before anything runs.
int64_t max_program_steps(bool held);
// The end of a message refusing a program of more than max_program_steps(held) steps: "the
// 8388608 (about 5 GiB of memory) one op may hold" or "the 2147483647 one op may run (...)".
std::string program_steps_limit_text(bool held);

// choose_vector_chunks() then build_vector_program().
Program plan_vector(const HwSpec& hw, const VectorOp& op, const VectorStepPlace& place = {});

// The .cfg key of an operand's buffer ("IfmapSramSzkB", ...), and bytes as KiB for messages
// ("16", "0.5", "1.25").
const char* sram_key(Operand op);
std::string kib_text(int64_t bytes);

// Buffer capacities in bytes (KiB from the spec) and the bytes of one half.
int64_t sram_bytes(const HwSpec& hw, Operand op);
inline int64_t sram_half_bytes(const HwSpec& hw, Operand op) {
  return sram_bytes(hw, op) / 2;
}

}  // namespace ssim
