// Tests of `systolic-sim sweep` (sim/sweep/sweep.*): parsing and point order, bad specs (exit 2,
// one line, nothing written), rows equal to single runs of the same points, kill/SIGTERM and resume
// giving the same bytes as an uninterrupted run, determinism across -j, refusing a folder that
// holds another sweep, failed points, damaged files.
//
// Sweeps run in worker processes forked by run_sweep_cli(), so a test that calls it in-process
// has simulated nothing itself and may still call run_network() afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "sim/report/report_table.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/test_util.hpp"
#include "workloads/lower.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

using testutil::slurp;
using testutil::TempDir;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A plain CSV reader for the tests: fields split at commas outside double quotes.
struct Table {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      f.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  f.push_back(cur);
  return f;
}

Table read_table(const fs::path& p) {
  Table t;
  const std::vector<std::string> lines = lines_of(slurp(p));
  if (lines.empty()) return t;
  t.header = split_commas(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = split_commas(lines[i]);
    EXPECT_EQ(f.size(), t.header.size()) << p << " line " << i + 1 << ": " << lines[i];
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < f.size() && c < t.header.size(); ++c) row[t.header[c]] = f[c];
    t.rows.push_back(row);
  }
  return t;
}

size_t data_lines(const fs::path& csv) {
  const std::string s = slurp(csv);
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n > 0 ? n - 1 : 0;
}

struct Outcome {
  int code = -1;
  std::string out, err;
};

