// The trace flags (--traces, --trace-layers, --trace-cycles, --trace-limit) and the size
// estimate a run is refused by before it starts (docs/report-format.md, "Traces"). The writing
// is in traces.cpp.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "sim/report/traces.hpp"

namespace ssim {
// ---- flags ---------------------------------------------------------------------------------

namespace {

bool parse_i64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), e, out);
  return ec == std::errc() && p == e;
}

}  // namespace

void parse_traces_flag(const std::string& v, TraceOptions& o) {
  if (v == "on" || v == "gz") {
    o.on = true;
    o.gz = v == "gz";
    return;
  }
  throw InputError("--traces '" + v + "': expected on or gz");
}

void parse_trace_cycles_flag(const std::string& v, TraceOptions& o) {
  const auto colon = v.find(':');
  int64_t a = 0, b = 0;
  if (colon == std::string::npos || !parse_i64(v.substr(0, colon), a) ||
      !parse_i64(v.substr(colon + 1), b) || a < 0 || b < a)
    throw InputError("--trace-cycles '" + v +
                     "': expected A:B, integers with 0 <= A <= B (job cycles of each op, "
                     "inclusive)");
  o.windowed = true;
  o.first_cycle = a;
  o.last_cycle = b;
}

void parse_trace_limit_flag(const std::string& v, TraceOptions& o) {
  const std::string allowed = "--trace-limit '" + v +
                              "': expected a size in bytes from 1 to 2^50, optionally with K, M "
                              "or G (KiB, MiB, GiB), e.g. 500M";
  std::string num = v;
  uint64_t mul = 1;
  if (!num.empty()) {
    const char u = char(std::toupper(static_cast<unsigned char>(num.back())));
    if (u == 'K' || u == 'M' || u == 'G') {
      mul = u == 'K' ? 1024 : u == 'M' ? 1024 * 1024 : 1024 * 1024 * 1024;
      num.pop_back();
    }
  }
  int64_t n = 0;
  if (!parse_i64(num, n) || n < 1 || uint64_t(n) > (uint64_t(1) << 50) / mul)
    throw InputError(allowed);
  o.limit_bytes = uint64_t(n) * mul;
  o.limit_given = true;
}

void parse_trace_layers_flag(const std::string& v, TraceOptions& o) {
  o.layers.clear();
  size_t pos = 0;
  while (pos <= v.size()) {
    const size_t comma = std::min(v.find(',', pos), v.size());
    const std::string name = v.substr(pos, comma - pos);
    if (name.empty())
      throw InputError("--trace-layers '" + v +
                       "': expected op or layer names separated by commas (e.g. conv1,fc)");
    o.layers.push_back(name);
    pos = comma + 1;
  }
}

bool trace_selected(const TraceOptions& o, const GemmOp& op) {
  if (o.layers.empty()) return true;
  for (const std::string& n : o.layers)
    if (n == op.name || n == op.layer_name) return true;
  return false;
}

// ---- size estimate ---------------------------------------------------------------------------

namespace {

int64_t cdiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

int digits(int64_t x) {
  int d = 1;
  for (x = x < 0 ? -x : x; x >= 10; x /= 10) ++d;
  return d;
}

}  // namespace

uint64_t estimate_trace_bytes(const HwSpec& hw, const TraceOptions& o, const std::vector<Op>& ops) {
  const int64_t R = hw.array_rows, C = hw.array_cols, P = std::max(R, C);
  const double window = double(o.last_cycle) - double(o.first_cycle) + 1;
  double total = 0;
  for (const Op& op : ops) {
    const GemmOp* g = as_gemm(op);
    if (!g || !trace_selected(o, *g)) continue;
    const GemmShape& s = g->shape;
    const SpatialMap sm = spatial_map(hw.dataflow, s);
    const double folds = double(cdiv(sm.Sr, R)) * double(cdiv(sm.Sc, C));
    // Rows per SRAM file: at most one per cycle of every fold's span.
    double rows = folds * double(sm.T + R + C);
    if (o.windowed) rows = std::min(rows, window);
    const int64_t max_addr = std::max({hw.ifmap_offset, hw.filter_offset, hw.ofmap_offset}) +
                             g->repeat * std::max({s.M * s.K, s.K * s.N, s.M * s.N});
    const double entry = digits(max_addr) + 1;
    const double sram = 3 * rows * (double(P) * entry + digits(sm.T * int64_t(folds)) + 2);
    // DRAM words: at most what the array reads of A and B, and each output three times (written,
    // spilled and read back).
    const double M = double(s.M), N = double(s.N), K = double(s.K);
    double words = 0;
    switch (hw.dataflow) {
      case Dataflow::OS:
        words = M * K * double(cdiv(s.N, C)) + K * N * double(cdiv(s.M, R)) + 3 * M * N;
        break;
      case Dataflow::WS:
        words = M * K * double(cdiv(s.N, C)) + K * N + 3 * M * N * double(cdiv(s.K, R));
        break;
      case Dataflow::IS:
        words = M * K + K * N * double(cdiv(s.M, C)) + 3 * M * N * double(cdiv(s.K, R));
        break;
    }
    if (!hw.dram_stall_free() && o.windowed)
      words = std::min(
          words,
          window * 3 * std::ceil(hw.dram_bw() / double(std::min(hw.input_bytes, hw.output_bytes))));
    total += double(g->repeat) * (sram + words * entry);
  }
  return total >= 1.8e19 ? std::numeric_limits<uint64_t>::max() : uint64_t(total);
}

void check_traces(const HwSpec& hw, const TraceOptions& o, const std::vector<Op>& ops) {
  if (!o.on) {
    if (!o.layers.empty() || o.windowed || o.limit_given)
      throw InputError(
          "--trace-layers / --trace-cycles / --trace-limit: need --traces on or --traces gz");
    return;
  }
  for (const std::string& n : o.layers) {
    bool found = false;
    for (const Op& op : ops)
      if (const GemmOp* g = as_gemm(op)) found = found || n == g->name || n == g->layer_name;
    if (!found) {
      std::string names;
      int shown = 0;
      for (const Op& op : ops)
        if (const GemmOp* g = as_gemm(op); g && shown < 8) names += (shown++ ? ", " : "") + g->name;
      throw InputError("--trace-layers '" + n +
                       "': no GEMM op or layer of that name in the workload (GEMM ops: " + names +
                       (shown == 8 ? ", ..." : "") + "; layers.csv lists them all)");
    }
  }
  const uint64_t est = estimate_trace_bytes(hw, o, ops);
  if (est > o.limit_bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(est) / (1024.0 * 1024.0));
    throw InputError("--traces: the trace files would take about " + std::string(buf) +
                     " (uncompressed), more than --trace-limit " + std::to_string(o.limit_bytes) +
                     " bytes; narrow them with --trace-layers LIST or --trace-cycles A:B, or "
                     "raise --trace-limit");
  }
}

}  // namespace ssim
