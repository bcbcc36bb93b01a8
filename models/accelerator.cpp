#include "models/accelerator.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "models/sim_time.hpp"
#include "models/systolic_array_cycle.hpp"
#include "models/systolic_array_fast.hpp"

namespace ssim {
namespace {

struct AcceleratorTop : sc_core::sc_module {
  DramChannel dram{"dram"};
  Scratchpad ifmap{"ifmap_sram"};
  Scratchpad filter{"filter_sram"};
  Scratchpad ofmap{"ofmap_sram"};
  std::unique_ptr<SystolicArrayCycle> cycle_array;  // (DesignParts::cycle_array)
  SystolicArrayFast fast_array{"fast_array"};
  VectorUnit vector_unit{"vector_unit"};
  Controller controller{"controller"};

  AcceleratorTop(sc_core::sc_module_name name, bool with_cycle_array) : sc_core::sc_module(name) {
    if (with_cycle_array) cycle_array = std::make_unique<SystolicArrayCycle>("cycle_array");
    controller.bind(dram, ifmap, filter, ofmap);
    controller.bind_vector(vector_unit);
  }
};

DesignParts design_parts;  // (set_design_parts(): while SystemC elaborates, before top())

AcceleratorTop& top() {
  static AcceleratorTop* t = nullptr;
  if (!t) {
    if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
      throw std::logic_error(
          "accelerator: the SystemC design is already elaborated; run a program before using "
          "the array harness in this process");
    t = new AcceleratorTop("accelerator", design_parts.cycle_array);
    // Elaborate the array harness in the same design, then start the simulation.
    if (design_parts.harness)
      run_on_array(ArrayKind::Fast, ArrayConfig{1, 1, Dataflow::WS, false}, {});
    if (sc_core::sc_get_status() == sc_core::SC_ELABORATION)
      sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  return *t;
}

// --- The memo of identical jobs ---------------------------------------------------------------

// A 128-bit digest of a job's inputs, fed 64-bit words: two lanes (multiply-xorshift and
// multiply-rotate, different constants) and the word count. The inputs are the simulator's own
// structures, not adversarial.
class JobKey {
 public:
  void add(uint64_t v) {
    a_ = (a_ ^ v) * 0x9e3779b97f4a7c15ULL;
    a_ ^= a_ >> 29;
    b_ = (b_ + v) * 0xc2b2ae3d27d4eb4fULL;
    b_ = (b_ << 31) | (b_ >> 33);
    ++words_;
  }
  void add(int64_t v) { add(uint64_t(v)); }
  void add(int v) { add(uint64_t(int64_t(v))); }
  void add(bool v) { add(uint64_t(v)); }
  void add(double v) {
    uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    add(u);
  }
  void add(const std::string& v) {
    add(uint64_t(v.size()));
    for (unsigned char c : v) add(uint64_t(c));
  }
  bool operator==(const JobKey& o) const { return a_ == o.a_ && b_ == o.b_ && words_ == o.words_; }
  void get(uint64_t out[3]) const { out[0] = a_, out[1] = b_, out[2] = words_; }
  size_t hash() const { return size_t(a_ ^ (b_ >> 1)); }

 private:
  uint64_t a_ = 0x243f6a8885a308d3ULL, b_ = 0x13198a2e03707344ULL, words_ = 0;
};
struct JobKeyHash {
  size_t operator()(const JobKey& k) const { return k.hash(); }
};

// Every field the simulation reads. A field added to one of these structures changes its size
// and stops the build here: add it to the key (or say below why it does not count).
static_assert(sizeof(AccelConfig) == 472 && sizeof(ArrayConfig) == 16 && sizeof(DramParams) == 32 &&
                  sizeof(VectorConfig) == 392 && sizeof(VectorKindTiming) == 32,
              "a hardware field was added: add it to job_key()");
// (A step's folds are keyed fold by fold, so a FoldGrid field need not be listed.)
static_assert(sizeof(Program) == 208 && sizeof(TileStep) == 256 && sizeof(FoldGrid) == 64 &&
                  sizeof(Fold) == 72 && sizeof(VectorWork) == 48 &&
                  sizeof(Program::OutputStage) == 24,
              "a program field was added: add it to job_key()");
static_assert(sizeof(JobLink) == 80 && sizeof(PrefetchBlock) == 24,
              "a link field was added: add it to job_key()");

JobKey job_key(const AccelConfig& c, const Program& p, const JobLink* l, __int128 busy) {
  JobKey k;
  k.add(c.array.rows), k.add(c.array.cols), k.add(int(c.array.dataflow));
  k.add(c.array.fold_overlap);
  k.add(c.ifmap_sram_bytes), k.add(c.filter_sram_bytes), k.add(c.ofmap_sram_bytes);
  k.add(c.dram.bytes_per_cycle), k.add(c.dram.latency), k.add(c.dram.unlimited);
  k.add(c.dram.peak_window);
  k.add(c.vector.lanes);
  for (const VectorKindTiming& t : c.vector.timing)
    k.add(t.passes), k.add(t.latency), k.add(t.reductions), k.add(t.row_latency);
  k.add(c.load_ahead);

  k.add(p.shape.M), k.add(p.shape.N), k.add(p.shape.K), k.add(p.repeat), k.add(int(p.dataflow));
  k.add(p.tile.m), k.add(p.tile.n), k.add(p.tile.k), k.add(p.plan);
  k.add(p.input_bytes), k.add(p.output_bytes), k.add(p.acc_bytes), k.add(p.stationary);
  k.add(p.ifmap_on_chip), k.add(p.ofmap_on_chip);
  k.add(p.stage.passes), k.add(p.stage.latency), k.add(p.stage.lanes);
  // (A lazy program's steps are keyed as made: the key is a function of the steps, not of how
  // they are held.)
  k.add(uint64_t(p.base_size())), k.add(p.shared), k.add(p.copy_m), k.add(p.copy_n);
  // Per step (of copy 0 when the copies share them), its small fields packed into one word and a
  // fold's sub-GEMM only where it is not the step's (18 words a planned array step instead of 40:
  // the key cost 360 instructions a step, 7 % of a large GEMM's run).
  p.for_each_base([&k](const TileStep& s) {
    const auto bit = [](bool b, int at) { return uint64_t(b) << at; };
    k.add(uint64_t(s.kind) | bit(s.ifmap_pad_only, 8) | bit(s.new_output, 9) | bit(s.stage, 10) |
          bit(s.wait_for_stores, 11) | uint64_t(s.folds.size()) << 16);
    k.add(s.m0), k.add(s.mlen), k.add(s.n0), k.add(s.nlen), k.add(s.k0), k.add(s.klen);
    k.add(s.ifmap_load_bytes), k.add(s.filter_load_bytes), k.add(s.ofmap_tile_bytes);
    k.add(s.store_bytes), k.add(s.psum_load_bytes), k.add(s.psum_back), k.add(s.side_load_bytes);
    k.add(s.copy);
    for (const Fold& f : s.folds) {
      // A fold over the step's own sub-GEMM (a planned step's one fold) says so in a bit.
      const bool own = f.m0 == s.m0 && f.n0 == s.n0 && f.k0 == s.k0 && f.mlen == s.mlen &&
                       f.nlen == s.nlen && f.klen == s.klen;
      k.add(bit(f.cont, 0) | bit(f.more, 1) | bit(own, 2));
      if (!own) k.add(f.m0), k.add(f.n0), k.add(f.k0), k.add(f.mlen), k.add(f.nlen), k.add(f.klen);
      k.add(f.T);
      k.add(uint64_t(uint32_t(f.rows)) | uint64_t(uint32_t(f.cols)) << 32);
    }
    // The vector work only of a vector step (an array step's is never read).
    if (s.kind == StepKind::Vector) {
      const VectorWork& w = s.vector;
      k.add(uint64_t(w.kind) | bit(w.after_previous, 8));
      k.add(w.elements), k.add(w.inputs), k.add(w.row), k.add(w.window);
    }
  });

  // The link, but for after_cycles: the previous job's length only places the channel's
  // in-flight transfer in this job's time, which `busy` gives.
  k.add(l != nullptr);
  if (l) {
    k.add(uint64_t(l->next_filter.size()));
    for (int64_t b : l->next_filter) k.add(b);
    k.add(l->handoff), k.add(l->continues);
    k.add(uint64_t(l->carried.size()));
    for (const PrefetchBlock& b : l->carried) k.add(b.bytes), k.add(b.issued), k.add(b.ready);
    k.add(l->ofmap_free[0]), k.add(l->ofmap_free[1]);
  }
  k.add(uint64_t(busy)), k.add(uint64_t(busy >> 64));
  return k;
}

bool run_lazily = false;  // set_run_lazily()

struct JobMemo {
  int scopes = 0;
  bool enabled = true;
  JobMemoStats stats;
  struct Entry {
    AccelResult result;
    __int128 busy_after = 0;  // the channel's in-flight state the job left
  };
  std::unordered_map<JobKey, Entry, JobKeyHash> entries;
  // DerivedMemo's, by its key's three words.
  struct DerivedHash {
    size_t operator()(const std::array<uint64_t, 3>& k) const { return size_t(k[0] ^ (k[1] >> 1)); }
  };
  std::unordered_map<std::array<uint64_t, 3>, DerivedMemo::Entry, DerivedHash> derived;
};

JobMemo& memo() {
  static JobMemo m;
  return m;
}

}  // namespace

JobMemoScope::JobMemoScope() {
  if (memo().scopes++ == 0) memo().stats = JobMemoStats{};
}

JobMemoScope::~JobMemoScope() {
  if (--memo().scopes == 0) {
    memo().entries.clear();
    memo().derived.clear();
  }
}

void set_run_lazily(bool on) {
  run_lazily = on;
}

void set_job_memo(bool on) {
  memo().enabled = on;
}

JobMemoStats job_memo_stats() {
  return memo().stats;
}

DerivedMemo::DerivedMemo(const AccelConfig& cfg, const Program& prog, const JobLink* link,
                         const std::vector<int64_t>& extra) {
  const JobMemo& jm = memo();
  on_ = jm.scopes > 0 && jm.enabled;
  if (!on_) return;
  // The job's key from the channel's state before continue_at(): the previous job's length
  // (after_cycles) then counts too.
  JobKey k = job_key(cfg, prog, link, top().dram.busy_units());
  k.add(uint64_t(0xde71fedULL));  // (no job's key ends so)
  k.add(link ? link->after_cycles : -1);
  for (int64_t v : extra) k.add(v);
  k.get(key_);
}

const DerivedMemo::Entry* DerivedMemo::find() const {
  if (!on_) return nullptr;
  const JobMemo& jm = memo();
  const auto it = jm.derived.find({key_[0], key_[1], key_[2]});
  return it == jm.derived.end() ? nullptr : &it->second;
}

void DerivedMemo::keep(std::any value, __int128 busy_after) const {
  if (on_) memo().derived[{key_[0], key_[1], key_[2]}] = Entry{std::move(value), busy_after};
}

void set_design_parts(const DesignParts& parts) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)  // (top() starts the simulation)
    throw std::logic_error("accelerator: the SystemC design is built; its parts are set before");
  design_parts = parts;
}