Outcome sweep_in_process(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Outcome r;
  r.code = run_sweep_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Starts the binary `systolic-sim sweep ARGS` with stdout/stderr into files; returns its pid.
pid_t start_sweep(const std::vector<std::string>& args, const fs::path& capture,
                  const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv_s = {SSIM_BINARY, "sweep"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const std::string out_path = (capture / "stdout").string();
  const std::string err_path = (capture / "stderr").string();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Outcome run_sweep_binary(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}) {
  TempDir capture;
  Outcome r;
  r.code = wait_exit(start_sweep(args, capture.path, env));
  r.out = slurp(capture.path / "stdout");
  r.err = slurp(capture.path / "stderr");
  return r;
}

// Processes (other than zombies) whose command line mentions `needle`.
std::vector<int> processes_mentioning(const std::string& needle) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp(e.path() / "cmdline");
    for (char& c : cmd) c = c == '\0' ? ' ' : c;
    const std::string stat = slurp(e.path() / "stat");
    const auto paren = stat.rfind(')');
    const bool zombie =
        paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
    if (!zombie && cmd.find(needle) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

// ---------------------------------------------------------------------------------------------
// Parsing and point order

TEST(SweepSpec, EnumeratesTheProductInDocumentedOrder) {
  const std::vector<std::string> arrays = {"8x8", "16x16", "4x32"};
  const std::vector<std::string> dfs = {"ws", "os"};
  const std::vector<std::string> sram = {"64", "128"};
  const SweepSpec spec =
      parse_sweep_args({"--gemm", "64,32,16", "--arrays", "8x8,16x16,4X32", "--dataflows", "WS,os",
                        "--sram-kb", "64,128", "--clock-ghz", "2", "--out", "unused", "-j", "3"});
  EXPECT_EQ(spec.jobs, 3);
  ASSERT_EQ(spec.workloads.size(), 1u);
  EXPECT_EQ(spec.workloads[0].name, "gemm-64x32x16");
  const std::vector<SweepPoint> points = enumerate_points(spec);
  ASSERT_EQ(points.size(), sram.size() * dfs.size() * arrays.size());
  // The documented order: SRAM slowest, then dataflow, array shapes fastest.
  size_t i = 0;
  for (const std::string& s : sram) {
    for (const std::string& df : dfs) {
      for (const std::string& a : arrays) {
        const SweepPoint& p = points[i];
        EXPECT_EQ(p.index, int(i));
        const int rows = std::stoi(a.substr(0, a.find('x')));
        const int cols = std::stoi(a.substr(a.find('x') + 1));
        EXPECT_EQ(p.hw->array_rows, rows) << i;
        EXPECT_EQ(p.hw->array_cols, cols) << i;
        EXPECT_EQ(to_string(p.hw->dataflow), df) << i;
        EXPECT_EQ(p.hw->ifmap_sram_kb, std::stoll(s)) << i;
        EXPECT_EQ(p.hw->filter_sram_kb, std::stoll(s)) << i;
        EXPECT_EQ(p.hw->ofmap_sram_kb, std::stoll(s)) << i;
        EXPECT_EQ(p.hw->clock_ghz, 2.0) << i;  // a single value applies to every point
        EXPECT_EQ(p.label, "gemm-64x32x16 " + a + " " + df + " sram-kb=" + s) << i;
        ++i;
      }
    }
  }
  // Keys identify points.
  std::set<std::string> keys;
  for (const SweepPoint& p : points) keys.insert(point_key(spec, p));
  EXPECT_EQ(keys.size(), points.size());
}

TEST(SweepSpec, TheConfigsTopologyRunsWhenNoWorkloadIsGiven) {
  // SCALE-Sim's [network_presets] TopologyCsvLoc, as the single-run CLI takes it; with
  // --scalesim-rounding its conv rounds up (ceil((8 - 3 + 2) / 2) = 4 outputs per side, not 3).
  TempDir t;
  testutil::write_file(
      t.path / "topo.csv",
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
      "Filter, Strides,\nc1, 8, 8, 3, 3, 4, 8, 2,\n");
  const std::string cfg = (t.path / "s.cfg").string();
  testutil::write_file(cfg, "[network_presets]\nTopologyCsvLoc: topo.csv\n");
  for (bool rounding : {false, true}) {
    std::vector<std::string> args = {"--config", cfg, "--dataflows", "os,ws", "--out", "x"};
    if (rounding) args.push_back("--scalesim-rounding");
    const SweepSpec spec = parse_sweep_args(args);
    ASSERT_EQ(spec.workloads.size(), 1u);
    const int64_t side = rounding ? 4 : 3;
    EXPECT_EQ(total_macs(spec.workloads[0].ops), uint64_t(side * side * 3 * 3 * 4 * 8));
    EXPECT_EQ(spec.notes.size(), 1u);  // the rounding note
  }
}

TEST(SweepSpec, WorkloadsVarySlowestAndJobsDefaultToTheCpus) {
  const SweepSpec spec =
      parse_sweep_args({"--workload", "mlp,vector-add", "--dataflows", "os,is", "--out", "x"});
  const std::vector<SweepPoint> points = enumerate_points(spec);
  ASSERT_EQ(points.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expect = {
      {"mlp", "os"}, {"mlp", "is"}, {"vector-add", "os"}, {"vector-add", "is"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(spec.workloads[size_t(points[i].workload)].name, expect[i].first);
    EXPECT_EQ(to_string(points[i].hw->dataflow), expect[i].second);
    EXPECT_EQ(points[i].hw->array_rows, HwSpec{}.array_rows);  // not swept: the default
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(spec.jobs, CPU_COUNT(&set));
}

// Every hardware flag of the single-run CLI is accepted by the sweep with the same spelling,
// as a list (a repeated value is reported as such), except --array/--dataflow (spelled --arrays,
// --dataflows) and --run-name (a name, not a parameter).
TEST(SweepSpec, EveryHardwareFlagTakesAList) {
  for (const HwFlagInfo& f : hw_flags()) {
    if (f.name == "run-name") {
      EXPECT_EQ(
          parse_sweep_args({"--gemm", "8,8,8", "--out", "x", "--run-name", "a,b"}).base->run_name,
          "a,b");
      continue;
    }
    const std::string v = f.default_value;
    std::vector<std::string> args = {"--gemm", "8,8,8", "--out", "x", "--" + f.name, v + "," + v};
    try {
      parse_sweep_args(args);
      ADD_FAILURE() << "--" << f.name << " '" << v << "," << v << "' was accepted";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      if (f.name == "array" || f.name == "dataflow") {
        EXPECT_NE(msg.find("use --" + f.name + "s"), std::string::npos) << msg;
      } else {
        EXPECT_NE(msg.find("given twice"), std::string::npos) << "--" << f.name << ": " << msg;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bad specs: exit 2, one line naming the flag and the value, nothing written

struct BadSpec {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> expect;  // substrings of the error line
};

void PrintTo(const BadSpec& c, std::ostream* os) {
  *os << c.name;
}

class SweepBadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(SweepBadSpecTest, ExitsTwoWithOneLineAndWritesNothing) {
  const BadSpec& c = GetParam();
  TempDir tmp;
  const fs::path out = tmp.path / "sweep";
  std::vector<std::string> args = c.args;
  args.push_back("--out");
  args.push_back(out.string());
  const Outcome r = sweep_in_process(args);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  for (const std::string& e : c.expect) {
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << r.err << "' lacks '" << e << "'";
  }
  EXPECT_FALSE(fs::exists(out)) << "the sweep folder was created";
}

const std::string kShape = "rows and columns must be integers from 1 to 65536";

INSTANTIATE_TEST_SUITE_P(
    Sweep, SweepBadSpecTest,
    ::testing::Values(
        BadSpec{
            "EmptyArrayList", {"--gemm", "8,8,8", "--arrays", ""}, {"--arrays ''", "empty list"}},
        BadSpec{"BlankArrayList", {"--gemm", "8,8,8", "--arrays", " "}, {"--arrays ' '", "empty"}},
        BadSpec{"EmptyItem",
                {"--gemm", "8,8,8", "--arrays", "8x8,,16x16"},
                {"--arrays '8x8,,16x16'", "item 2 is empty"}},
        BadSpec{"TrailingComma",
                {"--gemm", "8,8,8", "--dataflows", "os,"},
                {"--dataflows 'os,'", "item 2 is empty"}},
        BadSpec{"MalformedShape",
                {"--gemm", "8,8,8", "--arrays", "8x8,16"},
                {"--arrays '8x8,16': '16': " + kShape}},
        BadSpec{"ZeroRows", {"--gemm", "8,8,8", "--arrays", "0x4"}, {"--arrays '0x4': " + kShape}},
        BadSpec{"NegativeShape",
                {"--gemm", "8,8,8", "--arrays", "8x8,-8x8"},
                {"--arrays '8x8,-8x8': '-8x8'"}},
        BadSpec{"UnknownDataflow",
                {"--gemm", "8,8,8", "--dataflows", "os,xs"},
                {"--dataflows 'os,xs': 'xs': expected os, ws or is"}},
        BadSpec{"DuplicateShape",
                {"--gemm", "8,8,8", "--arrays", "8x8,8X8"},
                {"--arrays '8x8,8X8'", "given twice"}},
        BadSpec{"ZeroSram", {"--gemm", "8,8,8", "--sram-kb", "256,0"}, {"--sram-kb '256,0': '0'"}},
        BadSpec{"NegativeBandwidth",
                {"--gemm", "8,8,8", "--dram-bandwidth", "16,-1"},
                {"--dram-bandwidth '16,-1': '-1'"}},
        BadSpec{"ZeroClock", {"--gemm", "8,8,8", "--clock-ghz", "0,1"}, {"--clock-ghz '0,1': '0'"}},
        BadSpec{"BadOverlap",
                {"--gemm", "8,8,8", "--fold-overlap", "on,maybe"},
                {"--fold-overlap 'on,maybe': 'maybe'"}},
        BadSpec{"SingularArrayFlag", {"--gemm", "8,8,8", "--array", "8x8"}, {"use --arrays"}},
        BadSpec{"SramTwice",
                {"--gemm", "8,8,8", "--sram-kb", "64", "--ofmap-sram-kb", "32"},
                {"--sram-kb", "--ofmap-sram-kb"}},
        BadSpec{
            "UnknownWorkload", {"--workload", "mlp,no-such-net"}, {"--workload", "no-such-net"}},
        BadSpec{"WorkloadAndGemm", {"--workload", "mlp", "--gemm", "8,8,8"}, {"--gemm"}},
        BadSpec{"NothingToRun", {"--arrays", "8x8"}, {"--workload", "--gemm"}},
        BadSpec{"BadGemm", {"--gemm", "8,8"}, {"--gemm '8,8'"}},
        BadSpec{"ZeroJobs", {"--gemm", "8,8,8", "-j", "0"}, {"'0'", "from 1 to"}},
        BadSpec{"UnknownFlag", {"--gemm", "8,8,8", "--arrayz", "8x8"}, {"arrayz"}}));

TEST(SweepSpec, MissingOutIsAnError) {
  const Outcome r = sweep_in_process({"--gemm", "8,8,8", "--arrays", "8x8"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------------------------
// Results

// A small sweep's rows equal single runs (run_network) of the same points, and the derived
// columns follow their formulas.
TEST(SweepRun, RowsEqualSingleRunsOfTheSamePoints) {
  TempDir tmp;
  const fs::path out = tmp.path / "s";
  const std::vector<std::string> arrays = {"8x8", "16x32"};
  const std::vector<std::string> dfs = {"os", "ws"};
  const Outcome r =
      sweep_in_process({"--workload", "mlp", "--arrays", "8x8,16x32", "--dataflows", "os,ws",
                        "--clock-ghz", "2", "-j", "2", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const Table sweep = read_table(out / "sweep.csv");
  const Table layers = read_table(out / "sweep_layers.csv");
  ASSERT_EQ(sweep.rows.size(), 4u);

  const Network net = load_workload("mlp");
  const std::vector<Op> ops = lower(net);
  size_t i = 0, li = 0;
  for (const std::string& df : dfs) {
    for (const std::string& a : arrays) {
      HwSpec hw = default_hardware();  // no --config
      apply_hw_flag(hw, "array", a);
      apply_hw_flag(hw, "dataflow", df);
      apply_hw_flag(hw, "clock-ghz", "2");
      const NetworkRunResult single = run_network(ValidHw(hw), net, 1);
      const auto& row = sweep.rows[i];
      SCOPED_TRACE(a + " " + df);
      EXPECT_EQ(row.at("point"), std::to_string(i));
      EXPECT_EQ(row.at("workload"), "mlp");
      EXPECT_EQ(row.at("array"), a);
      EXPECT_EQ(row.at("dataflow"), df);
      EXPECT_EQ(row.at("status"), "ok");
      const int64_t pes = int64_t(hw.array_rows) * hw.array_cols;
      EXPECT_EQ(std::stoll(row.at("pes")), pes);
      EXPECT_EQ(std::stoll(row.at("cycles")), single.total_cycles);
      EXPECT_EQ(std::stoull(row.at("macs")), single.macs);
      EXPECT_EQ(std::stoull(row.at("macs")), total_macs(ops));  // closed form from the shapes
      EXPECT_EQ(std::stoull(row.at("flops")), single.flops);
      EXPECT_EQ(std::stoull(row.at("dram_read_bytes")), single.dram_read_bytes);
      EXPECT_EQ(std::stoull(row.at("dram_write_bytes")), single.dram_write_bytes);
      EXPECT_EQ(std::stoull(row.at("dram_bytes")),
                single.dram_read_bytes + single.dram_write_bytes);
      EXPECT_EQ(std::stoul(row.at("ops")), single.rows.size());
      int64_t compute = 0, fill = 0, stall = 0, vec = 0;
      for (const OpRow& o : single.rows) {
        compute += o.compute_cycles;
        fill += o.fill_drain_cycles;
        stall += o.mem_stall_cycles;
        vec += o.vector_cycles;
      }
      EXPECT_EQ(std::stoll(row.at("compute_cycles")), compute);
      EXPECT_EQ(std::stoll(row.at("fill_drain_cycles")), fill);
      EXPECT_EQ(std::stoll(row.at("mem_stall_cycles")), stall);
      EXPECT_EQ(std::stoll(row.at("vector_cycles")), vec);
      const double cycles = double(single.total_cycles);
      EXPECT_NEAR(std::stod(row.at("seconds")), cycles / 2e9, 1e-8 * cycles / 2e9);
      const double util = double(single.macs) / (double(pes) * cycles);
      EXPECT_NEAR(std::stod(row.at("utilization")), util, 1e-8 * util);
      EXPECT_NEAR(std::stod(row.at("peak_flops_per_s")), 2.0 * double(pes) * 2e9, 1);
      const double achieved = double(single.flops) / (cycles / 2e9);
      EXPECT_NEAR(std::stod(row.at("achieved_flops_per_s")), achieved, 1e-8 * achieved);
      // The per-op rows of this point, in order.
      for (const OpRow& o : single.rows) {
        ASSERT_LT(li, layers.rows.size());
        const auto& l = layers.rows[li++];
        EXPECT_EQ(l.at("point"), std::to_string(i));
        EXPECT_EQ(l.at("name"), o.name);
        EXPECT_EQ(l.at("index"), std::to_string(o.index));
        EXPECT_EQ(std::stoll(l.at("total_cycles")), o.total_cycles);
        EXPECT_EQ(std::stoull(l.at("macs")), o.macs);
        EXPECT_NEAR(std::stod(l.at("overall_util")), o.overall_util, 1e-8);
      }
      ++i;
    }
  }
  EXPECT_EQ(li, layers.rows.size());
  // Not a terminal: one plain line per finished point.
  size_t progress_lines = 0;
  for (const std::string& l : lines_of(r.err)) progress_lines += l.rfind("sweep [", 0) == 0;
  EXPECT_EQ(progress_lines, 4u) << r.err;
}

// The same comparison against the single-run CLI: its summary.json and layers.csv for each point.
TEST(SweepRun, RowsEqualTheSingleRunCliOutputs) {
  TempDir tmp;
  const fs::path out = tmp.path / "s";
  const Outcome r =
      run_sweep_binary({"--workload", "mlp", "--arrays", "8x8,16x32", "--dataflows", "is",
                        "--fold-overlap", "on", "--quiet", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const Table sweep = read_table(out / "sweep.csv");
  const Table layers = read_table(out / "sweep_layers.csv");
  ASSERT_EQ(sweep.rows.size(), 2u);
  for (const auto& row : sweep.rows) {
    SCOPED_TRACE(row.at("array"));
    const fs::path single = tmp.path / ("single-" + row.at("array"));
    std::string cmd = std::string(SSIM_BINARY) + " --workload mlp --array " + row.at("array") +
                      " --dataflow is --fold-overlap on --quiet --out " + single.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const nlohmann::json summary = nlohmann::json::parse(slurp(single / "summary.json"));
    const nlohmann::json& t = summary.at("totals");
    EXPECT_EQ(std::stoll(row.at("cycles")), t.at("cycles").get<int64_t>());
    EXPECT_EQ(std::stoull(row.at("macs")), t.at("macs").get<uint64_t>());
    EXPECT_EQ(std::stoull(row.at("flops")), t.at("flops").get<uint64_t>());
    EXPECT_EQ(std::stoull(row.at("dram_read_bytes")), t.at("dram_read_bytes").get<uint64_t>());
    EXPECT_EQ(std::stoull(row.at("dram_write_bytes")), t.at("dram_write_bytes").get<uint64_t>());
    const Table single_layers = read_table(single / "layers.csv");
    std::vector<std::string> want, got;
    for (const auto& l : single_layers.rows)
      want.push_back(l.at("name") + "=" + l.at("total_cycles"));
    for (const auto& l : layers.rows) {
      if (l.at("point") == row.at("point"))
        got.push_back(l.at("name") + "=" + l.at("total_cycles"));
    }
    EXPECT_EQ(got, want);
  }
}

const std::vector<std::string> kSmallSweep = {"--workload",          "mlp",         "--arrays",
                                              "4x4,8x8,16x16,32x32", "--dataflows", "os,ws,is"};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

void expect_same_files(const fs::path& a, const fs::path& b) {
  for (const char* f : {"sweep.csv", "sweep_layers.csv", "sweep.json"}) {
    EXPECT_EQ(slurp(a / f), slurp(b / f)) << f << " differs";
  }
}

// Killed with SIGKILL after some rows exist, rerun with the same arguments: the finished rows
// are kept, the rest complete, the workers died with the sweep, and the final files equal an
// uninterrupted run's byte for byte.
TEST(SweepRun, KillAndResumeEqualsUninterruptedRun) {
  TempDir tmp;
  const fs::path whole = tmp.path / "whole", killed = tmp.path / "killed";
  const Outcome ref = run_sweep_binary(with(kSmallSweep, {"-j", "2", "--out", whole.string()}));
  ASSERT_EQ(ref.code, 0) << ref.err;
  ASSERT_EQ(data_lines(whole / "sweep.csv"), 12u);

  // Each worker pauses after a point, so the kill lands mid-sweep.
  TempDir capture;
  const pid_t pid = start_sweep(with(kSmallSweep, {"-j", "2", "--out", killed.string()}),
                                capture.path, {"SSIM_SWEEP_TEST_DELAY_MS=250"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (data_lines(killed / "sweep.csv") < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_EQ(wait_exit(pid), 128 + SIGKILL);
  const std::string partial = slurp(killed / "sweep.csv");
  const size_t done = data_lines(killed / "sweep.csv");
  EXPECT_GE(done, 2u);
  EXPECT_LT(done, 12u) << "the sweep finished before the kill";
  EXPECT_EQ(partial.back(), '\n');
  // The workers died with it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(processes_mentioning(killed.string()).empty()) << "orphaned workers";

  const Outcome resumed =
      run_sweep_binary(with(kSmallSweep, {"-j", "2", "--out", killed.string()}));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find(std::to_string(done) + " already done"), std::string::npos)
      << resumed.err;
  size_t ran = 0;
  for (const std::string& l : lines_of(resumed.err)) ran += l.rfind("sweep [", 0) == 0;
  EXPECT_EQ(ran, 12 - done) << resumed.err;  // finished points were not run again
  const std::string final_csv = slurp(killed / "sweep.csv");
  for (const std::string& l : lines_of(partial)) {
    EXPECT_NE(final_csv.find(l + "\n"), std::string::npos) << "lost row: " << l;
  }
  expect_same_files(whole, killed);
}

TEST(SweepRun, SigtermStopsCleanlyAndResumes) {
  TempDir tmp;
  const fs::path whole = tmp.path / "whole", stopped = tmp.path / "stopped";
  ASSERT_EQ(run_sweep_binary(with(kSmallSweep, {"-j", "1", "--out", whole.string()})).code, 0);
  TempDir capture;
  const pid_t pid = start_sweep(with(kSmallSweep, {"-j", "2", "--out", stopped.string()}),
                                capture.path, {"SSIM_SWEEP_TEST_DELAY_MS=250"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (data_lines(stopped / "sweep.csv") < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait_exit(pid), 128 + SIGTERM);
  const std::string err = slurp(capture.path / "stderr");
  EXPECT_NE(err.find("interrupted by SIGTERM"), std::string::npos) << err;
  EXPECT_TRUE(processes_mentioning(stopped.string()).empty()) << "workers left running";
  EXPECT_LT(data_lines(stopped / "sweep.csv"), 12u);
  const Outcome resumed =
      run_sweep_binary(with(kSmallSweep, {"-j", "2", "--out", stopped.string()}));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  expect_same_files(whole, stopped);
}

// The same arguments give the same files, whatever -j.
TEST(SweepRun, SameArgumentsGiveIdenticalFiles) {
  TempDir tmp;
  const fs::path a = tmp.path / "a", b = tmp.path / "b";
  const Outcome ra =
      sweep_in_process(with(kSmallSweep, {"-j", "1", "--quiet", "--out", a.string()}));
  const Outcome rb =
      sweep_in_process(with(kSmallSweep, {"-j", "2", "--quiet", "--out", b.string()}));
  ASSERT_EQ(ra.code, 0) << ra.err;
  ASSERT_EQ(rb.code, 0) << rb.err;
  EXPECT_EQ(ra.out + ra.err + rb.out + rb.err, "");  // --quiet
  expect_same_files(a, b);
  // The rows are in point order: dataflow, then array.
  const Table t = read_table(a / "sweep.csv");
  ASSERT_EQ(t.rows.size(), 12u);
  const std::vector<std::string> arrays = {"4x4", "8x8", "16x16", "32x32"};
  const std::vector<std::string> dfs = {"os", "ws", "is"};
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(t.rows[i].at("point"), std::to_string(i));
    EXPECT_EQ(t.rows[i].at("dataflow"), dfs[i / 4]);
    EXPECT_EQ(t.rows[i].at("array"), arrays[i % 4]);
  }
}

TEST(SweepRun, RefusesAFolderWithAnotherSweepUnlessForced) {
  TempDir tmp;
  const fs::path out = tmp.path / "s";
  const std::vector<std::string> first = {"--gemm",  "64,64,64", "--arrays",  "8x8,16x16",
                                          "--quiet", "--out",    out.string()};
  ASSERT_EQ(sweep_in_process(first).code, 0);
  const std::string csv = slurp(out / "sweep.csv"), json = slurp(out / "sweep.json");

  const std::vector<std::string> other = {"--gemm",  "64,64,64", "--arrays",  "8x8,32x32",
                                          "--quiet", "--out",    out.string()};
  const Outcome refused = sweep_in_process(other);
  EXPECT_EQ(refused.code, 2);
  EXPECT_EQ(refused.err.find('\n'), refused.err.size() - 1) << refused.err;
  EXPECT_NE(refused.err.find("different arguments"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--arrays"), std::string::npos) << refused.err;
  EXPECT_EQ(slurp(out / "sweep.csv"), csv);  // untouched
  EXPECT_EQ(slurp(out / "sweep.json"), json);

  // Rerunning the same arguments finds everything done and leaves the same files.
  const Outcome again = sweep_in_process(with(first, {}));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(slurp(out / "sweep.csv"), csv);

  const Outcome forced = sweep_in_process(with(other, {"--force"}));
  ASSERT_EQ(forced.code, 0) << forced.err;
  const Table t = read_table(out / "sweep.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1].at("array"), "32x32");
}

// A damaged tail (a cut-off line, garbage) and a point whose per-op rows are incomplete are not
// trusted: that point runs again and the final files equal a clean run's.
TEST(SweepRun, DamagedFilesAreRepairedOnResume) {
  TempDir tmp;
  const fs::path clean = tmp.path / "clean", hurt = tmp.path / "hurt";
  const std::vector<std::string> args = {"--workload", "mlp", "--arrays", "8x8,16x16", "--quiet"};
  ASSERT_EQ(sweep_in_process(with(args, {"--out", clean.string()})).code, 0);
  ASSERT_EQ(sweep_in_process(with(args, {"--out", hurt.string()})).code, 0);
  // Drop point 1's last per-op row, and add a cut-off line and garbage to sweep.csv.
  std::string layers = slurp(hurt / "sweep_layers.csv");
  layers.erase(layers.rfind('\n', layers.size() - 2) + 1);
  std::ofstream(hurt / "sweep_layers.csv", std::ios::binary) << layers;
  std::ofstream(hurt / "sweep.csv", std::ios::binary | std::ios::app)
      << "not,a,row\n1,mlp,16x16,256,16,16,ws,off";
  const Outcome r = sweep_in_process(with(args, {"--out", hurt.string()}));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_files(clean, hurt);
}

// A point that cannot run gets a row with status "error" and its message; the other points
// still run (in a fresh worker), and the exit code is 1.
TEST(SweepRun, AFailedPointIsReportedAndTheOthersRun) {
  TempDir tmp;
  const fs::path out = tmp.path / "s";
  // 1 KiB scratchpads cannot hold a tile for a 256x256 array; 8x8 fits.
  const Outcome r = sweep_in_process({"--gemm", "512,512,512", "--arrays", "256x256,8x8",
                                      "--sram-kb", "1", "-j", "1", "--out", out.string()});
  EXPECT_EQ(r.code, 1) << r.err;
  const Table t = read_table(out / "sweep.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].at("status"), "error");
  EXPECT_FALSE(t.rows[0].at("error").empty());
  EXPECT_EQ(t.rows[0].at("cycles"), "");
  EXPECT_EQ(t.rows[1].at("status"), "ok");
  EXPECT_GT(std::stoll(t.rows[1].at("cycles")), 0);
  EXPECT_NE(r.err.find("1 of 2 points failed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// A SCALE-Sim v3 config in a sweep: the keys it does not model are named once on stderr.
TEST(SweepRun, ConfigNotesReachStderr) {
  TempDir tmp;
  const std::string cfg = (tmp.path / "v3.cfg").string();
  std::ofstream(cfg)
      << "[architecture_presets]\nReadRequestBuffer: 3\n[sparsity]\nSparsitySupport: false\n";
  const Outcome r = sweep_in_process({"--config", cfg, "--workload", "mlp", "--arrays", "8x8,16x16",
                                      "--out", (tmp.path / "s").string(), "--quiet", "-j", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: " + cfg +
                       ": SCALE-Sim v3 settings not modelled, ignored: ReadRequestBuffer, "
                       "[sparsity] SparsitySupport\n"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace ssim
