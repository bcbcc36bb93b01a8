// --traces (sim/report/traces.*): SCALE-Sim's six trace files per GEMM op. The tests replay the
// files with a small reader of their own and compare what they find with the run's own counters
// (SYSTOLIC_SIM_REPORT.csv) and with closed forms of the GEMM (docs/memory-system.md, counting
// rules; docs/cycle-accounting.md, fold spans).
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "../test_util.hpp"

namespace ssim {
namespace {

using testutil::Outcome;
using testutil::run_binary;
using testutil::TempDir;
namespace fs = std::filesystem;

// A trace file read back: its rows (cycle, then one entry per column).
struct Trace {
  std::vector<std::vector<int64_t>> rows;
  size_t columns = 0;       // of every row (0 if the rows differ)
  uint64_t entries = 0;     // entries that are not -1
  std::set<int64_t> addrs;  // distinct addresses
  int64_t first = -1, last = -1;
  bool increasing = true;  // cycles strictly increasing
};

std::string read_text(const fs::path& p) {
  if (p.extension() != ".gz") return testutil::slurp(p);
  gzFile g = gzopen(p.c_str(), "rb");
  if (!g) return "";
  std::string s;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(g, buf, sizeof buf)) > 0) s.append(buf, size_t(n));
  gzclose(g);
  return s;
}

Trace read_trace(const fs::path& p) {
  Trace t;
  std::istringstream in(read_text(p));
  std::string line;
  bool first_row = true;
  while (std::getline(in, line)) {
    std::vector<int64_t> row;
    std::stringstream ls(line);
    std::string f;
    while (std::getline(ls, f, ',')) row.push_back(std::stoll(f));
    if (first_row) t.columns = row.size();
    if (row.size() != t.columns) t.columns = 0;
    if (!first_row && row[0] <= t.rows.back()[0]) t.increasing = false;
    for (size_t i = 1; i < row.size(); ++i)
      if (row[i] != -1) ++t.entries, t.addrs.insert(row[i]);
    if (first_row) t.first = row[0];
    t.last = row[0];
    t.rows.push_back(std::move(row));
    first_row = false;
  }
  return t;
}

// The one data row of a plain CSV report, by column name.
std::map<std::string, std::string> report_row(const fs::path& p) {
  std::istringstream in(testutil::slurp(p));
  std::string h, r, f;
  std::getline(in, h);
  std::getline(in, r);
  std::vector<std::string> names;
  std::stringstream hs(h), rs(r);
  while (std::getline(hs, f, ',')) names.push_back(f);
  std::map<std::string, std::string> row;
  for (size_t i = 0; std::getline(rs, f, ','); ++i) row[names.at(i)] = f;
  return row;
}

// The DRAM files against the channel's counters (SYSTOLIC_SIM_REPORT.csv via `num`): ifmap and
// filter words (1 byte each), every operand's first and last cycles.
template <class Num>
void expect_dram_counters(const Trace* t, const Num& num, const std::string& what) {
  EXPECT_EQ(int64_t(t[3].entries), num("dram_ifmap_read_bytes")) << what;
  EXPECT_EQ(int64_t(t[4].entries), num("dram_filter_read_bytes")) << what;
  const char* const ops[3] = {"ifmap", "filter", "ofmap"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t[3 + i].first, num((std::string(ops[i]) + "_dram_first_cycle").c_str())) << what;
    EXPECT_EQ(t[3 + i].last, num((std::string(ops[i]) + "_dram_last_cycle").c_str())) << what;
  }
}

const char* const kFiles[6] = {"IFMAP_SRAM_TRACE", "FILTER_SRAM_TRACE", "OFMAP_SRAM_TRACE",
                               "IFMAP_DRAM_TRACE", "FILTER_DRAM_TRACE", "OFMAP_DRAM_TRACE"};

