#include "models/accelerator.hpp"

#include <stdexcept>

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
  SystolicArrayCycle cycle_array{"cycle_array"};
  SystolicArrayFast fast_array{"fast_array"};
  VectorUnit vector_unit{"vector_unit"};
  Controller controller{"controller"};

  explicit AcceleratorTop(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    controller.bind(dram, ifmap, filter, ofmap);
    controller.bind_vector(vector_unit);
  }
};

AcceleratorTop& top() {
  static AcceleratorTop* t = nullptr;
  if (!t) {
    if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
      throw std::logic_error(
          "accelerator: the SystemC design is already elaborated; run a program before using "
          "the array harness in this process");
    t = new AcceleratorTop("accelerator");
    // Elaborate the array harness in the same design, then start the simulation.
    run_on_array(ArrayKind::Fast, ArrayConfig{1, 1, Dataflow::WS, false}, {});
    if (sc_core::sc_get_status() == sc_core::SC_ELABORATION)
      sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  return *t;
}

}  // namespace

std::vector<int64_t> first_filter_loads(const Program& prog, size_t most) {
  std::vector<int64_t> out;
  for (const TileStep& s : prog.steps) {
    if (out.size() >= most) break;
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

  ArrayModel& m = kind == ArrayKind::Cycle ? static_cast<ArrayModel&>(t.cycle_array)
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
  m.configure(cfg.array, origin);
  t.vector_unit.configure(cfg.vector, origin);
  m.bind_data(data);
  t.controller.set_load_ahead(cfg.load_ahead);
  // --traces: the observer sees this job's transfers and folds (sim/report/traces.*).
  TraceObserver* trace = trace_observer_slot();
  t.controller.set_trace(trace);
  t.dram.set_trace(trace);
  m.set_trace(trace);
  t.controller.start(prog, m, origin, link);
  sc_core::sc_start();
  if (!t.controller.finished())
    throw std::logic_error("accelerator: the simulation stopped before the program finished");

  AccelResult r;
  const ControllerResult& cr = t.controller.result();
  r.total_cycles = cr.total_cycles;
  r.array_end = cr.array_end;
  r.vector_end = cr.vector_end;
  r.last_store_ready = cr.last_store_ready;
  r.steps = cr.steps;
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
  return r;
}

}  // namespace ssim
