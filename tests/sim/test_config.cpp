// Tests of the .cfg reader: the SCALE-Sim format, bad values and structure, round trips, validation
// (the hardware flags and the command line: test_config_flags.cpp).
// Expected values come from the test files' own text (tests/data/config/) or are written here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "tests/sim/config_test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using namespace configtest;

// ---------------------------------------------------------------------------------------------
// SCALE-Sim's format

TEST(ConfigTest, ColonFormWithPaddedValuesReadsEveryKey) {
  // The values below are the ones written in tests/data/config/colon_form.cfg.
  const HwSpec h = parse_cfg_file(kDataDir + "colon_form.cfg");
  EXPECT_EQ(h.run_name, "colon_form_12x14");
  EXPECT_EQ(h.array_rows, 12);
  EXPECT_EQ(h.array_cols, 14);
  EXPECT_EQ(h.ifmap_sram_kb, 108);
  EXPECT_EQ(h.filter_sram_kb, 54);
  EXPECT_EQ(h.ofmap_sram_kb, 27);
  EXPECT_EQ(h.ifmap_offset, 0);
  EXPECT_EQ(h.filter_offset, 3000000);
  EXPECT_EQ(h.ofmap_offset, 7000000);
  EXPECT_EQ(h.dataflow, Dataflow::IS);
  EXPECT_EQ(h.bandwidth_words, 25.0);
  EXPECT_EQ(h.memory_banks, 2);
  EXPECT_EQ(h.interface_bandwidth, "USER");
  // Keys the file does not set keep the base's values.
  const HwSpec d;
  EXPECT_EQ(h.clock_ghz, d.clock_ghz);
  EXPECT_EQ(h.vector_lanes, d.vector_lanes);
  EXPECT_EQ(h.fidelity, d.fidelity);
}

TEST(ConfigTest, EqualsFormGivesTheSameSpecAsColonForm) {
  expect_same_spec(parse_cfg_file(kDataDir + "equals_form.cfg"),
                   parse_cfg_file(kDataDir + "colon_form.cfg"));
}

TEST(ConfigTest, OwnSectionSetsEveryOwnKey) {
  const HwSpec h = parse_cfg_file(kDataDir + "systolic_sim.cfg");
  EXPECT_EQ(h.run_name, "ours_8x16");
  EXPECT_EQ(h.array_rows, 8);
  EXPECT_EQ(h.array_cols, 16);
  EXPECT_EQ(h.dataflow, Dataflow::OS);
  EXPECT_EQ(h.clock_ghz, 0.75);
  EXPECT_EQ(h.dram_bytes_per_cycle, 12.5);
  EXPECT_EQ(h.dram_bw(), 12.5);
  EXPECT_EQ(h.dram_latency, 40);
  EXPECT_TRUE(h.fold_overlap);
  EXPECT_EQ(h.vector_lanes, 32);
  EXPECT_EQ(h.output_bytes, 4);
  EXPECT_TRUE(h.unlimited_bandwidth);
  EXPECT_EQ(h.fidelity, Fidelity::Cycle);
  EXPECT_TRUE(h.array().fold_overlap);
}

TEST(ConfigTest, WhitespaceCrlfBomCommentsAndCaseAreTolerated) {
  const std::string text =
      "\xEF\xBB\xBF# leading comment\r\n"
      "; another comment style\r\n"
      "  [ General ]  \r\n"
      "\trun_name\t:\t spaced run \t\r\n"
      "[ARCHITECTURE_PRESETS] # the array\r\n"
      "arrayheight   :   7   \r\n"
      "ARRAYWIDTH=9 # inline comment\r\n"
      "dataflow: OS\r\n"
      "\r\n"
      "[run_presets]\r\n"
      "interfacebandwidth = user\r\n"
      "[systolic_sim]\r\n"
      "foldoverlap: TRUE\r\n"
      "fidelity = Cycle\r\n";
  const HwSpec h = parse_cfg_text(text, "t.cfg");
  EXPECT_EQ(h.run_name, "spaced run");
  EXPECT_EQ(h.array_rows, 7);
  EXPECT_EQ(h.array_cols, 9);
  EXPECT_EQ(h.dataflow, Dataflow::OS);
  EXPECT_EQ(h.interface_bandwidth, "USER");
  EXPECT_TRUE(h.fold_overlap);
  EXPECT_EQ(h.fidelity, Fidelity::Cycle);
}

