#include "sim/mapping/tiler.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sim/mapping/im2col.hpp"
#include "sim/mapping/lazy_plan.hpp"

namespace ssim {
namespace {

int64_t sram_kb(const HwSpec& hw, Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return hw.ifmap_sram_kb;
    case Operand::Filter:
      return hw.filter_sram_kb;
    case Operand::Ofmap:
      return hw.ofmap_sram_kb;
  }
  return 0;
}

}  // namespace

int64_t sram_bytes(const HwSpec& hw, Operand op) {
  return sram_kb(hw, op) * 1024;
}

const char* sram_key(Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return "IfmapSramSzkB";
    case Operand::Filter:
      return "FilterSramSzkB";
    case Operand::Ofmap:
      return "OfmapSramSzkB";
  }
  return "?";
}

std::string kib_text(int64_t bytes) {
  char buf[64];
  const double k = double(bytes) / 1024.0;
  if (bytes % 1024 == 0)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(bytes / 1024));
  else
    std::snprintf(buf, sizeof buf, "%.2f", k);
  return buf;
}

const char* to_string(BlockPolicy p) {
  switch (p) {
    case BlockPolicy::Whole:
      return "whole";
    case BlockPolicy::Chunk:
      return "chunk";
    case BlockPolicy::Segment:
      return "segment";
    case BlockPolicy::Fold:
      return "fold";
    case BlockPolicy::None:
      return "none";
  }
  return "?";
}

const char* to_string(OutputPolicy p) {
  switch (p) {
    case OutputPolicy::Final:
      return "final";
    case OutputPolicy::Resident:
      return "resident";
    case OutputPolicy::Spill:
      return "spill";
  }
  return "?";
}

std::string GemmPlan::describe() const {
  return std::string("ifmap:") + to_string(ifmap) + " filter:" + to_string(filter) +
         " ofmap:" + to_string(ofmap) + (out_whole ? "-whole" : "") +
         " segment:" + std::to_string(stream_block);
}

namespace {

// `single`: the block may take the whole buffer; otherwise it needs one half of two.
InputError too_small(const HwSpec& hw, Operand op, const std::string& what, const std::string& dims,
                     int64_t d0, int64_t d1, int64_t elem, bool single = false) {
  const int64_t bytes = d0 * d1 * elem;
  return InputError(
      std::string(sram_key(op)) + " " + std::to_string(sram_kb(hw, op)) +
      ": too small for the smallest " + what + " (" + dims + " = " + std::to_string(d0) + " x " +
      std::to_string(d1) + " at " + std::to_string(elem) + " B = " + kib_text(bytes) +
      (single ? " KiB, single-buffered" : " KiB per half, double buffered") + "); needs at least " +
      std::to_string(ceil_div((single ? 1 : 2) * bytes, 1024)) + " KiB");
}

// a * b / d (truncated), in 64 bits when a * b fits (a 128-bit division is a library call:
// planning a large GEMM made six a step, 3 % of its run).
int64_t mul_div(int64_t a, int64_t b, int64_t d) {
  int64_t ab = 0;
  if (!__builtin_mul_overflow(a, b, &ab)) return ab / d;
  return int64_t((__int128)a * b / d);
}
// Segment k of a fold's stream starts at floor(k T / segments); `groups` near-equal groups of
// consecutive segments: group j holds segments [floor(j S / groups), floor((j+1) S / groups)).
int64_t segment_start(const GemmPlan& p, int64_t T, int64_t k) {
  return mul_div(k, T, p.segments);
}
int64_t group_of(const GemmPlan& p, int64_t groups, int64_t k) {
  return ((k + 1) * groups - 1) / p.segments;
}
int64_t group_first(const GemmPlan& p, int64_t groups, int64_t j) {
  return mul_div(j, p.segments, groups);
}
int64_t block_len(const GemmPlan& p, int64_t T, int64_t groups, int64_t j) {
  return segment_start(p, T, group_first(p, groups, j + 1)) -
         segment_start(p, T, group_first(p, groups, j));
}

// DRAM bytes of operand i's block with spatial range [s0, s1) (along its array dimension) and
// stream range [t0, t1) (WS: A; OS: A and B; IS: B), or of its fold tile (stationary: the
// spatial ranges of the fold's Sr and Sc chunks).
int64_t block_bytes(const HwSpec& hw, const ConvGeom* c, int i, int64_t s0, int64_t s1, int64_t t0,
                    int64_t t1) {
  const int64_t ib = hw.input_bytes;
  if (i == 1) return (s1 - s0) * (t1 - t0) * ib;
  switch (hw.dataflow) {
    case Dataflow::WS:  // spatial K, stream M
      return a_bytes(c, t0, t1, s0, s1, ib);
    case Dataflow::OS:  // spatial M, stream K
      return a_bytes(c, s0, s1, t0, t1, ib);
    case Dataflow::IS:  // stationary: [s0, s1) is the Sr (K) chunk, [t0, t1) the Sc (M) chunk
      return a_bytes(c, t0, t1, s0, s1, ib);
  }
  return 0;
}

}  // namespace

