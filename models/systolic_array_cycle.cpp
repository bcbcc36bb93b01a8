#include "models/systolic_array_cycle.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "models/sim_time.hpp"

namespace ssim {
namespace {

std::string at(int64_t n) {
  return " (job cycle " + std::to_string(n) + ")";
}

}  // namespace

int SystolicArrayCycle::fault_early_ = 0;
bool SystolicArrayCycle::fault_unchecked_ = false;

void SystolicArrayCycle::inject_fault_for_tests(int early_cycles, bool disable_hazard_checks) {
  fault_early_ = early_cycles;
  fault_unchecked_ = disable_hazard_checks;
}

bool SystolicArrayCycle::lockstep_ = false;
SystolicArrayCycle::DecouplingCounters SystolicArrayCycle::counters_;

void SystolicArrayCycle::set_lockstep_for_tests(bool lockstep) {
  lockstep_ = lockstep;
}

SystolicArrayCycle::DecouplingCounters& SystolicArrayCycle::counters_for_tests() {
  return counters_;
}

SystolicArrayCycle::SystolicArrayCycle(sc_core::sc_module_name name) : ArrayModel(name) {
  SC_THREAD(run);
}

void SystolicArrayCycle::configure(const ArrayConfig& cfg, int64_t origin) {
  ArrayModel::configure(cfg, origin);
  R_ = cfg.rows;
  C_ = cfg.cols;
  const size_t rc = size_t(R_) * size_t(C_);
  const bool os = cfg.dataflow == Dataflow::OS;
  aval_.assign(rc, 0);
  aflg_.assign(rc, 0);
  psum_.assign(os ? rc : rc + size_t(C_), 0);  // WS/IS: a zero row on top
  psum_next_.assign(os ? 0 : rc + size_t(C_), 0);
  bval_.assign(os ? rc : 0, 0);
  bflg_.assign(os ? rc : 0, 0);
  drain_.assign(os ? rc : 0, 0);
  dvalid_.assign(os ? rc : 0, 0);
  lrow_.assign(os ? size_t(R_) : 0, 0);
  w_[0].assign(os ? 0 : rc, 0);
  w_[1].assign(os ? 0 : rc, 0);
  size_t h = 1;
  while (h < size_t(std::max(R_, C_)) + 1) h <<= 1;
  ring_.assign(h, Issue{});
  ring_mask_ = int64_t(h) - 1;
  valid_in_grid_ = 0;
  evaluated_ = 0;

  pending_.clear();
  folds_.clear();
  fold_base_ = folds_total_ = 0;
  chains_total_ = 0;
  chain_open_ = false;
  last_submitted_ = Fold{};
  bank_last_[0] = bank_last_[1] = 0;
  seg_pending_.clear();
  tiles_.clear();
  tile_base_ = tiles_total_ = 0;
  next_start_ = next_stream_ = 0;
  preload_seq_ = stream_seq_ = drain_seq_ = kNone;
  preload_q_ = stream_t_ = drain_q_ = 0;
  bank_busy_[0] = bank_busy_[1] = false;
  bank_cols_[0] = bank_cols_[1] = 0;
  col_seq_.assign(size_t(C_), 0);
  col_t_.assign(size_t(C_), 0);
  col_fold_.assign(size_t(C_), nullptr);
  move_seq_ = drain_next_ = 0;
  ended_ = 0;
  in_flight_ = 0;
  last_busy_ = -1;
  prev_pred_end_ = -1;
}

void SystolicArrayCycle::submit(TileCmd cmd) {
  const FoldGrid& g = cmd.folds;
  const uint64_t n = g.size();
  if (n == 0) throw std::logic_error("array: a tile command needs at least one fold");
  const FoldShape u = g.shape();  // every fold is as large as this or smaller
  if (u.rows < 1 || u.cols < 1 || u.T < 1 || u.rows > cfg_.rows || u.cols > cfg_.cols)
    throw std::logic_error("array: fold does not fit the array");
  if (data_) {
    const GemmShape& s = data_->shape;
    if (g.df != cfg_.dataflow || g.m0 < 0 || g.n0 < 0 || g.k0 < 0 || g.m0 + g.mlen > s.M ||
        g.n0 + g.nlen > s.N || g.k0 + g.klen > s.K)
      throw std::logic_error("array: fold does not match the bound GEMM data");
  }
  const Fold first = g.front();
  if (first.cont != chain_open_ ||
      (first.cont && !continues_fold(cfg_.dataflow, last_submitted_, first)))
    throw std::logic_error("array: a segment does not continue the fold before it");
  ++submitted_;
  if (busy()) ++counters_.busy_submits;
  const int64_t a = job_cycle();
  const uint64_t preloads = cfg_.dataflow != Dataflow::OS ? n - (first.cont ? 1 : 0) : 0;
  tiles_.push_back(TileRec{cmd.id, n, n, -1, preloads, -1, -1});
  pending_.push_back(PendingGrid{g, 0, tiles_total_, a});
  folds_total_ += n;
  ++tiles_total_;
  last_submitted_ = g.back();
  chain_open_ = last_submitted_.more;
  wake_.notify();
}

SystolicArrayCycle::FoldRec& SystolicArrayCycle::upcoming(uint64_t seq) {
  while (seq - fold_base_ >= folds_.size()) {
    PendingGrid& p = pending_.front();
    FoldRec r;
    r.f = p.g[p.next];
    if (!r.f.cont) ++chains_total_;
    r.chain = chains_total_ - 1;
    r.seq = fold_base_ + folds_.size();
    r.tile = p.tile;
    r.arrival = p.arrival;
    folds_.push_back(r);
    if (++p.next == p.g.size()) pending_.pop_front();
  }
  return fold(seq);
}

bool SystolicArrayCycle::busy() const {
  // (WS/IS: a continuation segment may have passed the preload stage and wait to stream.)
  return in_flight_ > 0 || next_start_ < folds_total_ || valid_in_grid_ > 0 ||
         (cfg_.dataflow != Dataflow::OS && next_stream_ < next_start_);
}

void SystolicArrayCycle::run() {
  for (;;) {
    // Nothing in flight, nothing pending and the grid holds only bubbles: the registers would not
    // change, so sleep until the next submit() instead of advancing empty cycles.
    while (!busy()) {
      std::fill(ring_.begin(), ring_.end(), Issue{});
      sc_core::wait(wake_);
    }
    int64_t n = job_cycle();
    if (eval_time(n) < sc_core::sc_time_stamp()) ++n;
    for (;;) {
      if (eval_time(n) > sc_core::sc_time_stamp())
        sc_core::wait(eval_time(n) - sc_core::sc_time_stamp());
      // Now is cycle n's evaluation time: every submit() up to cycle n has been made. Step n,
      // then, without waiting, every later cycle before the first one some other process could
      // still submit a tile for (temporal decoupling; docs/array-model.md, "Many cycles per
      // wait").
      int64_t limit = lockstep_ ? n : decoupling_limit();
      uint64_t notes = finished_ + reads_.size();
      const int64_t first = n;
      for (;;) {
        step(n);
        ++n;
        if (n > limit || !busy()) break;
        if (finished_ + reads_.size() != notes) {  // a tile ended or read its operands
          limit = lockstep_ ? n - 1 : decoupling_limit();
          notes = finished_ + reads_.size();
          if (n > limit) break;
        }
      }
      ++counters_.strides;
      counters_.cycles += n - first;
      if (!busy()) break;
    }
  }
}

int64_t SystolicArrayCycle::decoupling_limit() const {
  // submit() is called at whole cycle times only, so a process that runs at time P submits for
  // cycle ceil(P) at the earliest: cycle m may be stepped now if the next pending activity of the
  // kernel (a timeout, an event notification, this model's own finish/read notifications) lies
  // after m's start. Anything pending now (another runnable process, a delta notification)
  // gives P = now, which allows no cycle beyond the current one.
  const sc_core::sc_time p = sc_core::sc_time_stamp() + sc_core::sc_time_to_pending_activity();
  const uint64_t per = cycle_period().value();
  const uint64_t pv = p.value();
  if (pv == 0) return std::numeric_limits<int64_t>::min();
  return int64_t((pv - 1) / per) - clock_.origin;  // the last cycle that starts before P
}

void SystolicArrayCycle::step(int64_t n) {
  ++evaluated_;
  if (cfg_.dataflow == Dataflow::OS)
    step_output_stationary(n);
  else
    step_stationary(n);
  retire();
}

void SystolicArrayCycle::start_fold(FoldRec& f, int64_t n) {
  if (in_flight_ == 0) stats_.idle_cycles += n - (last_busy_ + 1);
  ++in_flight_;
  f.start = n;
  if (stats_.first_cycle < 0) stats_.first_cycle = n;
}

void SystolicArrayCycle::end_fold(FoldRec& f, int64_t n) {
  if (!fault_unchecked_ && f.pred_end != n)
    throw std::logic_error("array: fold " + std::to_string(f.seq) + " ended at cycle " +
                           std::to_string(n) + ", not at the pipeline latency's " +
                           std::to_string(f.pred_end));
  f.end = n;
  ++ended_;
  --in_flight_;
  last_busy_ = std::max(last_busy_, n);
  stats_.last_cycle = last_busy_;
  stats_.macs += f.f.macs();
  stats_.folds += f.f.cont ? 0 : 1;
  stats_.segments += 1;
  stats_.mapped_pe_cycles += uint64_t(R_) * uint64_t(C_) * uint64_t(f.f.T);
  if (cfg_.dataflow != Dataflow::OS && !f.f.more) bank_busy_[f.chain & 1] = false;
  TileRec& t = tiles_[f.tile - tile_base_];
  t.end = std::max(t.end, n);
  --t.remaining;
  // Tiles complete in submission order, each when all of its outputs are in C.
  while (!tiles_.empty() && tiles_.front().remaining == 0) {
    finish_tile(tiles_.front().id, tiles_.front().end);
    tiles_.pop_front();
    ++tile_base_;
  }
}

void SystolicArrayCycle::issued_last(const FoldRec& f, int64_t n) {
  // The skew buffer hands the vector to row i (and, OS, column j) i (j) cycles later: that is
  // when the last element is read from the scratchpad.
  const int64_t lag = cfg_.dataflow == Dataflow::OS ? std::max(f.f.rows, f.f.cols) : f.f.rows;
  TileRec& t = tiles_[f.tile - tile_base_];
  t.last_read = std::max(t.last_read, n + lag - 1);
  if (--t.unread == 0) reads_done(t.id, t.last_read);
}

void SystolicArrayCycle::retire() {
  if (folds_.empty() || folds_.front().end < 0) return;
  uint64_t keep = kNone;  // the oldest fold the collector may still meet
  if (cfg_.dataflow != Dataflow::OS) keep = *std::min_element(col_seq_.begin(), col_seq_.end());
  while (!folds_.empty() && folds_.front().end >= 0 && folds_.front().seq < keep) {
    folds_.pop_front();
    ++fold_base_;
  }
}

void SystolicArrayCycle::begin_stream(FoldRec& f) {
  // Its schedule is known from here: preload start, stream start, end (--traces).
  if (trace_) trace_->fold(f.f, f.start, f.stream, f.pred_end);
  stream_seq_ = f.seq;
  stream_t_ = 0;
  stream_fold_ = &f;  // deque elements stay put while others are added or retired
  feed_ = make_issue(f, 0);
  const int64_t N = data_ ? data_->shape.N : 0, K = data_ ? data_->shape.K : 0;
  feed_stepA_ = cfg_.dataflow == Dataflow::WS ? K : 1;  // from vector t to t + 1
  feed_stepB_ = N;
}

void SystolicArrayCycle::feed(int64_t n) {
  Issue& is = ring_[n & ring_mask_];
  if (stream_seq_ == kNone) {
    is = Issue{};
    return;
  }
  is = feed_;
  FoldRec& f = *stream_fold_;
  if (++stream_t_ == f.f.T) {
    stream_seq_ = kNone;
    issued_last(f, n);
    return;
  }
  if (feed_.srcA) feed_.srcA += feed_stepA_;
  if (feed_.srcB) feed_.srcB += feed_stepB_;
  if (cfg_.dataflow == Dataflow::OS && stream_t_ == f.f.T - 1)
    feed_.flagsA |= f.f.more ? kSegEnd : kLast;
}

SystolicArrayCycle::Issue SystolicArrayCycle::make_issue(const FoldRec& fr, int64_t t) const {
  const Fold& f = fr.f;
  Issue e;
  e.rows = f.rows;
  e.cols = f.cols;
  const uint8_t parity = (fr.chain & 1) ? kParity : 0;
  e.flagsA = kValid | parity;
  const GemmData* d = data_;
  const int64_t N = d ? d->shape.N : 0, K = d ? d->shape.K : 0;
  switch (cfg_.dataflow) {
    case Dataflow::WS:  // vector t = row m0+t of A; row i gets A[m0+t][k0+i]
      if (d) e.srcA = d->A + (f.m0 + t) * K + f.k0;
      e.strideA = 1;
      break;
    case Dataflow::IS:  // vector t = column n0+t of B; row i gets B[k0+i][n0+t]
      if (d) e.srcA = d->B + f.k0 * N + f.n0 + t;
      e.strideA = N;
      break;
    case Dataflow::OS:  // row i gets A[m0+i][k0+t], column j gets B[k0+t][n0+j]
      if (d) {
        e.srcA = d->A + f.m0 * K + f.k0 + t;
        e.srcB = d->B + (f.k0 + t) * N + f.n0;
      }
      e.strideA = K;
      e.flagsB = kValid | parity;
      if (t == f.T - 1) e.flagsA |= f.more ? kSegEnd : kLast;
      break;
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Weight / input stationary.

void SystolicArrayCycle::check_bank_free(int bank, int64_t n) const {
  if (fault_unchecked_) return;
  const uint8_t want = uint8_t(kValid | (bank ? kParity : 0));
  // An operand of this bank that will still meet a PE of the columns its fold uses.
  const int cols = bank_cols_[bank];
  for (int i = 0; i < R_; ++i)
    for (int j = 0; j + 1 < cols; ++j)
      if ((aflg_[size_t(i) * C_ + j] & (kValid | kParity)) == want)
        throw std::logic_error("array hazard: preload overwrites bank " + std::to_string(bank) +
                               " still used by PE(" + std::to_string(i) + "," +
                               std::to_string(j + 1) + ")" + at(n));
  // Or one still waiting in the skew buffer to enter a row.
  for (int d = 1; d < R_; ++d) {
    const Issue& e = ring_[(n - d) & ring_mask_];
    if ((e.flagsA & (kValid | kParity)) == want)
      throw std::logic_error("array hazard: preload overwrites bank " + std::to_string(bank) +
                             " while its operands wait in the skew buffer" + at(n));
  }
  if (stream_seq_ != kNone && int(fold(stream_seq_).chain & 1) == bank)
    throw std::logic_error("array hazard: preload overwrites bank " + std::to_string(bank) +
                           " while its fold streams" + at(n));
}

void SystolicArrayCycle::step_stationary(int64_t n) {
  const int R = R_, C = C_;
  // ---- sequencer: decides from the registers as they are at the end of cycle n-1 ----
  // Continuation segments need no preload: they pass the preload stage once they have arrived
  // (never in cycle 0: a fold's first segment preloads first). Then at most one preload starts.
  while (next_start_ < folds_total_) {
    FoldRec& f = upcoming(next_start_);
    const int bank = int(f.chain & 1);
    if (f.f.cont) {
      if (f.arrival > n) break;
      f.preload_end = n - 1;
      bank_last_[bank] = f.seq;
      ++next_start_;
      continue;
    }
    if (preload_seq_ != kNone) break;  // the preload path is busy
    bool go = f.arrival <= n;
    if (cfg_.fold_overlap) {
      go = go && !bank_busy_[bank];  // the fold that used this bank has ended
      if (fault_early_ > 0 && bank_busy_[bank]) {
        const FoldRec& o = fold(bank_last_[bank]);
        go = f.arrival <= n && o.stream >= 0 && n >= o.pred_end + 1 - fault_early_;
      }
    } else {
      go = go && ended_ == f.seq;  // the previous fold has ended
      if (fault_early_ > 0 && ended_ < f.seq) {
        const FoldRec& o = fold(f.seq - 1);
        go = f.arrival <= n && ended_ + 1 == f.seq && o.stream >= 0 &&
             n >= o.pred_end + 1 - fault_early_;
      }
    }
    if (!go) break;
    check_bank_free(bank, n);
    start_fold(f, n);
    bank_busy_[bank] = true;
    bank_cols_[bank] = f.f.cols;
    bank_last_[bank] = f.seq;
    preload_seq_ = f.seq;
    preload_q_ = 0;
    ++next_start_;
    break;
  }
  if (stream_seq_ == kNone && next_stream_ < next_start_) {
    // The left edge is free (the previous fold's last vector has entered row 0) ...
    FoldRec& f = fold(next_stream_);
    if (f.preload_end >= 0 && f.preload_end < n) {  // ... and this fold's preload is complete.
      if (f.f.cont) start_fold(f, n);               // in flight from its first vector
      f.stream = n;
      f.pred_end = n + f.f.T + R + f.f.cols - 3;  // only checked against the collector
      begin_stream(f);
      ++next_stream_;
    }
  }

  // ---- datapath of cycle n ----
  const GemmData* d = data_;
  int preloading_bank = -1;
  if (preload_seq_ != kNone) {
    // The bank shifts down one row; the top edge feeds tile row rows-1-q (zeros in unused
    // columns). After `rows` cycles row i holds tile row i.
    FoldRec& f = fold(preload_seq_);
    preloading_bank = int(f.chain & 1);
    int8_t* w = w_[preloading_bank].data();
    std::memmove(w + C, w, size_t(R - 1) * C);
    const int64_t k = f.f.k0 + (f.f.rows - 1 - preload_q_);
    const int c = f.f.cols;
    if (d && cfg_.dataflow == Dataflow::WS) {  // B[k][n0 + j]
      std::memcpy(w, d->B + k * d->shape.N + f.f.n0, size_t(c));
    } else if (d) {  // IS: A^T, A[m0 + j][k]
      const int64_t K = d->shape.K;
      const int8_t* src = d->A + f.f.m0 * K + k;
      for (int j = 0; j < c; ++j) w[j] = src[j * K];
    } else {
      std::memset(w, 0, size_t(c));
    }
    std::memset(w + c, 0, size_t(C - c));
    if (++preload_q_ == f.f.rows) {
      f.preload_end = n;
      TileRec& t = tiles_[f.tile - tile_base_];
      t.last_preload = std::max(t.last_preload, n);
      if (--t.unloaded == 0) reads_done(t.id, t.last_preload, true);
      preload_seq_ = kNone;
    }
  }

  // The edge feeder issues the next vector of the streaming fold into the skew buffer.
  feed(n);

  // Streamed operands move one PE to the right; row i takes the element of the vector issued
  // i cycles ago (zero in rows the fold does not use).
  int8_t* av = aval_.data();
  uint8_t* af = aflg_.data();
  for (int i = 0; i < R; ++i) valid_in_grid_ -= af[size_t(i) * C + C - 1] & kValid;
  std::memmove(av + 1, av, size_t(R) * C - 1);
  std::memmove(af + 1, af, size_t(R) * C - 1);
  for (int i = 0; i < R; ++i) {
    const Issue& e = ring_[(n - i) & ring_mask_];
    const size_t p = size_t(i) * C;
    af[p] = e.flagsA;
    av[p] = (i < e.rows && e.srcA) ? e.srcA[i * e.strideA] : 0;
    if (e.flagsA & kValid) {
      ++valid_in_grid_;
      if (!fault_unchecked_ && preloading_bank == ((e.flagsA & kParity) ? 1 : 0))
        throw std::logic_error("array hazard: an operand enters row " + std::to_string(i) +
                               " while its bank is being preloaded" + at(n));
    }
  }

  // Every PE adds its product to the partial sum from the PE above (row 0 starts from zero);
  // bottom row first so that each row reads the row above as it was in cycle n-1.
  // One flat loop over the grid into the other partial-sum buffer: PE(i, j) at (i + 1) * C + j,
  // row 0 of both buffers is zero (the input of PE row 0).
  int32_t* ps = psum_.data();
  if (d) {
    const size_t rc = size_t(R) * C;
    const int32_t* __restrict in = ps;
    int32_t* __restrict out = psum_next_.data() + C;
    const int8_t* __restrict a = av;
    const uint8_t* __restrict fl = af;
    const int8_t* __restrict x0 = w_[0].data();
    const int8_t* __restrict x1 = w_[1].data();
    for (size_t p = 0; p < rc; ++p) {  // branch-free bank select, so that it vectorises
      const int8_t sel = int8_t(-int8_t((fl[p] >> 1) & 1));  // kParity set: all ones
      const int8_t w = int8_t((x1[p] & sel) | (x0[p] & ~sel));
      out[p] = in[p] + int32_t(int16_t(a[p]) * int16_t(w));
    }
    psum_.swap(psum_next_);
    ps = psum_.data();
  }

  // The collector takes the partial sums leaving the bottom row with a valid operand.
  const size_t last = size_t(R - 1) * C;
  const bool ws = cfg_.dataflow == Dataflow::WS;
  for (int j = 0; j < C; ++j) {
    const uint8_t fl = af[last + j];
    if (!(fl & kValid)) continue;
    if (!col_fold_[j]) col_fold_[j] = &fold(col_seq_[j]);
    FoldRec& f = *col_fold_[j];
    if (!fault_unchecked_ && ((fl & kParity) ? 1u : 0u) != (f.chain & 1))
      throw std::logic_error("array: column " + std::to_string(j) +
                             " delivered an output of an unexpected fold" + at(n));
    const int64_t t = col_t_[j];
    if (j < f.f.cols) {
      if (d) {
        const int64_t N = d->shape.N;
        const int64_t idx = ws ? (f.f.m0 + t) * N + f.f.n0 + j : (f.f.m0 + j) * N + f.f.n0 + t;
        d->C[idx] += ps[C + last + j];
      }
      if (++f.collected == f.f.T * f.f.cols) end_fold(f, n);
    }
    if (++col_t_[j] == f.f.T) {
      ++col_seq_[j];
      col_t_[j] = 0;
      col_fold_[j] = nullptr;  // the next fold may not have been submitted yet
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output stationary.

void SystolicArrayCycle::step_output_stationary(int64_t n) {
  const int R = R_, C = C_;
  // ---- sequencer ----
  if (stream_seq_ == kNone && next_start_ < folds_total_) {
    // The left and top edges are free (the previous fold's last vector has entered).
    // A continuation segment streams right behind the previous one (only its data may hold it).
    FoldRec& f = upcoming(next_start_);
    bool go = f.arrival <= n;
    if (cfg_.fold_overlap) {
      // This fold's first move (PE(0,0), cycle n + T - 1, in its last segment) must come after
      // the previous fold's drain has ended; that end is predicted from the pipeline latency.
      if (!f.f.more) go = go && n + f.f.T - 1 >= prev_pred_end_ + 1 - fault_early_;
    } else if (f.f.cont) {
    } else if (fault_early_ > 0) {
      go = go && n >= prev_pred_end_ + 1 - fault_early_;
    } else {
      go = go && ended_ == f.seq;  // the previous fold has ended
    }
    if (go) {
      start_fold(f, n);
      f.stream = n;
      const int64_t last_move = n + f.f.T + f.f.rows + f.f.cols - 3;
      if (f.f.more) {  // ends with its last MAC, in PE(rows-1, cols-1)
        f.pred_end = last_move;
        seg_pending_.push_back(f.seq);
      } else {
        f.pred_end = std::max(last_move + 1, prev_pred_end_ + 1) + R - 1;
        prev_pred_end_ = f.pred_end;
      }
      begin_stream(f);
      ++next_start_;
    }
  }
  // Segments with `more` set neither move nor drain.
  while (drain_next_ < next_start_ && (drain_next_ < fold_base_ || fold(drain_next_).f.more))
    ++drain_next_;
  if (drain_seq_ == kNone && drain_next_ < next_start_) {
    // The previous drain has ended and every PE of the next fold has moved its accumulator.
    FoldRec& f = fold(drain_next_);
    if (f.last_move >= 0 && f.last_move < n) {
      drain_seq_ = f.seq;
      drain_q_ = 0;
      ++drain_next_;
    }
  }

  // ---- datapath of cycle n ----
  feed(n);

  // A moves right (row i takes the vector issued i cycles ago), B moves down (column j takes
  // the vector issued j cycles ago); unused rows and columns get bubbles.
  int8_t* av = aval_.data();
  uint8_t* af = aflg_.data();
  int8_t* bv = bval_.data();
  uint8_t* bf = bflg_.data();
  for (int i = 0; i < R; ++i) {
    const uint8_t out = af[size_t(i) * C + C - 1];
    valid_in_grid_ -= out & kValid;
    if (out & kLast) --lrow_[i];
  }
  const size_t last = size_t(R - 1) * C;
  for (int j = 0; j < C; ++j) valid_in_grid_ -= bf[last + j] & kValid;
  std::memmove(av + 1, av, size_t(R) * C - 1);
  std::memmove(af + 1, af, size_t(R) * C - 1);
  std::memmove(bv + C, bv, last);
  std::memmove(bf + C, bf, last);
  for (int i = 0; i < R; ++i) {
    const Issue& e = ring_[(n - i) & ring_mask_];
    const size_t p = size_t(i) * C;
    if (i < e.rows) {
      af[p] = e.flagsA;
      av[p] = e.srcA ? e.srcA[i * e.strideA] : 0;
      ++valid_in_grid_;
      if (e.flagsA & kLast) ++lrow_[i];
    } else {
      af[p] = 0;
      av[p] = 0;
    }
  }
  for (int j = 0; j < C; ++j) {
    const Issue& e = ring_[(n - j) & ring_mask_];
    if (j < e.cols) {
      bf[j] = e.flagsB;
      bv[j] = e.srcB ? e.srcB[j] : 0;
      ++valid_in_grid_;
    } else {
      bf[j] = 0;
      bv[j] = 0;
    }
  }

  // Every PE multiplies and accumulates.
  int32_t* acc = psum_.data();
  if (data_) {
    const size_t rc = size_t(R) * C;
    int32_t* __restrict o = acc;
    const int8_t* __restrict a = av;
    const int8_t* __restrict b = bv;
    for (size_t p = 0; p < rc; ++p) o[p] += int32_t(int16_t(a[p]) * int16_t(b[p]));
  }

  // A PE whose A operand carries the last bit (and whose B operand is valid) moves its
  // accumulator into its drain register and clears it.
  const bool draining = drain_seq_ != kNone;
  for (int i = 0; i < R; ++i) {
    if (lrow_[i] == 0) continue;
    const size_t p0 = size_t(i) * C;
    for (int j = 0; j < C; ++j) {
      const size_t p = p0 + j;
      if (!(af[p] & kLast) || !(bf[p] & kValid)) continue;
      while (move_seq_ < next_start_ && (move_seq_ < fold_base_ || fold(move_seq_).f.more))
        ++move_seq_;
      if (move_seq_ >= next_start_)
        throw std::logic_error("array: a PE moved an accumulator of no fold" + at(n));
      FoldRec& m = fold(move_seq_);
      if (!fault_unchecked_) {
        const uint8_t par = (m.chain & 1) ? kParity : 0;
        if ((af[p] & kParity) != par || (bf[p] & kParity) != par)
          throw std::logic_error("array hazard: PE(" + std::to_string(i) + "," + std::to_string(j) +
                                 ") moves an accumulator of fold " + std::to_string(m.seq + 1) +
                                 " before fold " + std::to_string(m.seq) +
                                 " has moved all of its own" + at(n));
        if (draining)
          throw std::logic_error("array hazard: PE(" + std::to_string(i) + "," + std::to_string(j) +
                                 ") moves its accumulator while the drain registers shift" + at(n));
        if (dvalid_[p])
          throw std::logic_error("array hazard: PE(" + std::to_string(i) + "," + std::to_string(j) +
                                 ") moves its accumulator into a drain register that still holds "
                                 "an uncollected value" +
                                 at(n));
      }
      drain_[p] = acc[p];
      dvalid_[p] = 1;
      acc[p] = 0;
      if (++m.moves == int64_t(m.f.rows) * m.f.cols) {
        m.last_move = n;
        ++move_seq_;
      }
    }
  }

  // A segment with `more` set ends when its last pair reaches PE(rows-1, cols-1).
  // (A short, narrow segment may end before a longer one streamed earlier.)
  for (size_t i = 0; i < seg_pending_.size();) {
    FoldRec& f = fold(seg_pending_[i]);
    if (f.pred_end != n) {
      ++i;
      continue;
    }
    const size_t p = size_t(f.f.rows - 1) * C + size_t(f.f.cols - 1);
    if (!fault_unchecked_ && (!(af[p] & kSegEnd) || !(bf[p] & kValid)))
      throw std::logic_error("array: segment " + std::to_string(f.seq) +
                             " did not end at the pipeline latency" + at(n));
    seg_pending_.erase(seg_pending_.begin() + std::ptrdiff_t(i));
    end_fold(f, n);
  }

  // Drain: the collector takes the bottom row of drain registers, the rest shift down one row.
  if (draining) {
    FoldRec& f = fold(drain_seq_);
    const int64_t row = R - 1 - drain_q_;  // the array row whose outputs leave now
    const GemmData* d = data_;
    for (int j = 0; j < C; ++j) {
      const bool expect = row < f.f.rows && j < f.f.cols;
      if (!fault_unchecked_ && bool(dvalid_[last + j]) != expect)
        throw std::logic_error("array: drain register of column " + std::to_string(j) +
                               (expect ? " is empty" : " holds a value of no fold") + at(n));
      if (!expect) continue;
      if (d) d->C[(f.f.m0 + row) * d->shape.N + f.f.n0 + j] += drain_[last + j];
      ++f.collected;
    }
    int32_t* dr = drain_.data();
    uint8_t* dv = dvalid_.data();
    std::memmove(dr + C, dr, last * sizeof(int32_t));
    std::memmove(dv + C, dv, last);
    std::memset(dr, 0, size_t(C) * sizeof(int32_t));
    std::memset(dv, 0, size_t(C));
    if (++drain_q_ == R) {
      if (!fault_unchecked_ && f.collected != int64_t(f.f.rows) * f.f.cols)
        throw std::logic_error("array: fold " + std::to_string(f.seq) +
                               " drained a wrong number of outputs" + at(n));
      drain_seq_ = kNone;
      end_fold(f, n);
    }
  }
}

}  // namespace ssim
