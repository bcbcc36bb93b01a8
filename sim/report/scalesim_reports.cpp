#include "sim/report/scalesim_reports.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <initializer_list>

#include "sim/report/number_text.hpp"
#include "sim/report/report_table.hpp"

namespace ssim {

const char* const kComputeReportFile = "COMPUTE_REPORT.csv";
const char* const kBandwidthReportFile = "BANDWIDTH_REPORT.csv";
const char* const kDetailedAccessReportFile = "DETAILED_ACCESS_REPORT.csv";
const char* const kSystolicSimReportFile = "SYSTOLIC_SIM_REPORT.csv";

namespace {

// A double the way Python's str() prints it (SCALE-Sim's writer): the shortest text that reads
// back as the same value, whole numbers with ".0".
void py_float(CsvRow& w, double x) {
  if (!std::isfinite(x)) {
    w.raw(x != x ? "nan" : (x > 0 ? "inf" : "-inf"));
    return;
  }
  w.put(kFloatTextMax + 2, [x](char* p) {
    char* end = write_shortest(p, x);
    if (std::none_of(p, end, [](char c) { return c == '.' || c == 'e'; })) {
      *end++ = '.';
      *end++ = '0';
    }
    return end;
  });
}

// A row of a SCALE-Sim report: fields joined with ", ", a trailing comma (end(",\n")).
CsvRow scalesim_row(std::string& out) {
  return CsvRow(out, ", ");
}

// A SCALE-Sim report's first line: the column names joined with ", ", a trailing comma.
std::string scalesim_header(std::initializer_list<const char*> columns) {
  std::string s;
  CsvRow w = scalesim_row(s);
  for (const char* c : columns) w.raw(c);
  w.end(",\n");
  return s;
}

double safe_div(double a, double b) {
  return b > 0 ? a / b : 0;
}

// Words moved between first and last cycle of an operand's DRAM traffic, per cycle of that span
// (SCALE-Sim: reads / (stop - start + 1)).
double dram_span_bw(uint64_t bytes, int elem_bytes, int64_t first, int64_t last) {
  if (first < 0 || last < first) return 0;
  return double(bytes / uint64_t(elem_bytes)) / double(last - first + 1);
}

}  // namespace

std::string compute_report_csv(const HwSpec&, const std::vector<GemmRunResult>& layers) {
  std::string s = scalesim_header({"LayerID", "Total Cycles", "Stall Cycles", "Overall Util %",
                                   "Mapping Efficiency %", "Compute Util %"});
  for (size_t i = 0; i < layers.size(); ++i) {
    const GemmRunResult& r = layers[i];
    CsvRow w = scalesim_row(s);
    w.integer(i).integer(r.total_cycles).integer(r.stall_cycles);
    py_float(w, 100 * r.compute_util);
    py_float(w, 100 * r.fold_pe_eff);
    py_float(w, 100 * r.array_util);
    w.end(",\n");
  }
  return s;
}

std::string bandwidth_report_csv(const HwSpec&, const std::vector<GemmRunResult>& layers) {
  std::string s =
      scalesim_header({"LayerID", "Avg IFMAP SRAM BW", "Avg FILTER SRAM BW", "Avg OFMAP SRAM BW",
                       "Avg IFMAP DRAM BW", "Avg FILTER DRAM BW", "Avg OFMAP DRAM BW"});
  for (size_t i = 0; i < layers.size(); ++i) {
    const GemmRunResult& r = layers[i];
    const double t = double(r.total_cycles);
    CsvRow w = scalesim_row(s);
    w.integer(i);
    py_float(w, safe_div(double(r.sram_ifmap_reads), t));
    py_float(w, safe_div(double(r.sram_filter_reads), t));
    py_float(w, safe_div(double(r.sram_ofmap_writes), t));
    py_float(
        w, dram_span_bw(r.dram_ifmap_bytes, r.input_bytes, r.dram_ifmap_first, r.dram_ifmap_last));
    py_float(w, dram_span_bw(r.dram_filter_bytes, r.input_bytes, r.dram_filter_first,
                             r.dram_filter_last));
    py_float(
        w, dram_span_bw(r.dram_ofmap_bytes, r.output_bytes, r.dram_ofmap_first, r.dram_ofmap_last));
    w.end(",\n");
  }
  return s;
}

std::string detailed_access_report_csv(const HwSpec&, const std::vector<GemmRunResult>& layers) {
  std::string s = scalesim_header(
      {"LayerID", "SRAM IFMAP Start Cycle", "SRAM IFMAP Stop Cycle", "SRAM IFMAP Reads",
       "SRAM Filter Start Cycle", "SRAM Filter Stop Cycle", "SRAM Filter Reads",
       "SRAM OFMAP Start Cycle", "SRAM OFMAP Stop Cycle", "SRAM OFMAP Writes",
       "DRAM IFMAP Start Cycle", "DRAM IFMAP Stop Cycle", "DRAM IFMAP Reads",
       "DRAM Filter Start Cycle", "DRAM Filter Stop Cycle", "DRAM Filter Reads",
       "DRAM OFMAP Start Cycle", "DRAM OFMAP Stop Cycle", "DRAM OFMAP Writes"});
  for (size_t i = 0; i < layers.size(); ++i) {
    const GemmRunResult& r = layers[i];
    // The array reads its operand buffers and writes the ofmap buffer from its first to its last
    // busy cycle.
    const int64_t a0 = r.array_first_cycle, a1 = r.array_last_cycle;
    const uint64_t ib = uint64_t(r.input_bytes), ob = uint64_t(r.output_bytes);
    scalesim_row(s)
        .integer(i)
        .integer(a0)
        .integer(a1)
        .integer(r.sram_ifmap_reads)
        .integer(a0)
        .integer(a1)
        .integer(r.sram_filter_reads)
        .integer(a0)
        .integer(a1)
        .integer(r.sram_ofmap_writes)
        .integer(r.dram_ifmap_first)
        .integer(r.dram_ifmap_last)
        .integer(r.dram_ifmap_bytes / ib)
        .integer(r.dram_filter_first)
        .integer(r.dram_filter_last)
        .integer(r.dram_filter_bytes / ib)
        .integer(r.dram_ofmap_first)
        .integer(r.dram_ofmap_last)
        .integer(r.dram_ofmap_bytes / ob)
        .end(",\n");
  }
  return s;
}

std::string systolic_sim_report_csv(const HwSpec& hw, const std::vector<GemmRunResult>& layers) {
  std::string s;
  s.reserve(1024 + layers.size() * 640);
  {
    CsvRow header(s);
    for (const char* column : {"layer_id",
                               "name",
                               "M",
                               "N",
                               "K",
                               "array_rows",
                               "array_cols",
                               "dataflow",
                               "fold_overlap",
                               "fidelity",
                               "clock_ghz",
                               "tile_m",
                               "tile_n",
                               "tile_k",
                               "plan",
                               "tiles",
                               "folds",
                               "macs",
                               "total_cycles",
                               "compute_cycles",
                               "stall_cycles",
                               "writeback_cycles",
                               "array_first_cycle",
                               "array_last_cycle",
                               "runtime_us",
                               "overall_util_pct",
                               "array_util_pct",
                               "mapping_eff_pct",
                               "fold_pe_eff_pct",
                               "tops",
                               "dram_ifmap_read_bytes",
                               "dram_filter_read_bytes",
                               "dram_ofmap_write_bytes",
                               "dram_read_bytes",
                               "dram_write_bytes",
                               "dram_bw_bytes_per_cycle",
                               "dram_avg_bw_bytes_per_cycle",
                               "dram_peak_bw_bytes_per_cycle",
                               "dram_peak_window_cycles",
                               "dram_avg_bw_gbps",
                               "dram_peak_bw_gbps",
                               "dram_busy_cycles",
                               "dram_latency_cycles",
                               "ifmap_dram_first_cycle",
                               "ifmap_dram_last_cycle",
                               "filter_dram_first_cycle",
                               "filter_dram_last_cycle",
                               "ofmap_dram_first_cycle",
                               "ofmap_dram_last_cycle",
                               "ifmap_sram_kb",
                               "filter_sram_kb",
                               "ofmap_sram_kb",
                               "sram_ifmap_reads",
                               "sram_ifmap_writes",
                               "sram_filter_reads",
                               "sram_filter_writes",
                               "sram_ofmap_reads",
                               "sram_ofmap_writes",
                               "values_checked",
                               "values_ok"})
      header.text(column);
    header.end();
  }
  const double ghz = hw.clock_ghz;
  const std::string dataflow = to_string(hw.dataflow), fidelity = to_string(hw.fidelity);
  for (size_t i = 0; i < layers.size(); ++i) {
    const GemmRunResult& r = layers[i];
    const double t = double(r.total_cycles);
    CsvRow w(s);
    w.integer(i)
        .text(r.name)
        .integer(r.shape.M)
        .integer(r.shape.N)
        .integer(r.shape.K)
        .integer(hw.array_rows)
        .integer(hw.array_cols)
        .text(dataflow)
        .raw(hw.fold_overlap ? "on" : "off")
        .text(fidelity)
        .shortest(ghz)
        .integer(r.tile_m)
        .integer(r.tile_n)
        .integer(r.tile_k)
        .text(r.plan)
        .integer(r.tiles)
        .integer(r.folds)
        .integer(r.macs)
        .integer(r.total_cycles)
        .integer(r.compute_cycles)
        .integer(r.stall_cycles)
        .integer(r.writeback_cycles)
        .integer(r.array_first_cycle)
        .integer(r.array_last_cycle)
        .shortest(safe_div(t, ghz * 1000))
        .shortest(100 * r.compute_util)
        .shortest(100 * r.array_util)
        .shortest(100 * r.mapping_eff)
        .shortest(100 * r.fold_pe_eff)
        .shortest(safe_div(2 * double(r.macs) * ghz, t * 1000))
        .integer(r.dram_ifmap_bytes)
        .integer(r.dram_filter_bytes)
        .integer(r.dram_ofmap_bytes)
        .integer(r.dram_read_bytes)
        .integer(r.dram_write_bytes);
    hw.unlimited_bandwidth ? w.raw("unlimited") : w.shortest(hw.dram_bw());
    w.shortest(r.dram_avg_bw)
        .shortest(r.dram_peak_bw)
        .integer(r.dram_peak_window)
        .shortest(r.dram_avg_bw * ghz)
        .shortest(r.dram_peak_bw * ghz)
        .shortest(r.dram_busy_cycles)
        .integer(hw.unlimited_bandwidth ? 0 : hw.dram_latency)
        .integer(r.dram_ifmap_first)
        .integer(r.dram_ifmap_last)
        .integer(r.dram_filter_first)
        .integer(r.dram_filter_last)
        .integer(r.dram_ofmap_first)
        .integer(r.dram_ofmap_last)
        .integer(hw.ifmap_sram_kb)
        .integer(hw.filter_sram_kb)
        .integer(hw.ofmap_sram_kb)
        .integer(r.sram_ifmap_reads)
        .integer(r.sram_ifmap_writes)
        .integer(r.sram_filter_reads)
        .integer(r.sram_filter_writes)
        .integer(r.sram_ofmap_reads)
        .integer(r.sram_ofmap_writes)
        .raw(r.values_checked ? "true" : "false")
        .raw(r.values_ok ? "true" : "false")
        .end();
  }
  return s;
}

std::vector<std::string> write_scalesim_reports(const std::string& dir, const HwSpec& hw,
                                                const std::vector<GemmRunResult>& layers) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::pair<const char*, std::string> files[] = {
      {kComputeReportFile, compute_report_csv(hw, layers)},
      {kBandwidthReportFile, bandwidth_report_csv(hw, layers)},
      {kDetailedAccessReportFile, detailed_access_report_csv(hw, layers)},
      {kSystolicSimReportFile, systolic_sim_report_csv(hw, layers)},
  };
  std::vector<std::string> paths;
  for (const auto& [name, content] : files) {
    const std::string path = (fs::path(dir) / name).string();
    write_file_atomic(path, content, Sync::None);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace ssim