Roles roles(const HwSpec& hw, const GemmShape& g) {
  Roles x;
  x.sm = spatial_map(hw.dataflow, g);
  const int64_t R = hw.array_rows, C = hw.array_cols;
  x.nsr = ceil_div(x.sm.Sr, R);
  x.nsc = ceil_div(x.sm.Sc, C);
  x.wr = std::min(R, x.sm.Sr);
  x.wc = std::min(C, x.sm.Sc);
  switch (hw.dataflow) {
    case Dataflow::OS:  // A rows follow M = Sr, B columns N = Sc; both stream along K
      x.streamed[0] = x.streamed[1] = true;
      x.along_sr[0] = true;
      x.along_sr[1] = false;
      break;
    case Dataflow::WS:  // A streams (its K columns follow Sr); B is stationary
      x.streamed[0] = true;
      x.along_sr[0] = true;
      break;
    case Dataflow::IS:  // B streams (its K rows follow Sr); A is stationary
      x.streamed[1] = true;
      x.along_sr[1] = true;
      break;
  }
  return x;
}

GemmPlan plan_blocks(const HwSpec& hw, const GemmShape& g, const GemmContext& ctx) {
  const ConvGeom* conv = ctx.conv;
  const int64_t side = ctx.side_bytes;
  if (g.M < 1 || g.N < 1 || g.K < 1) throw InputError("gemm: M, N and K must be positive integers");
  const Roles x = roles(hw, g);
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes, T = x.sm.T;
  const Operand ops[2] = {Operand::Ifmap, Operand::Filter};
  const char* dims[2] = {"M x K", "K x N"};
  const int64_t whole[2] = {a_bytes(conv, 0, g.M, 0, g.K, ib), g.K * g.N * ib};
  GemmPlan p;
  int64_t longest[3] = {T, T, T};  // vectors per ifmap block, filter block, output tile
  BlockPolicy pol[2] = {BlockPolicy::None, BlockPolicy::None};
  for (int i = 0; i < 2; ++i) {
    const int64_t half = sram_half_bytes(hw, ops[i]);
    if (!x.streamed[i]) {  // stationary: one block per fold, single-buffered if it must be
      const int64_t r = x.wr, c = x.wc;
      if (r * c * ib > 2 * half)
        throw too_small(hw, ops[i], std::string(to_string(ops[i])) + " tile", dims[i],
                        i == 0 ? c : r, i == 0 ? r : c, ib, true);
      pol[i] = BlockPolicy::Fold;
      continue;
    }
    const int64_t w = x.along_sr[i] ? x.wr : x.wc;  // elements per streamed vector
    if (w * ib > half) {
      // One vector of the stream: WS A is 1 x K-chunk, IS B is K-chunk x 1, OS A is M-chunk x 1
      // and OS B 1 x N-chunk.
      const bool a_first_dim_w = (i == 0) == (hw.dataflow == Dataflow::OS);
      throw too_small(hw, ops[i], std::string(to_string(ops[i])) + " block (one stream vector)",
                      dims[i], a_first_dim_w ? w : 1, a_first_dim_w ? 1 : w, ib);
    }
    const ConvGeom* c = i == 0 ? conv : nullptr;
    if (whole[i] <= half) {
      pol[i] = BlockPolicy::Whole;
    } else if (a_bytes_bound(c, hw.dataflow, T, w, ib) <= half) {
      pol[i] = BlockPolicy::Chunk;
    } else {
      pol[i] = BlockPolicy::Segment;
      if (!c) {
        longest[i] = half / (w * ib);
      } else {  // the longest run of stream vectors whose raw rows surely fit
        int64_t lo = 1, hi = T - 1;
        while (lo < hi) {
          const int64_t mid = lo + (hi - lo + 1) / 2;
          if (a_bytes_bound(c, hw.dataflow, mid, w, ib) <= half)
            lo = mid;
          else
            hi = mid - 1;
        }
        longest[i] = lo;
      }
    }
  }
  p.ifmap = pol[0];
  p.filter = pol[1];

  // Outputs. OS: a fold's r x c finished outputs; WS/IS: a fold's T x c outputs, accumulated
  // over the Sr-chunks (K) of its Sc-chunk when K is split.
  const int64_t half_o = sram_half_bytes(hw, Operand::Ofmap);
  if (hw.dataflow == Dataflow::OS) {
    // One fold's finished outputs, in a half, or (drained row by row as they leave the array)
    // in the whole buffer.
    const bool drains = hw.dram_stall_free() || hw.dram_bw() >= double(x.wc * ob);
    if (x.wr * x.wc * (ob + side) > (drains ? 2 : 1) * half_o)
      throw too_small(hw, Operand::Ofmap, "ofmap tile (one fold's outputs)", "M x N", x.wr, x.wc,
                      ob + side, drains);
    p.ofmap = OutputPolicy::Final;
  } else {
    const bool split = x.nsr > 1;
    // Per output in the tile: its accumulator or finished output, and a fused add's operand.
    const int64_t elem = (split ? kAccumulatorBytes : ob) + side;
    const bool ws = hw.dataflow == Dataflow::WS;
    if (x.wc * elem > half_o)
      throw too_small(hw, Operand::Ofmap,
                      split ? "ofmap tile (one output vector of int32 partial sums)"
                            : "ofmap tile (one output vector)",
                      "M x N", ws ? 1 : x.wc, ws ? x.wc : 1, elem);
    p.ofmap = split ? OutputPolicy::Resident : OutputPolicy::Final;
    // Accumulators too large for a half may take the whole buffer (single-buffered, as the
    // TPU's 4 MiB of accumulators hold one 4096 x 256 block): the next column of folds then
    // waits for their write-back.
    // They drain row by row as the last K-chunk delivers them (one row of c outputs per cycle),
    // so the channel must take c x OutputBytes per cycle, or be stall-free.
    const bool drains = hw.dram_stall_free() || hw.dram_bw() >= double(x.wc * ob);
    if (split && drains && T * x.wc * elem > half_o && T * x.wc * elem <= 2 * half_o) {
      p.out_whole = true;
    } else if (T * x.wc * elem > half_o) {
      if (split) p.ofmap = OutputPolicy::Spill;
      longest[2] = half_o / (x.wc * elem);
      p.out_cut = true;
    }
  }
  // Segments as long as the shortest cut allows, all near-equal; each cut then takes as many
  // whole segments as fit, in near-equal groups (so no block is a short remainder).
  p.segments = ceil_div(T, std::min({longest[0], longest[1], longest[2]}));
  p.stream_block = ceil_div(T, p.segments);
  int64_t groups[3];
  for (int i = 0; i < 3; ++i)
    groups[i] = ceil_div(p.segments, std::max<int64_t>(1, longest[i] / p.stream_block));
  p.blocks[0] = groups[0];
  p.blocks[1] = groups[1];
  p.out_tiles = groups[2];
  p.traffic = closed_form_traffic(hw, g, p, ctx);
  return p;
}

