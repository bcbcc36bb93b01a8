#include "sim/report/run_outputs.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "sim/report/report_table.hpp"
#include "sim/report/scalesim_reports.hpp"
#include "workloads/data_dir.hpp"

#ifndef SSIM_VERSION
#define SSIM_VERSION "0"
#endif

namespace ssim {
namespace {

struct Roof {
  double ai = 0;  // 0 when no DRAM bytes (layers.csv leaves it empty)
  bool has_ai = false;
  double achieved = 0, roof = 0;
  const char* bound = "";
};

Roof roof_of(const HwSpec& hw, const OpRow& row) {
  Roof r;
  const double peak = peak_flops_per_s(hw), bw = dram_bytes_per_s(hw);
  const double seconds = double(row.total_cycles) / (hw.clock_ghz * 1e9);
  r.achieved = seconds > 0 ? double(row.flops) / seconds : 0;
  const uint64_t bytes = row.dram_read_bytes + row.dram_write_bytes;
  if (bytes == 0) {
    r.roof = peak;
    r.bound = "compute";
    return r;
  }
  const double ai = double(row.flops) / double(bytes);
  r.ai = ai;
  r.has_ai = true;
  r.roof = std::min(peak, bw * ai);
  r.bound = bw * ai < peak ? "memory" : "compute";
  return r;
}

std::string percent(double f) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << 100 * f << " %";
  return s.str();
}

}  // namespace

double peak_flops_per_s(const HwSpec& hw) {
  return 2.0 * hw.array_rows * hw.array_cols * hw.clock_ghz * 1e9;
}
double vector_peak_ops_per_s(const HwSpec& hw) {
  return double(hw.vector_lanes) * hw.clock_ghz * 1e9;
}
double dram_bytes_per_s(const HwSpec& hw) {
  return hw.dram_bw() * hw.clock_ghz * 1e9;
}

std::vector<std::string> layers_csv_columns() {
  return {"index", "layer", "name", "type", "M", "N", "K", "repeat", "macs", "flops", "folds",
          "total_cycles", "compute_cycles", "fill_drain_cycles", "mem_stall_cycles",
          "vector_cycles", "stage_cycles", "compute_util", "overall_util", "mapping_eff",
          "dram_read_bytes", "dram_write_bytes", "dram_weight_bytes", "dram_input_bytes",
          "dram_output_bytes", "dram_spill_bytes", "dram_side_bytes", "fused_into", "fused",
          "input_on_chip", "output_on_chip", "prefetched_weight_bytes", "overlap_cycles",
          "arith_intensity", "achieved_flops_per_s", "roof_flops_per_s", "bound",
          // Energy (docs/energy.md): the total, then one column per component.
          "energy_pj", "energy_mac_pj", "energy_register_pj", "energy_transfer_pj",
          "energy_sram_ifmap_pj", "energy_sram_filter_pj", "energy_sram_ofmap_pj", "energy_dram_pj",
          "energy_vector_pj"};
}

void append_layer_row(CsvRow& w, const OpRow& row, const std::string& name) {
  // The GEMM-only columns are empty for a vector op.
  auto opt = [&](int64_t v) { row.is_gemm ? w.integer(v) : w.empty(); };
  auto optf = [&](double v) { row.is_gemm ? w.g9(v) : w.empty(); };
  w.integer(row.index).integer(row.layer).text(name).text(row.type);
  opt(row.shape.M);
  opt(row.shape.N);
  opt(row.shape.K);
  opt(row.repeat);
  w.integer(row.macs)
      .integer(row.flops)
      .integer(row.folds)
      .integer(row.total_cycles)
      .integer(row.compute_cycles)
      .integer(row.fill_drain_cycles)
      .integer(row.mem_stall_cycles)
      .integer(row.vector_cycles)
      .integer(row.stage_cycles);
  optf(row.compute_util);
  w.g9(row.overall_util);
  optf(row.mapping_eff);
  w.integer(row.dram_read_bytes)
      .integer(row.dram_write_bytes)
      .integer(row.dram_weight_bytes)
      .integer(row.dram_input_bytes)
      .integer(row.dram_output_bytes)
      .integer(row.dram_spill_bytes)
      .integer(row.dram_side_bytes)
      .text(row.fused_into)
      .text(row.fused)
      .integer(int(row.input_on_chip))
      .integer(int(row.output_on_chip))
      .integer(row.prefetched_weight_bytes)
      .integer(row.overlap_cycles);
}

