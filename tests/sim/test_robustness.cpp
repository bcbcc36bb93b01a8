// Robustness of the systolic-sim binary (SSIM_BINARY), as a user scripting around it sees it:
//  - every class of bad input in docs/bad-input.md: exit code 2, exactly one line on stderr
//    starting "error: " and naming the file:line or flag, the value and what is allowed, nothing
//    on stdout, nothing written (no output folder);
//  - output you can trust: a run killed at any moment leaves each report either as it was or
//    complete and new; two runs with the same inputs write byte-identical reports; 64-bit
//    counters on a 2^48-MAC GEMM and a 10,000-layer network, checked against closed forms.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/cli.hpp"
#include "sim/config.hpp"
#include "sim/sweep.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using testutil::describe;
using testutil::entries;
using testutil::Outcome;
using testutil::run_binary;
using testutil::slurp;
using testutil::TempDir;
using testutil::write_file;

// ---------------------------------------------------------------------------------------------
// Bad input, catalogued (docs/bad-input.md has one row per case, with the message)

// How a case prepares the folder the binary runs in (beyond plain files).
enum class Setup {
  None,
  Directory,     // `name` is a folder
  ProcMem,       // `name` is a symlink to /proc/self/mem: opens, but every read fails (EIO)
  NoPermission,  // `name` is a file with mode 000 (skipped as root, who can read it anyway)
  Huge,          // `name` is a text file of `size` bytes
  Fifo,          // `name` is a FIFO with no writer: opening it for reading would block
  DevNull,       // `name` is a symlink to /dev/null, a character device (read, and empty)
  DevUrandom,    // `name` is a symlink to /dev/urandom, a character device of endless binary
  DevZero,       // `name` is a symlink to /dev/zero, endless NUL bytes
  DanglingLink,  // `name` is a symlink to a path that does not exist
  LinkLoop,      // `name` is a symlink to itself
};

struct BadCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> expect;                           // substrings of the stderr line
  std::vector<std::pair<std::string, std::string>> files{};  // written into the folder first
  Setup setup = Setup::None;
  std::string setup_name{};
  size_t size = 0;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

void prepare(const BadCase& c, const fs::path& dir) {
  for (const auto& [name, text] : c.files) write_file(dir / name, text);
  const fs::path p = dir / c.setup_name;
  switch (c.setup) {
    case Setup::None:
      break;
    case Setup::Directory:
      fs::create_directory(p);
      break;
    case Setup::ProcMem:
      fs::create_symlink("/proc/self/mem", p);
      break;
    case Setup::NoPermission:
      write_file(p, "x\n");
      fs::permissions(p, fs::perms::none);
      break;
    case Setup::Fifo:
      ASSERT_EQ(mkfifo(p.c_str(), 0644), 0) << p;
      break;
    case Setup::DevNull:
      fs::create_symlink("/dev/null", p);
      break;
    case Setup::DevUrandom:
      fs::create_symlink("/dev/urandom", p);
      break;
    case Setup::DevZero:
      fs::create_symlink("/dev/zero", p);
      break;
    case Setup::DanglingLink:
      fs::create_symlink("nowhere", p);
      break;
    case Setup::LinkLoop:
      fs::create_symlink(c.setup_name, p);
      break;
    case Setup::Huge: {
      std::ofstream f(p, std::ios::binary);
      const std::string line(1023, '#');
      for (size_t done = 0; done < c.size; done += 1024) f << line << '\n';
      break;
    }
  }
}

class RobustBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RobustBadInputTest, OneLineExitTwoNothingWritten) {
  const BadCase& c = GetParam();
  if (c.setup == Setup::NoPermission && geteuid() == 0)
    GTEST_SKIP() << "root reads files whatever their mode; ProcMem cases cover unreadable files";
  TempDir cwd("ssim_robust");
  prepare(c, cwd.path);
  const std::vector<std::string> before = entries(cwd.path);
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome r = run_binary(c.args, cwd.path, 60);  // a hang fails, it does not block
  EXPECT_EQ(r.signal, 0) << "killed after 60 s (a hang?): " << describe(c.args);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (std::getenv("SSIM_TEST_VERBOSE")) std::cout << "[message] " << c.name << " | " << r.err;
  EXPECT_EQ(r.code, 2) << describe(c.args) << "\nstderr: " << r.err;
  EXPECT_EQ(r.out, "") << describe(c.args);
  ASSERT_FALSE(r.err.empty()) << describe(c.args);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not exactly one line: " << r.err;
  for (unsigned char ch : r.err.substr(0, r.err.size() - 1))
    EXPECT_TRUE(ch >= 0x20 && ch != 0x7f) << "control character in: " << r.err;
  for (const std::string& e : c.expect)
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << r.err << "' lacks '" << e << "'";
  // Nothing written: the folder holds what the test put there, no results/ or res/.
  EXPECT_EQ(entries(cwd.path), before) << describe(c.args);
  // Refused up front, not after a run.
  EXPECT_LT(s, 5.0) << describe(c.args);
}

const std::string kGemm = "expected M,N,K, three integers from 1 to 1048576";
const std::string kArray = "rows and columns must be integers from 1 to 65536";
const std::string kCsvHead = "Layer, M, N, K,\n";
const std::string kConvHead =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n";
const std::string kYamlHead = "name: n\nlayers:\n";
const std::string kBinary(
    "\x7f"
    "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
    16);
const std::vector<std::string> kRun = {"--gemm", "64,64,64", "--out", "res"};

std::vector<std::string> run_with(std::vector<std::string> extra) {
  std::vector<std::string> a = kRun;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}
std::vector<std::string> workload(const std::string& w, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"--workload", w, "--out", "res"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}
std::vector<std::string> config(const std::string& c) {
  return run_with({"--config", c});
}