DramTraffic closed_form_traffic(const HwSpec& hw, const GemmShape& g, const GemmPlan& p,
                                const GemmContext& ctx) {
  const ConvGeom* conv = ctx.conv;
  const Roles x = roles(hw, g);
  const int64_t ob = hw.output_bytes;
  const int64_t R = hw.array_rows, C = hw.array_cols, T = x.sm.T;
  const BlockPolicy pol[2] = {p.ifmap, p.filter};
  int64_t reads[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    // One pass over the operand: the bytes of its distinct blocks (without a conv: the matrix).
    const ConvGeom* c = i == 0 ? conv : nullptr;
    const int64_t sdim = x.along_sr[i] ? x.sm.Sr : x.sm.Sc, su = x.along_sr[i] ? R : C;
    int64_t pass = 0;
    // Without a conv's halos the distinct blocks tile the matrix: one pass is its bytes, whatever
    // the policy (the loops below would add up the same, block by block).
    const bool plain = !c && pol[i] != BlockPolicy::None;
    switch (plain ? BlockPolicy::Whole : pol[i]) {
      case BlockPolicy::Whole:
        pass = i == 0 ? a_bytes(c, 0, g.M, 0, g.K, hw.input_bytes) : g.K * g.N * hw.input_bytes;
        break;
      case BlockPolicy::Fold:
        for (int64_t r0 = 0; r0 < x.sm.Sr; r0 += R)
          for (int64_t c0 = 0; c0 < x.sm.Sc; c0 += C)
            pass +=
                block_bytes(hw, c, i, r0, std::min(x.sm.Sr, r0 + R), c0, std::min(x.sm.Sc, c0 + C));
        break;
      case BlockPolicy::Chunk:
        for (int64_t s0 = 0; s0 < sdim; s0 += su)
          pass += block_bytes(hw, c, i, s0, std::min(sdim, s0 + su), 0, T);
        break;
      case BlockPolicy::Segment:
        for (int64_t s0 = 0; s0 < sdim; s0 += su)
          for (int64_t j = 0; j < p.blocks[i]; ++j) {
            const int64_t t0 = segment_start(p, T, group_first(p, p.blocks[i], j));
            pass += block_bytes(hw, c, i, s0, std::min(sdim, s0 + su), t0,
                                t0 + block_len(p, T, p.blocks[i], j));
          }
        break;
      case BlockPolicy::None:
        break;
    }
    // How often the operand crosses the channel: a block is loaded when it differs from the
    // previous step's. A chunk block changes with its chunk, a segment block with the part of
    // the stream it holds.
    const bool seg = pol[i] == BlockPolicy::Segment && p.blocks[i] > 1;
    int64_t times = 1;
    if (pol[i] == BlockPolicy::Whole || pol[i] == BlockPolicy::Fold)
      times = 1;
    else if (!x.along_sr[i])  // follows the outer (Sc) loop: streamed again per Sr-chunk if cut
      times = seg ? x.nsr : 1;
    else  // follows the inner (Sr) loop: streamed again per Sc-chunk unless it never changes
      times = (x.nsr == 1 && !seg) ? 1 : x.nsc;
    reads[i] = times * pass;
  }
  DramTraffic d;
  d.ifmap = reads[0];
  d.filter = reads[1];
  d.ofmap = g.M * g.N * ob;
  d.side = g.M * g.N * ctx.side_bytes;   // once per output, into its final output tile
  if (p.ofmap == OutputPolicy::Spill) {  // int32 partial sums out and back per extra K-chunk
    d.ofmap += (x.nsr - 1) * g.M * g.N * kAccumulatorBytes;
    d.psum = (x.nsr - 1) * g.M * g.N * kAccumulatorBytes;
  }
  return d;
}

