// Planning lazily (docs/memory-system.md, "Planning lazily"): the planner's loop nest as a
// generator. plan_gemm_lazy() returns plan_gemm()'s program without its steps: a StepPlan
// (models/program.hpp) whose cursors make them one at a time, in order, from the loop indices.
// The materialised planner (build_program(), plan_gemm() and the head programs of
// plan_gemm_rows() / plan_gemm_blocks()) runs the same generator and keeps every step.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "models/program.hpp"
#include "sim/mapping/tiler.hpp"

namespace ssim {

// plan_gemm(hw, g, ctx) with Program::lazy set and Program::steps empty: the same header fields
// (shape, dataflow, plan, tile, bytes, stationary), and lazy->begin() makes the same steps.
// Memory: O(1) in the GEMM's size (a copy of hw and of the conv geometry, the cut, and per
// cursor the loop indices and the current sub-GEMM's plan). size() and Program::tile are counted
// when it is made, sub-GEMM by sub-GEMM in closed form (a plan_blocks() each, no step made).
Program plan_gemm_lazy(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx = {});

// --- The generator (shared by the materialised and the lazy planner) ---------------------------

// The roles of A and B under a dataflow (docs/memory-system.md, "Streaming planner").
struct Roles {
  SpatialMap sm;
  int64_t nsr = 0, nsc = 0;  // fold grid: Sr-chunks (inner) and Sc-chunks (outer)
  int64_t wr = 0, wc = 0;    // widest chunk: min(R, Sr), min(C, Sc)
  // Per operand (0 = A / ifmap, 1 = B / filter): streamed (else stationary, one block per
  // fold), and for a streamed one the spatial dimension its elements follow (true: Sr, the inner
  // fold loop; false: Sc, the outer one).
  bool streamed[2] = {false, false};
  bool along_sr[2] = {false, false};
};
Roles roles(const HwSpec& hw, const GemmShape& g);

// The steps of one sub-GEMM's plan (build_program()'s loop nest: Sc-chunks, Sr-chunks inner,
// segments innermost), their sub-GEMMs moved by `at`; with head_cols >= 0 only the first
// head_cols fold columns and the last. A plain value (no pointers): a copy continues as the
// original would. Throws InputError if the plan's segments or groups are malformed.
class FoldSteps {
 public:
  FoldSteps() = default;
  FoldSteps(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan, int64_t head_cols,
            StepOffset at);
  bool done() const { return sc_ >= x_.nsc; }
  const GemmPlan& plan() const { return plan_; }
  int64_t size() const;    // the steps of the whole loop nest
  TileSizes tile() const;  // the largest step's extents (head_cols < 0)

 private:
  friend void append_program_steps(const HwSpec&, const GemmShape&, const GemmPlan&,
                                   const GemmContext&, int64_t, StepOffset, Program&);
  friend class CutSteps;
  // Writes the next step into s, which must hold a default TileStep (only the fields the step
  // sets are written), and moves on. hw and ctx: those the cursor was made for. (Inlined into
  // the loops of tiler.cpp, its only callers.)
  __attribute__((always_inline)) void make(const HwSpec& hw, const GemmContext& ctx, TileStep& s);
  void start_column();  // (sc_ set: skips the columns a head leaves out)
  void start_row();
  GemmShape g_;
  GemmPlan plan_;
  Roles x_;
  Dataflow df_ = Dataflow::WS;
  int64_t head_cols_ = -1;
  StepOffset at_;
  int64_t R_ = 0, C_ = 0;
  int64_t sc_ = 0, sr_ = 0, k_ = 0;  // the next step's fold column, row and segment
  int64_t c0_ = 0, c_ = 0, r0_ = 0, r_ = 0,
          t0_ = 0;                 // its Sc, Sr and stream ranges' starts, widths
  int64_t prev_id_[2] = {-2, -2};  // the block each operand's previous step used
};

// The sub-GEMMs of a cut in run order (output blocks row-major, k-blocks inner); with head >= 0
// only the first `head` block rows and the last, or with `blocks` the first `head` output blocks
// and those from tail_block() on. A conv's geometry is shifted to the current block row.
class SubGemmOrder {
 public:
  SubGemmOrder(const GemmShape& g, const SubGemms& t, const ConvGeom* conv, int64_t head = -1,
               bool blocks = false);
  bool done() const { return b_ >= tm_ * tn_; }
  void next();  // the next sub-GEMM
  int64_t m0() const { return b_ / tn_ * t_.m; }
  int64_t n0() const { return b_ % tn_ * t_.n; }
  int64_t k0() const { return k0_; }
  GemmShape sub() const { return {bm_, bn_, std::min(t_.k, g_.K - k0_)}; }
  bool block_last() const { return k0_ + t_.k >= g_.K; }  // the output block's last k-block
  GemmContext context(const GemmContext& ctx) const {     // ctx with the shifted conv
    GemmContext c = ctx;
    c.conv = conv_ ? &shifted_ : nullptr;
    return c;
  }

