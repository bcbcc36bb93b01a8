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

#include "sim/cli/cli.hpp"
#include "sim/spec/config.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/sim/robust_cases.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using namespace robust;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

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
  // Refused up front, not after a run (the limit cases read a 262,145-layer file first: about
  // 1 s in the release build, and AddressSanitizer slows the reading about five times).
  EXPECT_LT(s, kSanitized ? 20.0 : 5.0) << describe(c.args);
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
        // A GEMM run whole is planned lazily (its steps made as it runs, docs/memory-system.md):
        // its limit is the controller's 32-bit step numbers. OS on 1 x 1 with 1 KiB buffers:
        // 8192 x 16384 folds of 64 segments = 8,589,934,592 steps (values 1.8 GiB, allowed).
        // (At fast fidelity it would run by its periodic groups, sim/run/periodic_run.hpp.)
        BadCase{
            "GemmPlanAboveTheStepLimit",
            {"--gemm", "8192,16384,32768", "--array", "1x1", "--dataflow", "os", "--ifmap-sram-kb",
             "1", "--filter-sram-kb", "1", "--ofmap-sram-kb", "1", "--fidelity", "cycle"},
            {"error: GEMM 'gemm' (M,N,K = 8192,16384,32768) would be planned as up to "
             "8589934592 program steps, more than the 2147483647 one op may run (the "
             "controller numbers its steps in 32 bits); use larger SRAM buffers (fewer, "
             "larger blocks), a larger array, or a smaller layer"}},
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
  EXPECT_EQ(parse(emoji).hw->run_name, emoji);
  EXPECT_EQ(parse(std::string(128, 'r')).hw->run_name, std::string(128, 'r'));
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
            "trace addresses without --traces; docs/config.md)\n");
  write_file(t.path / "c.cfg", "[architecture_presets]\nIfmapOffset: 5\nMemoryBanks: 1\n");
  const std::string cfg_notes = notes_of(
      parse_cli({"--gemm", "4,4,4", "--config", (t.path / "c.cfg").string(), "--out", out}).notes);
  EXPECT_EQ(cfg_notes.rfind("note: IfmapOffset 5: read but not modelled", 0), 0u) << cfg_notes;
  // With --traces the offsets place the trace addresses: only MemoryBanks is named.
  EXPECT_EQ(notes_of(parse_cli({"--gemm", "4,4,4", "--config", (t.path / "c.cfg").string(),
                                "--traces", "--out", out})
                         .notes),
            "");
  EXPECT_EQ(notes_of(parse_cli({"--gemm", "4,4,4", "--config", (t.path / "c.cfg").string(),
                                "--memory-banks", "4", "--traces", "--out", out})
                         .notes),
            "note: MemoryBanks 4: read but not modelled, no result depends on it (DRAM "
            "banks; docs/config.md)\n");
  const SweepSpec sw = parse_sweep_args(
      {"--gemm", "4,4,4", "--arrays", "4x4", "--memory-banks", "1,2", "--out", out});
  EXPECT_NE(notes_of(sw.notes).find("note: --memory-banks 1,2: MemoryBanks is read but not "
                                    "modelled; every value of this axis gives the same results"),
            std::string::npos)
      << notes_of(sw.notes);
}

// Out of memory anyway (here: a 40 or 20 MB address space; --gemm 1,1,1 runs in it): exit 1, one
// line, nothing written, and the advice never names the fidelity already in use.
TEST(RobustMessages, OutOfMemoryNeverAdvisesTheFidelityInUse) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no RLIMIT_AS run";
#endif
  TempDir t("ssim_oom");
  struct Case {
    std::vector<std::string> args;
    bool advises_fast;
    uint64_t limit = 40'000'000;
  };
  const Case cases[] = {
      {{"--gemm", "2048,2048,2048", "--array", "8x8", "--fidelity", "cycle"}, true},
      // The roofline's kernels run in fast fidelity whatever --fidelity says, and are sized by
      // the hardware, not the workload: the advice is to leave out --report. (Their head
      // programs fit in 25 MB on 2x2, the run without them in 20.)
      {{"--gemm", "1,1,1", "--array", "2x2", "--fidelity", "cycle", "--report"}, false, 20'000'000},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", (t.path / "o").string()});
    const Outcome ok =
        run_binary({"--gemm", "1,1,1", "--out", (t.path / "small").string()}, t.path, 60, c.limit);
    ASSERT_EQ(ok.code, 0) << ok.err;  // the limit leaves room for a run
    const Outcome r = run_binary(args, t.path, 60, c.limit);
    EXPECT_EQ(r.code, 1) << describe(args) << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: out of memory while simulating", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("--fidelity fast") != std::string::npos, c.advises_fast) << r.err;
    const bool report = std::find(args.begin(), args.end(), "--report") != args.end();
    EXPECT_EQ(r.err.find("leave out --report") != std::string::npos, report) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(fs::exists(t.path / "o"));
  }
}

// A conv of 1 M output pixels on 128x128 runs whole (not by periodic groups): its program was
// held, about 90 MB, and ran out of memory in a 40 MB address space until session 12. It is now
// planned lazily (docs/memory-system.md, "Planning lazily") and runs in it.
TEST(RobustMessages, ALargeConvRunsInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no RLIMIT_AS run";
#endif
  TempDir t("ssim_lazy_conv");
  const auto conv = t.path / "conv.csv";
  write_file(conv,
             "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
             "Num Filter, Strides,\nbig, 1026, 1026, 3, 3, 256, 512, 1,\n");
  for (const char* fidelity : {"fast", ""}) {  // (fast by default)
    std::vector<std::string> args = {"--workload", conv.string(), "--array",
                                     "128x128",    "--out",       (t.path / "o").string()};
    if (*fidelity) args.insert(args.end(), {"--fidelity", fidelity});
    const Outcome r = run_binary(args, t.path, 120, 40'000'000);
    EXPECT_EQ(r.code, 0) << describe(args) << ": " << r.err;
    EXPECT_TRUE(fs::exists(t.path / "o" / "layers.csv"));
    fs::remove_all(t.path / "o");
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

}  // namespace
}  // namespace ssim