Program gemm_program(const HwSpec& hw, const GemmShape& g, std::string plan) {
  Program p;
  p.shape = g;
  p.dataflow = hw.dataflow;
  p.plan = std::move(plan);
  p.input_bytes = hw.input_bytes;
  p.output_bytes = hw.output_bytes;
  p.acc_bytes = kAccumulatorBytes;
  const Roles x = roles(hw, g);
  p.stationary = x.streamed[0] ? (x.streamed[1] ? -1 : 1) : 0;
  return p;
}

Program build_program(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan,
                      const GemmContext& ctx, int64_t head_cols) {
  Program p = gemm_program(hw, g, plan.describe());
  append_program_steps(hw, g, plan, ctx, head_cols, StepOffset{}, p);
  return p;
}

FoldSteps::FoldSteps(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan, int64_t head_cols,
                     StepOffset at)
    : g_(g), plan_(plan), x_(roles(hw, g)), df_(hw.dataflow), head_cols_(head_cols), at_(at) {
  if (plan.segments < 1 || plan.segments > x_.sm.T || plan.blocks[0] > plan.segments ||
      plan.blocks[1] > plan.segments || plan.out_tiles > plan.segments ||
      std::min({plan.blocks[0], plan.blocks[1], plan.out_tiles}) < 1)
    throw InputError("tiler: a fold's stream must be cut into 1 .. T segments, grouped in blocks");
  R_ = hw.array_rows, C_ = hw.array_cols;
  start_column();
  start_row();
}

