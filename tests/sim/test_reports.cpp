// Tests of the SCALE-Sim-compatible reports (sim/report/scalesim_reports.*): the exact headers of
// SCALE-Sim v2's three files (as its simulator.py writes them), the meaning of every column
// derived here from the counters, one row per layer, and atomic writing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/mapping/tiler.hpp"
#include "sim/report/scalesim_reports.hpp"
#include "sim/run/gemm_run.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A SCALE-Sim line: "a, b, c," -> {"a", "b", "c"}.
std::vector<std::string> fields(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), ',') << line;
  std::vector<std::string> out;
  const std::string body = line.substr(0, line.size() - 1);
  size_t pos = 0;
  for (;;) {
    const size_t next = body.find(", ", pos);
    out.push_back(body.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 2;
  }
  return out;
}

GemmRunResult sample(int64_t total, int64_t stall) {
  GemmRunResult r;
  r.name = "layer";
  r.shape = {64, 32, 16};
  r.total_cycles = total;
  r.stall_cycles = stall;
  r.compute_cycles = total - stall - 7;
  r.writeback_cycles = 7;
  r.macs = 64 * 32 * 16;
  r.compute_util = 0.25;
  r.array_util = 0.5;
  r.fold_pe_eff = 0.75;
  r.mapping_eff = 0.625;
  r.array_first_cycle = stall;
  r.array_last_cycle = total - 8;
  r.sram_ifmap_reads = 4000;
  r.sram_filter_reads = 3000;
  r.sram_ofmap_writes = 2000;
  r.sram_ofmap_reads = 1500;
  r.input_bytes = 2;
  r.output_bytes = 4;
  r.dram_ifmap_bytes = 2 * 1024;  // 1024 words
  r.dram_filter_bytes = 2 * 512;  // 512 words
  r.dram_ofmap_bytes = 4 * 2048;  // 2048 words
  r.dram_ifmap_first = 0, r.dram_ifmap_last = 99;
  r.dram_filter_first = 10, r.dram_filter_last = 73;
  r.dram_ofmap_first = 500, r.dram_ofmap_last = 1011;
  return r;
}

TEST(Reports, HeadersAreScaleSimsExactly) {
  const HwSpec hw;
  const std::vector<GemmRunResult> none;
  EXPECT_EQ(compute_report_csv(hw, none),
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute "
            "Util %,\n");
  EXPECT_EQ(bandwidth_report_csv(hw, none),
            "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
            "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n");
  EXPECT_EQ(detailed_access_report_csv(hw, none),
            "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter "
            "Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM "
            "OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, "
            "DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
            "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n");
}

TEST(Reports, RowsCarryTheCountersOnePerLayer) {
  const HwSpec hw;
  const std::vector<GemmRunResult> layers = {sample(1000, 100), sample(2000, 0)};
  const auto c = lines(compute_report_csv(hw, layers));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(fields(c[1]), (std::vector<std::string>{"0", "1000", "100", "25.0", "75.0", "50.0"}));
  EXPECT_EQ(fields(c[2])[0], "1");
  EXPECT_EQ(fields(c[2])[1], "2000");

  const auto b = lines(bandwidth_report_csv(hw, layers));
  ASSERT_EQ(b.size(), 3u);
  // SRAM: accesses per cycle of the run; DRAM: words per cycle of the operand's transfer span.
  EXPECT_EQ(fields(b[1]),
            (std::vector<std::string>{"0", "4.0", "3.0", "2.0", "10.24", "8.0", "4.0"}));
  EXPECT_EQ(fields(b[2])[1], "2.0");

  const auto d = lines(detailed_access_report_csv(hw, layers));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(fields(d[1]), (std::vector<std::string>{"0", "100", "992", "4000", "100", "992", "3000",
                                                    "100", "992", "2000", "0", "99", "1024", "10",
                                                    "73", "512", "500", "1011", "2048"}));

  const auto s = lines(systolic_sim_report_csv(hw, layers));
  ASSERT_EQ(s.size(), 3u);
  // Our CSV: plain commas, a header naming every column, the same number of fields per row.
  const auto count = [](const std::string& l) { return std::count(l.begin(), l.end(), ','); };
  EXPECT_EQ(count(s[0]), count(s[1]));
  EXPECT_EQ(count(s[0]), count(s[2]));
  EXPECT_EQ(s[0].rfind("layer_id,name,M,N,K,", 0), 0u) << s[0];
  EXPECT_NE(s[0].find("dram_peak_bw_bytes_per_cycle"), std::string::npos);
  EXPECT_EQ(s[1].rfind("0,layer,64,32,16,", 0), 0u) << s[1];
}