// SCALE-Sim's test_mnk GEMM (topologies/GEMM_mnk/test_mnk_input.csv: M, N, K = 256, 128, 256) on
// a 32x32 output-stationary array with SCALE-Sim's address offsets.
struct MnkRun {
  TempDir dir{"ssim_traces"};
  Outcome r;
  fs::path out;
  MnkRun(const std::vector<std::string>& extra, const std::string& out_name = "o") {
    testutil::write_file(dir.path / "test_mnk_input.csv",
                         "Layer Name, M, N, K,\nTest 1, 256, 128, 256,\n");
    testutil::write_file(dir.path / "s.cfg",
                         "[architecture_presets]\nArrayHeight: 32\nArrayWidth: 32\n"
                         "IfmapOffset: 0\nFilterOffset: 10000000\nOfmapOffset: 20000000\n"
                         "Dataflow: os\nBandwidth: 10\n");
    out = dir.path / out_name;
    std::vector<std::string> args = {"--config", "s.cfg",      "--workload", "test_mnk_input.csv",
                                     "--out",    out.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    r = run_binary(args, dir.path, 300);
  }
};

TEST(Traces, TestMnkOn32x32OsReplaysToTheRunsCounters) {
  MnkRun run({"--traces"});
  ASSERT_EQ(run.r.code, 0) << run.r.err;
  EXPECT_EQ(run.r.err, "");
  const fs::path layer = run.out / "layer0";
  std::vector<std::string> want;
  for (const char* f : kFiles) want.push_back(std::string(f) + ".csv");
  std::sort(want.begin(), want.end());
  ASSERT_EQ(testutil::entries(layer), want);
  Trace t[6];
  for (int i = 0; i < 6; ++i) t[i] = read_trace(layer / (std::string(kFiles[i]) + ".csv"));
  const auto rep = report_row(run.out / "SYSTOLIC_SIM_REPORT.csv");
  auto num = [&](const char* k) { return std::stoll(rep.at(k)); };
  const int64_t M = 256, N = 128, K = 256, R = 32, C = 32;

  // SCALE-Sim's shape: a column per port (OS: ifmap on the array's rows, filter and ofmap on its
  // columns) after the cycle; DRAM rows at most the channel's 10 words per cycle wide.
  EXPECT_EQ(t[0].columns, size_t(R + 1));
  EXPECT_EQ(t[1].columns, size_t(C + 1));
  EXPECT_EQ(t[2].columns, size_t(C + 1));
  for (int i = 3; i < 6; ++i) {
    EXPECT_GE(t[i].columns, 2u) << kFiles[i];
    EXPECT_LE(t[i].columns, 11u) << kFiles[i];
  }
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(t[i].increasing) << kFiles[i];
  // Rows: 8 x 4 full folds of T = K, one after another (no fold overlap): a fold streams A over
  // T + r - 1 cycles, B over T + c - 1, and drains r rows of outputs.
  const int64_t folds = (M / R) * (N / C);
  EXPECT_EQ(int64_t(t[0].rows.size()), folds * (K + R - 1));
  EXPECT_EQ(int64_t(t[1].rows.size()), folds * (K + C - 1));
  EXPECT_EQ(int64_t(t[2].rows.size()), folds * R);

  // SRAM accesses: the closed forms and the run's counters.
  EXPECT_EQ(int64_t(t[0].entries), M * K * (N / C));
  EXPECT_EQ(int64_t(t[1].entries), K * N * (M / R));
  EXPECT_EQ(int64_t(t[2].entries), M * N);
  EXPECT_EQ(int64_t(t[0].entries), num("sram_ifmap_reads"));
  EXPECT_EQ(int64_t(t[1].entries), num("sram_filter_reads"));
  EXPECT_EQ(int64_t(t[2].entries), num("sram_ofmap_writes"));
  // The array's first and last cycles: the first operand read, the last output written.
  EXPECT_EQ(t[0].first, num("array_first_cycle"));
  EXPECT_EQ(t[2].last, num("array_last_cycle"));
  // Address spaces (SCALE-Sim's): A row-major from IfmapOffset, B column by column (n K + k)
  // from FilterOffset, C row-major from OfmapOffset; every element appears.
  EXPECT_EQ(t[0].addrs.size(), size_t(M * K));
  EXPECT_EQ(*t[0].addrs.begin(), 0);
  EXPECT_EQ(*t[0].addrs.rbegin(), M * K - 1);
  EXPECT_EQ(t[1].addrs.size(), size_t(K * N));
  EXPECT_EQ(*t[1].addrs.begin(), 10000000);
  EXPECT_EQ(*t[1].addrs.rbegin(), 10000000 + K * N - 1);
  EXPECT_EQ(t[2].addrs.size(), size_t(M * N));
  EXPECT_EQ(*t[2].addrs.begin(), 20000000);
  EXPECT_EQ(*t[2].addrs.rbegin(), 20000000 + M * N - 1);
  // The first fold's first cycle: PE row i reads A[i, t] in cycle s + t + i (the skew).
  const std::vector<int64_t>& r0 = t[0].rows[0];
  EXPECT_EQ(r0[1], 0);
  for (size_t i = 2; i < r0.size(); ++i) EXPECT_EQ(r0[i], -1);
  const std::vector<int64_t>& r1 = t[0].rows[1];
  EXPECT_EQ(r1[1], 1);  // A[0, 1]
  EXPECT_EQ(r1[2], K);  // A[1, 0]
  EXPECT_EQ(r1[0], r0[0] + 1);

  // DRAM: words (1 byte each) per operand, first and last cycles = the channel's counters; each
  // element of A, B and C moves at least once.
  expect_dram_counters(t, num, "test_mnk");
  EXPECT_EQ(int64_t(t[5].entries), num("dram_ofmap_write_bytes"));
  EXPECT_EQ(t[3].addrs.size(), size_t(M * K));
  EXPECT_EQ(t[4].addrs.size(), size_t(K * N));
  EXPECT_EQ(t[5].addrs.size(), size_t(M * N));
  EXPECT_EQ(int64_t(t[5].entries), M * N);  // outputs written once, at 1 byte
  // The channel moves 10 bytes a cycle: in its busy cycles, together, at most 10 words, and one
  // more where a request that starts in the middle of a cycle lists its first word there.
  std::map<int64_t, int64_t> per_cycle;
  for (int i = 3; i < 6; ++i)
    for (const auto& row : t[i].rows)
      for (size_t c = 1; c < row.size(); ++c) per_cycle[row[0]] += row[c] != -1;
  for (const auto& [cyc, n] : per_cycle) ASSERT_LE(n, 11) << "cycle " << cyc;
  // The totals the channel reports: bytes read and written over its busy cycles.
  EXPECT_EQ(int64_t(t[3].entries + t[4].entries), num("dram_read_bytes"));
}

// gzip gives the same text; --trace-cycles keeps exactly the rows of that window.
TEST(Traces, GzAndCycleWindowGiveTheSameRows) {
  MnkRun plain({"--traces", "on"});
  MnkRun gz({"--traces", "gz"});
  ASSERT_EQ(plain.r.code, 0) << plain.r.err;
  ASSERT_EQ(gz.r.code, 0) << gz.r.err;
  // A window in the middle of the array's activity.
  const Trace ifmap = read_trace(plain.out / "layer0" / "IFMAP_SRAM_TRACE.csv");
  const int64_t lo = ifmap.first + (ifmap.last - ifmap.first) / 3;
  const int64_t hi = ifmap.first + 2 * (ifmap.last - ifmap.first) / 3;
  MnkRun win({"--traces", "on", "--trace-cycles", std::to_string(lo) + ":" + std::to_string(hi)});
  ASSERT_EQ(win.r.code, 0) << win.r.err;
  for (const char* f : kFiles) {
    const fs::path p = plain.out / "layer0" / (std::string(f) + ".csv");
    EXPECT_EQ(read_text(gz.out / "layer0" / (std::string(f) + ".csv.gz")), testutil::slurp(p)) << f;
    const Trace all = read_trace(p),
                part = read_trace(win.out / "layer0" / (std::string(f) + ".csv"));
    std::vector<std::vector<int64_t>> want;
    for (const auto& row : all.rows)
      if (row[0] >= lo && row[0] <= hi) want.push_back(row);
    if (std::string(f).find("SRAM") != std::string::npos) {
      ASSERT_FALSE(want.empty()) << f;
    }
    if (std::string(f).find("DRAM") == std::string::npos) {
      EXPECT_EQ(part.rows, want) << f;
    } else {  // the same words, padded to the window's widest row
      ASSERT_EQ(part.rows.size(), want.size()) << f;
      for (size_t i = 0; i < want.size(); ++i) {
        std::vector<int64_t> a = part.rows[i], b = want[i];
        while (!a.empty() && a.back() == -1) a.pop_back();
        while (!b.empty() && b.back() == -1) b.pop_back();
        EXPECT_EQ(a, b) << f << " row " << i;
      }
    }
  }
}

// Weight stationary with fold overlap, small buffers (streams cut into segments, partial sums
// spilled) on a channel of 3 bytes per cycle: the DRAM traces still replay to the channel's
// counters, and the SRAM traces' ifmap reads and ofmap writes to the buffers'.
TEST(Traces, WsWithSpillsReplaysTheChannel) {
  TempDir dir("ssim_traces_ws");
  const fs::path out = dir.path / "o";
  const Outcome r = run_binary(
      {"--gemm",          "70,45,90", "--array",         "8x8", "--dataflow",       "ws",
       "--fold-overlap",  "on",       "--ifmap-sram-kb", "1",   "--filter-sram-kb", "1",
       "--ofmap-sram-kb", "1",        "--bandwidth",     "3",   "--traces",         "--out",
       out.string(),      "--quiet"},
      dir.path, 300);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rep = report_row(out / "SYSTOLIC_SIM_REPORT.csv");
  auto num = [&](const char* k) { return std::stoll(rep.at(k)); };
  Trace t[6];
  for (int i = 0; i < 6; ++i) t[i] = read_trace(out / "layer0" / (std::string(kFiles[i]) + ".csv"));
  EXPECT_EQ(int64_t(t[0].entries), num("sram_ifmap_reads"));
  EXPECT_EQ(int64_t(t[2].entries), num("sram_ofmap_writes"));
  EXPECT_EQ(int64_t(t[0].entries), 70 * 90 * 6);  // M K ceil(N / 8)
  // The array's first cycle is the first fold's preload (filter reads), then A streams.
  EXPECT_EQ(t[1].first, num("array_first_cycle"));
  EXPECT_GT(t[0].first, t[1].first);
  EXPECT_EQ(t[2].last, num("array_last_cycle"));
  // Words: ifmap and filter at 1 byte; the ofmap file holds int32 partial sums (spilled and read
  // back) and the final outputs at 1 byte.
  expect_dram_counters(t, num, "ws");
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(t[i].increasing) << kFiles[i];
  EXPECT_EQ(t[3].addrs.size(), size_t(70 * 90));
  EXPECT_EQ(t[4].addrs.size(), size_t(90 * 45));
}

// Bad values: one line, exit code 2, nothing written (no output folder, no trace folder).
TEST(Traces, BadFlagValuesAreOneLineExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--traces", "off"}, "error: --traces 'off': expected on or gz\n"},
      {{"--traces", "--trace-cycles", "5:3"},
       "error: --trace-cycles '5:3': expected A:B, integers with 0 <= A <= B (job cycles of each "
       "op, inclusive)\n"},
      {{"--traces", "--trace-limit", "0"},
       "error: --trace-limit '0': expected a size in bytes from 1 to 2^50, optionally with K, M "
       "or G (KiB, MiB, GiB), e.g. 500M\n"},
      {{"--traces", "--trace-layers", "a,,b"},
       "error: --trace-layers 'a,,b': expected op or layer names separated by commas (e.g. "
       "conv1,fc)\n"},
      {{"--traces", "--trace-layers", "nosuch"},
       "error: --trace-layers 'nosuch': no GEMM op or layer of that name in the workload (GEMM "
       "ops: Test 1; layers.csv lists them all)\n"},
      {{"--trace-layers", "Test 1"},
       "error: --trace-layers / --trace-cycles / --trace-limit: need --traces on or --traces "
       "gz\n"},
  };
  for (const Case& c : cases) {
    MnkRun run(c.args);
    EXPECT_EQ(run.r.code, 2) << testutil::describe(c.args);
    EXPECT_EQ(run.r.err, c.message) << testutil::describe(c.args);
    EXPECT_EQ(testutil::entries(run.dir.path),
              (std::vector<std::string>{"s.cfg", "test_mnk_input.csv"}))
        << testutil::describe(c.args);
  }
  // Too large for the limit: the estimate and the flags that narrow it.
  MnkRun big({"--traces", "--trace-limit", "100K"});
  EXPECT_EQ(big.r.code, 2);
  EXPECT_EQ(big.r.err.rfind("error: --traces: the trace files would take about ", 0), 0u)
      << big.r.err;
  EXPECT_NE(big.r.err.find("more than --trace-limit 102400 bytes; narrow them with "
                           "--trace-layers LIST or --trace-cycles A:B, or raise --trace-limit\n"),
            std::string::npos)
      << big.r.err;
  EXPECT_EQ(std::count(big.r.err.begin(), big.r.err.end(), '\n'), 1);
  EXPECT_EQ(testutil::entries(big.dir.path),
            (std::vector<std::string>{"s.cfg", "test_mnk_input.csv"}));
}

