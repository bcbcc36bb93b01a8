// The points of a sweep: the product of its axes for each workload, in point order, each with its
// validated hardware spec and an estimate of its run time; and the sweep's description
// (sweep.json), which says whether two invocations run the same points.
#include <cmath>
#include <nlohmann/json.hpp>

#include "sim/sweep/sweep.hpp"
#include "sim/sweep/sweep_params.hpp"

#ifndef SSIM_VERSION
#error "SSIM_VERSION must be defined by the build (see CMakeLists.txt)"
#endif

namespace ssim {

using namespace sweep_detail;

// --- points
// ---------------------------------------------------------------------------------------

namespace {

// Run time of a point in arbitrary units: the fast model takes about one step per fold and per
// tile, plus a fixed cost per op. Used to hand out the longest points first and for the ETA.
double estimate_cost(const SweepWorkload& w, const HwSpec& hw) {
  double folds = 0;
  for (const Op& op : w.ops) {
    folds += 40;
    if (const GemmOp* g = as_gemm(op)) {
      const SpatialMap s = spatial_map(hw.dataflow, g->shape);
      folds += double(g->repeat) * std::ceil(double(s.Sr) / hw.array_rows) *
               std::ceil(double(s.Sc) / hw.array_cols);
    }
  }
  if (hw.fidelity == Fidelity::Cycle) folds *= 50;
  return folds;
}

}  // namespace

std::vector<SweepPoint> enumerate_points(const SweepSpec& spec) {
  std::vector<SweepPoint> points;
  std::vector<size_t> digit(spec.axes.size(), 0);
  for (size_t wi = 0; wi < spec.workloads.size(); ++wi) {
    std::fill(digit.begin(), digit.end(), 0);
    while (true) {
      SweepPoint p;
      p.index = int(points.size());
      p.workload = int(wi);
      HwSpec hw = spec.base;
      std::string extra;
      // The point's flags: the single-valued ones (already in base; applying them again changes
      // nothing) and its axis values, resolved together so that contradictions are found.
      std::vector<std::pair<std::string, std::string>> flags = spec.hw_flags;
      for (size_t a = 0; a < spec.axes.size(); ++a) {
        const SweepAxis& axis = spec.axes[a];
        const std::string& v = axis.values[digit[a]];
        for (const std::string& hw_flag : find_axis(axis.flag)->hw_flags)
          flags.emplace_back(hw_flag, v);
        p.values.push_back(v);
        if (axis.flag != "arrays" && axis.flag != "dataflows") extra += " " + axis.flag + "=" + v;
      }
      try {
        apply_hw_flags(hw, flags);
        p.hw = ValidHw(std::move(hw));  // the point's one check of its spec
      } catch (const InputError& e) {
        throw InputError("point '" + spec.workloads[wi].name + extra + "': " + e.what());
      }
      p.label = spec.workloads[wi].name + " " + shape_text(p.hw->array_rows, p.hw->array_cols) +
                " " + to_string(p.hw->dataflow) + extra;
      p.cost = estimate_cost(spec.workloads[wi], p.hw);
      points.push_back(std::move(p));
      // Next combination: the last axis varies fastest.
      size_t a = spec.axes.size();
      while (a > 0) {
        --a;
        if (++digit[a] < spec.axes[a].values.size()) break;
        digit[a] = 0;
        if (a == 0) {
          a = size_t(-1);
          break;
        }
      }
      if (spec.axes.empty() || a == size_t(-1)) break;
    }
  }
  return points;
}

std::string sweep_description_json(const SweepSpec& spec) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema_version"] = 1;
  j["tool"] = "systolic-sim";
  j["tool_version"] = SSIM_VERSION;
  ordered_json wl = ordered_json::array();
  for (const SweepWorkload& w : spec.workloads) {
    wl.push_back({{"name", w.name},
                  {"network", w.net.name},
                  {"layers", w.net.layers.size()},
                  {"ops", w.ops.size()},
                  {"fingerprint", w.fingerprint}});
  }
  j["workloads"] = wl;
  // The hardware every point starts from, as the .cfg keys (format_cfg), section by section.
  ordered_json hw = ordered_json::object();
  for (const CfgEntry& e : cfg_entries(spec.base)) hw[e.section][e.key] = e.value;
  j["base_hardware"] = hw;
  // The energy table every point prices its counts with (docs/energy.md).
  ordered_json energy = {{"source", spec.base->energy.source},
                         {"technology_nm", spec.base->energy.technology_nm}};
  ordered_json given = ordered_json::object();
  for (const auto& [k, v] : spec.base->energy.given) given[k] = v;
  energy["given"] = given;
  j["energy_table"] = energy;
  ordered_json axes = ordered_json::array();
  for (const SweepAxis& a : spec.axes) {
    // `column`: the sweep.csv column that shows the axis' value.
    const std::string column = find_axis(a.flag)->column;
    axes.push_back(
        {{"flag", a.flag}, {"column", column.empty() ? "array" : column}, {"values", a.values}});
  }
  j["axes"] = axes;
  j["seed"] = spec.seed;
  uint64_t points = spec.workloads.size();
  for (const SweepAxis& a : spec.axes) points *= a.values.size();
  j["points"] = points;
  return j.dump(2) + "\n";
}

}  // namespace ssim