void FoldSteps::start_column() {
  // Only the first head_cols columns and the last (a skipped column's loads leave prev_id as
  // the one before it left it: the same block of a chunk along Sr, a new one along Sc).
  if (head_cols_ >= 0 && sc_ >= head_cols_ && sc_ < x_.nsc - 1) sc_ = x_.nsc - 1;
  c0_ = sc_ * C_, c_ = std::min(C_, x_.sm.Sc - c0_);
}

void FoldSteps::start_row() {
  r0_ = sr_ * R_, r_ = std::min(R_, x_.sm.Sr - r0_);
}

int64_t FoldSteps::size() const {
  const int64_t cols = head_cols_ >= 0 ? std::min(x_.nsc, head_cols_ + 1) : x_.nsc;
  return x_.nsr * cols * plan_.segments;
}

TileSizes FoldSteps::tile() const {
  // The longest segment (the segments of floor(k T / segments) are ceil or floor of T /
  // segments long), the widest Sr- and Sc-chunks.
  const int64_t t = ceil_div(x_.sm.T, plan_.segments);
  switch (df_) {
    case Dataflow::OS:
      return {x_.wr, x_.wc, t};
    case Dataflow::WS:
      return {t, x_.wc, x_.wr};
    case Dataflow::IS:
      return {x_.wc, t, x_.wr};
  }
  return {};
}