std::string layers_csv(const HwSpec& hw, const NetworkRunResult& r) {
  std::string out = csv_line(layers_csv_columns());
  out.reserve(out.size() + r.rows.size() * 512);
  for (const OpRow& row : r.rows) {
    const Roof roof = roof_of(hw, row);
    CsvRow w(out);
    append_layer_row(w, row, row.name);
    roof.has_ai ? w.g9(roof.ai) : w.empty();
    w.g9(roof.achieved).g9(roof.roof).text(roof.bound).g9(row.energy.total());
    for (double v : energy_component_values(row.energy)) w.g9(v);
    w.end();
  }
  return out;
}

namespace {

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// summary.json's "energy" and "area" (docs/energy.md, "Reports").
nlohmann::ordered_json energy_json(const HwSpec& hw, const NetworkRunResult& r) {
  const EnergyCosts c = resolve_energy(hw.energy, hw);
  nlohmann::ordered_json table = nlohmann::ordered_json::object();
  const std::map<std::string, double> entries = c.entries();
  for (const EnergyKeyInfo& k : energy_keys()) table[k.key] = entries.at(k.key);
  const double pj = r.energy.total();
  const double joules = pj * 1e-12;
  const double seconds = double(r.total_cycles) / (hw.clock_ghz * 1e9);
  nlohmann::ordered_json by = nlohmann::ordered_json::object();
  const std::vector<double> v = energy_component_values(r.energy);
  for (size_t i = 0; i < v.size(); ++i) by[energy_component_names()[i]] = v[i];
  return {{"technology_nm", c.technology_nm},
          {"table_source", hw.energy.source},
          {"table", table},
          {"total_pj", pj},
          {"by_component_pj", by},
          {"pj_per_mac", r.macs ? pj / double(r.macs) : 0.0},
          {"tops_per_w", joules > 0 ? double(r.flops) / joules / 1e12 : 0.0},
          {"average_power_w", seconds > 0 ? joules / seconds : 0.0},
          {"energy_delay_product_j_s", joules * seconds}};
}

nlohmann::ordered_json area_json(const HwSpec& hw) {
  const EnergyCosts c = resolve_energy(hw.energy, hw);
  const AreaBreakdown a = area_of(c, hw);
  return {{"technology_nm", c.technology_nm},        {"total_mm2", a.total() * 1e-6},
          {"pe_array_mm2", a.pe_array * 1e-6},       {"sram_ifmap_mm2", a.sram_ifmap * 1e-6},
          {"sram_filter_mm2", a.sram_filter * 1e-6}, {"sram_ofmap_mm2", a.sram_ofmap * 1e-6},
          {"vector_mm2", a.vector * 1e-6},           {"pe_um2", c.pe_um2}};
}

}  // namespace