TEST(ConfigTest, ValueMayContainTheOtherSeparator) {
  // configparser splits at the first of '=' and ':'; so do we.
  EXPECT_EQ(parse_cfg_text("[general]\nrun_name: a=b\n", "t.cfg").run_name, "a=b");
  EXPECT_EQ(parse_cfg_text("[general]\nrun_name = a:b\n", "t.cfg").run_name, "a:b");
}

TEST(ConfigTest, FileValuesApplyOnTopOfTheBase) {
  HwSpec base;
  base.array_rows = 3;
  base.vector_lanes = 5;
  base.clock_ghz = 2.5;
  const HwSpec h = parse_cfg_text("[architecture_presets]\nArrayWidth: 6\n", "t.cfg", base);
  EXPECT_EQ(h.array_rows, 3);
  EXPECT_EQ(h.array_cols, 6);
  EXPECT_EQ(h.vector_lanes, 5);
  EXPECT_EQ(h.clock_ghz, 2.5);
}

TEST(ConfigTest, BooleanSpellings) {
  const std::pair<const char*, bool> cases[] = {{"on", true},     {"off", false},  {"true", true},
                                                {"false", false}, {"1", true},     {"0", false},
                                                {"ON", true},     {"False", false}};
  for (const auto& [text, want] : cases) {
    const HwSpec h =
        parse_cfg_text(std::string("[systolic_sim]\nUnlimitedBandwidth = ") + text + "\n", "t");
    EXPECT_EQ(h.unlimited_bandwidth, want) << text;
  }
}

TEST(ConfigTest, NumericLimitsAreInclusive) {
  const HwSpec h = parse_cfg_text(
      "[architecture_presets]\nArrayHeight: 1\nArrayWidth: 65536\nBandwidth: 0.5\n"
      "[systolic_sim]\nDramLatency: 0\nDramBandwidth: 0\nOutputBytes: 2\n",
      "t.cfg");
  EXPECT_EQ(h.array_rows, 1);
  EXPECT_EQ(h.array_cols, 65536);
  EXPECT_EQ(h.bandwidth_words, 0.5);
  EXPECT_EQ(h.dram_latency, 0);
  EXPECT_EQ(h.output_bytes, 2);
  EXPECT_EQ(h.dram_bw(), 0.5 * h.input_bytes);  // 0 = derived from Bandwidth
}

// ---------------------------------------------------------------------------------------------
// Validation: one line naming file:line, the key, the value and what is allowed

struct BadCfg {
  const char* what;
  std::string text;
  std::vector<std::string> expect;  // substrings of the message
};

