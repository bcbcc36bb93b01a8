// SCALE-Sim v2's three report files, with its exact column names, plus our own richer CSV.
// One row per layer (a GEMM run). What every column means, and where ours differs from
// SCALE-Sim's, is in docs/memory-system.md ("Reports").
//
//   COMPUTE_REPORT.csv          LayerID, Total Cycles, Stall Cycles, Overall Util %,
//                               Mapping Efficiency %, Compute Util %,
//   BANDWIDTH_REPORT.csv        LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW,
//                               Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,
//   DETAILED_ACCESS_REPORT.csv  LayerID, SRAM IFMAP Start Cycle, ... DRAM OFMAP Writes,
//   SYSTOLIC_SIM_REPORT.csv     every counter of GemmRunResult and the configuration
//
// The SCALE-Sim files keep its layout: fields separated by ", " and a trailing comma on every
// line; bandwidths in words (elements) per cycle.
#pragma once

#include <string>
#include <vector>

#include "sim/run/gemm_run.hpp"
#include "sim/spec/config.hpp"

namespace ssim {

std::string compute_report_csv(const HwSpec& hw, const std::vector<GemmRunResult>& layers);
std::string bandwidth_report_csv(const HwSpec& hw, const std::vector<GemmRunResult>& layers);
std::string detailed_access_report_csv(const HwSpec& hw, const std::vector<GemmRunResult>& layers);
std::string systolic_sim_report_csv(const HwSpec& hw, const std::vector<GemmRunResult>& layers);

// File names written by write_scalesim_reports().
extern const char* const kComputeReportFile;         // "COMPUTE_REPORT.csv"
extern const char* const kBandwidthReportFile;       // "BANDWIDTH_REPORT.csv"
extern const char* const kDetailedAccessReportFile;  // "DETAILED_ACCESS_REPORT.csv"
extern const char* const kSystolicSimReportFile;     // "SYSTOLIC_SIM_REPORT.csv"

// Writes the four files into `dir` (created if missing). Each file goes to a temporary file in
// the same folder and is renamed into place, so a reader never sees half a file. Returns the
// paths written. Throws std::system_error / std::filesystem::filesystem_error on I/O failure.
std::vector<std::string> write_scalesim_reports(const std::string& dir, const HwSpec& hw,
                                                const std::vector<GemmRunResult>& layers);

}  // namespace ssim
