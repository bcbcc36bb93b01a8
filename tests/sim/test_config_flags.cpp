// Tests of the hardware flags, the in-process command-line parser, the bandwidth keys and SCALE-Sim
// files as they are (the .cfg reader itself: test_config.cpp).
// Expected values come from the test files' own text (tests/data/config/) or are written here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/entry.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "tests/sim/config_test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using namespace configtest;

// ---------------------------------------------------------------------------------------------
// Hardware flags

TEST(ConfigTest, HardwareFlagsSetTheirFields) {
  HwSpec h;
  apply_hw_flag(h, "array", "12x14");
  EXPECT_EQ(h.array_rows, 12);
  EXPECT_EQ(h.array_cols, 14);
  apply_hw_flag(h, "array", "3X5");
  EXPECT_EQ(h.array_rows, 3);
  EXPECT_EQ(h.array_cols, 5);
  apply_hw_flag(h, "dataflow", "os");
  EXPECT_EQ(h.dataflow, Dataflow::OS);
  apply_hw_flag(h, "fold-overlap", "on");
  EXPECT_TRUE(h.fold_overlap);
  apply_hw_flag(h, "fidelity", "cycle");
  EXPECT_EQ(h.fidelity, Fidelity::Cycle);
  apply_hw_flag(h, "bandwidth", "16");
  EXPECT_EQ(h.bandwidth_words, 16);
  apply_hw_flag(h, "dram-bandwidth", "64");
  EXPECT_EQ(h.dram_bytes_per_cycle, 64);
  apply_hw_flag(h, "dram-latency", "100");
  EXPECT_EQ(h.dram_latency, 100);
  apply_hw_flag(h, "clock-ghz", "0.94");
  EXPECT_EQ(h.clock_ghz, 0.94);
  apply_hw_flag(h, "ifmap-sram-kb", "11");
  apply_hw_flag(h, "filter-sram-kb", "22");
  apply_hw_flag(h, "ofmap-sram-kb", "33");
  EXPECT_EQ(h.ifmap_sram_kb, 11);
  EXPECT_EQ(h.filter_sram_kb, 22);
  EXPECT_EQ(h.ofmap_sram_kb, 33);
  apply_hw_flag(h, "run-name", "flags");
  EXPECT_EQ(h.run_name, "flags");
}

TEST(ConfigTest, BadHardwareFlagsNameFlagAndValue) {
  const std::string dims = "rows and columns must be integers from 1 to 65536 (e.g. 32x32)";
  const std::vector<std::pair<std::pair<const char*, const char*>, std::string>> cases = {
      {{"array", "0x4"}, "--array '0x4': " + dims},
      {{"array", "32"}, "--array '32': " + dims},
      {{"array", "4x"}, "--array '4x': " + dims},
      {{"array", "x4"}, "--array 'x4': " + dims},
      {{"array", "4x4x4"}, "--array '4x4x4': " + dims},
      {{"array", "65537x1"}, "--array '65537x1': " + dims},
      {{"array", "-4x4"}, "--array '-4x4': " + dims},
      {{"dataflow", "rs"}, "--dataflow 'rs': expected os, ws or is"},
      {{"fidelity", "exact"}, "--fidelity 'exact': expected cycle or fast"},
      {{"fold-overlap", "2"}, "--fold-overlap '2': expected on, off, true, false, 1 or 0"},
      {{"dram-latency", "-3"}, "--dram-latency '-3': expected an integer from 0 to 1000000000"},
      {{"ifmap-sram-kb", "0"}, "--ifmap-sram-kb '0': expected an integer from 1 to 1073741824"},
      {{"clock-ghz", "fast"},
       "--clock-ghz 'fast': expected a number greater than 0 and at most 1000"},
      {{"bandwidth", "0"},
       "--bandwidth '0': expected a number greater than 0 and at most 1000000000"},
  };
  for (const auto& [flag, want] : cases) {
    HwSpec h;
    EXPECT_EQ(error_of([&] { apply_hw_flag(h, flag.first, flag.second); }), want);
  }
}