TEST(ConfigTest, BadValuesNameFileLineKeyValueAndRange) {
  const std::string head = "[general]\nrun_name = x\n[architecture_presets]\n";  // lines 1-3
  const std::string dims = "expected an integer from 1 to 65536";
  const std::vector<BadCfg> cases = {
      {"non-numeric",
       head + "ArrayHeight: abc\n",
       {"t.cfg:4: key 'ArrayHeight' value 'abc': " + dims}},
      {"negative", head + "ArrayWidth = -4\n", {"t.cfg:4: key 'ArrayWidth' value '-4': " + dims}},
      {"zero", head + "ArrayHeight: 0\n", {"t.cfg:4: key 'ArrayHeight' value '0': " + dims}},
      {"above range", head + "ArrayHeight: 65537\n", {"t.cfg:4:", "'65537'", dims}},
      {"2^63", head + "ArrayHeight: 9223372036854775808\n", {"t.cfg:4:", "'9223372036854775808'"}},
      {"huge",
       head + "IfmapSramSzkB: 99999999999999999999\n",
       {"t.cfg:4: key 'IfmapSramSzkB' value '99999999999999999999': expected an integer from 1"}},
      {"hex", head + "ArrayHeight: 0x20\n", {"t.cfg:4:", "'0x20'", dims}},
      {"fraction", head + "ArrayHeight: 32.5\n", {"t.cfg:4:", "'32.5'", dims}},
      {"exponent", head + "ArrayHeight: 1e3\n", {"t.cfg:4:", "'1e3'", dims}},
      {"plus sign", head + "ArrayHeight: +4\n", {"t.cfg:4:", "'+4'", dims}},
      {"empty value", head + "ArrayHeight =\n", {"t.cfg:4: key 'ArrayHeight' value '': " + dims}},
      {"zero SRAM",
       head + "\nOfmapSramSzkB: 0\n",
       {"t.cfg:5: key 'OfmapSramSzkB' value '0': expected an integer from 1"}},
      {"negative offset",
       head + "FilterOffset: -1\n",
       {"t.cfg:4: key 'FilterOffset' value '-1': expected an integer from 0"}},
      {"zero bandwidth",
       head + "Bandwidth : 0\n",
       {"t.cfg:4: key 'Bandwidth' value '0': expected a number greater than 0"}},
      {"inf bandwidth", head + "Bandwidth : inf\n", {"t.cfg:4:", "'inf'", "greater than 0"}},
      {"nan bandwidth", head + "Bandwidth : nan\n", {"t.cfg:4:", "'nan'", "greater than 0"}},
      {"overflowing double", head + "Bandwidth : 1e400\n", {"t.cfg:4:", "'1e400'"}},
      {"zero banks", head + "MemoryBanks: 0\n", {"t.cfg:4: key 'MemoryBanks' value '0': " + dims}},
      {"dataflow",
       head + "Dataflow : xs\n",
       {"t.cfg:4: key 'Dataflow' value 'xs': expected os, ws or is"}},
      {"interface bw",
       "[run_presets]\nInterfaceBandwidth: AUTO\n",
       {"t.cfg:2: key 'InterfaceBandwidth' value 'AUTO': expected CALC or USER"}},
      {"run_name slash",
       "[general]\nrun_name = a/b\n",
       {"t.cfg:2: key 'run_name' value 'a/b': expected 1 to 128 characters"}},
      {"run_name dots", "[general]\nrun_name = ..\n", {"t.cfg:2:", "'..'"}},
      {"clock zero",
       "[systolic_sim]\nClockGHz = 0\n",
       {"t.cfg:2: key 'ClockGHz' value '0': expected a number greater than 0 and at most 1000"}},
      {"clock negative", "[systolic_sim]\nClockGHz = -1.5\n", {"t.cfg:2:", "'-1.5'"}},
      {"latency negative",
       "[systolic_sim]\nDramLatency = -1\n",
       {"t.cfg:2: key 'DramLatency' value '-1': expected an integer from 0 to 1000000000"}},
      {"dram bw negative",
       "[systolic_sim]\nDramBandwidth = -2\n",
       {"t.cfg:2: key 'DramBandwidth' value '-2': expected a number from 0 to 1000000000"}},
      {"lanes zero",
       "[systolic_sim]\nVectorLanes = 0\n",
       {"t.cfg:2: key 'VectorLanes' value '0': " + dims}},
      {"output bytes",
       "[systolic_sim]\nOutputBytes = 3\n",
       {"t.cfg:2: key 'OutputBytes' value '3': expected 1, 2 or 4"}},
      {"bool",
       "[systolic_sim]\nFoldOverlap = maybe\n",
       {"t.cfg:2: key 'FoldOverlap' value 'maybe': expected on, off, true, false, 1 or 0"}},
      {"fidelity",
       "[systolic_sim]\nFidelity = slow\n",
       {"t.cfg:2: key 'Fidelity' value 'slow': expected cycle or fast"}},
  };
  for (const BadCfg& c : cases) {
    const std::string msg = cfg_error(c.text);
    ASSERT_FALSE(msg.empty()) << c.what << ": no error";
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what << ": " << msg;
    for (const std::string& e : c.expect) {
      EXPECT_NE(msg.find(e), std::string::npos)
          << c.what << ": '" << msg << "' lacks '" << e << "'";
    }
  }
}

