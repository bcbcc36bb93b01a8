// Tests of the .cfg reader, the hardware flags and the in-process command-line parser.
// Expected values come from the test files' own text (tests/data/config/) or are written here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli.hpp"
#include "sim/config.hpp"
#include "sim/entry.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

const std::string kDataDir = std::string(SSIM_SOURCE_DIR) + "/tests/data/config/";

// Every field of a spec, as text, so two specs can be compared field by field.
std::vector<std::pair<std::string, std::string>> fields(const HwSpec& h) {
  return {{"run_name", h.run_name},
          {"array_rows", std::to_string(h.array_rows)},
          {"array_cols", std::to_string(h.array_cols)},
          {"dataflow", to_string(h.dataflow)},
          {"ifmap_sram_kb", std::to_string(h.ifmap_sram_kb)},
          {"filter_sram_kb", std::to_string(h.filter_sram_kb)},
          {"ofmap_sram_kb", std::to_string(h.ofmap_sram_kb)},
          {"ifmap_offset", std::to_string(h.ifmap_offset)},
          {"filter_offset", std::to_string(h.filter_offset)},
          {"ofmap_offset", std::to_string(h.ofmap_offset)},
          {"bandwidth_words", std::to_string(h.bandwidth_words)},
          {"memory_banks", std::to_string(h.memory_banks)},
          {"interface_bandwidth", h.interface_bandwidth},
          {"clock_ghz", std::to_string(h.clock_ghz)},
          {"dram_bytes_per_cycle", std::to_string(h.dram_bytes_per_cycle)},
          {"dram_latency", std::to_string(h.dram_latency)},
          {"fold_overlap", std::to_string(h.fold_overlap)},
          {"vector_lanes", std::to_string(h.vector_lanes)},
          {"input_bytes", std::to_string(h.input_bytes)},
          {"output_bytes", std::to_string(h.output_bytes)},
          {"unlimited_bandwidth", std::to_string(h.unlimited_bandwidth)},
          {"fidelity", to_string(h.fidelity)}};
}

void expect_same_spec(const HwSpec& a, const HwSpec& b) {
  const auto fa = fields(a), fb = fields(b);
  ASSERT_EQ(fa.size(), fb.size());
  for (size_t i = 0; i < fa.size(); ++i) EXPECT_EQ(fa[i], fb[i]);
  // Doubles exactly, not only to std::to_string's 6 decimals.
  EXPECT_EQ(a.bandwidth_words, b.bandwidth_words);
  EXPECT_EQ(a.clock_ghz, b.clock_ghz);
  EXPECT_EQ(a.dram_bytes_per_cycle, b.dram_bytes_per_cycle);
}

// The message of the InputError that `f` throws ("" if it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string cfg_error(const std::string& text) {
  return error_of([&] { parse_cfg_text(text, "t.cfg"); });
}

// A scratch folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ssim_config_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
};

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

TEST(ConfigTest, ValidateHwRejectsBadFieldsBuiltInCode) {
  EXPECT_EQ(error_of([] { validate_hw(HwSpec{}); }), "");
  HwSpec h;
  h.array_cols = 0;
  EXPECT_EQ(error_of([&] { validate_hw(h); }),
            "hardware spec: key 'ArrayWidth' value '0': expected an integer from 1 to 65536");
  h = HwSpec{};
  h.clock_ghz = -1;
  EXPECT_NE(error_of([&] { validate_hw(h); }).find("key 'ClockGHz' value '-1'"), std::string::npos);
  h = HwSpec{};
  h.output_bytes = 8;
  EXPECT_NE(error_of([&] { validate_hw(h); }).find("key 'OutputBytes' value '8'"),
            std::string::npos);
  h = HwSpec{};
  h.input_bytes = 3;
  EXPECT_NE(error_of([&] { validate_hw(h); }).find("input_bytes 3"), std::string::npos);
}

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
    EXPECT_EQ(o.hw.array_rows, 16);
    EXPECT_EQ(o.hw.array_cols, 8);
    EXPECT_EQ(o.hw.dataflow, Dataflow::WS);
    EXPECT_EQ(o.hw.bandwidth_words, 25);  // from the file
    EXPECT_EQ(o.hw.ofmap_sram_kb, 27);    // from the file
    EXPECT_EQ(o.hw.run_name, "colon_form_12x14");
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
    EXPECT_NO_THROW(validate_hw(hw)) << e.path();
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
