#include "sim/sweep/sweep_params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ssim::sweep_detail {

// --- small text helpers -------------------------------------------------------------------------

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string num_text(double x) {
  char buf[64];
  if (x == std::floor(x) && std::fabs(x) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string on_off(bool b) {
  return b ? "on" : "off";
}

std::string shape_text(int rows, int cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3) s.insert(size_t(i), ",");
  return s;
}

// --- the hardware parameter columns
// ---------------------------------------------------------------

const std::vector<ParamColumn>& param_columns() {
  static const std::vector<ParamColumn> cols = {
      {"array_rows", [](const HwSpec& h) { return std::to_string(h.array_rows); }},
      {"array_cols", [](const HwSpec& h) { return std::to_string(h.array_cols); }},
      {"dataflow", [](const HwSpec& h) { return to_string(h.dataflow); }},
      {"fold_overlap", [](const HwSpec& h) { return on_off(h.fold_overlap); }},
      {"fusion", [](const HwSpec& h) { return on_off(h.fusion); }},
      {"residency", [](const HwSpec& h) { return on_off(h.residency); }},
      {"op_overlap", [](const HwSpec& h) { return on_off(h.op_overlap); }},
      {"load_ahead", [](const HwSpec& h) { return on_off(h.load_ahead); }},
      {"fidelity", [](const HwSpec& h) { return to_string(h.fidelity); }},
      {"ifmap_sram_kb", [](const HwSpec& h) { return std::to_string(h.ifmap_sram_kb); }},
      {"filter_sram_kb", [](const HwSpec& h) { return std::to_string(h.filter_sram_kb); }},
      {"ofmap_sram_kb", [](const HwSpec& h) { return std::to_string(h.ofmap_sram_kb); }},
      {"bandwidth_words", [](const HwSpec& h) { return num_text(h.bandwidth_words); }},
      {"dram_bandwidth", [](const HwSpec& h) { return num_text(h.dram_bytes_per_cycle); }},
      {"dram_gbps", [](const HwSpec& h) { return num_text(h.dram_gb_per_s); }},
      {"dram_latency", [](const HwSpec& h) { return std::to_string(h.dram_latency); }},
      {"unlimited_bandwidth", [](const HwSpec& h) { return on_off(h.unlimited_bandwidth); }},
      {"interface_bandwidth", [](const HwSpec& h) { return h.interface_bandwidth; }},
      {"memory_banks", [](const HwSpec& h) { return std::to_string(h.memory_banks); }},
      {"clock_ghz", [](const HwSpec& h) { return num_text(h.clock_ghz); }},
      {"vector_lanes", [](const HwSpec& h) { return std::to_string(h.vector_lanes); }},
      {"output_bytes", [](const HwSpec& h) { return std::to_string(h.output_bytes); }},
  };
  return cols;
}

std::string param_value(const HwSpec& hw, const std::string& column) {
  for (const ParamColumn& c : param_columns()) {
    if (column == c.column) return c.get(hw);
  }
  return "";
}

// --- the axes
// ---------------------------------------------------------------------------------------

const std::vector<AxisDef>& axis_defs() {
  static const std::vector<AxisDef> defs = {
      {"sram-kb", {"ifmap-sram-kb", "filter-sram-kb", "ofmap-sram-kb"}, "ifmap_sram_kb", "256,512"},
      {"ifmap-sram-kb", {"ifmap-sram-kb"}, "ifmap_sram_kb", "256,512"},
      {"filter-sram-kb", {"filter-sram-kb"}, "filter_sram_kb", "256,512"},
      {"ofmap-sram-kb", {"ofmap-sram-kb"}, "ofmap_sram_kb", "128,256"},
      {"bandwidth", {"bandwidth"}, "bandwidth_words", "10,20"},
      {"dram-bandwidth", {"dram-bandwidth"}, "dram_bandwidth", "16,32"},
      {"dram-gbps", {"dram-gbps"}, "dram_gbps", "64,128"},
      {"dram-latency", {"dram-latency"}, "dram_latency", "0,100"},
      {"unlimited-bandwidth", {"unlimited-bandwidth"}, "unlimited_bandwidth", "off,on"},
      {"interface-bandwidth", {"interface-bandwidth"}, "interface_bandwidth", "user,calc"},
      {"memory-banks", {"memory-banks"}, "memory_banks", "1,2"},
      {"clock-ghz", {"clock-ghz"}, "clock_ghz", "1,2"},
      {"vector-lanes", {"vector-lanes"}, "vector_lanes", "16,32"},
      {"output-bytes", {"output-bytes"}, "output_bytes", "1,4"},
      {"fold-overlap", {"fold-overlap"}, "fold_overlap", "off,on"},
      {"fusion", {"fusion"}, "fusion", "off,on"},
      {"residency", {"residency"}, "residency", "off,on"},
      {"op-overlap", {"op-overlap"}, "op_overlap", "off,on"},
      {"load-ahead", {"load-ahead"}, "load_ahead", "off,on"},
      {"fidelity", {"fidelity"}, "fidelity", "fast,cycle"},
      {"dataflows", {"dataflow"}, "dataflow", "os,ws,is"},
      {"arrays", {"array"}, "", "8x8,16x16,32x32"},
  };
  return defs;
}

const AxisDef* find_axis(const std::string& flag) {
  for (const AxisDef& d : axis_defs()) {
    if (d.flag == flag) return &d;
  }
  return nullptr;
}

std::string axis_value(const AxisDef& d, const HwSpec& hw) {
  if (d.column.empty()) return shape_text(hw.array_rows, hw.array_cols);
  return param_value(hw, d.column);
}

std::string joined(const std::map<int, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += v;
  return s;
}

}  // namespace ssim::sweep_detail