TEST(ConfigTest, FlagDefaultsAreTheDefaultSpec) {
  const HwSpec d = default_hardware();  // --help shows the defaults without --config
  const std::vector<std::pair<std::string, std::string>> want = {
      {"array", std::to_string(d.array_rows) + "x" + std::to_string(d.array_cols)},
      {"dataflow", to_string(d.dataflow)},
      {"fidelity", to_string(d.fidelity)},
      {"fold-overlap", d.fold_overlap ? "on" : "off"},
      {"dram-latency", std::to_string(d.dram_latency)},
      {"ofmap-sram-kb", std::to_string(d.ofmap_sram_kb)},
      {"run-name", d.run_name}};
  for (const auto& [name, def] : want) {
    bool found = false;
    for (const HwFlagInfo& f : hw_flags()) {
      if (f.name != name) continue;
      found = true;
      EXPECT_EQ(f.default_value, def) << name;
      // Each flag accepts its own default.
      HwSpec h;
      EXPECT_EQ(error_of([&] { apply_hw_flag(h, f.name, f.default_value); }), "") << name;
    }
    EXPECT_TRUE(found) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// The command line, in-process (the binary itself is tested in test_cli.cpp)

TEST(ConfigTest, FlagsOverrideTheFileWhereverTheyStand) {
  const std::string cfg = kDataDir + "colon_form.cfg";  // 12x14, is, Bandwidth 25
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--array", "16x8", "--config", cfg, "--dataflow", "ws", "--print-config"},
           {"--config", cfg, "--array", "16x8", "--dataflow=ws", "--print-config"}}) {
    const CliOptions o = parse_cli(args);
    EXPECT_EQ(o.action, CliAction::PrintConfig);
    EXPECT_EQ(o.hw->array_rows, 16);
    EXPECT_EQ(o.hw->array_cols, 8);
    EXPECT_EQ(o.hw->dataflow, Dataflow::WS);
    EXPECT_EQ(o.hw->bandwidth_words, 25);  // from the file
    EXPECT_EQ(o.hw->ofmap_sram_kb, 27);    // from the file
    EXPECT_EQ(o.hw->run_name, "colon_form_12x14");
  }
}

TEST(ConfigTest, CliResolvesGemmSeedAndDefaultOutputFolder) {
  const CliOptions o = parse_cli(
      {"--gemm", "64, 32,16", "--seed", "18446744073709551615", "--run-name", "my_run", "--quiet"});
  EXPECT_EQ(o.action, CliAction::Run);
  ASSERT_TRUE(o.gemm.has_value());
  EXPECT_EQ(o.gemm->M, 64);
  EXPECT_EQ(o.gemm->N, 32);
  EXPECT_EQ(o.gemm->K, 16);
  EXPECT_EQ(o.seed, 18446744073709551615ull);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.out_dir, "results/my_run");
  EXPECT_EQ(parse_cli({"--gemm", "1,1,1", "--out", "elsewhere"}).out_dir, "elsewhere");
}

TEST(ConfigTest, CliErrorsAreOneLineNamingTheFlag) {
  auto cli_error = [](const std::vector<std::string>& args) {
    return error_of([&] { parse_cli(args); });
  };
  EXPECT_EQ(cli_error({"--gemm", "1,2"}),
            "--gemm '1,2': expected M,N,K, three integers from 1 to 1048576 (e.g. 512,512,512)");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--seed", "-1"}),
            "--seed '-1': expected an integer from 0 to 18446744073709551615");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--seed", "18446744073709551616"}),
            "--seed '18446744073709551616': expected an integer from 0 to 18446744073709551615");
  EXPECT_EQ(cli_error({"--array", "8x8"}),
            "nothing to run: give --gemm M,N,K or --workload NAME|FILE (see --help)");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--array", "4x4", "--array", "8x8"}),
            "option '--array' given more than once");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "extra"}),
            "unexpected argument 'extra': flags start with -- (see --help)");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--arr", "4x4"}),
            "unrecognised option '--arr' (see --help)");
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--out", "--quiet"}),
            "the required argument for option '--out' is missing (got '--quiet', a flag)");
  // A bad file and a bad flag: the message names the file's line.
  EXPECT_EQ(cli_error({"--gemm", "4,4,4", "--config", kDataDir + "bad_value.cfg"}),
            kDataDir +
                "bad_value.cfg:6: key 'ArrayWidth' value 'abc': expected an integer from "
                "1 to 65536");
}

TEST(ConfigTest, HelpAndVersionNeedNothingElse) {
  EXPECT_EQ(parse_cli({"--help"}).action, CliAction::Help);
  EXPECT_EQ(parse_cli({"--version"}).action, CliAction::Version);
  EXPECT_EQ(cli_version(), std::string("systolic-sim ") + SSIM_VERSION);
}