// --- missing, unreadable, empty or binary files ----------------------------------------------
INSTANTIATE_TEST_SUITE_P(
    RobustFiles, RobustBadInputTest,
    ::testing::Values(
        BadCase{"ConfigMissing",
                config("nosuch.cfg"),
                {"error: nosuch.cfg: cannot read config file: No such file or directory"}},
        BadCase{"ConfigUnreadable",
                config("mem.cfg"),
                {"error: mem.cfg: cannot read config file: Input/output error"},
                {},
                Setup::ProcMem,
                "mem.cfg"},
        BadCase{"ConfigNoPermission",
                config("locked.cfg"),
                {"error: locked.cfg: cannot read config file: Permission denied"},
                {},
                Setup::NoPermission,
                "locked.cfg"},
        BadCase{"ConfigIsAFolder",
                config("dir.cfg"),
                {"error: dir.cfg: cannot read config file: is a directory"},
                {},
                Setup::Directory,
                "dir.cfg"},
        BadCase{"ConfigEmpty",
                config("e.cfg"),
                {"error: e.cfg: empty file; expected a SCALE-Sim .cfg file"},
                {{"e.cfg", " \n\n"}}},
        BadCase{"ConfigOnlyComments",
                config("c.cfg"),
                {"error: c.cfg: no settings found"},
                {{"c.cfg", "# nothing\n; here\n"}}},
        BadCase{"ConfigBinary",
                config("b.cfg"),
                {"error: b.cfg: not a text file (byte 0x7f at offset 0); expected a SCALE-Sim "
                 ".cfg file"},
                {{"b.cfg", kBinary}}},
        BadCase{"ConfigTooLarge",
                config("big.cfg"),
                {"error: big.cfg: config file too large (2097152 bytes; at most 1 MiB)"},
                {},
                Setup::Huge,
                "big.cfg",
                2 << 20},
        BadCase{"TopologyMissing",
                workload("nosuch.csv"),
                {"error: cannot open topology file 'nosuch.csv': No such file or directory"}},
        BadCase{"TopologyUnreadable",
                workload("mem.csv"),
                {"error: cannot read topology file 'mem.csv': Input/output error"},
                {},
                Setup::ProcMem,
                "mem.csv"},
        BadCase{"TopologyNoPermission",
                workload("locked.csv"),
                {"error: cannot open topology file 'locked.csv': Permission denied"},
                {},
                Setup::NoPermission,
                "locked.csv"},
        BadCase{"TopologyIsAFolder",
                workload("dir.csv"),
                {"error: cannot open topology file 'dir.csv': is a directory"},
                {},
                Setup::Directory,
                "dir.csv"},
        BadCase{"TopologyEmpty",
                workload("e.csv"),
                {"error: e.csv:1: empty topology file; expected a header"},
                {{"e.csv", "\r\n,,,\n"}}},
        BadCase{"TopologyHeaderOnly",
                workload("h.csv"),
                {"error: h.csv:1: the topology has a header but no layers"},
                {{"h.csv", kCsvHead}}},
        BadCase{"TopologyBinary",
                workload("b.csv"),
                {"error: b.csv: not a text file (byte 0x7f at offset 0); expected a SCALE-Sim "
                 "topology .csv"},
                {{"b.csv", kBinary}}},
        BadCase{"TopologyTooLarge",
                workload("big.csv"),
                {"error: topology file 'big.csv' is too large (more than 64 MiB)"},
                {},
                Setup::Huge,
                "big.csv",
                (64 << 20) + 1024},
        BadCase{"NetworkMissing",
                workload("nosuch.yaml"),
                {"error: cannot open network file 'nosuch.yaml': No such file or directory"}},
        BadCase{"NetworkUnreadable",
                workload("mem.yaml"),
                {"error: cannot read network file 'mem.yaml': Input/output error"},
                {},
                Setup::ProcMem,
                "mem.yaml"},
        BadCase{"NetworkNoPermission",
                workload("locked.yml"),
                {"error: cannot open network file 'locked.yml': Permission denied"},
                {},
                Setup::NoPermission,
                "locked.yml"},
        BadCase{"NetworkIsAFolder",
                workload("dir.yaml"),
                {"error: cannot open network file 'dir.yaml': is a directory"},
                {},
                Setup::Directory,
                "dir.yaml"},
        BadCase{"NetworkEmpty",
                workload("e.yaml"),
                {"error: e.yaml:1: empty network file; expected a map with a 'layers' list"},
                {{"e.yaml", "\n  \n"}}},
        BadCase{"NetworkBinary",
                workload("b.yaml"),
                {"error: b.yaml: not a text file (byte 0x7f at offset 0); expected a YAML network "
                 "file"},
                {{"b.yaml", kBinary}}},
        BadCase{"NetworkTooLarge",
                workload("big.yaml"),
                {"error: network file 'big.yaml' is too large (more than 8 MiB)"},
                {},
                Setup::Huge,
                "big.yaml",
                (8 << 20) + 1024},
        BadCase{"NetworkSyntax",
                workload("s.yaml"),
                {"error: s.yaml:3: YAML syntax error at the end of the file: end of map flow not "
                 "found"},
                {{"s.yaml", kYamlHead + "  - {name: a, type: gemm\n"}}},
        BadCase{"NetworkSecondDocument",  // was ignored: the run simulated the first only
                workload("n.yaml"),
                {"error: n.yaml:4: a second YAML document (after '---'); a network file holds "
                 "one document"},
                {{"n.yaml", kYamlHead + "  - {name: a, type: gemm, M: 4, N: 4, K: 4}\n---\n" +
                                kYamlHead + "  - {name: b, type: gemm, M: 8, N: 8, K: 8}\n"}}},
        BadCase{"NetworkSecondDocumentAfterAMarker",
                workload("n.yaml"),
                {"error: n.yaml:5: a second YAML document"},
                {{"n.yaml", "--- # the network\n" + kYamlHead +
                                "  - {name: a, type: gemm, M: 4, N: 4, K: 4}\n--- \n"}}},
        BadCase{"NetworkNotAMap",
                workload("l.yaml"),
                {"error: l.yaml:1: a network file must be a map with a 'layers' list"},
                {{"l.yaml", "- a\n- b\n"}}},
        BadCase{"ConfigFifo",
                config("f.cfg"),
                {"error: f.cfg: cannot read config file: not a regular file (a FIFO); expected a "
                 "file (or a character device)"},
                {},
                Setup::Fifo,
                "f.cfg"},
        BadCase{"TopologyFifo",
                workload("f.csv"),
                {"error: cannot open topology file 'f.csv': not a regular file (a FIFO)"},
                {},
                Setup::Fifo,
                "f.csv"},
        BadCase{"NetworkFifo",
                workload("f.yaml"),
                {"error: cannot open network file 'f.yaml': not a regular file (a FIFO)"},
                {},
                Setup::Fifo,
                "f.yaml"},
        BadCase{"SweepWorkloadFifo",
                {"sweep", "--workload", "f.yml", "--arrays", "8x8,16x16", "--out", "res"},
                {"error: ", "cannot open network file 'f.yml': not a regular file (a FIFO)"},
                {},
                Setup::Fifo,
                "f.yml"},
        BadCase{"TopologyCharacterDevice",  // read like a file: /dev/null is an empty topology
                workload("null.csv"),
                {"error: null.csv:1: empty topology file"},
                {},
                Setup::DevNull,
                "null.csv"},
        BadCase{"TopologyNameNotUtf8",  // latin-1 "café": was written raw, --report failed
                workload("t.csv"),
                {"error: t.csv:2: layer name 'caf\\xe9' is not UTF-8 (byte 0xe9 at byte 4); "
                 "expected UTF-8 text without control characters"},
                {{"t.csv", kCsvHead + "caf\xe9, 4, 4, 4,\n"}}},
        BadCase{"TopologyNameControlCharacter",
                workload("t.csv"),
                {"error: t.csv:3: layer name 'a\\x0bb' holds the control character 0x0b at "
                 "byte 2"},
                {{"t.csv", kCsvHead + "ok, 4, 4, 4,\na\vb, 4, 4, 4,\n"}}},
        BadCase{"NetworkNameNotUtf8",
                workload("n.yaml"),
                {"error: n.yaml:3: 'name' 'caf\\xe9' is not UTF-8 (byte 0xe9 at byte 4)"},
                {{"n.yaml", kYamlHead + "  - {name: caf\xe9, type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{"NetworkNameControlCharacter",  // a YAML escape puts any character in a name
                workload("n.yaml"),
                {"error: n.yaml:3: 'name' 'a\\x01' holds the control character 0x01 at byte 2"},
                {{"n.yaml", kYamlHead + "  - {name: \"a\\x01\", type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{
            "NetworkTopNameNotUtf8",
            workload("n.yaml"),
            {"error: n.yaml:1: 'name' 'n\\xff' is not UTF-8 (byte 0xff at byte 2)"},
            {{"n.yaml", "name: n\xff\nlayers:\n  - {name: g, type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{"NetworkNameEmptyQuoted",  // said "is , expected a name"
                workload("n.yaml"),
                {"error: n.yaml:3: 'name' is '', expected a name"},
                {{"n.yaml", kYamlHead + "  - {name: '', type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{"TopologyTabSeparated",
                workload("t.csv"),
                {"error: t.csv:1: the fields are separated by tabs; a SCALE-Sim topology "
                 "separates them with commas"},
                {{"t.csv", "Layer\tM\tN\tK\ng\t4\t4\t4\n"}}},
        BadCase{"TopologyUrandom",  // said "too large"
                workload("r.csv"),
                {"error: r.csv: not a text file (byte ", "); expected a SCALE-Sim topology .csv"},
                {},
                Setup::DevUrandom,
                "r.csv"},
        BadCase{"NetworkUrandom",
                workload("r.yaml"),
                {"error: r.yaml: not a text file (byte ", "); expected a YAML network file"},
                {},
                Setup::DevUrandom,
                "r.yaml"},
        BadCase{"ConfigUrandom",
                config("r.cfg"),
                {"error: r.cfg: not a text file (byte ", "); expected a SCALE-Sim .cfg file"},
                {},
                Setup::DevUrandom,
                "r.cfg"},
        BadCase{"TopologyDevZero",
                workload("z.csv"),
                {"error: z.csv: not a text file (byte 0x00 at offset 0); expected a SCALE-Sim "
                 "topology .csv"},
                {},
                Setup::DevZero,
                "z.csv"},
        BadCase{"TopologyTitleRow",  // SCALE-Sim's MLPERF.csv: said "missing field 'M'"
                workload("t.csv"),
                {"error: t.csv:3: the row holds only 'Resnet50' and no sizes: a title row"},
                {{"t.csv", kCsvHead + "g, 4, 4, 4,\nResnet50,,,,\nh, 4, 4, 4,\n"}}},
        BadCase{"WorkloadUnknownFormat",
                workload("w.txt"),
                {"error: workload 'w.txt': cannot tell the format of this file"},
                {{"w.txt", kCsvHead + "g, 1, 1, 1,\n"}}},
        BadCase{"WorkloadUnknownName",
                workload("resnet51"),
                {"error: unknown workload 'resnet51'; built-in networks: ", "resnet50"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// --- non-numeric, negative, zero and huge values (2^63 and beyond), in flags and files ---------
INSTANTIATE_TEST_SUITE_P(
    RobustValues, RobustBadInputTest,
    ::testing::Values(
        BadCase{"GemmNonNumeric", {"--gemm", "a,b,c"}, {"error: --gemm 'a,b,c': " + kGemm}},
        BadCase{"GemmNegative", {"--gemm", "-1,4,4"}, {"error: --gemm '-1,4,4': " + kGemm}},
        BadCase{"GemmZero", {"--gemm", "4,0,4"}, {"error: --gemm '4,0,4': " + kGemm}},
        BadCase{"GemmAboveLimit", {"--gemm", "1048577,1,1"}, {"--gemm '1048577,1,1': " + kGemm}},
        // 65536^3 on 128 x 128: 512 x 512 folds of 128 segments = 33,554,432 steps (it grew past
        // 7.6 GB before it was refused).
        BadCase{"GemmPlanAboveTheStepLimit",
                {"--gemm", "65536,65536,65536", "--array", "128x128"},
                {"error: GEMM 'gemm' (M,N,K = 65536,65536,65536) would be planned as up to "
                 "33554432 program steps, more than the 8388608 (about 5 GiB of memory) one op "
                 "may hold; use larger SRAM buffers (fewer, larger blocks), a larger array, or a "
                 "smaller layer"}},
        BadCase{"Gemm2To63",
                {"--gemm", "9223372036854775808,1,1"},
                {"--gemm '9223372036854775808,1,1': " + kGemm}},
        BadCase{"Gemm2To64",
                {"--gemm", "1,18446744073709551616,1"},
                {"--gemm '1,18446744073709551616,1': " + kGemm}},
        BadCase{"ArrayNonNumeric", run_with({"--array", "AxB"}), {"--array 'AxB': " + kArray}},
        BadCase{"ArrayNegative", run_with({"--array", "-4x4"}), {"--array '-4x4': " + kArray}},
        BadCase{"ArrayZero", run_with({"--array", "4x0"}), {"--array '4x0': " + kArray}},
        BadCase{"Array2To63",
                run_with({"--array", "9223372036854775808x1"}),
                {"--array '9223372036854775808x1': " + kArray}},
        BadCase{"SeedNegative",
                run_with({"--seed", "-1"}),
                {"--seed '-1': expected an integer from 0 to 18446744073709551615"}},
        BadCase{"Seed2To64",
                run_with({"--seed", "18446744073709551616"}),
                {"--seed '18446744073709551616': expected an integer from 0 to "
                 "18446744073709551615"}},
        BadCase{"EnergyTableUnknownKey",
                run_with({"--energy-table", "t.yaml"}),
                {"error: t.yaml:2: key 'sram_pj': unknown; allowed: technology_nm, energy, area, "
                 "mac_pj"},
                {{"t.yaml", "energy:\n  sram_pj: 3\n"}}},
        BadCase{"EnergyTableNegative",
                run_with({"--energy-table", "t.yaml"}),
                {"error: t.yaml:1: key 'dram_read_pj_per_byte': '-5' is not allowed; expected a "
                 "number from 0 to 1e+06"},
                {{"t.yaml", "dram_read_pj_per_byte: -5\n"}}},
        BadCase{"EnergyTableBinary",
                run_with({"--energy-table", "b.yaml"}),
                {"error: b.yaml: not a text file (byte 0x7f at offset 0); expected a YAML energy "
                 "table"},
                {{"b.yaml", kBinary}}},
        BadCase{"EnergyTableMissing",
                run_with({"--energy-table", "none.yaml"}),
                {"error: --energy-table 'none.yaml': "}},
        BadCase{"SramNonNumeric",
                run_with({"--ifmap-sram-kb", "lots"}),
                {"--ifmap-sram-kb 'lots': expected an integer from 1 to 1073741824"}},
        BadCase{"SramNegative",
                run_with({"--filter-sram-kb", "-64"}),
                {"--filter-sram-kb '-64': expected an integer from 1 to 1073741824"}},
        BadCase{"SramZero",
                run_with({"--ofmap-sram-kb", "0"}),
                {"--ofmap-sram-kb '0': expected an integer from 1 to 1073741824"}},
        BadCase{"SramHuge",
                run_with({"--ifmap-sram-kb", "9223372036854775807"}),
                {"--ifmap-sram-kb '9223372036854775807': expected an integer from 1 to "
                 "1073741824"}},
        BadCase{"LatencyNegative",
                run_with({"--dram-latency", "-5"}),
                {"--dram-latency '-5': expected an integer from 0 to 1000000000"}},
        BadCase{"Latency2To63",
                run_with({"--dram-latency", "9223372036854775808"}),
                {"--dram-latency '9223372036854775808': expected an integer from 0 to "
                 "1000000000"}},
        BadCase{"BandwidthNonNumeric",
                run_with({"--bandwidth", "fast"}),
                {"--bandwidth 'fast': expected a number greater than 0 and at most 1000000000"}},
        BadCase{"BandwidthNegative",
                run_with({"--bandwidth", "-10"}),
                {"--bandwidth '-10': expected a number greater than 0"}},
        BadCase{"BandwidthOverflowsDouble",
                run_with({"--bandwidth", "1e400"}),
                {"--bandwidth '1e400': expected a number greater than 0"}},
        BadCase{"BandwidthNaN",
                run_with({"--bandwidth", "nan"}),
                {"--bandwidth 'nan': expected a number greater than 0"}},
        BadCase{"BandwidthInfinite",
                run_with({"--dram-bandwidth", "inf"}),
                {"--dram-bandwidth 'inf': expected a number from 0 to 1000000000"}},
        BadCase{"ClockNonNumeric",
                run_with({"--clock-ghz", "1GHz"}),
                {"--clock-ghz '1GHz': expected a number greater than 0 and at most 1000"}},
        BadCase{"ClockZero", run_with({"--clock-ghz", "0"}), {"--clock-ghz '0': expected"}},
        BadCase{"ClockTooSlow",
                run_with({"--clock-ghz", "1e-300"}),
                {"clock 1e-300 GHz (--clock-ghz; .cfg key ClockGHz) is below the 1e-06 GHz"}},
        BadCase{"ClockHuge", run_with({"--clock-ghz", "1e6"}), {"--clock-ghz '1e6': expected"}},
        BadCase{"LanesZero",
                run_with({"--vector-lanes", "0"}),
                {"--vector-lanes '0': expected an integer from 1 to 65536"}},
        BadCase{"BanksNegative",
                run_with({"--memory-banks", "-1"}),
                {"--memory-banks '-1': expected an integer from 1 to 65536"}},
        BadCase{"OutputBytesThree",
                run_with({"--output-bytes", "3"}),
                {"--output-bytes '3': expected 1, 2 or 4"}},
        BadCase{"ConfigValueNonNumeric",
                config("c.cfg"),
                {"error: c.cfg:3: key 'ArrayWidth' value 'abc': expected an integer from 1 to "
                 "65536"},
                {{"c.cfg", "[architecture_presets]\nArrayHeight: 8\nArrayWidth: abc\n"}}},
        BadCase{"ConfigValueNegative",
                config("c.cfg"),
                {"error: c.cfg:2: key 'ArrayHeight' value '-8': expected an integer from 1 to "
                 "65536"},
                {{"c.cfg", "[architecture_presets]\nArrayHeight = -8\n"}}},
        BadCase{"ConfigValueZero",
                config("c.cfg"),
                {"error: c.cfg:2: key 'VectorLanes' value '0': expected an integer from 1 to "
                 "65536"},
                {{"c.cfg", "[systolic_sim]\nVectorLanes = 0\n"}}},
        BadCase{"ConfigValue2To63",
                config("c.cfg"),
                {"error: c.cfg:2: key 'IfmapSramSzkB' value '9223372036854775808': expected an "
                 "integer from 1 to 1073741824"},
                {{"c.cfg", "[architecture_presets]\nIfmapSramSzkB = 9223372036854775808\n"}}},
        BadCase{"TopologyValueNonNumeric",
                workload("t.csv"),
                {"error: t.csv:2: layer 'g': field 'N' is 'x', expected a positive integer"},
                {{"t.csv", kCsvHead + "g, 4, x, 4,\n"}}},
        BadCase{"TopologyValueNegative",
                workload("t.csv"),
                {"error: t.csv:2: layer 'g': field 'M' is -4, must be positive"},
                {{"t.csv", kCsvHead + "g, -4, 4, 4,\n"}}},
        BadCase{"TopologyValueZero",
                workload("t.csv"),
                {"error: t.csv:3: layer 'c2': field 'Strides' is 0, must be positive"},
                {{"t.csv", kConvHead + "c1, 8, 8, 3, 3, 4, 4, 1,\nc2, 8, 8, 3, 3, 4, 4, 0,\n"}}},
        BadCase{"TopologyValue2To63",
                workload("t.csv"),
                {"error: t.csv:2: layer 'g': field 'K' is '9223372036854775808', expected a "
                 "positive integer"},
                {{"t.csv", kCsvHead + "g, 4, 4, 9223372036854775808,\n"}}},
        BadCase{"TopologyValueAbove2To31",
                workload("t.csv"),
                {"error: t.csv:2: layer 'g': M is 2147483648, must be at most 2147483647"},
                {{"t.csv", kCsvHead + "g, 2147483648, 4, 4,\n"}}},
        BadCase{"NetworkValueNonNumeric",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': 'M' is 'many', expected a positive integer"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: many, N: 4, K: 4}\n"}}},
        BadCase{"NetworkValueNegative",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': 'N' is -4, must be a positive integer"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: 4, N: -4, K: 4}\n"}}},
        BadCase{"NetworkValueZero",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 's': 'rows' is 0, must be a positive integer"},
                {{"n.yaml", kYamlHead + "  - {name: s, type: softmax, rows: 0, length: 4}\n"}}},
        BadCase{"NetworkValueFraction",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': 'K' is '1.5', expected a positive integer"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: 4, N: 4, K: 1.5}\n"}}},
        BadCase{"NetworkValue2To63",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': 'M' is '9223372036854775808', expected a positive "
                 "integer"},
                {{"n.yaml",
                  kYamlHead + "  - {name: g, type: gemm, M: 9223372036854775808, N: 4, K: 4}\n"}}},
        BadCase{"NetworkCountOverflow",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': the MAC count would be 9.90352e+27, more than the "
                 "4e+18 allowed"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: 2147483647, N: 2147483647, "
                                        "K: 2147483647}\n"}}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// --- unknown dataflow, layer type or key; duplicate keys; outputs that are not positive --------
INSTANTIATE_TEST_SUITE_P(
    RobustNames, RobustBadInputTest,
    ::testing::Values(
        BadCase{"DataflowFlag",
                run_with({"--dataflow", "rs"}),
                {"error: --dataflow 'rs': expected os, ws or is"}},
        BadCase{"DataflowConfig",
                config("c.cfg"),
                {"error: c.cfg:2: key 'Dataflow' value 'rs': expected os, ws or is"},
                {{"c.cfg", "[architecture_presets]\nDataflow: rs\n"}}},
        BadCase{"FidelityFlag",
                run_with({"--fidelity", "exact"}),
                {"error: --fidelity 'exact': expected cycle or fast"}},
        BadCase{"LayerType",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'r': 'type': unknown layer type 'lstm'; allowed: conv2d, "
                 "linear, attention, elementwise, pool, softmax, gemm"},
                {{"n.yaml", kYamlHead + "  - {name: r, type: lstm, in: 4}\n"}}},
        BadCase{"Activation",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'f': 'activation': unknown activation 'swish'"},
                {{"n.yaml",
                  kYamlHead + "  - {name: f, type: linear, in: 4, out: 4, activation: swish}\n"}}},
        BadCase{
            "ElementwiseOp",
            workload("n.yaml"),
            {"error: n.yaml:3: layer 'e': 'op': unknown elementwise op 'div'"},
            {{"n.yaml", kYamlHead + "  - {name: e, type: elementwise, op: div, elements: 4}\n"}}},
        BadCase{"NetworkLayerKey",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'g': unknown key 'P'; allowed: name, type, batch, dtype, "
                 "from, "
                 "M, N, K"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: 4, N: 4, K: 4, P: 4}\n"}}},
        BadCase{"NetworkTopKey",
                workload("n.yaml"),
                {"error: n.yaml:1: unknown key 'author'; allowed: name, description, batch, dtype, "
                 "layers"},
                {{"n.yaml", "author: me\nlayers:\n  - {name: g, type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{"ConfigKey",
                config("c.cfg"),
                {"error: c.cfg:2: unknown key 'ArrayDepth' in section [architecture_presets]"},
                {{"c.cfg", "[architecture_presets]\nArrayDepth = 4\n"}}},
        BadCase{"ConfigSection",
                config("c.cfg"),
                {"error: c.cfg:1: unknown section '[memory]'"},
                {{"c.cfg", "[memory]\nBanks = 4\n"}}},
        BadCase{"Flag",
                run_with({"--frobnicate", "1"}),
                {"error: unrecognised option '--frobnicate' (see --help)"}},
        BadCase{"FlagWithBoostPlaceholder",  // made Boost loop forever (fuzzer, regression)
                {"--output-byt%canonical_option%es-h"},
                {"error: unrecognised option '--output-byt%canonical_option%es-h'"}},
        BadCase{"TopologyHeader",
                workload("t.csv"),
                {"error: t.csv:1: unrecognised topology header 'Name,A,B,C,'; expected"},
                {{"t.csv", "Name, A, B, C\n"}}},
        BadCase{"ConfigDuplicateKey",
                config("c.cfg"),
                {"error: c.cfg:3: duplicate key 'ArrayHeight' (first set at line 2)"},
                {{"c.cfg", "[architecture_presets]\nArrayHeight = 8\narrayheight: 16\n"}}},
        BadCase{"ConfigDuplicateSection",
                config("c.cfg"),
                {"error: c.cfg:3: duplicate section [general] (first at line 1)"},
                {{"c.cfg", "[general]\nrun_name = a\n[General]\n"}}},
        BadCase{"NetworkDuplicateKey",
                workload("n.yaml"),
                {"error: n.yaml:3: duplicate key 'M'"},
                {{"n.yaml", kYamlHead + "  - {name: g, type: gemm, M: 4, N: 4, K: 4, M: 8}\n"}}},
        BadCase{"NetworkDuplicateTopKey",
                workload("n.yaml"),
                {"error: n.yaml:", "duplicate key 'layers'"},
                {{"n.yaml", "layers: []\nlayers:\n  - {name: g, type: gemm, M: 4, N: 4, K: 4}\n"}}},
        BadCase{"FlagTwice",
                run_with({"--array", "4x4", "--array=8x8"}),
                {"error: option '--array' given more than once"}},
        BadCase{"TopologyFilterLargerThanInput",
                workload("t.csv"),
                {"error: t.csv:2: layer 'c': output height is not positive: Filter Height 9 is "
                 "larger than IFMAP Height 8"},
                {{"t.csv", kConvHead + "c, 8, 8, 9, 3, 4, 4, 1,\n"}}},
        BadCase{"NetworkConvKernelLargerThanInput",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'c': output width is not positive: input 4 + 2*padding "
                 "0 is smaller than the kernel 5"},
                {{"n.yaml", kYamlHead + "  - {name: c, type: conv2d, input: [8, 4, 3], filters: "
                                        "4, kernel: [3, 5]}\n"}}},
        BadCase{"NetworkConvDilatedKernel",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'c': output height is not positive: input 6 + 2*padding "
                 "0 is smaller than the dilated kernel 7 (kernel 3, dilation 3)"},
                {{"n.yaml", kYamlHead + "  - {name: c, type: conv2d, input: [6, 6, 3], filters: "
                                        "4, kernel: 3, dilation: 3}\n"}}},
        BadCase{"NetworkPoolPaddingAboveHalfTheKernel",  // was accepted; PyTorch refuses it
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'p': padding 2 is more than half the kernel height 3; a "
                 "pooling padding may be at most half the kernel (as in PyTorch)"},
                {{"n.yaml", kYamlHead + "  - {name: p, type: pool, op: max, input: [8, 8, 3], "
                                        "kernel: 3, padding: 2}\n"}}},
        BadCase{"NetworkPoolWindow",
                workload("n.yaml"),
                {"error: n.yaml:3: layer 'p': output height is not positive"},
                {{"n.yaml", kYamlHead + "  - {name: p, type: pool, op: max, input: [2, 2, 3], "
                                        "kernel: 3}\n"}}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// --- arrays too large for memory, SRAM too small for a tile, zero bandwidth, the output folder --
INSTANTIATE_TEST_SUITE_P(
    RobustLimits, RobustBadInputTest,
    ::testing::Values(
        BadCase{"CycleArrayTooLarge",
                run_with({"--array", "65536x65536", "--fidelity", "cycle"}),
                {"error: array 65536x65536 (--array; ArrayHeight x ArrayWidth) has 4294967296 "
                 "PEs, more than the 16777216 (e.g. 4096x4096) that --fidelity cycle (Fidelity) "
                 "can hold in memory; use --fidelity fast"}},
        BadCase{"CycleArrayTooLargeInConfig",
                config("c.cfg"),
                {"error: array 8192x4096 ", "has 33554432 PEs, more than the 16777216"},
                {{"c.cfg",
                  "[architecture_presets]\nArrayHeight = 8192\nArrayWidth = 4096\n"
                  "[systolic_sim]\nFidelity = cycle\n"}}},
        BadCase{"CycleGemmTooLarge",
                {"--gemm", "65536,65536,1", "--fidelity", "cycle", "--out", "res"},
                {"error: --fidelity cycle: GEMM 'gemm' (M,N,K = 65536,65536,1) needs 32768 MiB "
                 "for its values",
                 "more than the 2048 MiB allowed; use --fidelity fast"}},
        BadCase{"CycleNetworkLayerTooLarge",
                workload("n.yaml", {"--fidelity", "cycle"}),
                {"error: --fidelity cycle: GEMM 'fc' (M,N,K = 32768,32768,16) needs"},
                {{"n.yaml", kYamlHead + "  - {name: fc, type: linear, tokens: 32768, in: 16, "
                                        "out: 32768}\n"}}},
        BadCase{"SramTooSmallForGemmTile",
                run_with({"--array", "256x256", "--filter-sram-kb", "3"}),
                {"error: FilterSramSzkB 3: too small for the smallest filter tile (K x N = 64 x "
                 "64 at 1 B = 4 KiB, single-buffered); needs at least 4 KiB (GEMM 'gemm')"}},
        BadCase{"SramTooSmallForReferenceGemm",
                {"--gemm", "4,4,4", "--array", "1024x1024", "--out", "res", "--report"},
                {"error: FilterSramSzkB 512: too small for the smallest filter tile (K x N = 1024 "
                 "x 1024",
                 "(for the roofline's reference 4096^3 GEMM, which --report simulates)"}},
        BadCase{"SramTooSmallInConfig",
                config("c.cfg"),
                {"error: FilterSramSzkB 1: too small for the smallest filter tile"},
                {{"c.cfg",
                  "[architecture_presets]\nArrayHeight: 128\nArrayWidth: 128\n"
                  "FilterSramSzkB: 1\n"}}},
        BadCase{
            "SramTooSmallForSoftmaxRow",
            workload("n.yaml", {"--ifmap-sram-kb", "4"}),
            {"error: ", "IfmapSramSzkB"},
            {{"n.yaml", kYamlHead + "  - {name: s, type: softmax, rows: 2, length: 100000}\n"}}},
        BadCase{"BandwidthZero",
                run_with({"--bandwidth", "0"}),
                {"error: --bandwidth '0': expected a number greater than 0 and at most "
                 "1000000000"}},
        BadCase{"BandwidthZeroInConfig",
                config("c.cfg"),
                {"error: c.cfg:2: key 'Bandwidth' value '0': expected a number greater than 0"},
                {{"c.cfg", "[architecture_presets]\nBandwidth = 0\n"}}},
        BadCase{"BandwidthBelowResolution",
                run_with({"--bandwidth", "1e-9"}),
                {"error: DRAM bandwidth 1e-09 bytes/cycle (--bandwidth x element size, "
                 "--dram-bandwidth or --dram-gbps; .cfg keys Bandwidth, DramBandwidth, "
                 "DramBandwidthGBs) is below the 1e-06 bytes/cycle the DRAM model resolves"}},
        BadCase{"DramBandwidthBelowResolution",
                run_with({"--dram-bandwidth", "5e-7"}),
                {"error: DRAM bandwidth 5e-07 bytes/cycle"}},
        BadCase{"OutIsAFile",
                {"--gemm", "4,4,4", "--out", "f"},
                {"error: --out 'f': exists and is not a folder"},
                {{"f", "x"}}},
        BadCase{"OutUnderAFile",
                {"--gemm", "4,4,4", "--out", "f/sub"},
                {"error: --out 'f/sub': 'f' is not a folder"},
                {{"f", "x"}}},
        BadCase{"OutDanglingSymlink",  // found only after simulating (exit 1) before the probe
                {"--gemm", "4,4,4", "--out", "dang"},
                {"error: --out 'dang': 'dang' is a symbolic link to 'nowhere', which does not "
                 "exist"},
                {},
                Setup::DanglingLink,
                "dang"},
        BadCase{"OutSymlinkLoop",
                {"--gemm", "4,4,4", "--out", "loop/sub"},
                {"error: --out 'loop/sub': Too many levels of symbolic links"},
                {},
                Setup::LinkLoop,
                "loop"},
        BadCase{"OutNameTooLong",
                {"--gemm", "4,4,4", "--out", "res/" + std::string(300, 'n')},
                {"error: --out 'res/nnn", "': File name too long"}},
        BadCase{"OutPathTooLong",
                {"--gemm", "4,4,4", "--out",
                 [] {
                   std::string p = "res";
                   while (p.size() < 5000) p += "/abcdefghij";
                   return p;
                 }()},
                {"error: --out 'res/abcdefghij/", "': File name too long"}},
        BadCase{"OutProc",
                {"--gemm", "4,4,4", "--out", "/proc"},
                {"error: --out '/proc': cannot write in '/proc': ", "('/proc' is on proc"}},
        BadCase{"OutUnderProc",
                {"--gemm", "4,4,4", "--out", "/proc/x"},
                {"error: --out '/proc/x': cannot create the folder '/proc/x': "}},
        BadCase{"OutUnderSysKernel",
                {"--gemm", "4,4,4", "--out", "/sys/kernel/x"},
                {"error: --out '/sys/kernel/x': cannot create the folder '/sys/kernel/x': "}},
        BadCase{"SweepOutDanglingSymlink",
                {"sweep", "--gemm", "4,4,4", "--arrays", "4x4,8x8", "--out", "dang"},
                {"error: --out 'dang': 'dang' is a symbolic link to 'nowhere'"},
                {},
                Setup::DanglingLink,
                "dang"},
        BadCase{"RunNameWithSlash",
                {"--gemm", "4,4,4", "--run-name", "a/b"},
                {"error: --run-name 'a/b': expected 1 to 128 characters (UTF-8) without / \\ # "
                 "or control characters"}},
        BadCase{"RunNameNotUtf8",
                {"--gemm", "4,4,4", "--run-name", "r\xff"},
                {"error: --run-name '", "expected 1 to 128 characters (UTF-8)"}},
        BadCase{"NothingToRun",
                {"--array", "8x8"},
                {"error: nothing to run: give --gemm M,N,K or --workload NAME|FILE"}},
        BadCase{"GemmAndWorkload",
                {"--gemm", "4,4,4", "--workload", "mlp"},
                {"error: --gemm and --workload: give one of them, not both"}},
        BadCase{"FlagsContradictCalcAndBandwidth",
                run_with({"--interface-bandwidth", "calc", "--bandwidth", "5"}),
                {"error: --interface-bandwidth 'calc' and --bandwidth '5' contradict each other: "
                 "CALC runs stall-free and models no bandwidth"}},
        BadCase{"FlagsContradictBandwidthAndCalc",  // the same, whatever the order
                run_with({"--bandwidth", "5", "--interface-bandwidth", "calc"}),
                {"error: --interface-bandwidth 'calc' and --bandwidth '5' contradict each other"}},
        BadCase{"FlagsContradictTwoBandwidths",
                run_with({"--dram-gbps", "64", "--dram-bandwidth", "16"}),
                {"error: --dram-bandwidth '16' and --dram-gbps '64' contradict each other: both "
                 "give the DRAM bandwidth"}},
        BadCase{"FlagsContradictUnlimitedAndUser",
                run_with({"--interface-bandwidth", "user", "--unlimited-bandwidth", "on"}),
                {"error: --unlimited-bandwidth 'on' and --interface-bandwidth 'user' contradict "
                 "each other"}},
        BadCase{"SweepFlagsContradict",
                {"sweep", "--gemm", "8,8,8", "--arrays", "4x4,8x8", "--bandwidth", "5",
                 "--interface-bandwidth", "calc", "--out", "res"},
                {"error: --interface-bandwidth 'CALC' and --bandwidth '5' contradict each other"}},
        BadCase{
            "SweepAxisContradicts",
            {"sweep", "--gemm", "8,8,8", "--arrays", "4x4", "--bandwidth", "5,10",
             "--interface-bandwidth", "calc", "--out", "res"},
            {"error: point 'gemm", "--interface-bandwidth 'CALC' and --bandwidth '5' contradict"}},
        BadCase{"PositionalArgument",
                {"--gemm", "4,4,4", "res"},
                {"error: unexpected argument 'res': flags start with --"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// summary.json records what reruns the run exactly: the seed, the tool version, the workload's
// fingerprint and the resolved config; a .cfg made from that config, with the same seed and
// workload, gives the same summary.json byte for byte.
// A sweep.json cut short is "damaged", not "a sweep with different arguments"; nothing changes.
TEST(RobustOutput, DamagedSweepJsonIsSaidSo) {
  TempDir t("ssim_damaged");
  fs::create_directory(t.path / "res");
  write_file(t.path / "res" / "sweep.json", "{\n  \"schema_version\": 1,\n  \"tool\": \"sys");
  const Outcome r = run_binary(
      {"sweep", "--gemm", "8,8,8", "--arrays", "4x4,8x8", "--out", "res", "--quiet"}, t.path, 60);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err,
            "error: --out 'res': its sweep.json is damaged (not valid JSON, e.g. cut short); pass "
            "--force to start the sweep over, or use a new folder\n");
  EXPECT_EQ(entries(t.path / "res"), std::vector<std::string>{"sweep.json"});
}

TEST(RobustOutput, SummaryRecordsWhatRerunsTheRun) {
  TempDir t("ssim_record");
  write_file(t.path / "c.cfg",
             "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 4\n"
             "[run_presets]\nInterfaceBandwidth: CALC\n");
  const Outcome first =
      run_binary({"--gemm", "24,16,40", "--config", "c.cfg", "--seed", "42", "--fidelity", "cycle",
                  "--bandwidth", "5", "--dram-latency", "3", "--out", "a", "--quiet"},
                 t.path, 120);
  ASSERT_EQ(first.code, 0) << first.err;
  const std::string text = slurp(t.path / "a" / "summary.json");
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("seed"), 42u);
  EXPECT_EQ(j.at("tool_version"), SSIM_VERSION);
  const std::string fp = j.at("workload").at("fingerprint");
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
  const auto& cfg = j.at("config");
  EXPECT_EQ(cfg.at("architecture_presets").at("ArrayHeight"), "8");
  EXPECT_EQ(cfg.at("architecture_presets").at("ArrayWidth"), "4");
  EXPECT_EQ(cfg.at("architecture_presets").at("Bandwidth"), "5");
  EXPECT_EQ(cfg.at("run_presets").at("InterfaceBandwidth"), "USER");  // the flag won
  EXPECT_EQ(cfg.at("systolic_sim").at("DramLatency"), "3");
  EXPECT_EQ(cfg.at("systolic_sim").at("Fidelity"), "cycle");
  std::string rebuilt;
  for (const auto& [section, keys] : cfg.items()) {
    rebuilt += "[" + section + "]\n";
    for (const auto& [key, value] : keys.items())
      rebuilt += key + " = " + value.get<std::string>() + "\n";
  }
  write_file(t.path / "rebuilt.cfg", rebuilt);
  const Outcome again = run_binary(
      {"--gemm", "24,16,40", "--config", "rebuilt.cfg", "--seed", "42", "--out", "b", "--quiet"},
      t.path, 120);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(slurp(t.path / "b" / "summary.json"), text);
  // Another seed is recorded as such (and the other GEMM sizes give another fingerprint).
  const Outcome other = run_binary(
      {"--gemm", "24,16,41", "--config", "rebuilt.cfg", "--seed", "7", "--out", "c", "--quiet"},
      t.path, 120);
  ASSERT_EQ(other.code, 0) << other.err;
  const auto k = nlohmann::json::parse(slurp(t.path / "c" / "summary.json"));
  EXPECT_EQ(k.at("seed"), 7u);
  EXPECT_NE(k.at("workload").at("fingerprint"), fp);
}

// ---------------------------------------------------------------------------------------------
// Messages

// --run-name's limit is 128 characters, not bytes: 128 emoji (512 bytes) are a valid name.
TEST(RobustMessages, RunNameLimitCountsCharacters) {
  TempDir t("ssim_name");
  std::string emoji;
  for (int i = 0; i < 128; ++i) emoji += "\xF0\x9F\x98\x80";  // U+1F600
  auto parse = [&](const std::string& name) {
    return parse_cli({"--gemm", "4,4,4", "--run-name", name, "--out", (t.path / "o").string()});
  };
  EXPECT_EQ(parse(emoji).hw.run_name, emoji);
  EXPECT_EQ(parse(std::string(128, 'r')).hw.run_name, std::string(128, 'r'));
  EXPECT_THROW(parse(emoji + "\xF0\x9F\x98\x80"), InputError);
  EXPECT_THROW(parse(std::string(129, 'r')), InputError);
}

// Keys read but not modelled say so in one note line when set to a non-default value.
TEST(RobustMessages, KeysNotModelledPrintANote) {
  TempDir t("ssim_note");
  const std::string out = (t.path / "o").string();
  auto notes_of = [](const std::vector<std::string>& notes) {
    std::string all;
    for (const std::string& n : notes) all += n + "\n";
    return all;
  };
  EXPECT_EQ(notes_of(parse_cli({"--gemm", "4,4,4", "--out", out}).notes), "");
  EXPECT_EQ(notes_of(parse_cli({"--gemm", "4,4,4", "--memory-banks", "4", "--out", out}).notes),
            "note: MemoryBanks 4: read but not modelled, no result depends on it (DRAM banks and "
            "trace addresses; docs/config.md)\n");
  write_file(t.path / "c.cfg", "[architecture_presets]\nIfmapOffset: 5\nMemoryBanks: 1\n");
  const std::string cfg_notes = notes_of(
      parse_cli({"--gemm", "4,4,4", "--config", (t.path / "c.cfg").string(), "--out", out}).notes);
  EXPECT_EQ(cfg_notes.rfind("note: IfmapOffset 5: read but not modelled", 0), 0u) << cfg_notes;
  const SweepSpec sw = parse_sweep_args(
      {"--gemm", "4,4,4", "--arrays", "4x4", "--memory-banks", "1,2", "--out", out});
  EXPECT_NE(notes_of(sw.notes).find("note: --memory-banks 1,2: MemoryBanks is read but not "
                                    "modelled; every value of this axis gives the same results"),
            std::string::npos)
      << notes_of(sw.notes);
}

// Out of memory anyway (here: a 40 MB address space; --gemm 1,1,1 runs in it): exit 1, one line,
// nothing written, and the advice never names the fidelity already in use.
TEST(RobustMessages, OutOfMemoryNeverAdvisesTheFidelityInUse) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no RLIMIT_AS run";
#endif
  const uint64_t limit = 40'000'000;
  TempDir t("ssim_oom");
  struct Case {
    std::vector<std::string> args;
    bool advises_fast;
  };
  const Case cases[] = {
      // 16384^3 on 128x128 plans 0.5 M steps up front (more than 40 MB); accepted by the
      // plan-size check. With bounded planning it may fit: then pick an input that does not.
      {{"--gemm", "16384,16384,16384", "--array", "128x128", "--fidelity", "fast"}, false},
      {{"--gemm", "16384,16384,16384", "--array", "128x128"}, false},  // fast by default
      {{"--gemm", "2048,2048,2048", "--array", "8x8", "--fidelity", "cycle"}, true},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", (t.path / "o").string()});
    const Outcome ok =
        run_binary({"--gemm", "1,1,1", "--out", (t.path / "small").string()}, t.path, 60, limit);
    ASSERT_EQ(ok.code, 0) << ok.err;  // the limit leaves room for a run
    const Outcome r = run_binary(args, t.path, 60, limit);
    EXPECT_EQ(r.code, 1) << describe(args) << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: out of memory while simulating", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("--fidelity fast") != std::string::npos, c.advises_fast) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(fs::exists(t.path / "o"));
  }
}

// A very long value is echoed cut with "...", in a flag and in a file, and the line still ends
// with what is allowed.
TEST(RobustMessages, LongValuesAreCut) {
  TempDir t("ssim_long");
  write_file(t.path / "t.csv", "Layer, M, N, K,\ng, 4, " + std::string(900 << 10, '9') + ", 4,\n");
  struct Case {
    std::vector<std::string> args;
    std::string head, tail;
  };
  for (const Case& c :
       {Case{{"--gemm", "4,4,4", "--dataflow", std::string(100000, 'x'), "--out", "res"},
             "error: --dataflow 'xxxxxxxx",
             "xxxx': expected os, ws or is\n"},
        Case{{"--workload", "t.csv", "--out", "res"},
             "error: t.csv:2: layer 'g': field 'N' is '99999999",
             "9999', expected a positive integer\n"}}) {
    const Outcome r = run_binary(c.args, t.path, 60);
    EXPECT_EQ(r.code, 2);
    EXPECT_LT(r.err.size(), 400u) << r.err.substr(0, 400);
    EXPECT_EQ(r.err.rfind(c.head, 0), 0u) << r.err.substr(0, 400);
    EXPECT_NE(r.err.find("..."), std::string::npos) << r.err.substr(0, 400);
    ASSERT_GE(r.err.size(), c.tail.size());
    EXPECT_EQ(r.err.substr(r.err.size() - c.tail.size()), c.tail) << r.err.substr(0, 400);
  }
}

// ---------------------------------------------------------------------------------------------
// One meaning per command line: defaults < config file < flags, and among flags by meaning, not
// position (docs/config.md, "Precedence").

TEST(RobustFlags, OrderOfFlagsNeverChangesTheConfig) {
  TempDir t("ssim_order");
  const std::string cfg = (t.path / "calc.cfg").string();
  write_file(cfg,
             "[architecture_presets]\nBandwidth: 2\n[run_presets]\nInterfaceBandwidth: CALC\n");
  std::vector<std::vector<std::string>> flags = {
      {"--bandwidth", "5"},      {"--array", "8x8"},
      {"--dram-latency", "7"},   {"--unlimited-bandwidth", "off"},
      {"--dram-bandwidth", "0"}, {"--config", cfg}};
  std::sort(flags.begin(), flags.end());
  std::set<std::string> configs, sweeps;
  int perms = 0;
  do {
    std::vector<std::string> args = {"--gemm", "64,64,64", "--out", (t.path / "o").string()};
    for (const auto& f : flags) args.insert(args.end(), f.begin(), f.end());
    const CliOptions o = parse_cli(args);
    // The file says CALC, a bandwidth flag says a bandwidth to model: flags win, USER.
    EXPECT_EQ(o.hw.interface_bandwidth, "USER") << describe(args);
    EXPECT_EQ(o.hw.bandwidth_words, 5) << describe(args);
    configs.insert(format_cfg(o.hw));
    args[0] = "--arrays";  // the same flags for a sweep: its description must not change either
    args[1] = "4x4,8x8";
    std::replace(args.begin(), args.end(), std::string("--array"), std::string("--dataflows"));
    std::replace(args.begin(), args.end(), std::string("8x8"), std::string("ws"));
    args.insert(args.begin(), {"--gemm", "64,64,64"});
    sweeps.insert(sweep_description_json(parse_sweep_args(args)));
    ++perms;
  } while (std::next_permutation(flags.begin(), flags.end()));
  EXPECT_EQ(perms, 720);
  EXPECT_EQ(configs.size(), 1u);
  EXPECT_EQ(sweeps.size(), 1u);
  // Before: --interface-bandwidth calc --bandwidth 5 ran USER, the reverse order CALC; now either
  // order is refused naming both flags.
  for (const auto& args :
       {std::vector<std::string>{"--interface-bandwidth", "calc", "--bandwidth", "5"},
        std::vector<std::string>{"--bandwidth", "5", "--interface-bandwidth", "calc"}}) {
    HwSpec hw;
    std::vector<std::pair<std::string, std::string>> given = {{args[0].substr(2), args[1]},
                                                              {args[2].substr(2), args[3]}};
    try {
      apply_hw_flags(hw, given);
      ADD_FAILURE() << "accepted:" << describe(args);
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--interface-bandwidth 'calc' and --bandwidth '5' "
                                            "contradict each other",
                                            0),
                0u)
          << e.what();
    }
  }
  // --interface-bandwidth user says which: the file's CALC goes, and the bandwidth is modelled.
  const CliOptions u = parse_cli({"--gemm", "4,4,4", "--config", cfg, "--interface-bandwidth",
                                  "user", "--out", (t.path / "o").string()});
  EXPECT_EQ(u.hw.interface_bandwidth, "USER");
  EXPECT_EQ(u.hw.bandwidth_words, 2);
  // With no flag the file decides.
  const CliOptions f =
      parse_cli({"--gemm", "4,4,4", "--config", cfg, "--out", (t.path / "o").string()});
  EXPECT_EQ(f.hw.interface_bandwidth, "CALC");
}

// ---------------------------------------------------------------------------------------------
// Output you can trust

// Every line of a CSV ends in '\n' and has the header's number of fields (RFC 4180 quoting; the
// SCALE-Sim files end every line with ", ", which counts as one more, empty, field).
::testing::AssertionResult csv_complete(const std::string& text) {
  if (text.empty() || text.back() != '\n') return ::testing::AssertionFailure() << "no final \\n";
  size_t header_fields = 0, lines = 0;
  size_t fields = 1;
  bool quoted = false;
  for (char c : text) {
    if (quoted) {
      if (c == '"') quoted = false;  // a doubled quote re-enters at once
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      ++fields;
    } else if (c == '\n') {
      if (lines == 0) header_fields = fields;
      if (fields != header_fields)
        return ::testing::AssertionFailure()
               << "line " << lines + 1 << " has " << fields << " fields, header " << header_fields;
      ++lines;
      fields = 1;
    }
  }
  if (lines < 2) return ::testing::AssertionFailure() << "no rows";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult json_complete(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.contains("totals") || !j.contains("canonical_kernels"))
      return ::testing::AssertionFailure() << "summary.json lacks totals or canonical_kernels";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
  return ::testing::AssertionSuccess();
}

std::map<std::string, std::string> read_folder(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const std::string& n : entries(dir)) files[n] = slurp(dir / n);
  return files;
}

// A network of `layers` GEMM layers of varied shapes (M, N, K from 1 to 200), fixed seed.
std::string gemm_network_yaml(int layers, uint64_t seed,
                              std::vector<std::array<int64_t, 3>>* shapes = nullptr) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dim(1, 200);
  std::ostringstream y;
  y << "name: generated\nlayers:\n";
  for (int i = 0; i < layers; ++i) {
    const int64_t M = dim(rng), N = dim(rng), K = dim(rng);
    if (shapes) shapes->push_back({M, N, K});
    y << "  - {name: g" << i << ", type: gemm, M: " << M << ", N: " << N << ", K: " << K << "}\n";
  }
  return y.str();
}

// Two runs into one --out: the second writes after the first has written all its files (the
// folder lock sweeps take), so the folder holds one run's files, never a mix. The first run
// waits 400 ms after each file; the second starts once the first's first file is there. Without
// the lock the second wrote all its files in that window and the first then overwrote the rest.
TEST(RobustOutput, TwoRunsIntoOneFolderNeverMix) {
  TempDir t("ssim_two");
  const std::vector<std::string> a = {"--gemm", "64,48,32", "--array", "8x8", "--quiet"};
  const std::vector<std::string> b = {"--gemm", "64,48,32", "--array", "16x16", "--quiet"};
  auto with_out = [](std::vector<std::string> args, const std::string& out) {
    args.insert(args.end(), {"--out", out});
    return args;
  };
  ASSERT_EQ(run_binary(with_out(a, "ref_a"), t.path, 120).code, 0);
  ASSERT_EQ(run_binary(with_out(b, "ref_b"), t.path, 120).code, 0);
  const auto ref_a = read_folder(t.path / "ref_a"), ref_b = read_folder(t.path / "ref_b");
  ASSERT_NE(ref_a.at("summary.json"), ref_b.at("summary.json"));

  setenv("SSIM_RUN_TEST_WRITE_DELAY_MS", "400", 1);
  const pid_t pa =
      testutil::spawn_binary(with_out(a, "run"), t.path, t.path / "a.out", t.path / "a.err");
  unsetenv("SSIM_RUN_TEST_WRITE_DELAY_MS");
  const auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(t.path / "run" / "COMPUTE_REPORT.csv") &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Outcome rb = run_binary(with_out(b, "run"), t.path, 120);
  const Outcome ra = testutil::wait_binary(pa, t.path / "a.out", t.path / "a.err", 120);
  EXPECT_EQ(ra.code, 0) << ra.err;
  EXPECT_EQ(rb.code, 0) << rb.err;
  const auto got = read_folder(t.path / "run");
  int from_a = 0, from_b = 0;
  for (const auto& [name, text] : got) {
    from_a += ref_a.count(name) && ref_a.at(name) == text;
    from_b += ref_b.count(name) && ref_b.at(name) == text;
  }
  EXPECT_TRUE(got == ref_b) << got.size() << " files: " << from_a << " from the first run, "
                            << from_b << " from the second";
}

// Kills the binary (SIGKILL) at random moments while it writes a large network's reports into a
// folder that holds a complete earlier run (a different array, so every file differs). After each
// kill every report must be complete and byte-equal to the old or to the new version; nothing but
// the reports and the killed run's temporaries (NAME.tmp.PID) may be there.
TEST(RobustOutput, KilledRunLeavesOldOrNewReports) {
  TempDir t("ssim_kill");
  write_file(t.path / "net.yaml", gemm_network_yaml(2000, 11));
  const std::vector<std::string> old_args = {"--workload", "../net.yaml", "--array", "16x16",
                                             "--out",      "run",         "--quiet"};
  const std::vector<std::string> new_args = {"--workload", "../net.yaml", "--array", "32x32",
                                             "--out",      "run",         "--quiet"};
  // The two versions, from complete runs.
  fs::create_directory(t.path / "old");
  fs::create_directory(t.path / "new");
  ASSERT_EQ(run_binary(old_args, t.path / "old").code, 0);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run_binary(new_args, t.path / "new").code, 0);
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto old_files = read_folder(t.path / "old" / "run");
  const auto new_files = read_folder(t.path / "new" / "run");
  ASSERT_EQ(old_files.size(), 6u);  // layers.csv, summary.json and SCALE-Sim's four
  for (const auto& [name, text] : new_files) {
    ASSERT_TRUE(old_files.count(name)) << name;
    ASSERT_NE(old_files.at(name), text) << name << " is the same in both versions";
    ASSERT_TRUE(name == "summary.json" ? json_complete(text) : csv_complete(text)) << name;
  }

  // A folder holding the old complete run, and a watch on it for files created or renamed in.
  auto prepare_work = [&](const fs::path& work) {
    fs::create_directories(work / "run");
    for (const auto& [name, text] : old_files) write_file(work / "run" / name, text);
    const int fd = inotify_init1(IN_CLOEXEC);
    if (fd >= 0) inotify_add_watch(fd, (work / "run").c_str(), IN_CREATE | IN_MOVED_TO);
    return fd;
  };
  // The names of the inotify events of `fd`, one at a time (a read may return several); waits
  // up to 30 s for the next, "" if none came.
  struct Events {
    int fd;
    std::deque<std::string> pending{};
    std::string next() {
      if (pending.empty()) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 30000) != 1) return "";
        alignas(inotify_event) char buf[8192];
        const ssize_t n = read(fd, buf, sizeof buf);
        for (ssize_t off = 0; off + ssize_t(sizeof(inotify_event)) <= n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
          pending.emplace_back(ev->len ? ev->name : "");
          off += ssize_t(sizeof(inotify_event) + ev->len);
        }
        if (pending.empty()) return "";
      }
      std::string name = pending.front();
      pending.pop_front();
      return name;
    }
  };
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };

  // How long the writes take here: from the first temporary to summary.json renamed into place.
  double window_ms = 0;
  {
    const fs::path work = t.path / "calibrate";
    const int fd = prepare_work(work);
    ASSERT_GE(fd, 0);
    const pid_t pid = testutil::spawn_binary(new_args, work, t.path / "stdout", t.path / "stderr");
    Events events{fd};
    ASSERT_FALSE(events.next().empty());
    const auto first = Clock::now();
    for (std::string name; (name = events.next()) != "summary.json" && !name.empty();) {
    }
    window_ms = ms_since(first);
    close(fd);
    EXPECT_EQ(testutil::wait_binary(pid, t.path / "stdout", t.path / "stderr").code, 0);
    EXPECT_EQ(read_folder(work / "run"), new_files);
    fs::remove_all(work);
  }

  std::mt19937_64 rng(2024);
  int seen_old = 0, seen_new = 0, seen_mixed = 0, temporaries = 0;
  const int kKills = 24;
  for (int i = 0; i < kKills; ++i) {
    const fs::path work = t.path / ("w" + std::to_string(i));
    const int fd = prepare_work(work);
    ASSERT_GE(fd, 0);
    const pid_t pid = testutil::spawn_binary(new_args, work, t.path / "stdout", t.path / "stderr");
    ASSERT_GT(pid, 0);
    // Odd kills land anywhere in the run. Even ones land while the files are being written: at
    // once after the k-th of the 12 events of the writes (6 temporaries created, 6 renamed into
    // place), or a random part of the writes' duration after the first.
    double delay_ms = 0;
    std::string when;
    if (i % 2) {
      delay_ms = std::uniform_real_distribution<double>(0, 1000 * run_s)(rng);
      when = "at " + std::to_string(delay_ms) + " ms";
    } else if (i % 4 == 0) {
      const int k = std::uniform_int_distribution<int>(1, 12)(rng);
      Events events{fd};
      for (int e = 0; e < k; ++e) events.next();
      when = "after write event " + std::to_string(k);
    } else {
      Events{fd}.next();
      delay_ms = std::uniform_real_distribution<double>(0, window_ms)(rng);
      when = std::to_string(delay_ms) + " ms after the first write event";
    }
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms));
    kill(pid, SIGKILL);
    close(fd);
    testutil::wait_binary(pid, t.path / "stdout", t.path / "stderr");

    int olds = 0, news = 0;
    for (const std::string& name : entries(work / "run")) {
      if (name.find(".tmp.") != std::string::npos) {
        EXPECT_EQ(name.substr(name.find(".tmp.") + 5), std::to_string(pid)) << name;
        ++temporaries;
        continue;
      }
      ASSERT_TRUE(new_files.count(name)) << "unexpected file " << name;
      const std::string text = slurp(work / "run" / name);
      EXPECT_TRUE(name == "summary.json" ? json_complete(text) : csv_complete(text))
          << name << " after a kill " << when;
      const bool is_old = text == old_files.at(name), is_new = text == new_files.at(name);
      EXPECT_TRUE(is_old || is_new) << name << " is neither the old nor the new version";
      olds += is_old;
      news += is_new;
    }
    EXPECT_EQ(olds + news, int(old_files.size()));
    (news == 0 ? seen_old : olds == 0 ? seen_new : seen_mixed) += 1;
    if (std::getenv("SSIM_TEST_VERBOSE"))
      std::cout << "kill " << i << " " << when << ": " << olds << " old, " << news << " new\n";
    fs::remove_all(work);
  }
  std::cout << "kills: " << kKills << ", reports all old: " << seen_old << ", all new: " << seen_new
            << ", some of each: " << seen_mixed << ", temporaries left: " << temporaries
            << " (one run " << run_s << " s, writing " << window_ms << " ms)\n";
}

// Every file of the run folder, summary.json and (when matplotlib is there) the figures and the
// HTML page included, is the same byte for byte when the same command runs again (in another
// folder, with the same --out).
TEST(RobustOutput, SameInputsGiveByteIdenticalReports) {
  const bool figures = std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0;
  const std::vector<std::vector<std::string>> commands = {
      {"--workload", "mlp", "--array", "16x16", "--dataflow", "is", "--out", "res"},
      {"--workload", "mobilenetv2", "--array", "16x16", "--dataflow", "os", "--out", "res"},
      {"--gemm", "40,30,20", "--array", "8x8", "--fidelity", "cycle", "--seed", "9", "--out",
       "res"},
  };
  for (std::vector<std::string> args : commands) {
    const bool report = figures && args[1] == "mlp";  // the figures of a small network
    if (report) args.push_back("--report");
    TempDir a("ssim_det_a"), b("ssim_det_b");
    const Outcome ra = run_binary(args, a.path), rb = run_binary(args, b.path);
    ASSERT_EQ(ra.code, 0) << ra.err;
    ASSERT_EQ(rb.code, 0) << rb.err;
    EXPECT_EQ(ra.out, rb.out);
    const auto fa = read_folder(a.path / "res"), fb = read_folder(b.path / "res");
    EXPECT_GE(fa.size(), 6u);
    if (report) {
      EXPECT_TRUE(fa.count("report.html") && fa.count("roofline.svg") && fa.count("roofline.png"));
    }
    ASSERT_EQ(fa.size(), fb.size()) << describe(args);
    for (const auto& [name, text] : fa) {
      ASSERT_TRUE(fb.count(name)) << name;
      EXPECT_TRUE(text == fb.at(name)) << name << " differs between two runs of" << describe(args);
    }
  }
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// CSV rows as maps, by header.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    if (header.empty()) {
      header = f;
      continue;
    }
    std::map<std::string, std::string> m;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i) m[header[i]] = f[i];
    rows.push_back(m);
  }
  return rows;
}

// A 65536^3 GEMM: 2^48 MACs, past 32 bits in every counter. Weight stationary, no fold overlap,
// all operands available (unlimited bandwidth): K and N are multiples of 256, so every fold is
// full (r = R, c = C) and costs T + 2R + C - 2 (docs/cycle-accounting.md); the folds stream
// sum(T) = M * (K / R) * (N / C) = 2^32 vectors in all, however the tiler cuts M. With 64 MiB
// buffers a tile holds whole rows of folds (with the default 512 KiB buffers the program has 2^24
// folds in 2^22 tiles and takes 8 s and 3.7 GB: bench/bench_counters.cpp).
TEST(RobustCounters, Gemm65536CubedOn256x256) {
  TempDir t("ssim_big");
  const Outcome r = run_binary({"--gemm",
                                "65536,65536,65536",
                                "--array",
                                "256x256",
                                "--dataflow",
                                "ws",
                                "--fidelity",
                                "fast",
                                "--ifmap-sram-kb",
                                "65536",
                                "--filter-sram-kb",
                                "65536",
                                "--ofmap-sram-kb",
                                "65536",
                                "--unlimited-bandwidth",
                                "on",
                                "--fold-overlap",
                                "off",
                                "--out",
                                "res",
                                "--quiet"},
                               t.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const uint64_t kMacs = uint64_t(1) << 48;
  const auto g = csv_rows(slurp(t.path / "res" / "gemm_results.csv"));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].at("macs"), "281474976710656");  // 2^48
  const int64_t folds = std::stoll(g[0].at("folds"));
  const int64_t cycles = std::stoll(g[0].at("total_cycles"));
  EXPECT_GE(folds, 256 * 256);
  EXPECT_EQ(folds % (256 * 256), 0);
  const int64_t sum_T = int64_t(1) << 32;
  EXPECT_EQ(cycles, sum_T + folds * (2 * 256 + 256 - 2));
  EXPECT_GE(cycles, sum_T + 65536 * (2 * 256 + 256 - 2));  // the fewest folds possible
  EXPECT_EQ(g[0].at("stall_cycles"), "0");

  const auto j = nlohmann::json::parse(slurp(t.path / "res" / "summary.json"));
  EXPECT_EQ(j["totals"]["macs"].get<uint64_t>(), kMacs);
  EXPECT_EQ(j["totals"]["flops"].get<uint64_t>(), 2 * kMacs);
  EXPECT_EQ(j["totals"]["cycles"].get<int64_t>(), cycles);
  EXPECT_LE(j["totals"]["utilization"].get<double>(), 1.0);
  const auto layers = csv_rows(slurp(t.path / "res" / "layers.csv"));
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].at("macs"), "281474976710656");
  EXPECT_EQ(layers[0].at("flops"), "562949953421312");
  EXPECT_EQ(layers[0].at("total_cycles"), std::to_string(cycles));
}

