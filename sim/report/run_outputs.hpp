// The run folder of a network or GEMM run: layers.csv and summary.json (schema in
// docs/report-format.md), SCALE-Sim's three CSVs, the console summary, and the figures and HTML
// page made by scripts/ssim_report.py.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/report/report_table.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// Peak array throughput (2 * R * C * clock) and DRAM bandwidth (bytes/s) of a spec.
double peak_flops_per_s(const HwSpec& hw);
double dram_bytes_per_s(const HwSpec& hw);
// The vector unit's peak: one element operation per lane and cycle (lanes * clock).
double vector_peak_ops_per_s(const HwSpec& hw);
// The operands' type and the name of its operations: the array multiplies int8, so its
// throughput is in OP/s (2 per MAC); a floating-point type would count FLOP/s.
inline constexpr const char* kOperandType = "int8";
inline constexpr const char* kOpUnit = "OP";

// layers.csv's header, in order (docs/report-format.md).
std::vector<std::string> layers_csv_columns();
// One op's fields of layers.csv from `index` to `overlap_cycles` (the hardware-independent
// part; the roofline columns follow in layers.csv), appended to `w`; `name` stands for row.name
// (the sweep's file makes it one line).
void append_layer_row(CsvRow& w, const OpRow& row, const std::string& name);
std::string layers_csv(const HwSpec& hw, const NetworkRunResult& r);
// What summary.json records besides the results, to rerun the run exactly.
struct RunRecord {
  uint64_t seed = 1;                 // --seed: the GEMM operands
  std::string workload_fingerprint;  // workload_fingerprint() of the lowered ops
};
// The lowered ops of a workload, hashed (names, kinds and sizes) as 16 hex digits: a changed
// workload file gives another fingerprint. sweep.json records the same.
std::string workload_fingerprint(const std::vector<Op>& ops);
std::string summary_json(const HwSpec& hw, const NetworkRunResult& r,
                         const CanonicalKernels& canonical, const RunRecord& record);

// One line: the run's energy, pJ/MAC, TOP/s/W, the shares of DRAM, SRAM, array and vector unit,
// and the area (docs/energy.md).
std::string energy_summary_line(const HwSpec& hw, const NetworkRunResult& r);
// Network totals and the five ops that cost most cycles, as a plain-text table.
std::string network_summary_text(const HwSpec& hw, const NetworkRunResult& r);

// Writes layers.csv, summary.json and SCALE-Sim's CSVs into `dir` (which must exist), each
// atomically. Returns the paths written.
std::vector<std::string> write_run_folder(const std::string& dir, const HwSpec& hw,
                                          const NetworkRunResult& r,
                                          const CanonicalKernels& canonical,
                                          const RunRecord& record);

// Runs scripts/ssim_report.py on `dir`. Returns its exit code (0 ok, 3 no Python or no
// matplotlib, other: failure) and passes its one-line messages to `err`.
int run_report_script(const std::string& dir, std::ostream& err);

}  // namespace ssim
