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

AccelResult run_program(ArrayKind kind, const AccelConfig& cfg, const Program& prog,
                        const GemmData* data) {
  AcceleratorTop& t = top();
  const int64_t per = static_cast<int64_t>(cycle_period().value());
  const int64_t now = static_cast<int64_t>(sc_core::sc_time_stamp().value());
  const int64_t origin = (now + per - 1) / per;

  ArrayModel& m = kind == ArrayKind::Cycle ? static_cast<ArrayModel&>(t.cycle_array)
                                           : static_cast<ArrayModel&>(t.fast_array);
  t.dram.configure(cfg.dram, origin);
  t.ifmap.configure(cfg.ifmap_sram_bytes);
  t.filter.configure(cfg.filter_sram_bytes);
  t.ofmap.configure(cfg.ofmap_sram_bytes);
  m.configure(cfg.array, origin);
  t.vector_unit.configure(cfg.vector, origin);
  m.bind_data(data);
  t.controller.start(prog, m, origin);
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
  r.ifmap = t.ifmap.stats();
  r.filter = t.filter.stats();
  r.ofmap = t.ofmap.stats();
  m.bind_data(nullptr);
  return r;
}

}  // namespace ssim
