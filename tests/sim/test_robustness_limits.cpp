// Robustness of the systolic-sim binary, continued (test_robustness.cpp): bad input that names an
// unknown dataflow, layer type or key, duplicates, outputs that are not positive; limits (arrays
// too large for memory, SRAM too small for a tile, zero bandwidth, an output folder that cannot
// be written); a damaged sweep folder; what summary.json records to rerun a run.
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
        // 262,145 one-line layers (a 64 MiB topology of 4.2 M layers ended in std::bad_alloc
        // under a 4 GB address space).
        BadCase{"TopologyTooManyLayers",
                workload("t.csv"),
                {"error: t.csv:262146: more than the 262144 layers a workload may hold (a run "
                 "keeps a few KB per op); split it into several runs"},
                {{"t.csv",
                  [] {
                    std::string t = "Layer, M, N, K,\n";
                    for (int i = 0; i <= 262144; ++i) t += "g" + std::to_string(i) + ",1,1,1,\n";
                    return t;
                  }()}}},
        // Aliases make a short file of many layers.
        BadCase{"NetworkTooManyLayers",
                workload("n.yaml"),
                {"error: n.yaml:3: 'layers' holds 262145 layers: more than the 262144 layers a "
                 "workload may hold"},
                {{"n.yaml",
                  [] {
                    std::string t = kYamlHead + "  - &a {name: g, type: gemm, M: 1, N: 1, K: 1}\n";
                    for (int i = 0; i < 262144; ++i) t += "  - *a\n";
                    return t;
                  }()}}},
        // An attention layer with its projections lowers to 7 ops (Q, K, V, Q K^T, softmax,
        // P V, out): the 37,450th ends at op 262,150.
        BadCase{"NetworkTooManyOps",
                workload("n.yaml"),
                {"error: n.yaml: network 'n': its layer 37449 'a37449' ends at op 262150, more "
                 "than the 262144 ops a workload may hold"},
                {{"n.yaml",
                  [] {
                    std::string t = kYamlHead;
                    for (int i = 0; i < 37450; ++i)
                      t += "  - {name: a" + std::to_string(i) +
                           ", type: attention, seq: 1, d_model: 8, heads: 1}\n";
                    return t;
                  }()}}},
        // 1000 clocks x 500 latencies of a 10-op network: 5,000,000 rows of sweep_layers.csv.
        BadCase{"SweepLayerRowsAboveTheLimit",
                [] {
                  std::string clocks, latencies;
                  for (int i = 1; i <= 1000; ++i) clocks += (i > 1 ? "," : "") + std::to_string(i);
                  for (int i = 0; i < 500; ++i) latencies += (i ? "," : "") + std::to_string(i);
                  return std::vector<std::string>{"sweep",       "--workload", "n.yaml",
                                                  "--clock-ghz", clocks,       "--dram-latency",
                                                  latencies,     "--out",      "res"};
                }(),
                {"error: the sweep would write 5000000 rows of sweep_layers.csv (points x ops), "
                 "more than the 4194304 a sweep holds in memory"},
                {{"n.yaml",
                  [] {
                    std::string t = kYamlHead;
                    for (int i = 0; i < 10; ++i)
                      t += "  - {name: g" + std::to_string(i) + ", type: gemm, M: 4, N: 4, K: 4}\n";
                    return t;
                  }()}}},
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

// A topology row of 8 M commas (extra empty columns, ignored) is read in bounded memory: every
// field a string took 32 bytes each, 256 MB for this 8 MB file (std::bad_alloc under 100 MB).
TEST(RobustLimitsMemory, WideTopologyRowInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no RLIMIT_AS run";
#endif
  TempDir t("ssim_wide");
  write_file(t.path / "t.csv", "Layer, M, N, K,\ng,4,4,4" + std::string(8 << 20, ',') + "\n");
  const Outcome r =
      run_binary({"--workload", "t.csv", "--out", "res", "--quiet"}, t.path, 60, 100'000'000);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(t.path / "res" / "layers.csv"));
}

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

}  // namespace
}  // namespace ssim