 private:
  void start_block();
  GemmShape g_;
  SubGemms t_;
  int64_t tm_ = 0, tn_ = 0, skip_from_ = 0, skip_to_ = 0;
  int64_t b_ = 0, k0_ = 0, bm_ = 0, bn_ = 0;
  const ConvGeom* conv_ = nullptr;  // the whole GEMM's
  int64_t shifted_m0_ = -1;
  ConvGeom shifted_;  // *conv_ from the block row's first row on
};

// The steps of a cut (plan_gemm_rows() / plan_gemm_blocks()): each sub-GEMM's FoldSteps, with a
// K cut's fix-ups (a block's first step opens its output tile, its last stores it). hw and the
// conv ctx points to must outlive the cursor; a copy continues as the original would.
class CutSteps {
 public:
  CutSteps(const HwSpec& hw, const GemmShape& g, const SubGemms& t, const GemmContext& ctx,
           int64_t head = -1, bool blocks = false);
  bool done() const { return order_.done(); }
  // Writes the next step into s, which must hold a default TileStep, and moves on.
  void make(TileStep& s);
  void append(Program& p);  // append_steps() of the steps from here on (the materialised path)
  // The current sub-GEMM's steps (before the first make(): the first sub-GEMM's).
  const FoldSteps& sub_steps() const { return steps_; }
  // Over the sub-GEMMs from the current one on (at the start: all): f(const FoldSteps&) on each
  // one's cursor at its start.
  template <class F>
  void for_each_sub(F f) const {
    for (SubGemmOrder o = order_; !o.done(); o.next()) f(sub_steps_at(o));
  }

 private:
  __attribute__((always_inline)) void make_inline(TileStep& s);
  FoldSteps sub_steps_at(const SubGemmOrder& o) const;
  const HwSpec* hw_;
  GemmShape g_;
  SubGemms t_;
  GemmContext ctx_;
  SubGemmOrder order_;
  FoldSteps steps_;
  bool block_first_ = true;  // the next step opens its output block (K cut)
};

// A GEMM's program without steps: shape, dataflow, `plan`, bytes, stationary operand.
Program gemm_program(const HwSpec& hw, const GemmShape& g, std::string plan);

// Appends the steps a cursor makes (make(TileStep&), each into a new default step of p.steps)
// until it is done; p.tile grows to them.
template <class Cursor, class Make>
void append_steps(Program& p, const Cursor& cursor, Make make) {
  while (!cursor.done()) {
    TileStep& s = p.steps.emplace_back();  // (filled in place: a step is 256 bytes)
    make(s);
    p.tile.m = std::max(p.tile.m, s.mlen);
    p.tile.n = std::max(p.tile.n, s.nlen);
    p.tile.k = std::max(p.tile.k, s.klen);
  }
}

// The StepPlan of cut t's steps (CutSteps, the whole program), and in `tile` their largest
// extents. It holds copies of hw and of ctx's conv geometry.
std::shared_ptr<const StepPlan> lazy_cut_plan(const HwSpec& hw, const GemmShape& g,
                                              const SubGemms& t, const GemmContext& ctx,
                                              TileSizes& tile);

}  // namespace ssim