TEST(ConfigTest, StructuralErrorsNameFileAndLine) {
  const std::vector<BadCfg> cases = {
      {"unknown key",
       "[architecture_presets]\nArrayHeight: 4\nArrayDepth: 4\n",
       {"t.cfg:3: unknown key 'ArrayDepth' in section [architecture_presets]"}},
      {"key in the wrong section",
       "[general]\nArrayHeight: 4\n",
       {"t.cfg:2: unknown key 'ArrayHeight' in section [general]",
        "belongs in [architecture_presets]"}},
      {"unknown section",
       "[general]\nrun_name = x\n\n[sparsty]\nSparsitySupport: false\n",
       {"t.cfg:4: unknown section '[sparsty]'"}},
      {"duplicate key",
       "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\nArrayHeight = 8\n",
       {"t.cfg:4: duplicate key 'ArrayHeight' (first set at line 2)"}},
      {"duplicate key other case",
       "[architecture_presets]\nArrayHeight: 4\narrayheight: 4\n",
       {"t.cfg:3: duplicate key 'ArrayHeight' (first set at line 2)"}},
      {"duplicate section",
       "[general]\nrun_name = x\n[general]\n",
       {"t.cfg:3: duplicate section [general] (first at line 1)"}},
      {"key before section",
       "ArrayHeight: 4\n[architecture_presets]\n",
       {"t.cfg:1: key 'ArrayHeight' before any section header"}},
      {"no separator",
       "[architecture_presets]\nArrayHeight 4\n",
       {"t.cfg:2: expected 'Key = value', 'Key: value' or '[section]', got 'ArrayHeight 4'"}},
      {"no key", "[architecture_presets]\n= 4\n", {"t.cfg:2: expected 'Key = value'"}},
      {"bad header", "[general\nrun_name = x\n", {"t.cfg:1: malformed section header '[general'"}},
      {"text after header",
       "[general] x\nrun_name = x\n",
       {"t.cfg:1: malformed section header '[general] x'"}},
      {"only comments", "# nothing\n; here\n", {"t.cfg: no settings found"}},
      {"only headers", "[general]\n[systolic_sim]\n", {"t.cfg: no settings found"}},
      {"empty", "", {"t.cfg: empty file"}},
      {"whitespace", " \n\t\n", {"t.cfg: empty file"}},
      {"binary",
       std::string("[general]\nrun_name = \0x\n", 24),
       {"t.cfg: not a text file (byte 0x00 at offset 21)"}},
  };
  for (const BadCfg& c : cases) {
    const std::string msg = cfg_error(c.text);
    ASSERT_FALSE(msg.empty()) << c.what << ": no error";
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what << ": " << msg;
    for (const std::string& e : c.expect) {
      EXPECT_NE(msg.find(e), std::string::npos)
          << c.what << ": '" << msg << "' lacks '" << e << "'";
    }
  }
}

TEST(ConfigTest, ErrorsInRealFilesNameThePathAndLine) {
  const std::string bad = kDataDir + "bad_value.cfg";
  EXPECT_EQ(error_of([&] { parse_cfg_file(bad); }),
            bad + ":6: key 'ArrayWidth' value 'abc': expected an integer from 1 to 65536");
  const std::string unk = kDataDir + "unknown_key.cfg";
  EXPECT_EQ(error_of([&] { parse_cfg_file(unk); }),
            unk + ":7: unknown key 'ArrayDepth' in section [architecture_presets]");
}