// The same GEMM with the DRAM channel modelled (10 words per cycle): the closed-form bounds.
// Lower: the array's own cycles (as above, with the fewest folds) and the DRAM time of reading A
// and B and writing C once. Upper: the compute of the folds it ran plus all its DRAM traffic,
// one after the other.
TEST(RobustCounters, Gemm65536CubedWithDramWithinBounds) {
  TempDir t("ssim_big");
  const Outcome r =
      run_binary({"--gemm", "65536,65536,65536", "--array", "256x256", "--dataflow", "ws",
                  "--fidelity", "fast", "--ifmap-sram-kb", "65536", "--filter-sram-kb", "65536",
                  "--ofmap-sram-kb", "65536", "--bandwidth", "10", "--out", "res", "--quiet"},
                 t.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto g = csv_rows(slurp(t.path / "res" / "gemm_results.csv"));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].at("macs"), "281474976710656");
  const int64_t folds = std::stoll(g[0].at("folds"));
  const int64_t cycles = std::stoll(g[0].at("total_cycles"));
  const auto layers = csv_rows(slurp(t.path / "res" / "layers.csv"));
  const double bytes = std::stod(layers.at(0).at("dram_read_bytes")) +
                       std::stod(layers.at(0).at("dram_write_bytes"));
  const double once = 3.0 * double(int64_t(1) << 32);  // A, B read and C written once, 1 B each
  EXPECT_GE(bytes, once);
  const double sum_T = double(int64_t(1) << 32);
  EXPECT_GE(double(cycles), sum_T + 65536.0 * 766);
  EXPECT_GE(double(cycles), once / 10);
  EXPECT_LE(double(cycles), sum_T + double(folds) * 766 + bytes / 10 + 1);
}

