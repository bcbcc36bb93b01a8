// The rows of sweep.csv and sweep_layers.csv: a finished point's results, a failed point's error,
// the key that matches a row to its point, and reading a row back (RFC 4180 records).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/cli/out_folder.hpp"
#include "sim/report/report_table.hpp"
#include "sim/report/run_outputs.hpp"
#include "sim/sweep/sweep.hpp"
#include "sim/sweep/sweep_params.hpp"

namespace ssim {

using namespace sweep_detail;

// --- CSV rows
// -------------------------------------------------------------------------------------

namespace {

// The result columns, after the parameters.
const std::vector<std::string> kResultColumns = {"status",
                                                 "ops",
                                                 "cycles",
                                                 "seconds",
                                                 "macs",
                                                 "flops",
                                                 "utilization",
                                                 "compute_cycles",
                                                 "fill_drain_cycles",
                                                 "mem_stall_cycles",
                                                 "vector_cycles",
                                                 "stage_cycles",
                                                 "dram_read_bytes",
                                                 "dram_write_bytes",
                                                 "dram_bytes",
                                                 "dram_bytes_per_cycle",
                                                 "peak_flops_per_s",
                                                 "achieved_flops_per_s",
                                                 "energy_pj",
                                                 "pj_per_mac",
                                                 "tops_per_w",
                                                 "edp_j_s",
                                                 "area_mm2",
                                                 "values_ok",
                                                 "error"};

// point, workload, array, pes, then the parameter columns.
constexpr size_t kFirstParamColumn = 4;

std::vector<std::string> head_fields(const SweepSpec& spec, const SweepPoint& p) {
  std::vector<std::string> f = {std::to_string(p.index), spec.workloads[size_t(p.workload)].name,
                                shape_text(p.hw->array_rows, p.hw->array_cols),
                                std::to_string(int64_t(p.hw->array_rows) * p.hw->array_cols)};
  for (const ParamColumn& c : param_columns()) f.push_back(c.get(p.hw));
  return f;
}

}  // namespace

std::vector<std::string> sweep_csv_columns() {
  std::vector<std::string> c = {"point", "workload", "array", "pes"};
  for (const ParamColumn& p : param_columns()) c.push_back(p.column);
  c.insert(c.end(), kResultColumns.begin(), kResultColumns.end());
  return c;
}

std::vector<std::string> sweep_layers_csv_columns() {
  // The point's identity, then layers.csv's columns up to the network schedule's.
  std::vector<std::string> c = {"point", "workload", "array", "dataflow"};
  const std::vector<std::string> layer = layers_csv_columns();
  const auto end = std::find(layer.begin(), layer.end(), "overlap_cycles");
  c.insert(c.end(), layer.begin(), end + 1);
  return c;
}

std::string sweep_csv_row(const SweepSpec& spec, const SweepPoint& p, const NetworkRunResult& r) {
  std::vector<std::string> f = head_fields(spec, p);
  const double pes = double(p.hw->array_rows) * double(p.hw->array_cols);
  const double hz = p.hw->clock_ghz * 1e9;
  const double seconds = double(r.total_cycles) / hz;
  int64_t compute = 0, fill = 0, stall = 0, vec = 0, stage = 0;
  for (const OpRow& row : r.rows) {
    compute += row.compute_cycles;
    fill += row.fill_drain_cycles;
    stall += row.mem_stall_cycles;
    vec += row.vector_cycles;
    stage += row.stage_cycles;
  }
  f.push_back("ok");
  f.push_back(std::to_string(r.rows.size()));
  f.push_back(std::to_string(r.total_cycles));
  f.push_back(g9(seconds));
  f.push_back(std::to_string(r.macs));
  f.push_back(std::to_string(r.flops));
  f.push_back(g9(r.total_cycles > 0 ? double(r.macs) / (pes * double(r.total_cycles)) : 0.0));
  f.push_back(std::to_string(compute));
  f.push_back(std::to_string(fill));
  f.push_back(std::to_string(stall));
  f.push_back(std::to_string(vec));
  f.push_back(std::to_string(stage));
  f.push_back(std::to_string(r.dram_read_bytes));
  f.push_back(std::to_string(r.dram_write_bytes));
  f.push_back(std::to_string(r.dram_read_bytes + r.dram_write_bytes));
  f.push_back(num_text(p.hw->dram_bw()));
  f.push_back(g9(2.0 * pes * hz));
  f.push_back(g9(seconds > 0 ? double(r.flops) / seconds : 0.0));
  // Energy and area (docs/energy.md).
  const double pj = r.energy.total(), joules = pj * 1e-12;
  f.push_back(g9(pj));
  f.push_back(g9(r.macs ? pj / double(r.macs) : 0.0));
  f.push_back(g9(joules > 0 ? double(r.flops) / joules / 1e12 : 0.0));
  f.push_back(g9(joules * seconds));
  f.push_back(g9(area_of(resolve_energy(p.hw->energy, p.hw), p.hw).total() * 1e-6));
  f.push_back(r.values_checked ? (r.values_ok ? "true" : "false") : "");
  f.push_back("");
  return csv_line(f);
}

std::string sweep_error_row(const SweepSpec& spec, const SweepPoint& p, const std::string& error) {
  std::vector<std::string> f = head_fields(spec, p);
  f.push_back("error");
  for (size_t i = 1; i + 1 < kResultColumns.size(); ++i) f.push_back("");
  f.push_back(one_line(error));
  return csv_line(f);
}

std::string sweep_layers_rows(const SweepSpec& spec, const SweepPoint& p,
                              const NetworkRunResult& r) {
  std::string out;
  const std::string head =
      csv_line({std::to_string(p.index), spec.workloads[size_t(p.workload)].name,
                shape_text(p.hw->array_rows, p.hw->array_cols), to_string(p.hw->dataflow)});
  const std::string prefix = head.substr(0, head.size() - 1) + ",";
  for (const OpRow& row : r.rows) {
    out += prefix;
    CsvRow w(out);
    append_layer_row(w, row, one_line(row.name));  // the op name: one physical line per row
    w.end();
  }
  return out;
}

std::string point_key(const SweepSpec& spec, const SweepPoint& p) {
  std::string k = spec.workloads[size_t(p.workload)].name;
  for (const ParamColumn& c : param_columns()) k += std::string("\x1f") + c.get(p.hw);
  return k;
}

std::string row_key(const std::vector<std::string>& fields) {
  const size_t n = param_columns().size();
  if (fields.size() < kFirstParamColumn + n) return "";
  std::string k = fields[1];
  for (size_t i = 0; i < n; ++i) k += "\x1f" + fields[kFirstParamColumn + i];
  return k;
}

// Hand-written rather than a CSV library: it reads back only the files this program wrote
// (RFC 4180 quoting, one record per line), and it must say "damaged" for a cut-off line (an open
// quote at the end) instead of reading on into the next line, which the resume store relies on.
bool parse_csv_record(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  size_t i = 0;
  while (true) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;  // unclosed quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;
        cur += line[i++];
      }
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return true;
}

std::string sweep_row_field(const std::string& row, const std::string& column) {
  std::vector<std::string> f;
  const std::vector<std::string> cols = sweep_csv_columns();
  const size_t i = size_t(std::find(cols.begin(), cols.end(), column) - cols.begin());
  const std::string line = !row.empty() && row.back() == '\n' ? row.substr(0, row.size() - 1) : row;
  if (!parse_csv_record(line, f) || i >= f.size()) return "";
  return f[i];
}

std::string sweep_row_outcome(const std::string& row) {
  if (sweep_row_field(row, "status") != "ok") return "FAILED: " + sweep_row_field(row, "error");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %% utilization",
                100 * std::atof(sweep_row_field(row, "utilization").c_str()));
  return with_commas(std::atoll(sweep_row_field(row, "cycles").c_str())) + " cycles, " + buf;
}

}  // namespace ssim