TEST(ConfigTest, MissingUnreadableEmptyAndBinaryFiles) {
  TempDir t;
  const std::string missing = (t.path / "nope.cfg").string();
  EXPECT_EQ(error_of([&] { parse_cfg_file(missing); }),
            missing + ": cannot read config file: No such file or directory");
  EXPECT_EQ(error_of([&] { parse_cfg_file(t.path.string()); }),
            t.path.string() + ": cannot read config file: is a directory");
  const std::string empty = t.write("empty.cfg", "");
  EXPECT_NE(error_of([&] { parse_cfg_file(empty); }).find(empty + ": empty file"),
            std::string::npos);
  const std::string bin = t.write("bin.cfg", std::string("\x7f"
                                                         "ELF\x02\x01\x01\0\0",
                                                         9));
  EXPECT_NE(error_of([&] { parse_cfg_file(bin); }).find(bin + ": not a text file (byte 0x7f"),
            std::string::npos);
  const std::string big = t.write("big.cfg", std::string((1 << 20) + 1, '#'));
  EXPECT_NE(error_of([&] { parse_cfg_file(big); }).find(big + ": config file too large"),
            std::string::npos);
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = t.write("locked.cfg", "[general]\nrun_name = x\n");
    fs::permissions(locked, fs::perms::none);
    EXPECT_NE(error_of([&] { parse_cfg_file(locked); }).find(locked + ": cannot read"),
              std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing the spec back, checking specs built in code

TEST(ConfigTest, FormatCfgRoundTrips) {
  HwSpec h;
  h.run_name = "round trip";
  h.array_rows = 12;
  h.array_cols = 14;
  h.dataflow = Dataflow::IS;
  h.ifmap_sram_kb = 100;
  h.filter_sram_kb = 200;
  h.ofmap_sram_kb = 300;
  h.ifmap_offset = 1;
  h.filter_offset = 2;
  h.ofmap_offset = 3;
  h.bandwidth_words = 0.1;  // not exact in binary: must still round-trip bit for bit
  h.memory_banks = 4;
  h.interface_bandwidth = "USER";
  h.clock_ghz = 1.0 / 3.0;
  h.dram_bytes_per_cycle = 123.456;
  h.dram_latency = 77;
  h.fold_overlap = true;
  h.vector_lanes = 64;
  h.output_bytes = 2;
  h.unlimited_bandwidth = true;
  h.fidelity = Fidelity::Cycle;
  const std::string text = format_cfg(h);
  expect_same_spec(parse_cfg_text(text, "printed.cfg"), h);
  // Every key appears once, written the SCALE-Sim way.
  for (const char* key : {"run_name =",           "ArrayHeight =",        "ArrayWidth =",
                          "IfmapSramSzkB =",      "FilterSramSzkB =",     "OfmapSramSzkB =",
                          "IfmapOffset =",        "FilterOffset =",       "OfmapOffset =",
                          "Dataflow =",           "Bandwidth =",          "MemoryBanks =",
                          "InterfaceBandwidth =", "ClockGHz =",           "DramBandwidth =",
                          "DramLatency =",        "FoldOverlap =",        "VectorLanes =",
                          "OutputBytes =",        "UnlimitedBandwidth =", "Fidelity ="}) {
    const auto at = text.find(std::string("\n") + key);
    EXPECT_NE(at, std::string::npos) << key;
    EXPECT_EQ(text.find(std::string("\n") + key, at + 1), std::string::npos) << key;
  }
  // The default spec round-trips too.
  expect_same_spec(parse_cfg_text(format_cfg(HwSpec{}), "d.cfg"), HwSpec{});
}

TEST(ConfigTest, ValidHwRefusesBadFieldsBuiltInCode) {
  EXPECT_EQ(error_of([] { (void)ValidHw(HwSpec{}); }), "");
  HwSpec h;
  h.array_cols = 0;
  EXPECT_EQ(error_of([&] { (void)ValidHw(h); }),
            "hardware spec: key 'ArrayWidth' value '0': expected an integer from 1 to 65536");
  h = HwSpec{};
  h.clock_ghz = -1;
  EXPECT_NE(error_of([&] { (void)ValidHw(h); }).find("key 'ClockGHz' value '-1'"),
            std::string::npos);
  h = HwSpec{};
  h.output_bytes = 8;
  EXPECT_NE(error_of([&] { (void)ValidHw(h); }).find("key 'OutputBytes' value '8'"),
            std::string::npos);
  h = HwSpec{};
  h.input_bytes = 3;
  EXPECT_NE(error_of([&] { (void)ValidHw(h); }).find("input_bytes 3"), std::string::npos);
}

TEST(ConfigTest, ValidHwIsMadeOnlyByTheCheck) {
  // No implicit conversion: a plain HwSpec reaches a runner only through the explicit check.
  static_assert(!std::is_convertible_v<HwSpec, ValidHw>);
  static_assert(std::is_convertible_v<ValidHw, const HwSpec&>);
  // The combination no single key refuses: 4097 x 4096 PEs is one row over 2^24 at cycle
  // fidelity, and fine at fast fidelity.
  HwSpec h;
  h.array_rows = 4097;
  h.array_cols = 4096;
  EXPECT_EQ(ValidHw(h)->array_rows, 4097);
  h.fidelity = Fidelity::Cycle;
  EXPECT_NE(error_of([&] { (void)ValidHw(h); }).find("has 16781312 PEs"), std::string::npos);
  h.array_rows = 4096;
  const ValidHw cycle(h);
  // fast() and with_energy() change only their field.
  const ValidHw fast = cycle.fast();
  EXPECT_EQ(fast->fidelity, Fidelity::Fast);
  std::string expect = format_cfg(cycle);
  const size_t at = expect.find("Fidelity = cycle\n");
  ASSERT_NE(at, std::string::npos);
  expect.replace(at, 16, "Fidelity = fast");
  EXPECT_EQ(format_cfg(fast), expect);
  EnergyTable t;
  t.source = "test table";
  const ValidHw priced = cycle.with_energy(t);
  EXPECT_EQ(priced->energy.source, "test table");
  EXPECT_EQ(format_cfg(priced), format_cfg(cycle));
}

}  // namespace
}  // namespace ssim
