// The vocabulary shared by the parts of the sweep (sim/sweep/): the hardware parameter columns of
// sweep.csv that identify a point, the axes (the flags that take a list), the file names of a
// sweep folder, and the number formats of its CSVs. Internal to sim/sweep/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/spec/config.hpp"

namespace ssim::sweep_detail {

constexpr int kMaxJobs = 1024;
constexpr uint64_t kMaxPoints = 1000000;
// The most rows of sweep_layers.csv (points x ops of their workloads) a sweep may write: the
// final file is put together in memory, in point order, at a few hundred bytes a row.
constexpr uint64_t kMaxSweepLayerRows = uint64_t(1) << 22;

inline const char* const kCsvName = "sweep.csv";
inline const char* const kLayersName = "sweep_layers.csv";
inline const char* const kJsonName = "sweep.json";

// --- text
std::string trim(const std::string& s);
// Shortest text that reads back as the same double; whole numbers without an exponent.
std::string num_text(double x);
// (A derived float in the CSVs, 9 significant digits (docs/report-format.md's rule): g9(),
// sim/report/report_table.hpp.)
std::string on_off(bool b);
std::string shape_text(int rows, int cols);  // "32x64"
std::string with_commas(int64_t v);          // "1,234,567"
// The values of a map keyed by point, in point order, concatenated (the rows of a CSV).
std::string joined(const std::map<int, std::string>& m);

// --- the hardware parameter columns
// Every HwSpec field that can change a result, as a column of sweep.csv. A point is identified by
// its workload and these values.
struct ParamColumn {
  const char* column;
  std::string (*get)(const HwSpec&);
};
const std::vector<ParamColumn>& param_columns();
std::string param_value(const HwSpec& hw, const std::string& column);

// --- the axes
// A flag of `sweep` that takes a comma-separated list.
struct AxisDef {
  std::string flag;                   // without "--"
  std::vector<std::string> hw_flags;  // the hardware flags each value is applied with
  std::string column;                 // the parameter column that shows its value ("" = array)
  std::string example;                // a valid list, for messages
};
// In point order: the first varies slowest. Arrays vary fastest, so that the rows of one
// workload and dataflow are a run of array sizes.
const std::vector<AxisDef>& axis_defs();
const AxisDef* find_axis(const std::string& flag);
std::string axis_value(const AxisDef& d, const HwSpec& hw);

}  // namespace ssim::sweep_detail