inline void FoldSteps::make(const HwSpec& hw, const GemmContext& ctx, TileStep& s) {
  const ConvGeom* conv = ctx.conv;
  const int64_t side = ctx.side_bytes;
  const Roles& x = x_;
  const GemmPlan& plan = plan_;
  const int64_t R = R_, C = C_, T = x.sm.T;
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  const Dataflow df = hw.dataflow;
  const BlockPolicy pol[2] = {plan.ifmap, plan.filter};
  const int64_t sc = sc_, sr = sr_, k = k_;
  const int64_t c0 = c0_, c = c_, r0 = r0_, r = r_;
  const int64_t t0 = t0_, t1 = segment_start(plan, T, k + 1);
  const int64_t tl = t1 - t0;
  // The segment's sub-GEMM from (Sr, Sc, T) ranges.
  switch (df) {
    case Dataflow::OS:
      s.m0 = r0, s.mlen = r, s.n0 = c0, s.nlen = c, s.k0 = t0, s.klen = tl;
      break;
    case Dataflow::WS:
      s.m0 = t0, s.mlen = tl, s.n0 = c0, s.nlen = c, s.k0 = r0, s.klen = r;
      break;
    case Dataflow::IS:
      s.m0 = c0, s.mlen = c, s.n0 = t0, s.nlen = tl, s.k0 = r0, s.klen = r;
      break;
  }
  s.m0 += at_.m0, s.n0 += at_.n0, s.k0 += at_.k0;
  // One fold (segment): the sub-GEMM fits the array.
  s.folds =
      FoldGrid::make(df, int(R), int(C), s.m0, s.mlen, s.n0, s.nlen, s.k0, s.klen, t0 > 0, t1 < T);
  const int64_t fold_id = sc * x.nsr + sr;
  for (int i = 0; i < 2; ++i) {
    const int64_t chunk = x.along_sr[i] ? sr : sc, width = x.along_sr[i] ? r : c;
    const int64_t s0 = x.along_sr[i] ? r0 : c0;
    const ConvGeom* cg = i == 0 ? conv : nullptr;
    // The block's identity, and its bytes only when it changes (a step that keeps its block
    // loads nothing).
    int64_t id = 0, j = 0;
    switch (pol[i]) {
      case BlockPolicy::Whole:
        break;
      case BlockPolicy::Fold:
        id = fold_id;
        break;
      case BlockPolicy::Chunk:
        id = chunk;
        break;
      case BlockPolicy::Segment:
        j = group_of(plan, plan.blocks[i], k);
        id = chunk * plan.blocks[i] + j;
        break;
      case BlockPolicy::None:
        throw std::logic_error("tiler: operand without a block policy");
    }
    if (id == prev_id_[i]) continue;
    int64_t bytes = 0;
    switch (pol[i]) {
      case BlockPolicy::Whole:
        bytes = i == 0 ? a_bytes(cg, 0, g_.M, 0, g_.K, ib) : g_.K * g_.N * ib;
        break;
      case BlockPolicy::Fold:
        bytes = block_bytes(hw, cg, i, r0, r0 + r, c0, c0 + c);
        break;
      case BlockPolicy::Chunk:
        bytes = block_bytes(hw, cg, i, s0, s0 + width, 0, T);
        break;
      case BlockPolicy::Segment: {
        const int64_t b0 = segment_start(plan, T, group_first(plan, plan.blocks[i], j));
        bytes =
            block_bytes(hw, cg, i, s0, s0 + width, b0, b0 + block_len(plan, T, plan.blocks[i], j));
        break;
      }
      case BlockPolicy::None:
        break;
    }
    (i == 0 ? s.ifmap_load_bytes : s.filter_load_bytes) = bytes;
    if (bytes == 0) s.ifmap_pad_only = true;  // only A's blocks can be all padding
    prev_id_[i] = id;
  }
  // Output tiles: [o0, o1) is the part of the stream the segment's output tile covers.
  const bool last_sr = sr + 1 == x.nsr;
  const int64_t oj = group_of(plan, plan.out_tiles, k);
  const int64_t o0 = segment_start(plan, T, group_first(plan, plan.out_tiles, oj));
  const int64_t o1 = segment_start(plan, T, group_first(plan, plan.out_tiles, oj + 1));
  const int64_t olen = o1 - o0;
  // A tile of final outputs also holds a fused add's operand (side bytes each), loaded when it
  // opens, and its store passes the output stage (TileStep::stage).
  switch (plan.ofmap) {
    case OutputPolicy::Final:
      if (df == Dataflow::OS) {  // the fold's r x c outputs, finished after its last segment
        s.new_output = t0 == 0;
        if (s.new_output) {
          s.ofmap_tile_bytes = r * c * (ob + side);
          s.side_load_bytes = r * c * side;
        }
        if (!s.folds.more) s.store_bytes = r * c * ob, s.stage = true;
      } else {  // (K not split) the outputs of the fold's part [o0, o1) of the stream
        s.new_output = t0 == o0;
        if (s.new_output) {
          s.ofmap_tile_bytes = olen * c * (ob + side);
          s.side_load_bytes = olen * c * side;
        }
        if (t1 == o1) s.store_bytes = olen * c * ob, s.stage = true;
      }
      break;
    case OutputPolicy::Resident:  // T x c accumulators across the Sc-chunk's folds
      s.new_output = sr == 0 && t0 == 0;
      if (s.new_output) {
        s.ofmap_tile_bytes = T * c * (kAccumulatorBytes + side);
        s.side_load_bytes = T * c * side;
      }
      if (last_sr && !s.folds.more) s.store_bytes = T * c * ob, s.stage = true;
      break;
    case OutputPolicy::Spill:  // int32 partial sums of [o0, o1), out and back
      s.new_output = t0 == o0;
      if (s.new_output) {
        s.ofmap_tile_bytes = olen * c * (kAccumulatorBytes + (last_sr ? side : 0));
        if (last_sr) s.side_load_bytes = olen * c * side;
        if (sr > 0) {
          s.psum_load_bytes = olen * c * kAccumulatorBytes;
          s.psum_back = plan.out_tiles;
        }
      }
      if (t1 == o1) {
        s.store_bytes = olen * c * (last_sr ? ob : kAccumulatorBytes);
        s.stage = last_sr;
      }
      break;
  }
  // The next step: segments innermost, then Sr-chunks, then Sc-chunks.
  t0_ = t1;
  if (++k_ < plan.segments) return;
  k_ = t0_ = 0;
  ++sr_;
  if (sr_ == x.nsr) {
    sr_ = 0;
    ++sc_;
    start_column();
  }
  start_row();
}

