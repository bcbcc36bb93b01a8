// The controller's steps as they are made (docs/memory-system.md, "Planning lazily"): the
// pre-pass that resolves which blocks and output tile each step uses and checks it
// (make_step()), the search past the steps made for loads ahead (far_load()), and the dropping
// of records nothing reads any more (retire()). The rest of the controller is controller.cpp.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/controller.hpp"

namespace ssim {

const FoldGrid& Controller::grid(size_t j) {
  const TileStep& s = base(j);
  const int64_t i = prog_->shared == 1 ? 0 : int64_t(j / base_n_);
  if (i == 0) return s.folds;
  scratch_ = s.folds;
  scratch_.shift(i * prog_->copy_m, i * prog_->copy_n, 0);
  return scratch_;
}

void Controller::close_block(int op, size_t b) {
  Block& x = blocks_[op][b];
  if (x.closed) return;
  x.closed = true;
  if (x.last_user >= 0 && x.read_by == x.last_user) {  // its last user has read it already
    x.free_at = x.read_at + 1;
    loads_known_ = false;
  }
}

bool Controller::make_step() {
  const size_t n = n_steps_;
  if (made_ >= n) return false;
  const Program& prog = *prog_;
  const ArrayConfig& ac = array_->config();
  const size_t j = made_;
  if (lazy_) {
    if (j % base_n_ == 0) src_ = prog.lazy->begin();  // (each copy anew)
    TileStep& t = steps_.push_back(TileStep{});
    if (!src_->next(t))
      throw std::logic_error("controller: the lazy plan made fewer steps than its size");
  }
  const TileStep& s = base(j);
  const FoldGrid& folds = grid(j);  // (its position: a shared copy's moved)
  // (Built only for a message: a string per step cost 3 % of a run.)
  const auto where = [j] { return "controller: step " + std::to_string(j) + ": "; };
  const bool vec = s.kind == StepKind::Vector;
  if (vec) {
    if (!vector_) throw std::logic_error(where() + "a vector step needs a vector unit");
    if (prev_fold_) throw std::logic_error(where() + "a vector step inside a fold's segments");
    const VectorWork& w = s.vector;
    if (w.elements < 1 || w.inputs < 0 || w.window < 1 || w.row < 0 ||
        (w.row > 0 && w.elements % w.row != 0))
      throw std::logic_error(where() + "malformed vector work");
    if (!s.new_output) throw std::logic_error(where() + "a vector step opens its own output tile");
    if (s.filter_load_bytes != 0) throw std::logic_error(where() + "a vector step loads no filter");
  } else {
    if (folds.empty()) throw std::logic_error(where() + "a tile needs at least one fold");
    // Every fold of the grid is as large as its uniform one or smaller; only the first may
    // continue a fold, only the last be continued.
    const FoldShape u = folds.shape();
    if (u.rows < 1 || u.cols < 1 || u.T < 1 || u.rows > ac.rows || u.cols > ac.cols)
      throw std::logic_error(where() + "a fold does not fit the array");
    const Fold first = folds.front();
    if (first.cont != prev_fold_ || (first.cont && !continues_fold(ac.dataflow, prev_, first)))
      throw std::logic_error(where() + "a segment does not continue the fold before it");
    prev_ = folds.back();
    prev_fold_ = prev_.more;
  }
  if (s.wait_for_stores && !s.new_output)
    throw std::logic_error(where() + "a step that waits for the stores opens a new output tile");
  StepRef& ref = ref_.push_back(StepRef{});
  if (s.wait_for_stores) last_barrier_ = int32_t(j);
  ref.barrier = last_barrier_;
  const int64_t load[2] = {s.ifmap_load_bytes, s.filter_load_bytes};
  for (int op = 0; op < 2; ++op) {
    if (vec && op == 1) break;  // no filter block
    if (load[op] < 0) throw std::logic_error(where() + "negative load");
    // A continuation segment does not read the stationary tile (it is in the PEs).
    const bool skips = op == prog.stationary && !vec && load[op] == 0 && folds.front().cont;
    if (load[op] > 0 || vec || (op == 0 && s.ifmap_pad_only)) {
      // The stationary operand's block may take the whole buffer (single-buffered).
      const int64_t limit =
          op == prog.stationary ? buf_[op]->capacity_bytes() : buf_[op]->half_bytes();
      if (load[op] > limit)
        throw std::logic_error(where() + to_string(Operand(op)) + " block of " +
                               std::to_string(load[op]) + " bytes exceeds a buffer half");
      const size_t nb = blocks_[op].end_index();
      if (nb > 0) close_block(op, nb - 1);  // its last user is known now
      Block b;
      b.bytes = load[op];
      b.whole = load[op] > buf_[op]->half_bytes();
      blocks_[op].push_back(b);
      cur_[op] = int64_t(nb);
      loads_.push_back(Load{int32_t(cur_[op]), uint32_t(j), int8_t(op)});
    }
    if (cur_[op] < 0) throw std::logic_error(where() + "uses an operand block never loaded");
    if (skips) continue;
    ref.use[op] = int32_t(cur_[op]);
    blocks_[op][size_t(cur_[op])].last_user = int32_t(j);
  }
  if (vec) cur_[0] = -1;  // the next array step loads its own A block
  if (s.new_output) {
    if (out_open_) throw std::logic_error(where() + "opens an output tile before storing the last");
    // A tile larger than a half takes the whole buffer (single-buffered accumulators).
    if (s.ofmap_tile_bytes > buf_[2]->capacity_bytes() ||
        (vec && s.ofmap_tile_bytes > buf_[2]->half_bytes()))
      throw std::logic_error(where() + "output tile of " + std::to_string(s.ofmap_tile_bytes) +
                             " bytes exceeds the ofmap buffer");
    OutTile o;
    o.acc_bytes = s.ofmap_tile_bytes;
    o.whole = s.ofmap_tile_bytes > buf_[2]->half_bytes();
    o.elements = vec ? s.vector.elements : s.mlen * s.nlen;
    const int64_t idx = int64_t(outs_.end_index());
    if (s.psum_load_bytes < 0 || s.side_load_bytes < 0)
      throw std::logic_error(where() + "negative partial-sum or side load");
    if (s.psum_load_bytes > 0) {
      if (vec || s.psum_back < 1 || s.psum_back > idx ||
          outs_[size_t(idx - s.psum_back)].store_bytes <= 0)
        throw std::logic_error(where() + "reloads partial sums no earlier output tile stored");
      o.psum_src = int32_t(idx - s.psum_back);
    }
    if (s.psum_load_bytes + s.side_load_bytes > s.ofmap_tile_bytes || (vec && s.side_load_bytes))
      throw std::logic_error(where() + "loads more into its output tile than it holds");
    if (s.psum_load_bytes + s.side_load_bytes > 0) {
      o.psum_bytes = s.psum_load_bytes + s.side_load_bytes;
      loads_.push_back(Load{int32_t(idx), uint32_t(j), 2});
    }
    outs_.push_back(o);
    cur_out_ = idx;
    out_open_ = true;
  } else if (s.psum_load_bytes != 0 || s.side_load_bytes != 0) {
    throw std::logic_error(where() + "loads into an output tile without opening one");
  }
  if (!out_open_) throw std::logic_error(where() + "accumulates into no open output tile");
  ref.out = int32_t(cur_out_);
  OutTile& o = outs_[size_t(cur_out_)];
  o.last_step = int32_t(j);
  if (s.store_bytes > 0 || vec) {
    o.store_bytes = s.store_bytes;
    o.stage = s.stage;
    o.closed = true;
    out_open_ = false;
  }
  ++made_;
  if (made_ == n) {  // the end: every last user is known
    if (prev_fold_) throw std::logic_error("controller: the program ends inside a fold's segments");
    if (lazy_) {
      TileStep t;
      if (src_->next(t))
        throw std::logic_error("controller: the lazy plan made more steps than its size");
    }
    for (int op = 0; op < 2; ++op)
      if (blocks_[op].end_index() > 0) close_block(op, blocks_[op].end_index() - 1);
    if (outs_.end_index() > 0) outs_[outs_.end_index() - 1].closed = true;
  }
  return true;
}

bool Controller::far_load(int op) {
  FarScan& f = far_[op];
  // Still good while the load it found (if any) is not made yet; none found stays none.
  if (!f.src || !(f.ended || f.pos >= made_)) {
    f = FarScan{};
    f.pos = made_;
    f.barrier = last_barrier_;
    if (made_ % base_n_ != 0) f.src = src_->clone();  // (else the next copy's cursor, below)
  }
  if (f.found || f.ended) return f.found;
  TileStep s;
  for (; f.pos < n_steps_; ++f.pos) {
    if (f.pos % base_n_ == 0) f.src = prog_->lazy->begin();
    if (!f.src->next(s))
      throw std::logic_error("controller: the lazy plan made fewer steps than its size");
    const bool vec = s.kind == StepKind::Vector;
    if (s.wait_for_stores) f.barrier = int32_t(f.pos);
    if (vec && op == 1) continue;  // no filter block
    const int64_t load = op == 0 ? s.ifmap_load_bytes : s.filter_load_bytes;
    if (load > 0 || vec || (op == 0 && s.ifmap_pad_only)) {  // (as make_step() decides)
      f.found = true;
      f.bytes = load;
      return true;
    }
    const bool skips = op == prog_->stationary && !vec && !s.folds.empty() && s.folds.front().cont;
    if (!skips) f.last_use = int64_t(f.pos);
  }
  f.ended = true;
  return false;
}

void Controller::retire() {
  // Steps: those finished, in order, and before the step of the next load to issue.
  while (done_upto_ < made_ && ref_[done_upto_].done) ++done_upto_;
  size_t low = done_upto_;
  if (next_load_ < loads_.end_index()) low = std::min(low, size_t(loads_[next_load_].step));
  loads_.drop_before(next_load_);
  // Blocks: a block's load reads the two before it, and a block two before one placed is free
  // (every reader has read it; free_blocks() passes over a dropped one).
  for (int op = 0; op < 2; ++op) blocks_[op].drop_before(placed_[op] >= 4 ? placed_[op] - 4 : 0);
  // Output tiles: each reads the two before it, and its partial sums' source (keep_back_).
  size_t out_low = low < made_ ? size_t(ref_[low].out) : outs_.end_index();
  for (const PendingStore& p : pending_) out_low = std::min(out_low, size_t(p.tile));
  outs_.drop_before(out_low >= size_t(keep_back_) ? out_low - size_t(keep_back_) : 0);
  result_.held_steps = std::max(result_.held_steps, made_ - low);
  ref_.drop_before(low);
  steps_.drop_before(low);
}

}  // namespace ssim