// A network: only the listed layer is traced, into the folder of its row in layers.csv; a conv
// reads its raw input rows from DRAM (im2col on chip), so its DRAM ifmap words are the channel's
// bytes, every address inside the input tensor.
TEST(Traces, NetworkLayerSelectionAndConvInputRows) {
  TempDir dir("ssim_traces_net");
  testutil::write_file(dir.path / "n.yaml",
                       "name: two\nbatch: 1\nlayers:\n"
                       "  - {name: c1, type: conv2d, input: [12, 12, 8], filters: 16, kernel: 3, "
                       "padding: 1}\n"
                       "  - {name: c2, type: conv2d, input: [12, 12, 16], filters: 8, kernel: 3, "
                       "padding: 1}\n");
  const fs::path out = dir.path / "o";
  const Outcome r =
      run_binary({"--workload", "n.yaml", "--array", "8x8", "--traces", "--trace-layers", "c2",
                  "--residency", "off", "--op-overlap", "on", "--out", out.string(), "--quiet"},
                 dir.path, 300);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "layer0"));
  ASSERT_TRUE(fs::exists(out / "layer1" / "IFMAP_DRAM_TRACE.csv"));
  const Trace in = read_trace(out / "layer1" / "IFMAP_DRAM_TRACE.csv");
  const Trace sram = read_trace(out / "layer1" / "IFMAP_SRAM_TRACE.csv");
  // layers.csv row 1 is c2: its DRAM input bytes.
  std::istringstream csv(testutil::slurp(out / "layers.csv"));
  std::string header, line, f;
  std::getline(csv, header);
  std::getline(csv, line);
  std::getline(csv, line);
  std::vector<std::string> names, vals;
  std::stringstream hs(header), vs(line);
  while (std::getline(hs, f, ',')) names.push_back(f);
  while (std::getline(vs, f, ',')) vals.push_back(f);
  std::map<std::string, std::string> row;
  for (size_t i = 0; i < names.size() && i < vals.size(); ++i) row[names[i]] = vals[i];
  ASSERT_EQ(row.at("name"), "c2");
  EXPECT_EQ(int64_t(in.entries), std::stoll(row.at("dram_input_bytes")));
  // Addresses of the 12 x 12 x 16 input; each pixel read, padding never from DRAM.
  EXPECT_EQ(in.addrs.size(), size_t(12 * 12 * 16));
  EXPECT_EQ(*in.addrs.rbegin(), 12 * 12 * 16 - 1);
  EXPECT_EQ(*sram.addrs.rbegin(), 12 * 12 * 16 - 1);
  // The SRAM trace marks padding taps -1: the reads it lists are the non-padding taps of the
  // 144 x 144 im2col matrix, (12 x 12 x 9 - 4 x 12 x 3 + 4) x 16, once per column fold (N = 8).
  EXPECT_EQ(int64_t(sram.entries), (12 * 12 * 9 - 4 * 12 * 3 + 4) * 16);
  // Its weights, 3 x 3 x 16 x 8, all from DRAM, the first blocks loaded while c1 ran
  // (--op-overlap): at cycles before c2's cycle 0.
  const Trace w = read_trace(out / "layer1" / "FILTER_DRAM_TRACE.csv");
  EXPECT_EQ(int64_t(w.entries), std::stoll(row.at("dram_weight_bytes")));
  EXPECT_EQ(w.addrs.size(), size_t(3 * 3 * 16 * 8));
  ASSERT_GT(std::stoll(row.at("prefetched_weight_bytes")), 0);
  EXPECT_LT(w.first, 0);

  // Traced again into the same folder, c1 only: c2's folder of the first run goes (a folder with
  // other files stays).
  fs::create_directories(out / "layer7");
  testutil::write_file(out / "layer7" / "notes.txt", "mine\n");
  const Outcome again = run_binary({"--workload", "n.yaml", "--array", "8x8", "--traces",
                                    "--trace-layers", "c1", "--out", out.string()},
                                   dir.path, 300);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("traces: 1 GEMM op in " + out.string() + "/layer<N>/"),
            std::string::npos)
      << again.out;
  EXPECT_TRUE(fs::exists(out / "layer0" / "IFMAP_SRAM_TRACE.csv"));
  EXPECT_FALSE(fs::exists(out / "layer1"));
  EXPECT_TRUE(fs::exists(out / "layer7" / "notes.txt"));
  // Nothing is left beside the output folder.
  EXPECT_EQ(testutil::entries(dir.path), (std::vector<std::string>{"n.yaml", "o"}));
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// A --gemm M,N,K run with --traces (args, writing to dir/o): every trace file's entries and
// cycles replay to the run's counters. SRAM: the streamed operands' reads and the outputs' writes
// equal the buffers' counters; the stationary operand (WS filter, IS ifmap; a tile preloaded once
// per fold) is read r x c per fold, where the counters charge it again for every segment of a
// fold's stream after the first (and OS outputs drain once per fold).
void expect_replays(const std::vector<std::string>& args, const fs::path& dir, int M, int N, int K,
                    const std::string& df) {
  const std::string what = testutil::describe(args);
  const Outcome r = run_binary(args, dir, 300);
  ASSERT_EQ(r.code, 0) << what << "\n" << r.err;
  const fs::path out = dir / "o";
  const auto rep = report_row(out / "SYSTOLIC_SIM_REPORT.csv");
  const auto lay = report_row(out / "layers.csv");
  auto num = [&](const char* k) { return std::stoll(rep.at(k)); };
  Trace t[6];
  for (int i = 0; i < 6; ++i) t[i] = read_trace(out / "layer0" / (std::string(kFiles[i]) + ".csv"));
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(t[i].increasing) << what << " " << kFiles[i];
  const int64_t stationary = df == "ws" ? 1 : df == "is" ? 0 : -1;
  for (int x = 0; x < 2; ++x) {
    if (x == stationary) {
      // Each weight (WS) or input (IS) at least once, and once per fold: the counter's figure
      // when no fold's stream is cut into segments (a program step per fold), less otherwise.
      const int64_t counted = num(x == 0 ? "sram_ifmap_reads" : "sram_filter_reads");
      EXPECT_GE(int64_t(t[x].entries), df == "ws" ? int64_t(K) * N : int64_t(K) * M) << what;
      if (num("tiles") == num("folds")) {
        EXPECT_EQ(int64_t(t[x].entries), counted) << what;
      } else {
        EXPECT_LT(int64_t(t[x].entries), counted) << what;
      }
    } else {
      EXPECT_EQ(int64_t(t[x].entries), num(x == 0 ? "sram_ifmap_reads" : "sram_filter_reads"))
          << what;
    }
  }
  if (df != "os" || num("tiles") == num("folds")) {
    EXPECT_EQ(int64_t(t[2].entries), num("sram_ofmap_writes")) << what;
  } else {  // OS: a fold's outputs drain once, after its last segment
    EXPECT_EQ(int64_t(t[2].entries), int64_t(M) * N) << what;
  }
  EXPECT_EQ(std::min(t[0].first, t[1].first), num("array_first_cycle")) << what;
  EXPECT_EQ(t[2].last, num("array_last_cycle")) << what;
  // DRAM: 1-byte ifmap and filter words; the ofmap file's words are the final outputs (1 byte),
  // the spilled partial sums written and read back (4 bytes each).
  expect_dram_counters(t, num, what);
  EXPECT_EQ(int64_t(t[5].entries),
            std::stoll(lay.at("dram_output_bytes")) + std::stoll(lay.at("dram_spill_bytes")) / 4)
      << what;
  EXPECT_EQ(t[3].addrs.size(), size_t(M * K)) << what;
  EXPECT_EQ(t[4].addrs.size(), size_t(K * N)) << what;
}

