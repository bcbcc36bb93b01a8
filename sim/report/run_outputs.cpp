#include "sim/report/run_outputs.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <type_traits>

#include "sim/report/number_text.hpp"
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

namespace {

// layers.csv's columns (docs/report-format.md).
constexpr const char* kLayersCsvColumns[] = {
    "index", "layer", "name", "type", "M", "N", "K", "repeat", "macs", "flops", "folds",
    "total_cycles", "compute_cycles", "fill_drain_cycles", "mem_stall_cycles", "vector_cycles",
    "stage_cycles", "compute_util", "overall_util", "mapping_eff", "dram_read_bytes",
    "dram_write_bytes", "dram_weight_bytes", "dram_input_bytes", "dram_output_bytes",
    "dram_spill_bytes", "dram_side_bytes", "fused_into", "fused", "input_on_chip", "output_on_chip",
    "prefetched_weight_bytes", "overlap_cycles", "arith_intensity", "achieved_flops_per_s",
    "roof_flops_per_s", "bound",
    // Energy (docs/energy.md): the total, then one column per component.
    "energy_pj", "energy_mac_pj", "energy_register_pj", "energy_transfer_pj",
    "energy_sram_ifmap_pj", "energy_sram_filter_pj", "energy_sram_ofmap_pj", "energy_dram_pj",
    "energy_vector_pj"};

}  // namespace