// 10,000 GEMM layers of random shapes on a 32 x 32 array, weight stationary, no fold overlap,
// unlimited bandwidth: every layer's cycles in closed form. A layer M x N x K has
// ceil(K/32) * ceil(N/32) folds, each streaming T = M vectors and costing r + T + R + c - 2 (r the
// K-rows and c the N-columns it uses), so its total is
//   ceil(N/32) * K + ceil(K/32) * N + ceil(K/32) * ceil(N/32) * (M + 30).
TEST(RobustCounters, TenThousandLayerNetwork) {
  TempDir t("ssim_10k");
  std::vector<std::array<int64_t, 3>> shapes;
  write_file(t.path / "net.yaml", gemm_network_yaml(10000, 7, &shapes));
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome r = run_binary(
      {"--workload", "net.yaml", "--array", "32x32", "--dataflow", "ws", "--fidelity", "fast",
       "--fold-overlap", "off", "--unlimited-bandwidth", "on", "--out", "res", "--quiet"},
      t.path);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.code, 0) << r.err;
  std::cout << "10,000 layers in " << s << " s\n";
  const auto rows = csv_rows(slurp(t.path / "res" / "layers.csv"));
  ASSERT_EQ(rows.size(), 10000u);
  uint64_t macs = 0;
  int64_t cycles = 0;
  int wrong = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto [M, N, K] = shapes[i];
    const int64_t nk = ceil_div(K, 32), nn = ceil_div(N, 32);
    const int64_t expect = nn * K + nk * N + nk * nn * (M + 30);
    macs += uint64_t(M * N * K);
    cycles += expect;
    if (rows[i].at("total_cycles") != std::to_string(expect) && ++wrong <= 5)
      ADD_FAILURE() << "layer " << i << " (" << M << "," << N << "," << K
                    << "): " << rows[i].at("total_cycles") << " cycles, closed form " << expect;
    if (rows[i].at("macs") != std::to_string(M * N * K) && ++wrong <= 5)
      ADD_FAILURE() << "layer " << i << " macs " << rows[i].at("macs");
  }
  EXPECT_EQ(wrong, 0);
  const auto j = nlohmann::json::parse(slurp(t.path / "res" / "summary.json"));
  EXPECT_EQ(j["workload"]["layers"].get<int64_t>(), 10000);
  EXPECT_EQ(j["workload"]["ops"].get<int64_t>(), 10000);
  EXPECT_EQ(j["totals"]["macs"].get<uint64_t>(), macs);
  EXPECT_EQ(j["totals"]["flops"].get<uint64_t>(), 2 * macs);
  EXPECT_EQ(j["totals"]["cycles"].get<int64_t>(), cycles);
}

}  // namespace
}  // namespace ssim