// Random GEMMs on small arrays, every dataflow, with and without fold overlap, buffers of 1 to 3
// KiB (streams cut into segments, partial sums spilled), channels of 0.5 to 20 bytes per cycle or
// stall-free: the traces replay to the run's counters (expect_replays()).
TEST(Traces, RandomGemmsReplayToTheCounters) {
  std::mt19937 rng(14);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int n = 0; n < 40; ++n) {
    TempDir dir("ssim_traces_rand");
    const int M = pick(1, 50), N = pick(1, 50), K = pick(1, 50), R = pick(2, 8), C = pick(2, 8);
    const std::string df = std::vector<std::string>{"os", "ws", "is"}[size_t(pick(0, 2))];
    std::vector<std::string> args = {
        "--gemm",
        std::to_string(M) + "," + std::to_string(N) + "," + std::to_string(K),
        "--array",
        std::to_string(R) + "x" + std::to_string(C),
        "--dataflow",
        df,
        "--fold-overlap",
        pick(0, 1) ? "on" : "off",
        "--ifmap-sram-kb",
        std::to_string(pick(1, 3)),
        "--filter-sram-kb",
        std::to_string(pick(1, 3)),
        "--ofmap-sram-kb",
        std::to_string(pick(1, 3)),
        "--traces",
        "--out",
        (dir.path / "o").string(),
        "--quiet"};
    if (pick(0, 3) == 0) {
      args.insert(args.end(), {"--unlimited-bandwidth", "on"});
    } else {
      args.insert(args.end(), {"--dram-bandwidth", std::to_string(pick(1, 40) / 2.0)});
    }
    expect_replays(args, dir.path, M, N, K, df);
  }
}

