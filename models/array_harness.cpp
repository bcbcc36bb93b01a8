#include "models/array_harness.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/sim_time.hpp"
#include "models/systolic_array_cycle.hpp"
#include "models/systolic_array_fast.hpp"

namespace ssim {
namespace {

struct HarnessTop : sc_core::sc_module {
  SystolicArrayCycle cycle_array{"cycle_array"};
  SystolicArrayFast fast_array{"fast_array"};

  sc_core::sc_event go;
  ArrayModel* model = nullptr;
  const std::vector<TileArrival>* tiles = nullptr;
  HarnessResult result;

  SC_HAS_PROCESS(HarnessTop);
  explicit HarnessTop(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    SC_THREAD(driver);
  }

  void driver() {
    for (;;) {
      sc_core::wait(go);
      ArrayModel& m = *model;
      const auto& ts = *tiles;
      size_t next = 0, finished = 0;
      while (finished < ts.size()) {
        if (next < ts.size() && ts[next].cycle <= m.job_cycle()) {
          m.submit(ts[next].tile);
          ++next;
          continue;
        }
        TileDone d;
        while (m.pop_read(d)) result.reads.push_back(d);
        while (m.pop_done(d)) {
          result.done.push_back(d);
          ++finished;
        }
        if (finished == ts.size()) break;
        if (next < ts.size()) {
          const sc_core::sc_time at = cycle_start(now_cycle() + (ts[next].cycle - m.job_cycle()));
          sc_core::wait(at - sc_core::sc_time_stamp(), m.done_events.default_event());
        } else {
          sc_core::wait(m.done_events.default_event());
        }
      }
    }
  }
};

HarnessTop& top() {
  static HarnessTop* t = nullptr;
  if (!t) {
    if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
      throw std::logic_error("array harness: not in this process's SystemC design (DesignParts)");
    t = new HarnessTop("harness");
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  return *t;
}

}  // namespace

HarnessResult run_on_array(ArrayKind kind, const ArrayConfig& cfg,
                           const std::vector<TileArrival>& tiles, const GemmData* data) {
  HarnessTop& t = top();
  std::vector<TileArrival> sorted = tiles;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TileArrival& a, const TileArrival& b) { return a.cycle < b.cycle; });
  if (sorted.empty()) return {};
  if (sorted.front().cycle < 0) throw std::logic_error("harness: negative arrival cycle");

  // The job starts at the first whole cycle at or after the current time.
  const int64_t per = static_cast<int64_t>(cycle_period().value());
  const int64_t now = static_cast<int64_t>(sc_core::sc_time_stamp().value());
  const int64_t origin = (now + per - 1) / per;

  ArrayModel& m = kind == ArrayKind::Cycle ? static_cast<ArrayModel&>(t.cycle_array)
                                           : static_cast<ArrayModel&>(t.fast_array);
  m.configure(cfg, origin);
  m.bind_data(data);
  t.model = &m;
  t.tiles = &sorted;
  t.result = HarnessResult{};
  t.go.notify(cycle_start(origin) - sc_core::sc_time_stamp());
  sc_core::sc_start();
  if (t.result.done.size() != sorted.size())
    throw std::logic_error("harness: the simulation stopped before every tile finished");
  HarnessResult r = std::move(t.result);
  TileDone d;
  while (m.pop_read(d)) r.reads.push_back(d);
  r.stats = m.stats();
  if (kind == ArrayKind::Fast) r.stepped_folds = t.fast_array.stepped_folds();
  // Tiles finish in submission order, but a narrow tile can end before a wide one ahead of it.
  for (const TileDone& d : r.done) r.total_cycles = std::max(r.total_cycles, d.end_cycle + 1);
  t.tiles = nullptr;
  return r;
}

HarnessResult run_gemm_on_array(ArrayKind kind, const ArrayConfig& cfg, const GemmShape& g,
                                const GemmData* data) {
  TileArrival ta;
  ta.cycle = 0;
  ta.tile.id = 0;
  ta.tile.folds = FoldGrid::make(cfg.dataflow, cfg.rows, cfg.cols, 0, g.M, 0, g.N, 0, g.K);
  return run_on_array(kind, cfg, {ta}, data);
}

}  // namespace ssim