void append_program_steps(const HwSpec& hw, const GemmShape& g, const GemmPlan& plan,
                          const GemmContext& ctx, int64_t head_cols, StepOffset at, Program& p) {
  FoldSteps steps(hw, g, plan, head_cols, at);
  if (p.steps.empty()) p.steps.reserve(size_t(steps.size()));
  append_steps(p, steps, [&](TileStep& s) { steps.make(hw, ctx, s); });
}

CutSteps::CutSteps(const HwSpec& hw, const GemmShape& g, const SubGemms& t, const GemmContext& ctx,
                   int64_t head, bool blocks)
    : hw_(&hw), g_(g), t_(t), ctx_(ctx), order_(g, t, ctx.conv, head, blocks) {
  if (!order_.done()) steps_ = sub_steps_at(order_);
}

FoldSteps CutSteps::sub_steps_at(const SubGemmOrder& o) const {
  const GemmShape sub = o.sub();
  return FoldSteps(*hw_, sub, plan_blocks(*hw_, sub, o.context(ctx_)), -1,
                   StepOffset{o.m0(), o.n0(), o.k0()});
}

inline void CutSteps::make_inline(TileStep& s) {
  steps_.make(*hw_, order_.context(ctx_), s);
  if (t_.k < g_.K) {
    // K cut: the block's k-blocks accumulate into one output tile, opened by its first step
    // (with a fused add's operand) and written back after its last.
    const GemmShape b = order_.sub();
    const bool last = steps_.done() && order_.block_last();
    s.new_output = block_first_;
    s.ofmap_tile_bytes = block_first_ ? b.M * b.N * (kAccumulatorBytes + ctx_.side_bytes) : 0;
    s.side_load_bytes = block_first_ ? b.M * b.N * ctx_.side_bytes : 0;
    s.psum_load_bytes = s.psum_back = 0;
    s.store_bytes = last ? b.M * b.N * hw_->output_bytes : 0;
    s.stage = last;
  }
  block_first_ = false;
  if (!steps_.done()) return;
  order_.next();
  if (order_.done()) return;
  steps_ = sub_steps_at(order_);
  block_first_ = order_.k0() == 0;
}

void CutSteps::make(TileStep& s) {
  make_inline(s);
}

void CutSteps::append(Program& p) {
  append_steps(p, *this, [&](TileStep& s) { make_inline(s); });
}

}  // namespace ssim