// A GEMM of more than 65,536 steps is planned lazily (docs/memory-system.md, "Planning lazily"):
// its trace is built from the steps as they are made, and replays to the counters the same way.
TEST(Traces, ALazilyPlannedGemmReplaysToTheCounters) {
  TempDir dir("ssim_traces_lazy");
  const std::vector<std::string> args = {
      "--gemm", "300,700,64", "--array", "2x2", "--traces", "--out", (dir.path / "o").string(),
      "--quiet"};
  expect_replays(args, dir.path, 300, 700, 64, "ws");
  EXPECT_GT(std::stoll(report_row(dir.path / "o" / "SYSTOLIC_SIM_REPORT.csv").at("tiles")), 65536);
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// The cycle-by-cycle array (values carried and checked) and the fast one give the same files, byte
// for byte: random GEMMs, and a network with grouped convs and attention heads (repeated GEMMs,
// whose copies the cycle model shifts in its matrices).
TEST(Traces, CycleAndFastFidelityWriteTheSameFiles) {
  testutil::TempDir dir("ssim_traces_fid");
  testutil::write_file(dir.path / "small.yaml",
                       "name: small\nbatch: 2\nlayers:\n"
                       "  - {name: c1, type: conv2d, input: [10, 10, 8], filters: 8, kernel: 3, "
                       "padding: 1, groups: 2, activation: relu}\n"
                       "  - {name: attn, type: attention, seq: 16, d_model: 32, heads: 2, causal: "
                       "true}\n");
  std::mt19937 rng(16);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int n = 0; n < 12; ++n) {
    std::vector<std::string> args;
    if (n < 2) {
      args = {"--workload", "small.yaml", "--array", n ? "4x4" : "8x8"};
    } else {
      args = {"--gemm",
              std::to_string(pick(1, 40)) + "," + std::to_string(pick(1, 40)) + "," +
                  std::to_string(pick(1, 40)),
              "--array", std::to_string(pick(2, 6)) + "x" + std::to_string(pick(2, 6))};
    }
    const std::vector<std::string> more = {
        "--dataflow",       std::vector<std::string>{"os", "ws", "is"}[size_t(pick(0, 2))],
        "--fold-overlap",   pick(0, 1) ? "on" : "off",
        "--ifmap-sram-kb",  std::to_string(pick(1, 3)),
        "--filter-sram-kb", std::to_string(pick(1, 3)),
        "--ofmap-sram-kb",  std::to_string(pick(1, 3)),
        "--dram-bandwidth", std::to_string(pick(1, 20)),
        "--traces",         "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    const std::string what = testutil::describe(args);
    std::vector<std::string> fast = args, cycle = args;
    fast.insert(fast.end(), {"--out", "f"});
    cycle.insert(cycle.end(), {"--fidelity", "cycle", "--out", "c"});
    fs::remove_all(dir.path / "f");
    fs::remove_all(dir.path / "c");
    const Outcome rf = run_binary(fast, dir.path, 300), rc = run_binary(cycle, dir.path, 300);
    ASSERT_EQ(rf.code, 0) << what << rf.err;
    ASSERT_EQ(rc.code, 0) << what << rc.err;
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path / "f")) {
      const std::string rel = fs::relative(e.path(), dir.path / "f").string();
      if (rel.find("_TRACE.csv") == std::string::npos) continue;
      ++files;
      EXPECT_EQ(testutil::slurp(e.path()), testutil::slurp(dir.path / "c" / rel)) << what << rel;
    }
    EXPECT_GE(files, 6u) << what;
    EXPECT_EQ(testutil::entries(dir.path / "f"), testutil::entries(dir.path / "c")) << what;
  }
}

}  // namespace
}  // namespace ssim