__int128 channel_busy_units() {
  return top().dram.busy_units();
}

void set_channel_busy_units(__int128 u) {
  top().dram.set_busy_units(u);
}

std::vector<int64_t> first_filter_loads(const Program& prog, size_t most, size_t end) {
  std::vector<int64_t> out;
  const size_t stop = std::min(end, prog.size()), nb = prog.base_size();
  std::unique_ptr<StepSource> src;  // (a lazy program's steps, made as they are read)
  TileStep made;
  for (size_t j = 0; j < stop && out.size() < most; ++j) {
    if (prog.lazy && j % nb == 0) src = prog.lazy->begin();
    if (prog.lazy && !src->next(made))
      throw std::logic_error("first_filter_loads: the lazy plan made fewer steps than its size");
    const TileStep& s = prog.lazy ? made : prog.base(j);
    if (s.kind == StepKind::ArrayTile && s.filter_load_bytes > 0)
      out.push_back(s.filter_load_bytes);
  }
  return out;
}

AccelResult run_program(ArrayKind kind, const AccelConfig& cfg, const Program& prog,
                        const GemmData* data, const JobLink* link) {
  AcceleratorTop& t = top();
  const int64_t per = static_cast<int64_t>(cycle_period().value());
  const int64_t now = static_cast<int64_t>(sc_core::sc_time_stamp().value());
  const int64_t origin = (now + per - 1) / per;

  if (kind == ArrayKind::Cycle && !t.cycle_array)
    throw std::logic_error("accelerator: the design was built without the cycle-level array");
  ArrayModel& m = kind == ArrayKind::Cycle ? static_cast<ArrayModel&>(*t.cycle_array)
                                           : static_cast<ArrayModel&>(t.fast_array);
  const bool carried = link && link->continues && !link->carried.empty();
  if (link && link->continues) {
    t.dram.continue_at(origin, link->after_cycles);
  } else {
    t.dram.configure(cfg.dram, origin);
  }
  t.ifmap.configure(cfg.ifmap_sram_bytes);
  t.filter.configure(cfg.filter_sram_bytes);
  t.ofmap.configure(cfg.ofmap_sram_bytes);
  // A job equal to one the memo holds: its result, without simulating it again.
  JobMemo& jm = memo();
  const bool memo_on = jm.scopes > 0 && jm.enabled && kind == ArrayKind::Fast && data == nullptr &&
                       trace_observer_slot() == nullptr;
  JobKey key;
  if (memo_on) {
    key = job_key(cfg, prog, link, t.dram.busy_units());
    const auto it = jm.entries.find(key);
    if (it != jm.entries.end()) {
      ++jm.stats.hits;
      t.dram.set_busy_units(it->second.busy_after);
      const sc_core::sc_time end = cycle_start(origin + it->second.result.total_cycles);
      sc_core::sc_start(end > sc_core::sc_time_stamp() ? end - sc_core::sc_time_stamp()
                                                       : sc_core::SC_ZERO_TIME);
      return it->second.result;
    }
    ++jm.stats.misses;
  }
  m.configure(cfg.array, origin);
  t.vector_unit.configure(cfg.vector, origin);
  m.bind_data(data);
  t.controller.set_load_ahead(cfg.load_ahead);
  // --traces: the observer sees this job's transfers and folds (sim/report/traces.*).
  TraceObserver* trace = trace_observer_slot();
  t.controller.set_trace(trace);
  t.dram.set_trace(trace);
  m.set_trace(trace);
  // (The tests run every program through the controller's lazy path too: set_run_lazily().)
  Program lazy_view;
  if (run_lazily && !prog.lazy) lazy_view = as_lazy(prog);
  // Step timings for a caller that reads them (a run on its own, a trace, the periodic groups'
  // head runs), never for a program planned lazily (16 bytes a step).
  t.controller.start(lazy_view.lazy ? lazy_view : prog, m, origin, link, !prog.lazy);
  sc_core::sc_start();
  if (!t.controller.finished())
    throw std::logic_error("accelerator: the simulation stopped before the program finished");

  AccelResult r;
  const ControllerResult& cr = t.controller.result();
  r.total_cycles = cr.total_cycles;
  r.array_end = cr.array_end;
  r.vector_end = cr.vector_end;
  r.last_store_ready = cr.last_store_ready;
  r.held_steps = cr.held_steps;
  // (A network has no use for them, AccelResult::steps, but for a job it runs observed.)
  if (jm.scopes == 0 || trace) r.steps = t.controller.take_steps();
  r.array = m.stats();
  r.vector = t.vector_unit.stats();
  r.dram = t.dram.stats();
  r.stage_tail = cr.stage_tail;
  r.prefetched = cr.prefetched;
  r.ofmap_free[0] = cr.ofmap_free[0];
  r.ofmap_free[1] = cr.ofmap_free[1];
  // Each prefetched block counts with the job that uses it.
  auto move = [&](const std::vector<PrefetchBlock>& blocks, int sign) {
    int64_t bytes = 0;
    for (const PrefetchBlock& b : blocks) bytes += b.bytes;
    DramTrafficStats& f = r.dram.traffic[size_t(Operand::Filter)][0];
    f.bytes = uint64_t(int64_t(f.bytes) + sign * bytes);
    f.requests = uint64_t(int64_t(f.requests) + sign * int64_t(blocks.size()));
    r.dram.requests = uint64_t(int64_t(r.dram.requests) + sign * int64_t(blocks.size()));
    r.dram.bytes_read = uint64_t(int64_t(r.dram.bytes_read) + sign * bytes);
    return bytes;
  };
  move(cr.prefetched, -1);
  if (carried) {
    r.carried_bytes = move(link->carried, +1);
    r.carried_from = link->carried.front().issued;
  }
  r.ifmap = t.ifmap.stats();
  r.filter = t.filter.stats();
  r.ofmap = t.ofmap.stats();
  m.bind_data(nullptr);
  if (trace) {
    t.controller.set_trace(nullptr);
    t.dram.set_trace(nullptr);
    m.set_trace(nullptr);
  }
  if (memo_on) jm.entries.emplace(key, JobMemo::Entry{r, t.dram.busy_units()});
  return r;
}

}  // namespace ssim