std::string workload_fingerprint(const std::vector<Op>& ops) {
  uint64_t h = fnv1a("ops");
  for (const Op& op : ops) {
    std::string s;
    if (const GemmOp* g = as_gemm(op)) {
      s = "g|" + g->name + "|" + std::to_string(g->shape.M) + "|" + std::to_string(g->shape.N) +
          "|" + std::to_string(g->shape.K) + "|" + std::to_string(g->repeat) + "|" +
          std::to_string(g->b_is_weight) + "|" + std::to_string(g->layer);
    } else if (const VectorOp* v = as_vector(op)) {
      s = "v|" + v->name + "|" + to_string(v->kind) + "|" + std::to_string(v->elements) + "|" +
          std::to_string(v->inputs) + "|" + std::to_string(v->outputs) + "|" +
          std::to_string(v->row) + "|" + std::to_string(v->layer);
    }
    h = fnv1a(s + "\n", h);
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

std::string summary_json(const HwSpec& hw, const NetworkRunResult& r,
                         const CanonicalKernels& canonical, const RunRecord& record) {
  using nlohmann::ordered_json;
  const double hz = hw.clock_ghz * 1e9;
  const double seconds = double(r.total_cycles) / hz;
  ordered_json j;
  j["schema_version"] = 1;
  j["tool"] = "systolic-sim";
  j["tool_version"] = SSIM_VERSION;
  j["run_name"] = hw.run_name;
  j["seed"] = record.seed;
  j["workload"] = {{"name", r.workload},
                   {"layers", r.layers},
                   {"ops", r.rows.size()},
                   {"fingerprint", record.workload_fingerprint}};
  j["hardware"] = {
      {"array_rows", hw.array_rows},
      {"array_cols", hw.array_cols},
      {"dataflow", to_string(hw.dataflow)},
      {"clock_ghz", hw.clock_ghz},
      {"data_type", kOperandType},
      // OP/s for the int8 array; peak_flops_per_s is the old name, kept for one version.
      {"peak_ops_per_s", peak_flops_per_s(hw)},
      {"peak_flops_per_s", peak_flops_per_s(hw)},
      {"vector_peak_ops_per_s", vector_peak_ops_per_s(hw)},
      {"dram_bytes_per_s", dram_bytes_per_s(hw)},
      {"dram_bytes_per_cycle", hw.dram_bw()},
      {"dram_latency_cycles", hw.dram_latency},
      {"unlimited_bandwidth", hw.unlimited_bandwidth},
      {"sram_kib",
       {{"ifmap", hw.ifmap_sram_kb}, {"filter", hw.filter_sram_kb}, {"ofmap", hw.ofmap_sram_kb}}},
      {"fold_overlap", hw.fold_overlap},
      {"fusion", hw.fusion},
      {"residency", hw.residency},
      {"op_overlap", hw.op_overlap},
      {"load_ahead", hw.load_ahead},
      {"vector_lanes", hw.vector_lanes},
      {"fidelity", to_string(hw.fidelity)}};
  const double pes = double(hw.array_rows) * double(hw.array_cols);
  j["totals"] = {
      {"cycles", r.total_cycles},
      {"seconds", seconds},
      {"macs", r.macs},
      {"ops", r.flops},
      {"flops", r.flops},
      {"dram_read_bytes", r.dram_read_bytes},
      {"dram_write_bytes", r.dram_write_bytes},
      {"dram_bytes", r.dram_read_bytes + r.dram_write_bytes},
      {"dram_bytes_by_cause",
       {{"weights", r.dram_weight_bytes},
        {"inputs", r.dram_input_bytes},
        {"outputs", r.dram_output_bytes},
        {"spills", r.dram_spill_bytes},
        {"residual_operands", r.dram_side_bytes}}},
      {"fused_ops", r.fused_ops},
      {"resident_tensors", r.resident_tensors},
      {"prefetched_weight_bytes", r.prefetched_weight_bytes},
      {"overlap_cycles", r.overlap_cycles},
      {"utilization", r.total_cycles ? double(r.macs) / (pes * double(r.total_cycles)) : 0.0},
      {"achieved_ops_per_s", seconds > 0 ? double(r.flops) / seconds : 0.0},
      {"achieved_flops_per_s", seconds > 0 ? double(r.flops) / seconds : 0.0}};
  if (r.values_checked) j["values_ok"] = r.values_ok;
  j["energy"] = energy_json(hw, r);
  j["area"] = area_json(hw);
  auto kernel = [&](const CanonicalKernel& k) {
    const double s = double(k.cycles) / hz;
    return ordered_json{{"description", k.description},
                        {"ops", k.flops},
                        {"flops", k.flops},
                        {"dram_bytes", k.dram_bytes},
                        {"cycles", k.cycles},
                        {"achieved_ops_per_s", s > 0 ? double(k.flops) / s : 0.0},
                        {"achieved_flops_per_s", s > 0 ? double(k.flops) / s : 0.0}};
  };
  // The roofline's reference kernels run only for the figures (--report): a run without them
  // says so instead of spending most of a small run on them.
  if (canonical.computed) {
    // (Also when read from the cache: the numbers are the simulation's, and two runs on the same
    // inputs write the same bytes.)
    j["canonical_kernels"] = "simulated";
    j["canonical"] = {{"vector_add", kernel(canonical.vector_add)},
                      {"matrix_multiply", kernel(canonical.matrix_multiply)}};
  } else {
    j["canonical_kernels"] = "skipped: they run with --report (the roofline's reference dots)";
  }
  // The resolved configuration (defaults < --config < flags), every .cfg key as --print-config
  // writes it: with the seed, the workload and the tool version, what reruns the run exactly.
  ordered_json config = ordered_json::object();
  for (const CfgEntry& e : cfg_entries(hw)) config[e.section][e.key] = e.value;
  j["config"] = config;
  // Names come from files and flags: bytes that are not UTF-8 become U+FFFD instead of an
  // exception.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string energy_summary_line(const HwSpec& hw, const NetworkRunResult& r) {
  const EnergyCosts c = resolve_energy(hw.energy, hw);
  const EnergyBreakdown& e = r.energy;
  const double pj = e.total();
  auto share = [&](double x) { return percent(pj > 0 ? x / pj : 0); };
  std::ostringstream l;
  l << std::setprecision(4) << "energy " << pj * 1e-9 << " mJ at " << c.technology_nm
    << " nm: " << (r.macs ? pj / double(r.macs) : 0.0) << " pJ/MAC, "
    << (pj > 0 ? double(r.flops) / (pj * 1e-12) / 1e12 : 0.0) << " T" << kOpUnit << "/s/W; DRAM "
    << share(e.dram) << ", SRAM " << share(e.sram_ifmap + e.sram_filter + e.sram_ofmap)
    << ", array " << share(e.mac + e.reg + e.transfer) << ", vector " << share(e.vector)
    << "; area " << area_of(c, hw).total() * 1e-6 << " mm^2\n";
  return l.str();
}

std::string network_summary_text(const HwSpec& hw, const NetworkRunResult& r) {
  const double pes = double(hw.array_rows) * double(hw.array_cols);
  const double hz = hw.clock_ghz * 1e9;
  std::ostringstream out;
  TextTable totals({"workload", "array", "dataflow", "ops", "cycles", "time", "GMACs",
                    "utilization", "DRAM MB", std::string("T") + kOpUnit + "/s"},
                   {TextTable::Align::Left, TextTable::Align::Left, TextTable::Align::Left,
                    TextTable::Align::Right, TextTable::Align::Right, TextTable::Align::Right,
                    TextTable::Align::Right, TextTable::Align::Right, TextTable::Align::Right,
                    TextTable::Align::Right});
  const double seconds = double(r.total_cycles) / hz;
  std::ostringstream t, g, mb, tf;
  t << std::setprecision(4) << seconds * 1e3 << " ms";
  g << std::fixed << std::setprecision(3) << double(r.macs) / 1e9;
  mb << std::fixed << std::setprecision(2) << double(r.dram_read_bytes + r.dram_write_bytes) / 1e6;
  tf << std::fixed << std::setprecision(2) << (seconds > 0 ? double(r.flops) / seconds / 1e12 : 0);
  totals.add_row({r.workload, std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols),
                  to_string(hw.dataflow), std::to_string(r.rows.size()),
                  std::to_string(r.total_cycles), t.str(), g.str(),
                  percent(r.total_cycles ? double(r.macs) / (pes * double(r.total_cycles)) : 0),
                  mb.str(), tf.str()});
  out << totals.str();
  out << energy_summary_line(hw, r);

  std::vector<const OpRow*> top;
  for (const OpRow& row : r.rows) top.push_back(&row);
  std::stable_sort(top.begin(), top.end(), [](const OpRow* a, const OpRow* b) {
    return a->total_cycles > b->total_cycles;
  });
  if (top.size() > 5) top.resize(5);
  out << "\nThe " << top.size() << " most expensive ops:\n";
  TextTable t5({"#", "op", "type", "cycles", "share", "compute", "fill/drain", "mem stall",
                "vector", "stage", "utilization", "bound"},
               {TextTable::Align::Right, TextTable::Align::Left, TextTable::Align::Left,
                TextTable::Align::Right, TextTable::Align::Right, TextTable::Align::Right,
                TextTable::Align::Right, TextTable::Align::Right, TextTable::Align::Right,
                TextTable::Align::Right, TextTable::Align::Right, TextTable::Align::Left});
  for (const OpRow* row : top) {
    t5.add_row({std::to_string(row->index), row->name, row->type, std::to_string(row->total_cycles),
                percent(r.total_cycles ? double(row->total_cycles) / double(r.total_cycles) : 0),
                std::to_string(row->compute_cycles), std::to_string(row->fill_drain_cycles),
                std::to_string(row->mem_stall_cycles), std::to_string(row->vector_cycles),
                std::to_string(row->stage_cycles), percent(row->overall_util),
                roof_of(hw, *row).bound});
  }
  out << t5.str();
  return out.str();
}

std::vector<std::string> write_run_folder(const std::string& dir, const HwSpec& hw,
                                          const NetworkRunResult& r,
                                          const CanonicalKernels& canonical,
                                          const RunRecord& record) {
  namespace fs = std::filesystem;
  // Every file's text first, so that a failure there writes nothing; then each file through a
  // temporary and a rename, summary.json last (a reader that finds the new summary.json finds
  // the new other files too).
  std::vector<std::pair<const char*, std::string>> files;
  if (!r.gemms.empty()) {
    files.emplace_back(kComputeReportFile, compute_report_csv(hw, r.gemms));
    files.emplace_back(kBandwidthReportFile, bandwidth_report_csv(hw, r.gemms));
    files.emplace_back(kDetailedAccessReportFile, detailed_access_report_csv(hw, r.gemms));
    files.emplace_back(kSystolicSimReportFile, systolic_sim_report_csv(hw, r.gemms));
  }
  files.emplace_back("layers.csv", layers_csv(hw, r));
  files.emplace_back("summary.json", summary_json(hw, r, canonical, record));
  std::vector<std::string> written;
  // Tests make the window between two files wide (tests/sim/test_robustness.cpp).
  const char* delay = std::getenv("SSIM_RUN_TEST_WRITE_DELAY_MS");
  for (const auto& [name, content] : files) {
    const std::string path = (fs::path(dir) / name).string();
    write_file_atomic(path, content, Sync::None);
    written.push_back(path);
    if (delay) std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
  }
  return written;
}

int run_report_script(const std::string& dir, std::ostream& err) {
  namespace fs = std::filesystem;
  const fs::path script = find_data_file("scripts/ssim_report.py");
  std::error_code ec;
  if (script.empty()) {
    err << "report: " << data_file_missing("scripts/ssim_report.py") << "; figures not made\n";
    return 1;
  }
  // Debian's python3 has python3-matplotlib; SSIM_PYTHON overrides the interpreter.
  const char* env_py = std::getenv("SSIM_PYTHON");
  const std::string py = env_py && *env_py                    ? env_py
                         : fs::exists("/usr/bin/python3", ec) ? "/usr/bin/python3"
                                                              : "python3";
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string cmd = quote(py) + " " + quote(script.string()) + " " + quote(dir) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    err << "report: could not run " << py << "\n";
    return 1;
  }
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) output += buf;
  const int status = pclose(p);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (code == 127) {  // the shell found no python3: as the script's own "no matplotlib"
    err << "figures need Python 3 and matplotlib: apt-get install python3-matplotlib\n";
    return 3;
  }
  if (code != 0) err << output;
  return code;
}

}  // namespace ssim
