#include "models/controller.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/sim_time.hpp"

namespace ssim {

Controller::Controller(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_THREAD(thread);
}

void Controller::bind(DramChannel& dram, Scratchpad& ifmap, Scratchpad& filter, Scratchpad& ofmap) {
  dram_ = &dram;
  buf_[0] = &ifmap;
  buf_[1] = &filter;
  buf_[2] = &ofmap;
}

void Controller::start(const Program& prog, ArrayModel& array, int64_t origin, const JobLink* link,
                       bool keep_steps) {
  const std::vector<PrefetchBlock>* carried = link && link->continues ? &link->carried : nullptr;
  if (!dram_) throw std::logic_error("controller: memories not bound");
  if (!finished_) throw std::logic_error("controller: a job is still running");
  const ArrayConfig& ac = array.config();
  const size_t n = prog.size();
  if (n > kMaxSteps) throw std::logic_error("controller: a program of more than 2^31 - 1 steps");
  prog_ = &prog;
  array_ = &array;
  n_steps_ = n;
  base_n_ = std::max<size_t>(1, prog.base_size());
  lazy_ = prog.lazy != nullptr;
  keep_steps_ = keep_steps;
  for (auto& b : blocks_) b.clear();
  outs_.clear();
  loads_.clear();
  ref_.clear();
  steps_.clear();
  pending_.clear();
  src_.reset();
  for (FarScan& f : far_) f = FarScan{};
  if (!lazy_) {
    // At most a block per operand, an output tile and three loads per step (reserved: growing
    // these by doubling copied them about twice over, 11 % of a large GEMM's run).
    for (auto& b : blocks_) b.reserve(n);
    outs_.reserve(n);
    loads_.reserve(3 * n);
    ref_.reserve(n);
  }
  made_ = done_upto_ = 0;
  cur_[0] = cur_[1] = cur_out_ = -1;
  out_open_ = prev_fold_ = false;
  prev_ = Fold{};
  last_barrier_ = -1;
  keep_back_ = 2 + (lazy_ ? std::max<int64_t>(0, prog.lazy->max_psum_back()) : 0);
  placed_[0] = placed_[1] = 0;
  out_busy_[0] = out_busy_[1] = 0;
  input_bytes_ = std::max(1, prog.input_bytes);
  // A program held whole is made (and checked) whole before anything is simulated; a lazy one
  // as far as the filter blocks the previous job prefetched for it.
  if (!lazy_) make_until(n);

  // Filter blocks the previous job prefetched: this job's first filter loads, already issued,
  // placed in halves 0 and 1 (a whole-buffer block in both).
  if (carried && !carried->empty()) {
    while (blocks_[1].end_index() < carried->size() && make_step()) {
    }
    if (carried->size() > 2 || carried->size() > blocks_[1].end_index())
      throw std::logic_error("controller: more prefetched filter blocks than the program loads");
    size_t i = 0;
    for (size_t li = 0; li < loads_.end_index(); ++li) {
      Load& l = loads_[li];
      if (l.op != 1) continue;
      if (i == carried->size()) break;
      const PrefetchBlock& pb = (*carried)[i];
      Block& b = blocks_[1][size_t(l.block)];
      if (pb.bytes != b.bytes || (i == 1 && (b.whole || blocks_[1][0].whole)))
        throw std::logic_error("controller: a prefetched filter block does not match the program");
      l.carried = true;
      b.ready = std::max<int64_t>(0, pb.ready);  // -1 would mean "not issued"
      b.placed = true;
      placed_[1] = size_t(l.block) + 1;
      Scratchpad& sp = *buf_[1];
      if (b.whole) {
        sp.occupy(0, sp.half_bytes());
        sp.occupy(1, b.bytes - sp.half_bytes());
      } else {
        sp.occupy(int(i), b.bytes);
      }
      sp.count_writes(uint64_t(b.bytes / std::max(1, prog.input_bytes)));
      ++i;
    }
  }
  ahead_next_[0] = ahead_next_[1] = 0;
  ahead_found_[0] = ahead_found_[1] = false;
  next_filter_.clear();
  if (link)
    for (size_t i = 0; i < link->next_filter.size() && i < 2 && link->next_filter[i] > 0; ++i)
      next_filter_.push_back(link->next_filter[i]);
  handoff_ = link && link->handoff;
  carry_out_[0] = carry_out_[1] = 0;
  if (link && link->continues)
    for (int h = 0; h < 2; ++h) carry_out_[h] = std::max<int64_t>(0, link->ofmap_free[h]);
  last_stage_out_ = last_store_issue_ = -1;
  sync_array_ = array.synchronous();
  origin_ = origin;
  ahead_chunk_ = load_ahead_ && !dram_->params().unlimited
                     ? int64_t(ac.rows) * int64_t(ac.cols) * int64_t(input_bytes_)
                     : 0;
  next_load_ = next_submit_ = completed_ = 0;
  max_end_ = max_store_free_ = -1;
  result_ = ControllerResult{};
  if (keep_steps_) result_.steps.assign(n, StepTiming{});
  finished_ = false;
  const sc_core::sc_time at = cycle_start(origin);
  go_.notify(at > sc_core::sc_time_stamp() ? at - sc_core::sc_time_stamp() : sc_core::SC_ZERO_TIME);
}

void Controller::free_blocks(size_t j, int64_t last_read, int which) {
  for (int op = 0; op < 2; ++op) {
    if (ref_[j].use[op] < 0) continue;
    if (which == 1 && op != prog_->stationary) continue;  // the stationary tile only
    if (which == 0 && op == prog_->stationary) continue;  // the streamed operands only
    const size_t bi = size_t(ref_[j].use[op]);
    if (bi < blocks_[op].begin_index()) continue;  // dropped: free, and j not its last reader
    Block& b = blocks_[op][bi];
    if (!b.closed) {  // a later step may read it too: decided when the next block is made
      b.read_by = int32_t(j);
      b.read_at = std::max(b.read_at, last_read);
    } else if (b.last_user == int64_t(j)) {
      b.free_at = last_read + 1;
      loads_known_ = false;
    }
  }
}

void Controller::finish_step(size_t j, int64_t end, int64_t now) {
  loads_known_ = false;
  if (keep_steps_) result_.steps[j].end = end;
  ++completed_;
  ref_[j].done = true;
  max_end_ = std::max(max_end_, end);
  const bool vec = base(j).kind == StepKind::Vector;
  int64_t& e = vec ? result_.vector_end : result_.array_end;
  e = std::max(e, end);
  // An array tile frees its blocks when it has read them (ArrayModel::read_events), a vector
  // step when it ends.
  if (vec) free_blocks(j, end, -1);
  const int64_t t = ref_[j].out;
  // Whether j is its tile's last step: known once the step that stores the tile is made, or a
  // later one that adds to it.
  while (!outs_[size_t(t)].closed && outs_[size_t(t)].last_step == int64_t(j) && make_step()) {
  }
  OutTile& o = outs_[size_t(t)];
  if (o.last_step == int64_t(j)) {
    if (o.store_bytes > 0) {
      // Final outputs pass the output stage first (Program::OutputStage).
      const int64_t delay = o.stage ? prog_->stage.delay(o.elements) : 0;
      if (delay > 0) {
        pending_.push_back(PendingStore{now + delay, t});
        last_stage_out_ = std::max(last_stage_out_, now + delay);
      } else {
        issue_store(t, now);
      }
    } else {
      set_out_free(size_t(t), end + 1);
    }
  }
}

void Controller::set_out_free(size_t o, int64_t at) {
  OutTile& t = outs_[o];
  t.free_at = at;
  max_store_free_ = std::max(max_store_free_, at);
  for (int h = 0; h < 2; ++h)
    if (t.whole || int(o % 2) == h) out_busy_[h] = std::max(out_busy_[h], at);
}

void Controller::issue_store(int64_t tile, int64_t now) {
  OutTile& o = outs_[size_t(tile)];
  loads_known_ = false;
  last_store_issue_ = std::max(last_store_issue_, now);
  buf_[2]->count_reads(uint64_t(o.elements));  // read out for the write-back
  int64_t free_at = now;  // on chip: the outputs stay in the buffer for the next op (no channel)
  if (!(o.stage && prog_->ofmap_on_chip)) {
    if (trace_) trace_->dram_tag(TraceObserver::Cause::Store, 2, tile, 0);
    free_at = dram_->request_at(now, Operand::Ofmap, DramDir::Write, o.store_bytes);
  }
  set_out_free(size_t(tile), free_at);
  result_.last_store_ready = std::max(result_.last_store_ready, free_at);
}

int64_t Controller::barrier(size_t j, int64_t now) const {
  if (ref_[j].barrier != int64_t(j)) return now;  // (the step does not wait for the stores)
  // Steps are submitted in order, so all steps before j have finished when j of them have.
  if (completed_ < j || !pending_.empty()) return kNever;
  return std::max({now, max_end_ + 1, max_store_free_});
}

int64_t Controller::take_reads() {
  int64_t first = kNever;
  TileDone d;
  while (array_->pop_read(d))
    first = std::min(first, tile_read(size_t(d.id), d.end_cycle, d.stationary));
  return first;
}

int64_t Controller::tile_read(size_t j, int64_t cycle, bool stationary) {
  // Without a stationary operand (OS, hand-made programs) a tile's last reads free all its
  // blocks, and the end of its preload frees none.
  if (prog_->stationary < 0 && stationary) return kNever;
  free_blocks(j, cycle, prog_->stationary < 0 ? -1 : stationary ? 1 : 0);
  return cycle + 1;
}

bool Controller::act(int64_t now) {
  loads_known_ = false;

  // 1. Finished steps: free the halves of blocks they were the last to read; write back
  //    finished output tiles.
  if (array_->has_reads()) take_reads();
  TileDone d;
  while (array_->has_done() && array_->pop_done(d)) finish_step(size_t(d.id), d.end_cycle, now);
  if (vector_ && vector_->next_done_cycle() >= 0) {
    VectorDone vd;
    while (vector_->pop_done(vd)) {
      finish_step(size_t(vd.id), vd.end_cycle, now);
    }
  }

  // 1b. Write-backs whose output stage has finished.
  size_t issued = 0;
  while (issued < pending_.size() && pending_[issued].at <= now) {
    issue_store(pending_[issued].tile, now);
    ++issued;
  }
  pending_.erase(pending_.begin(), pending_.begin() + std::ptrdiff_t(issued));

  // 2. Loads, in program order, each as soon as its half is free.
  for (;;) {
    while (next_load_ == loads_.end_index() && make_step()) {  // (a lazy program's next load)
    }
    if (next_load_ == loads_.end_index()) break;
    const Load& l = loads_[next_load_];
    if (l.carried) {  // issued by the previous job
      ++next_load_;
      continue;
    }
    const int64_t free_from = load_free_at(l), bar = barrier(l.step, now);
    if (free_from > now || bar > now) {
      load_from_ = bar == kNever ? kNever : std::max(bar, free_from);  // (for next_wake())
      break;
    }
    if (l.op == 2) {  // partial sums (and a fused add's operand) into the output tile's half
      Scratchpad& sp = *buf_[l.op];
      const int h = int(l.block % 2);
      if (sp.busy(h)) sp.release(h);
      OutTile& o = outs_[size_t(l.block)];
      if (o.whole || (l.block >= 1 && outs_[size_t(l.block - 1)].whole))
        if (sp.busy(1 - h)) sp.release(1 - h);
      if (o.whole) {  // whole-buffer accumulators
        sp.occupy(h, sp.half_bytes());
        sp.occupy(1 - h, o.acc_bytes - sp.half_bytes());
      } else {
        sp.occupy(h, o.acc_bytes);
      }
      sp.count_writes(uint64_t(o.elements));
      if (trace_) trace_->dram_tag(TraceObserver::Cause::OutLoad, 2, l.block, 0);
      o.psum_ready = dram_->request_at(now, Operand::Ofmap, DramDir::Read, o.psum_bytes);
      ++next_load_;
      continue;
    }
    Block& b = blocks_[l.op][size_t(l.block)];
    if (!b.placed) place_block(l);
    if (l.op == 0 && prog_->ifmap_on_chip) {
      b.ready = now;  // a view of a tensor already in the buffer
    } else if (b.fetched == b.bytes && b.fetched > 0) {
      b.ready = b.ahead_ready;  // wholly loaded ahead
    } else {
      if (trace_) trace_->dram_tag(TraceObserver::Cause::Load, l.op, l.block, b.fetched);
      b.ready = dram_->request_at(now, Operand(l.op), DramDir::Read, b.bytes - b.fetched);
    }
    ++next_load_;
  }

  // 2a. Loads ahead, in the channel's idle time, while the head of the program order waits.
  if (ahead_chunk_ > 0) load_ahead(now);
  loads_known_ = true;

  // 2b. Then the next job's first weight blocks, into halves this job has freed.
  if (next_load_ == loads_.end_index() && made_ == n_steps_) prefetch(now);

  // 3. Submit the next steps whose operands are in SRAM.
  submit_from_ = kNever;
  int64_t freed = kNever;  // the first cycle from which a block freed below is free
  while (next_submit_ < n_steps_) {
    const size_t j = next_submit_;
    make_until(j);
    const int64_t from = submit_from(j, now);
    if (from > now) {
      submit_from_ = from;  // (for next_wake(): nothing after this phase changes it)
      break;
    }
    const TileStep& s = base(j);
    const FoldGrid& folds = grid(j);
    const int64_t o = ref_[j].out;
    if (s.new_output && outs_[size_t(o)].psum_bytes == 0) {
      Scratchpad& sp = *buf_[2];
      const int h = int(o % 2);
      const OutTile& t = outs_[size_t(o)];
      for (int x : {h, 1 - h})
        if (sp.busy(x) && (x == h || t.whole || (o >= 1 && outs_[size_t(o - 1)].whole)))
          sp.release(x);
      if (t.whole) {
        sp.occupy(h, sp.half_bytes());
        sp.occupy(1 - h, t.acc_bytes - sp.half_bytes());
      } else {
        sp.occupy(h, t.acc_bytes);
      }
    }
    if (s.kind == StepKind::Vector) {
      const VectorWork& w = s.vector;
      VectorCmd cmd;
      cmd.id = j;
      cmd.kind = w.kind;
      cmd.elements = w.elements;
      cmd.inputs = w.inputs;
      cmd.row = w.row;
      cmd.window = w.window;
      cmd.after_previous = w.after_previous;
      const uint64_t reads_before = vector_->stats().sram_reads;
      vector_->submit(cmd);
      buf_[0]->count_reads(vector_->stats().sram_reads - reads_before);  // the lanes' reads
      buf_[2]->count_writes(uint64_t(w.elements));                       // the results
    } else {
      for (const Fold& f : folds) {
        const uint64_t a = uint64_t(f.mlen) * uint64_t(f.klen);
        const uint64_t b = uint64_t(f.klen) * uint64_t(f.nlen);
        const uint64_t c = uint64_t(f.mlen) * uint64_t(f.nlen);
        buf_[0]->count_reads(a);
        buf_[1]->count_reads(b);
        buf_[2]->count_writes(c);
        if (f.k0 > 0) buf_[2]->count_reads(c);  // partial sum read back to accumulate
      }
      if (trace_) trace_->step(j, folds.size(), copy_of(j));
      if (sync_array_) {  // its reads, as take_reads() would take them (preload first)
        const ArrayModel::TileReads r = array_->submit_now(j, folds);
        if (r.preloaded >= 0) freed = std::min(freed, tile_read(j, r.preloaded, true));
        freed = std::min(freed, tile_read(j, r.read, false));
      } else {
        TileCmd cmd;
        cmd.id = j;
        cmd.folds = folds;
        array_->submit(std::move(cmd));
      }
    }
    if (keep_steps_) result_.steps[j].submit = now;
    ++next_submit_;
  }

  // 4. Each phase above went on until it had to wait, and none of them lets an earlier one go
  //    on in the same cycle: only records to take now can (docs/cycle-accounting.md, "The
  //    controller's local clock"). The reads of the tiles just submitted are taken here (they
  //    free halves from a later cycle); a step that has ended, or a block freed from this cycle,
  //    asks for another pass.
  if (array_->has_reads()) freed = std::min(freed, take_reads());
  // (A vector command ending in cycle E is taken from E + 1, as VectorUnit::pop_done does.)
  const int64_t vector_done = vector_ ? vector_->next_done_cycle() : -1;
  return freed <= now || array_->has_records() || (vector_done >= 0 && vector_done < now) ||
         (!pending_.empty() && pending_.front().at <= now);
}

void Controller::place_block(const Load& l) {
  Scratchpad& sp = *buf_[l.op];
  const int h = int(l.block % 2);
  Block& b = blocks_[l.op][size_t(l.block)];
  if (sp.busy(h)) sp.release(h);
  if (b.whole || (l.block >= 1 && blocks_[l.op][size_t(l.block - 1)].whole))
    if (sp.busy(1 - h)) sp.release(1 - h);
  if (b.whole) {
    sp.occupy(h, sp.half_bytes());
    sp.occupy(1 - h, b.bytes - sp.half_bytes());
  } else {
    sp.occupy(h, b.bytes);
  }
  if (!(l.op == 0 && prog_->ifmap_on_chip)) sp.count_writes(uint64_t(b.bytes / input_bytes_));
  b.placed = true;
  placed_[l.op] = std::max(placed_[l.op], size_t(l.block) + 1);
}

Controller::AheadLoad Controller::ahead_candidate(int64_t now, int64_t* from) {
  *from = kNever;
  AheadLoad best;
  const size_t end = loads_.end_index();
  if (next_load_ >= end) return best;
  const Load& head = loads_[next_load_];
  size_t best_order = 0;  // program order: loads among the steps made by index, then by step
  // Per operand other than the head's, its first load after the head (the loads of one operand
  // stay in program order), if it is a block from DRAM. Of those that may go now, the earlier in
  // program order; else the one that may go first.
  for (int op = 0; op < 2; ++op) {
    if (op == head.op) continue;
    // (The first load of `op` after the head that is not carried.)
    // (ahead_found_: ahead_next_ is such a load; else the loads made were searched up to it.)
    size_t i = ahead_next_[op];
    if (i <= next_load_ || !ahead_found_[op]) {  // passed (look on from the head), or none yet
      if (i <= next_load_) i = next_load_ + 1;
      while (i < end && (loads_[i].op != op || loads_[i].carried)) ++i;
      ahead_next_[op] = i;
      ahead_found_[op] = i < end;
    }
    int64_t t, bar;
    size_t order = i;
    bool far = false;
    if (i < end) {
      const Load& l = loads_[i];
      const Block& b = blocks_[op][size_t(l.block)];
      if ((op == 0 && prog_->ifmap_on_chip) || b.bytes == 0 || b.fetched == b.bytes) continue;
      bar = ref_[l.step].barrier;
      if (bar > int64_t(head.step)) continue;
      t = load_free_at(l);
    } else {
      // Beyond the steps made (a lazy program): found by a cursor that keeps no steps.
      if (made_ == n_steps_ || !far_load(op)) continue;
      const FarScan& f = far_[op];
      if ((op == 0 && prog_->ifmap_on_chip) || f.bytes == 0) continue;
      bar = f.barrier;
      if (bar > int64_t(head.step)) continue;
      // The block before it has no reader among the steps not made: its last user is known.
      const size_t nb = blocks_[op].end_index();
      if (nb > 0 && f.last_use < int64_t(made_)) close_block(op, nb - 1);
      t = block_free_at(op, nb, f.bytes > buf_[op]->half_bytes());
      far = true;
      order = end + 2 * f.pos + size_t(op);
    }
    // Never past a step that waits for the stores before it (a dependency), unless that is the
    // head's own step and its wait is over.
    t = std::max(t, dram_->free_cycle());
    if (bar == int64_t(head.step)) t = std::max(t, barrier(head.step, now));
    const bool better = best.op < 0 || (t <= now && *from <= now ? order < best_order : t < *from);
    if (better) {
      best.far = far;
      best.op = op;
      best.i = i;
      best_order = order;
      *from = t;
    }
  }
  return best;
}

void Controller::load_ahead(int64_t now) {
  for (;;) {
    int64_t from = kNever;
    const AheadLoad c = ahead_candidate(now, &from);
    if (c.op < 0 || from > now) {
      ahead_from_ = from;
      return;
    }
    if (c.far) {  // make the steps up to it; it is then among them
      make_until(far_[c.op].pos);
      continue;
    }
    const Load& l = loads_[c.i];
    Block& b = blocks_[l.op][size_t(l.block)];
    if (!b.placed) place_block(l);
    const int64_t part = std::min(ahead_chunk_, b.bytes - b.fetched);
    if (trace_) trace_->dram_tag(TraceObserver::Cause::Load, l.op, l.block, b.fetched);
    b.ahead_ready = dram_->request_at(now, Operand(l.op), DramDir::Read, part);
    b.fetched += part;
  }
}

int64_t Controller::prefetch_free_at(size_t p) const {
  if (p >= next_filter_.size()) return kNever;
  const Scratchpad& sp = *buf_[1];
  const int64_t bytes = next_filter_[p];
  if (bytes > sp.capacity_bytes()) return kNever;
  const bool whole = bytes > sp.half_bytes();
  // A second prefetched block needs the first one's half: only when neither takes both halves.
  if (p == 1 && (whole || next_filter_[0] > sp.half_bytes())) return kNever;
  const auto& bl = blocks_[1];
  const int64_t nb = int64_t(bl.end_index());
  const int64_t g = nb + int64_t(p);  // its number counting on from this job's blocks
  auto freed = [&](int64_t i) { return i < 0 ? int64_t(0) : bl[size_t(i)].free_at; };
  int64_t t = freed(g - 2);  // the block two before it used the same half
  if (p == 0 && (whole || (nb >= 1 && bl[size_t(nb - 1)].whole))) t = std::max(t, freed(g - 1));
  return t;
}

void Controller::prefetch(int64_t now) {
  while (result_.prefetched.size() < next_filter_.size()) {
    const size_t p = result_.prefetched.size();
    if (prefetch_free_at(p) > now) break;
    PrefetchBlock pb;
    pb.bytes = next_filter_[p];
    pb.issued = now;  // job cycles until the job ends (then counted from its end)
    if (trace_) trace_->dram_tag(TraceObserver::Cause::Prefetch, 1, int64_t(p), 0);
    pb.ready = dram_->request_at(now, Operand::Filter, DramDir::Read, pb.bytes);
    result_.prefetched.push_back(pb);
    loads_known_ = false;
  }
}

int64_t Controller::load_free_at(const Load& l) const {
  if (l.op == 2) {
    const OutTile& o = outs_[size_t(l.block)];
    // The spill's write-back has completed and the tile's half is free (stall-free: the rows
    // were written out as they finished, ahead of their reload).
    if (dram_->params().unlimited) return 0;
    const int64_t src = o.psum_src >= 0 ? outs_[size_t(o.psum_src)].free_at : 0;
    return std::max(src, out_free_from(l.block));
  }
  return block_free_at(l.op, size_t(l.block), blocks_[l.op][size_t(l.block)].whole);
}

int64_t Controller::block_free_at(int op, size_t b, bool whole) const {
  const auto& bl = blocks_[op];
  int64_t t = b >= 2 ? bl[b - 2].free_at : 0;
  if (b >= 1 && (whole || bl[b - 1].whole)) t = std::max(t, bl[b - 1].free_at);
  return t;
}

int64_t Controller::out_free_from(int64_t o) const {
  // The collector writes an output tile row by row in stream order, and rows drain as they
  // finish (docs/memory-system.md, "Output rows"): with a stall-free channel a new tile's row t
  // never waits for the old tile's row t; nor do whole-buffer accumulators after whole-buffer
  // accumulators.
  if (dram_->params().unlimited) return 0;
  if (o >= 1 && outs_[size_t(o)].whole && outs_[size_t(o - 1)].whole) return 0;
  int64_t t = 0;
  // The previous job's last output tiles, still being written (JobLink::ofmap_free).
  if (o <= 1) t = carry_out_[o];
  if (o == 0 && outs_[0].whole) t = std::max(carry_out_[0], carry_out_[1]);
  if (o >= 2) t = outs_[size_t(o - 2)].free_at;
  if (o >= 1 && (outs_[size_t(o)].whole || outs_[size_t(o - 1)].whole))
    t = std::max(t, outs_[size_t(o - 1)].free_at);
  return t;
}

int64_t Controller::next_wake(int64_t now) {
  int64_t next = kNever;
  if (!pending_.empty()) next = std::max(now + 1, pending_.front().at);
  if (next_load_ < loads_.end_index()) {
    const Load& l = loads_[next_load_];
    int64_t t = load_from_;
    if (!loads_known_) {
      t = barrier(l.step, now);
      if (t != kNever) t = std::max(t, load_free_at(l));
    }
    if (t != kNever && t > now) next = std::min(next, t);
  }
  if (ahead_chunk_ > 0) {
    int64_t t = ahead_from_;
    if (!loads_known_) ahead_candidate(now, &t);
    if (t != kNever && t > now) next = std::min(next, t);
  }
  if (next_load_ == loads_.end_index() && made_ == n_steps_ &&
      result_.prefetched.size() < next_filter_.size()) {
    const int64_t t = prefetch_free_at(result_.prefetched.size());
    if (t != kNever && t > now) next = std::min(next, t);
  }
  if (submit_from_ != kNever && submit_from_ > now) next = std::min(next, submit_from_);
  return next;
}

int64_t Controller::submit_from(size_t j, int64_t now) const {
  int64_t t = barrier(j, now);
  for (int op = 0; op < 2 && t != kNever; ++op) {
    if (ref_[j].use[op] < 0) continue;
    const Block& b = blocks_[op][size_t(ref_[j].use[op])];
    t = b.ready < 0 ? kNever : std::max(t, b.ready);
  }
  const int64_t o = ref_[j].out;
  const bool opens = base(j).new_output;
  if (t != kNever && opens) t = std::max(t, out_free_from(o));
  if (t != kNever && opens && outs_[size_t(o)].psum_bytes > 0) {
    const int64_t pr = outs_[size_t(o)].psum_ready;
    t = pr < 0 ? kNever : std::max(t, pr);
  }
  return t;
}

void Controller::thread() {
  for (;;) {
    sc_core::wait(go_);
    const size_t n = prog_->size();
    // The events that wake the controller, as one list built once per job (a list built per
    // wait allocated and freed on every step: 16 % of a fast run's instructions).
    sc_core::sc_event_or_list wake;
    wake |= array_->done_events.default_event();
    wake |= array_->read_events.default_event();
    if (vector_) wake |= vector_->done_events.default_event();
    // With a synchronous array model (the fast one) every time the controller must act at is
    // known in advance: the job runs on a local clock that jumps from one to the next, with no
    // SystemC wait until its end (docs/cycle-accounting.md, "The controller's local clock").
    const bool local = array_->synchronous();
    int64_t now = 0;
    while (completed_ < n || !pending_.empty()) {
      if (local) {
        array_->set_local_cycle(now);
        if (vector_) vector_->set_local_cycle(now);
      } else {
        now = now_cycle() - origin_;
      }
      while (act(now)) {
      }
      if (lazy_) retire();
      if (completed_ == n && pending_.empty()) break;
      int64_t next = next_wake(now);
      if (local) {
        // A step ending in cycle E is taken from E + 1 (as at E + 0.5 under SystemC).
        for (int64_t e : {array_->next_done_cycle(), vector_ ? vector_->next_done_cycle() : -1})
          if (e >= 0) next = std::min(next, std::max(now + 1, e + 1));
        if (next == kNever) throw std::logic_error("controller: the job waits for nothing");
        now = next;
        continue;
      }
      if (next == kNever) {
        sc_core::wait(wake);
      } else {
        sc_core::wait(cycle_start(origin_ + next) - sc_core::sc_time_stamp(), wake);
      }
      // A step ends at E + 0.5; the controller acts from the next whole cycle.
      const int64_t c = now_cycle();
      if (sc_core::sc_time_stamp() != cycle_start(c)) wait_until_cycle(c + 1);
    }
    const int64_t array_end = result_.array_end, vector_end = result_.vector_end;
    if (!lazy_) result_.held_steps = n;
    // The job ends when the last write-back has completed, or, handing off to the next job, when
    // the last store has been issued.
    result_.total_cycles = std::max(
        {array_end + 1, vector_end + 1, handoff_ ? last_store_issue_ : result_.last_store_ready});
    if (handoff_) {
      // The next job's half 1 is this job's last output tile's; half 0 the other one.
      const size_t no = outs_.end_index();
      const int last = no == 0 ? 1 : int((no - 1) % 2);
      result_.ofmap_free[1] = out_busy_[last] - result_.total_cycles;
      result_.ofmap_free[0] = out_busy_[1 - last] - result_.total_cycles;
    }
    const int64_t last_end = std::max(array_end, vector_end) + 1;
    for (PrefetchBlock& pb : result_.prefetched) {
      pb.issued -= result_.total_cycles;
      pb.ready -= result_.total_cycles;
    }
    if (last_stage_out_ > last_end)
      result_.stage_tail = std::min(last_stage_out_, result_.total_cycles) - last_end;
    if (local) {
      array_->set_local_cycle(-1);
      if (vector_) vector_->set_local_cycle(-1);
    }
    wait_until_cycle(origin_ + result_.total_cycles);
    finished_ = true;
  }
}

}  // namespace ssim