TEST(ConfigTest, DocsShowTheDefaultConfigAndEveryFlag) {
  std::ifstream f(std::string(SSIM_SOURCE_DIR) + "/docs/config.md");
  std::stringstream doc;
  doc << f.rdbuf();
  // The default hardware (no --config) as format_cfg writes it, after its two comment lines.
  std::string cfg = format_cfg(default_hardware());
  for (int i = 0; i < 2; ++i) cfg.erase(0, cfg.find('\n') + 1);
  EXPECT_NE(doc.str().find(cfg), std::string::npos) << "docs/config.md lacks:\n" << cfg;
  for (const HwFlagInfo& fl : hw_flags()) {
    EXPECT_NE(doc.str().find("| `--" + fl.name + "` |"), std::string::npos) << fl.name;
  }
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

TEST(ConfigTest, TheDefaultHardwareIsTheEdgePreset) {
  // Without --config the hardware is the named design point models/presets/edge-32x32.cfg; the
  // file and the built-in default must not drift apart.
  const HwSpec preset = parse_cfg_file(SSIM_SOURCE_DIR "/models/presets/edge-32x32.cfg", HwSpec{});
  EXPECT_EQ(format_cfg(preset), format_cfg(default_hardware()));
  // It differs from a config file's defaults (SCALE-Sim's meaning of a missing key) only in the
  // bus width and fold overlap, as docs/config.md says.
  HwSpec scalesim_meaning;
  scalesim_meaning.bandwidth_words = 16;
  scalesim_meaning.fold_overlap = true;
  EXPECT_EQ(format_cfg(scalesim_meaning), format_cfg(default_hardware()));
  EXPECT_EQ(HwSpec{}.bandwidth_words, 10);
  EXPECT_FALSE(HwSpec{}.fold_overlap);
  // The command line: no --config gives the preset; an empty config file gives HwSpec's values.
  std::ostringstream out, err;
  ASSERT_EQ(run_command({"--print-config"}, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), format_cfg(default_hardware()));
  const std::string empty = ::testing::TempDir() + "/empty.cfg";
  std::ofstream(empty) << "[general]\nrun_name = systolic_sim_run\n";
  std::ostringstream out2;
  ASSERT_EQ(run_command({"--config", empty, "--print-config"}, out2, err), 0) << err.str();
  EXPECT_EQ(out2.str(), format_cfg(HwSpec{}));
}

TEST(ConfigTest, InterfaceBandwidthCalcIsStallFreeAsInScaleSim) {
  // SCALE-Sim's CALC runs without DRAM stalls; USER models the given Bandwidth.
  const std::string calc = "[general]\nrun_name = r\n[run_presets]\nInterfaceBandwidth: CALC\n";
  HwSpec hw = parse_cfg_text(calc, "calc.cfg", HwSpec{});
  EXPECT_TRUE(hw.dram_stall_free());
  // A bandwidth given on the command line is one to model.
  apply_hw_flag(hw, "bandwidth", "16");
  EXPECT_FALSE(hw.dram_stall_free());
  EXPECT_EQ(hw.interface_bandwidth, "USER");
  hw = parse_cfg_text(calc, "calc.cfg", HwSpec{});
  apply_hw_flag(hw, "dram-bandwidth", "64");
  EXPECT_FALSE(hw.dram_stall_free());
  // The default models the channel; UnlimitedBandwidth is the other way to be stall-free.
  EXPECT_FALSE(HwSpec{}.dram_stall_free());
  HwSpec u;
  apply_hw_flag(u, "unlimited-bandwidth", "on");
  EXPECT_TRUE(u.dram_stall_free());
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

TEST(ConfigTest, DramBandwidthInGBPerSecondAtTheClock) {
  // 64 GB/s at 0.8 GHz is 80 bytes per cycle, whatever order the keys come in.
  HwSpec hw =
      parse_cfg_text("[systolic_sim]\nDramBandwidthGBs = 64\nClockGHz = 0.8\n", "g.cfg", HwSpec{});
  EXPECT_DOUBLE_EQ(hw.dram_bw(), 80.0);
  // It wins over bytes per cycle and SCALE-Sim's words per cycle.
  apply_hw_flag(hw, "dram-bandwidth", "16");
  apply_hw_flag(hw, "bandwidth", "4");
  EXPECT_DOUBLE_EQ(hw.dram_bw(), 80.0);
  apply_hw_flag(hw, "dram-gbps", "0");
  EXPECT_DOUBLE_EQ(hw.dram_bw(), 16.0);
  EXPECT_THROW(apply_hw_flag(hw, "dram-gbps", "-1"), InputError);
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// ---------------------------------------------------------------------------------------------
// SCALE-Sim's files as its users have them (v2 and v3)

TEST(ConfigScaleSimFiles, CrOnlyLineEndsAndContinuationLines) {
  const HwSpec h = parse_cfg_text(
      "[general]\rrun_name = a\r[architecture_presets]\rArrayHeight: 8\rArrayWidth: 4\r", "t.cfg");
  EXPECT_EQ(h.run_name, "a");
  EXPECT_EQ(h.array_rows, 8);
  EXPECT_EQ(h.array_cols, 4);
  // configparser: an indented line right after a key continues its value (a number cannot).
  const std::string e = cfg_error("[architecture_presets]\nArrayHeight: 8\n  16\nArrayWidth: 4\n");
  EXPECT_EQ(e.rfind("t.cfg:2: key 'ArrayHeight' value '8 16'", 0), 0u) << e;
  // An indented key after a header or a blank line is a key.
  EXPECT_EQ(parse_cfg_text("[architecture_presets]\n  ArrayHeight: 8\n\n  ArrayWidth: 2\n", "t.cfg")
                .array_cols,
            2);
}

TEST(ConfigScaleSimFiles, BandwidthListUsesTheFirstWithANote) {
  CfgExtras x;
  const HwSpec h = parse_cfg_text("[architecture_presets]\nBandwidth : 10,20\n", "b.cfg", {}, &x);
  EXPECT_EQ(h.bandwidth_words, 10);
  ASSERT_EQ(x.notes.size(), 1u);
  EXPECT_EQ(x.notes[0],
            "note: b.cfg: Bandwidth 10,20: a list; the first value is used, as in "
            "SCALE-Sim");
  EXPECT_NE(cfg_error("[architecture_presets]\nBandwidth: x,20\n").find("t.cfg:2: key 'Bandwidth'"),
            std::string::npos);
}

TEST(ConfigScaleSimFiles, V3KeysLoadAndAreNamedInOneNote) {
  CfgExtras x;
  const HwSpec h = parse_cfg_text(
      "[architecture_presets]\nArrayHeight: 16\nReadRequestBuffer: 32\nWriteRequestBuffer: 32\n"
      "OnChipMemoryBanks: 4\n[layout]\nIfmapCustomLayout: False\n[sparsity]\nSparsitySupport: "
      "false\n",
      "v3.cfg", {}, &x);
  EXPECT_EQ(h.array_rows, 16);
  ASSERT_EQ(x.notes.size(), 1u);
  EXPECT_EQ(x.notes[0],
            "note: v3.cfg: SCALE-Sim v3 settings not modelled, ignored: ReadRequestBuffer, "
            "WriteRequestBuffer, OnChipMemoryBanks, [layout] IfmapCustomLayout, [sparsity] "
            "SparsitySupport");
  // A v3 count we cannot read: file:line and the key.
  const std::string e = cfg_error("[architecture_presets]\nReadRequestBuffer: many\n");
  EXPECT_EQ(e.rfind("t.cfg:2: key 'ReadRequestBuffer' value 'many'", 0), 0u) << e;
  // A typo stays an error.
  EXPECT_NE(cfg_error("[architecture_presets]\nReadRequestBufer: 3\n").find("unknown key"),
            std::string::npos);
}

TEST(ConfigScaleSimFiles, TopologyCsvLocIsRelativeToTheConfig) {
  TempDir t;
  const std::string cfg = t.write("s.cfg", "[network_presets]\nTopologyCsvLoc: topo.csv\n");
  CfgExtras x;
  (void)parse_cfg_file(cfg, {}, &x);
  EXPECT_EQ(x.topology, (t.path / "topo.csv").string());
  EXPECT_NE(cfg_error("[network_presets]\nTopology: a.csv\n").find("expected TopologyCsvLoc"),
            std::string::npos);
}

TEST(ConfigTest, EveryPresetParsesAndValidates) {
  // Every preset a user can name with --config loads without notes or errors; Gemmini's default
  // configuration has the facts its file cites (16 x 16, 256 KiB scratchpad, 64 KiB accumulator,
  // 16 bytes per cycle): a ridge of 2 x 256 / 16 = 32 ops per byte.
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(SSIM_SOURCE_DIR "/models/presets")) {
    if (e.path().extension() != ".cfg") continue;
    ++n;
    const HwSpec hw = parse_cfg_file(e.path().string(), HwSpec{});
    EXPECT_NO_THROW((void)ValidHw(hw)) << e.path();
    if (e.path().stem() == "gemmini") {
      EXPECT_EQ(hw.array_rows * hw.array_cols, 256);
      EXPECT_EQ(hw.ifmap_sram_kb + hw.filter_sram_kb, 256);
      EXPECT_EQ(hw.ofmap_sram_kb, 64);
      EXPECT_DOUBLE_EQ(2.0 * hw.array_rows * hw.array_cols / hw.dram_bw(), 32.0);
    }
  }
  EXPECT_GE(n, 5);
}

}  // namespace
}  // namespace ssim