TEST(Reports, WritesFourFilesAtomically) {
  const fs::path dir =
      fs::temp_directory_path() / ("ssim_reports_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const HwSpec hw;
  const std::vector<GemmRunResult> layers = {sample(1000, 100)};
  // Twice: the second run replaces the files in place.
  for (int round = 0; round < 2; ++round) {
    const auto paths = write_scalesim_reports((dir / "sub").string(), hw, layers);
    ASSERT_EQ(paths.size(), 4u);
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "sub")) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"BANDWIDTH_REPORT.csv", "COMPUTE_REPORT.csv",
                                      "DETAILED_ACCESS_REPORT.csv", "SYSTOLIC_SIM_REPORT.csv"}));
  std::ifstream in(dir / "sub" / "COMPUTE_REPORT.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), compute_report_csv(hw, layers));
  fs::remove_all(dir);
}

TEST(Reports, ColumnsMeanWhatScaleSimMeansForASimulatedGemm) {
  // A real run; every value re-derived from the GEMM, the array and the folds.
  HwSpec hw;
  hw.array_rows = 16;
  hw.array_cols = 8;
  hw.dataflow = Dataflow::WS;
  hw.unlimited_bandwidth = true;
  const GemmShape g{40, 20, 50};
  const GemmRunResult r = run_gemm(ValidHw(hw), g);
  ASSERT_EQ(r.tiles, r.folds);  // no fold's stream is cut
  const auto c = fields(lines(compute_report_csv(hw, {r}))[1]);
  const double pes = 16.0 * 8.0;
  EXPECT_EQ(std::stoll(c[1]), r.total_cycles);
  EXPECT_EQ(std::stoll(c[2]), r.stall_cycles);
  EXPECT_NEAR(std::stod(c[3]), 100.0 * double(g.macs()) / (pes * double(r.total_cycles)), 1e-9);
  // SCALE-Sim's mapping efficiency: the mean over folds of the PEs a fold uses. WS folds: K in
  // chunks of 16 (16, 16, 16, 2) times N in chunks of 8 (8, 8, 4), all with T = M.
  const double used = (16 + 16 + 16 + 2) * (8 + 8 + 4);
  EXPECT_NEAR(std::stod(c[4]), 100.0 * used / (12 * pes), 1e-9);
  EXPECT_NEAR(std::stod(c[5]), 100.0 * double(g.macs()) / (pes * double(r.compute_cycles)), 1e-9);
  // The buffers hold the whole GEMM: every operand crosses the channel once.
  const auto d = fields(lines(detailed_access_report_csv(hw, {r}))[1]);
  EXPECT_EQ(std::stoll(d[12]), g.M * g.K);
  EXPECT_EQ(std::stoll(d[15]), g.K * g.N);
  EXPECT_EQ(std::stoll(d[18]), g.M * g.N);
  // WS: each fold streams M x klen inputs and keeps klen x nlen weights.
  EXPECT_EQ(std::stoll(d[3]), g.M * g.K * 3);
  EXPECT_EQ(std::stoll(d[6]), g.K * g.N);
  EXPECT_EQ(std::stoll(d[9]), g.M * g.N * 4);
}

}  // namespace
}  // namespace ssim