std::vector<std::string> layers_csv_columns() {
  return {std::begin(kLayersCsvColumns), std::end(kLayersCsvColumns)};
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
  std::string out;
  out.reserve(1024 + r.rows.size() * 512);
  {
    CsvRow header(out);
    for (const char* column : kLayersCsvColumns) header.text(column);
    header.end();
  }
  for (const OpRow& row : r.rows) {
    const Roof roof = roof_of(hw, row);
    CsvRow w(out);
    append_layer_row(w, row, row.name);
    roof.has_ai ? w.g9(roof.ai) : w.empty();
    w.g9(roof.achieved).g9(roof.roof).raw(roof.bound).g9(row.energy.total());
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

// JSON as nlohmann::json's dump(2, ' ', false, error_handler_t::replace) writes it: objects with
// their members in the order given, two spaces an indent level, "{}" for an empty object; strings
// not escaped beyond JSON's needs, bytes that are not UTF-8 replaced by U+FFFD; a double as its
// serializer writes it (Grisu2), null when not finite. Written directly: building summary.json as
// an ordered_json and dumping it cost 500 k instructions, a third of a small run's output
// (CliReportTableTest.JsonTextIsNlohmannDump compares it with a dump of the text parsed back).
class JsonText {
 public:
  explicit JsonText(std::string& out) : out_(out) {}
  JsonText(const JsonText&) = delete;
  JsonText& operator=(const JsonText&) = delete;
  ~JsonText() { flush(); }  // the text goes to `out` in pieces of a buffer's size

  void open() {  // an object: the whole text's, or a member's after key()
    raw("{", 1);
    members_.push_back(0);
  }
  void close() {
    const size_t n = members_.back();
    members_.pop_back();
    if (n > 0) {
      raw("\n", 1);
      indent();
    }
    raw("}", 1);
  }
  void open(std::string_view k) {
    key(k);
    open();
  }
  template <class T>
  void put(std::string_view k, const T& v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>) {
      v ? raw("true", 4) : raw("false", 5);
    } else if constexpr (std::is_integral_v<T>) {
      char buf[24];
      char* p = buf;
      uint64_t magnitude = uint64_t(v);
      if constexpr (std::is_signed_v<T>) {
        if (v < 0) {
          *p++ = '-';
          magnitude = 0 - magnitude;
        }
      }
      raw(buf, size_t(write_decimal(p, magnitude) - buf));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) {
        raw("null", 4);
      } else {
        char buf[64];
        raw(buf, size_t(nlohmann::detail::to_chars(buf, buf + sizeof buf, double(v)) - buf));
      }
    } else {
      string(std::string_view(v));
    }
  }

 private:
  void key(std::string_view k) {
    members_.back()++ ? raw(",\n", 2) : raw("\n", 1);
    indent();
    string(k);
    raw(": ", 2);
  }
  void indent() {
    static constexpr char kSpaces[] = "                                ";
    for (size_t n = 2 * members_.size(); n > 0;) {
      const size_t m = std::min(n, sizeof kSpaces - 1);
      raw(kSpaces, m);
      n -= m;
    }
  }
  void string(std::string_view s) {
    // Printable ASCII without '"' and '\\' as it is; anything else through nlohmann's escaping.
    if (std::all_of(s.begin(), s.end(),
                    [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
      raw("\"", 1);
      raw(s.data(), s.size());
      raw("\"", 1);
      return;
    }
    const std::string quoted = nlohmann::json(std::string(s))
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    raw(quoted.data(), quoted.size());
  }
  void raw(const char* s, size_t n) {
    if (used_ + n > sizeof buf_) {
      flush();
      if (n > sizeof buf_) {
        out_.append(s, n);
        return;
      }
    }
    std::memcpy(buf_ + used_, s, n);
    used_ += n;
  }
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }

  std::string& out_;
  std::vector<size_t> members_;  // members written, per open object
  size_t used_ = 0;
  char buf_[2048];
};

// summary.json's "energy" and "area" (docs/energy.md, "Reports").
void energy_json(JsonText& j, const HwSpec& hw, const NetworkRunResult& r) {
  const EnergyCosts c = resolve_energy(hw.energy, hw);
  const double pj = r.energy.total();
  const double joules = pj * 1e-12;
  const double seconds = double(r.total_cycles) / (hw.clock_ghz * 1e9);
  j.open("energy");
  j.put("technology_nm", c.technology_nm);
  j.put("table_source", hw.energy.source);
  j.open("table");
  const std::map<std::string, double> entries = c.entries();
  for (const EnergyKeyInfo& k : energy_keys()) j.put(k.key, entries.at(k.key));
  j.close();
  j.put("total_pj", pj);
  j.open("by_component_pj");
  const std::vector<double> v = energy_component_values(r.energy);
  for (size_t i = 0; i < v.size(); ++i) j.put(energy_component_names()[i], v[i]);
  j.close();
  j.put("pj_per_mac", r.macs ? pj / double(r.macs) : 0.0);
  j.put("tops_per_w", joules > 0 ? double(r.flops) / joules / 1e12 : 0.0);
  j.put("average_power_w", seconds > 0 ? joules / seconds : 0.0);
  j.put("energy_delay_product_j_s", joules * seconds);
  j.close();
}

void area_json(JsonText& j, const HwSpec& hw) {
  const EnergyCosts c = resolve_energy(hw.energy, hw);
  const AreaBreakdown a = area_of(c, hw);
  j.open("area");
  j.put("technology_nm", c.technology_nm);
  j.put("total_mm2", a.total() * 1e-6);
  j.put("pe_array_mm2", a.pe_array * 1e-6);
  j.put("sram_ifmap_mm2", a.sram_ifmap * 1e-6);
  j.put("sram_filter_mm2", a.sram_filter * 1e-6);
  j.put("sram_ofmap_mm2", a.sram_ofmap * 1e-6);
  j.put("vector_mm2", a.vector * 1e-6);
  j.put("pe_um2", c.pe_um2);
  j.close();
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
  const double hz = hw.clock_ghz * 1e9;
  const double seconds = double(r.total_cycles) / hz;
  std::string out;
  {
    JsonText j(out);
    j.open();
    j.put("schema_version", 1);
    j.put("tool", "systolic-sim");
    j.put("tool_version", SSIM_VERSION);
    j.put("run_name", hw.run_name);
    j.put("seed", record.seed);
    j.open("workload");
    j.put("name", r.workload);
    j.put("layers", r.layers);
    j.put("ops", r.rows.size());
    j.put("fingerprint", record.workload_fingerprint);
    j.close();
    j.open("hardware");
    j.put("array_rows", hw.array_rows);
    j.put("array_cols", hw.array_cols);
    j.put("dataflow", to_string(hw.dataflow));
    j.put("clock_ghz", hw.clock_ghz);
    j.put("data_type", kOperandType);
    // OP/s for the int8 array; peak_flops_per_s is the old name, kept for one version.
    j.put("peak_ops_per_s", peak_flops_per_s(hw));
    j.put("peak_flops_per_s", peak_flops_per_s(hw));
    j.put("vector_peak_ops_per_s", vector_peak_ops_per_s(hw));
    j.put("dram_bytes_per_s", dram_bytes_per_s(hw));
    j.put("dram_bytes_per_cycle", hw.dram_bw());
    j.put("dram_latency_cycles", hw.dram_latency);
    j.put("unlimited_bandwidth", hw.unlimited_bandwidth);
    j.open("sram_kib");
    j.put("ifmap", hw.ifmap_sram_kb);
    j.put("filter", hw.filter_sram_kb);
    j.put("ofmap", hw.ofmap_sram_kb);
    j.close();
    j.put("fold_overlap", hw.fold_overlap);
    j.put("fusion", hw.fusion);
    j.put("residency", hw.residency);
    j.put("op_overlap", hw.op_overlap);
    j.put("load_ahead", hw.load_ahead);
    j.put("vector_lanes", hw.vector_lanes);
    j.put("fidelity", to_string(hw.fidelity));
    j.close();
    const double pes = double(hw.array_rows) * double(hw.array_cols);
    j.open("totals");
    j.put("cycles", r.total_cycles);
    j.put("seconds", seconds);
    j.put("macs", r.macs);
    j.put("ops", r.flops);
    j.put("flops", r.flops);
    j.put("dram_read_bytes", r.dram_read_bytes);
    j.put("dram_write_bytes", r.dram_write_bytes);
    j.put("dram_bytes", r.dram_read_bytes + r.dram_write_bytes);
    j.open("dram_bytes_by_cause");
    j.put("weights", r.dram_weight_bytes);
    j.put("inputs", r.dram_input_bytes);
    j.put("outputs", r.dram_output_bytes);
    j.put("spills", r.dram_spill_bytes);
    j.put("residual_operands", r.dram_side_bytes);
    j.close();
    j.put("fused_ops", r.fused_ops);
    j.put("resident_tensors", r.resident_tensors);
    j.put("prefetched_weight_bytes", r.prefetched_weight_bytes);
    j.put("overlap_cycles", r.overlap_cycles);
    j.put("utilization", r.total_cycles ? double(r.macs) / (pes * double(r.total_cycles)) : 0.0);
    j.put("achieved_ops_per_s", seconds > 0 ? double(r.flops) / seconds : 0.0);
    j.put("achieved_flops_per_s", seconds > 0 ? double(r.flops) / seconds : 0.0);
    j.close();
    if (r.values_checked) j.put("values_ok", r.values_ok);
    energy_json(j, hw, r);
    area_json(j, hw);
    auto kernel = [&](const char* name, const CanonicalKernel& k) {
      const double s = double(k.cycles) / hz;
      j.open(name);
      j.put("description", k.description);
      j.put("ops", k.flops);
      j.put("flops", k.flops);
      j.put("dram_bytes", k.dram_bytes);
      j.put("cycles", k.cycles);
      j.put("achieved_ops_per_s", s > 0 ? double(k.flops) / s : 0.0);
      j.put("achieved_flops_per_s", s > 0 ? double(k.flops) / s : 0.0);
      j.close();
    };
    // The roofline's reference kernels run only for the figures (--report): a run without them
    // says so instead of spending most of a small run on them.
    if (canonical.computed) {
      // (Also when read from the cache: the numbers are the simulation's, and two runs on the same
      // inputs write the same bytes.)
      j.put("canonical_kernels", "simulated");
      j.open("canonical");
      kernel("vector_add", canonical.vector_add);
      kernel("matrix_multiply", canonical.matrix_multiply);
      j.close();
    } else {
      j.put("canonical_kernels", "skipped: they run with --report (the roofline's reference dots)");
    }
    // The resolved configuration (defaults < --config < flags), every .cfg key as --print-config
    // writes it: with the seed, the workload and the tool version, what reruns the run exactly.
    // Grouped by section in the order a section first comes; a key given twice keeps its first
    // place and its last value (as the JSON object it was written through did).
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> sections;
    for (CfgEntry& e : cfg_entries(hw)) {
      auto s = std::find_if(sections.begin(), sections.end(),
                            [&](const auto& x) { return x.first == e.section; });
      if (s == sections.end()) s = sections.insert(sections.end(), {std::move(e.section), {}});
      auto k = std::find_if(s->second.begin(), s->second.end(),
                            [&](const auto& x) { return x.first == e.key; });
      if (k == s->second.end())
        s->second.emplace_back(std::move(e.key), std::move(e.value));
      else
        k->second = std::move(e.value);
    }
    j.open("config");
    for (const auto& [section, keys] : sections) {
      j.open(section);
      for (const auto& [key, value] : keys) j.put(key, value);
      j.close();
    }
    j.close();
    j.close();
  }
  out += '\n';
  return out;
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
