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

void Controller::start(const Program& prog, ArrayModel& array, int64_t origin) {
  if (!dram_) throw std::logic_error("controller: memories not bound");
  if (!finished_) throw std::logic_error("controller: a job is still running");
  const ArrayConfig& ac = array.config();
  const size_t n = prog.steps.size();
  for (auto& b : blocks_) b.clear();
  for (auto& u : use_) u.assign(n, -1);
  outs_.clear();
  loads_.clear();
  out_of_.assign(n, -1);

  // Resolve which block and output tile every step uses, and check the program.
  int64_t cur[2] = {-1, -1};
  int64_t cur_out = -1;
  bool out_open = false;
  for (size_t j = 0; j < n; ++j) {
    const TileStep& s = prog.steps[j];
    const std::string where = "controller: step " + std::to_string(j) + ": ";
    if (s.kind != StepKind::ArrayTile)
      throw std::logic_error(where + "vector-unit steps are not supported yet");
    if (s.folds.empty()) throw std::logic_error(where + "a tile needs at least one fold");
    for (const Fold& f : s.folds)
      if (f.rows < 1 || f.cols < 1 || f.T < 1 || f.rows > ac.rows || f.cols > ac.cols)
        throw std::logic_error(where + "a fold does not fit the array");
    const int64_t load[2] = {s.ifmap_load_bytes, s.filter_load_bytes};
    for (int op = 0; op < 2; ++op) {
      if (load[op] < 0) throw std::logic_error(where + "negative load");
      if (load[op] > 0) {
        if (load[op] > buf_[op]->half_bytes())
          throw std::logic_error(where + to_string(Operand(op)) + " block of " +
                                 std::to_string(load[op]) + " bytes exceeds a buffer half");
        Block b;
        b.bytes = load[op];
        blocks_[op].push_back(b);
        cur[op] = int64_t(blocks_[op].size()) - 1;
        loads_.push_back(Load{op, cur[op]});
      }
      if (cur[op] < 0) throw std::logic_error(where + "uses an operand block never loaded");
      use_[op][j] = cur[op];
      blocks_[op][size_t(cur[op])].last_user = int64_t(j);
    }
    if (s.new_output) {
      if (out_open) throw std::logic_error(where + "opens an output tile before storing the last");
      if (s.ofmap_tile_bytes > buf_[2]->half_bytes())
        throw std::logic_error(where + "output tile of " + std::to_string(s.ofmap_tile_bytes) +
                               " bytes exceeds an ofmap half");
      OutTile o;
      o.acc_bytes = s.ofmap_tile_bytes;
      o.elements = s.mlen * s.nlen;
      outs_.push_back(o);
      cur_out = int64_t(outs_.size()) - 1;
      out_open = true;
    }
    if (!out_open) throw std::logic_error(where + "accumulates into no open output tile");
    out_of_[j] = cur_out;
    outs_[size_t(cur_out)].last_step = int64_t(j);
    if (s.store_bytes > 0) {
      outs_[size_t(cur_out)].store_bytes = s.store_bytes;
      out_open = false;
    }
  }

  prog_ = &prog;
  array_ = &array;
  origin_ = origin;
  input_bytes_ = std::max(1, prog.input_bytes);
  next_load_ = next_submit_ = completed_ = 0;
  result_ = ControllerResult{};
  result_.steps.assign(n, StepTiming{});
  finished_ = false;
  const sc_core::sc_time at = cycle_start(origin);
  go_.notify(at > sc_core::sc_time_stamp() ? at - sc_core::sc_time_stamp() : sc_core::SC_ZERO_TIME);
}

bool Controller::act(int64_t now) {
  bool changed = false;
  const Program& prog = *prog_;

  // 1. Finished tiles: free the halves of blocks they were the last to read; write back
  //    finished output tiles.
  TileDone d;
  while (array_->pop_done(d)) {
    changed = true;
    const size_t j = size_t(d.id);
    result_.steps[j].end = d.end_cycle;
    ++completed_;
    for (int op = 0; op < 2; ++op) {
      Block& b = blocks_[op][size_t(use_[op][j])];
      if (b.last_user == int64_t(j)) b.free_at = d.end_cycle + 1;
    }
    OutTile& o = outs_[size_t(out_of_[j])];
    if (o.last_step == int64_t(j)) {
      if (o.store_bytes > 0) {
        o.free_at = dram_->request_at(now, Operand::Ofmap, DramDir::Write, o.store_bytes);
        buf_[2]->count_reads(uint64_t(o.elements));  // read out for the write-back
        result_.last_store_ready = std::max(result_.last_store_ready, o.free_at);
      } else {
        o.free_at = d.end_cycle + 1;
      }
    }
  }

  // 2. Loads, in program order, each as soon as its half is free.
  while (next_load_ < loads_.size()) {
    const Load& l = loads_[next_load_];
    auto& blocks = blocks_[l.op];
    const int h = int(l.block % 2);
    if (l.block >= 2) {
      if (blocks[size_t(l.block - 2)].free_at > now) break;
    }
    Scratchpad& sp = *buf_[l.op];
    if (sp.busy(h)) sp.release(h);
    Block& b = blocks[size_t(l.block)];
    sp.occupy(h, b.bytes);
    sp.count_writes(uint64_t(b.bytes / input_bytes_));
    b.ready = dram_->request_at(now, Operand(l.op), DramDir::Read, b.bytes);
    ++next_load_;
    changed = true;
  }

  // 3. Submit the next steps whose operands are in SRAM.
  while (next_submit_ < prog.steps.size()) {
    const size_t j = next_submit_;
    const TileStep& s = prog.steps[j];
    bool ok = true;
    for (int op = 0; op < 2 && ok; ++op) {
      const Block& b = blocks_[op][size_t(use_[op][j])];
      ok = b.ready >= 0 && b.ready <= now;
    }
    const int64_t o = out_of_[j];
    if (ok && s.new_output && o >= 2) ok = outs_[size_t(o - 2)].free_at <= now;
    if (!ok) break;
    if (s.new_output) {
      Scratchpad& sp = *buf_[2];
      const int h = int(o % 2);
      if (sp.busy(h)) sp.release(h);
      sp.occupy(h, outs_[size_t(o)].acc_bytes);
    }
    for (const Fold& f : s.folds) {
      const uint64_t a = uint64_t(f.mlen) * uint64_t(f.klen);
      const uint64_t b = uint64_t(f.klen) * uint64_t(f.nlen);
      const uint64_t c = uint64_t(f.mlen) * uint64_t(f.nlen);
      buf_[0]->count_reads(a);
      buf_[1]->count_reads(b);
      buf_[2]->count_writes(c);
      if (f.k0 > 0) buf_[2]->count_reads(c);  // partial sum read back to accumulate
    }
    TileCmd cmd;
    cmd.id = j;
    cmd.folds = s.folds;
    array_->submit(std::move(cmd));
    result_.steps[j].submit = now;
    ++next_submit_;
    changed = true;
  }
  return changed;
}

int64_t Controller::next_wake(int64_t now) const {
  int64_t next = kNever;
  if (next_load_ < loads_.size()) {
    const Load& l = loads_[next_load_];
    if (l.block >= 2) {
      const int64_t f = blocks_[l.op][size_t(l.block - 2)].free_at;
      if (f != kNever && f > now) next = std::min(next, f);
    }
  }
  if (next_submit_ < prog_->steps.size()) {
    const size_t j = next_submit_;
    int64_t t = now;
    for (int op = 0; op < 2; ++op) {
      const Block& b = blocks_[op][size_t(use_[op][j])];
      t = b.ready < 0 ? kNever : std::max(t, b.ready);
      if (t == kNever) break;
    }
    const int64_t o = out_of_[j];
    if (t != kNever && prog_->steps[j].new_output && o >= 2)
      t = std::max(t, outs_[size_t(o - 2)].free_at);
    if (t != kNever && t > now) next = std::min(next, t);
  }
  return next;
}

void Controller::thread() {
  for (;;) {
    sc_core::wait(go_);
    const size_t n = prog_->steps.size();
    while (completed_ < n) {
      const int64_t now = now_cycle() - origin_;
      while (act(now)) {
      }
      if (completed_ == n) break;
      const int64_t next = next_wake(now);
      const sc_core::sc_event& done = array_->done_events.default_event();
      if (next == kNever) {
        sc_core::wait(done);
      } else {
        sc_core::wait(cycle_start(origin_ + next) - sc_core::sc_time_stamp(), done);
      }
      // A tile ends at E + 0.5; the controller acts from the next whole cycle.
      const int64_t c = now_cycle();
      if (sc_core::sc_time_stamp() != cycle_start(c)) wait_until_cycle(c + 1);
    }
    int64_t end = -1;
    for (const StepTiming& st : result_.steps) end = std::max(end, st.end);
    result_.array_end = end;
    result_.total_cycles = std::max(end + 1, result_.last_store_ready);
    // The job ends when the last write-back has completed.
    wait_until_cycle(origin_ + result_.total_cycles);
    finished_ = true;
  }
}

}  // namespace ssim
