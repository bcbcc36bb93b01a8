// Tests of the systolic-sim binary (SSIM_BINARY): exit codes, one-line errors, nothing written on
// bad input, --help/--version/--print-config, and the results of a run. Also the report helpers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "models/systolic_array_cycle.hpp"
#include "sim/cli/cli.hpp"
#include "sim/report/number_text.hpp"
#include "sim/report/report_table.hpp"
#include "sim/spec/config.hpp"
#include "tests/hw_test_util.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

const std::string kDataDir = std::string(SSIM_SOURCE_DIR) + "/tests/data/config/";

using testutil::describe;
using testutil::entries;
using testutil::Outcome;
using testutil::run_binary;
using testutil::slurp;
using testutil::TempDir;

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2, one line on stderr naming the flag or key and the value, nothing written

struct BadCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> expect;  // substrings of the stderr line
};

// ctest shows the case's name, not its bytes.
void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

class CliBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliBadInputTest, ExitsTwoWithOneLineAndWritesNothing) {
  const BadCase& c = GetParam();
  TempDir cwd;
  const Outcome r = run_binary(c.args, cwd.path);
  EXPECT_EQ(r.code, 2) << describe(c.args) << "\nstderr: " << r.err;
  EXPECT_EQ(r.out, "") << describe(c.args);
  ASSERT_FALSE(r.err.empty()) << describe(c.args);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not exactly one line: " << r.err;
  for (const std::string& e : c.expect) {
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << r.err << "' lacks '" << e << "'";
  }
  EXPECT_TRUE(entries(cwd.path).empty()) << describe(c.args) << " wrote " << entries(cwd.path)[0];
}

const std::string kGemmSyntax = "expected M,N,K, three integers from 1 to 1048576";
const std::string kArraySyntax = "rows and columns must be integers from 1 to 65536 (e.g. 32x32)";

INSTANTIATE_TEST_SUITE_P(
    Cli, CliBadInputTest,
    ::testing::Values(
        BadCase{"ArrayWithoutColumns",
                {"--gemm", "4,4,4", "--array", "32"},
                {"--array '32': " + kArraySyntax}},
        BadCase{"ArrayZeroRows",
                {"--gemm", "4,4,4", "--array", "0x4"},
                {"--array '0x4': " + kArraySyntax}},
        BadCase{"ArrayTooLarge", {"--gemm", "4,4,4", "--array", "65537x4"}, {"--array '65537x4'"}},
        BadCase{"GemmTwoDims", {"--gemm", "1,2"}, {"--gemm '1,2': " + kGemmSyntax}},
        BadCase{"GemmZero", {"--gemm", "0,4,4"}, {"--gemm '0,4,4': " + kGemmSyntax}},
        BadCase{"GemmNegative", {"--gemm", "-1,4,4"}, {"--gemm '-1,4,4': " + kGemmSyntax}},
        BadCase{"GemmLetters", {"--gemm", "a,b,c"}, {"--gemm 'a,b,c': " + kGemmSyntax}},
        BadCase{"GemmOverflow",
                {"--gemm", "99999999999999999999,1,1"},
                {"--gemm '99999999999999999999,1,1': " + kGemmSyntax}},
        BadCase{"GemmFourDims", {"--gemm=4,4,4,4"}, {"--gemm '4,4,4,4'"}},
        BadCase{"UnknownFlag",
                {"--gemm", "4,4,4", "--frobnicate", "1"},
                {"unrecognised option '--frobnicate'"}},
        BadCase{"AbbreviatedFlag",
                {"--gemm", "4,4,4", "--arr", "4x4"},
                {"unrecognised option '--arr'"}},
        BadCase{"UnknownShortFlag", {"--gemm", "4,4,4", "-x"}, {"unrecognised option '-x'"}},
        BadCase{"MissingValueAtEnd",
                {"--gemm", "4,4,4", "--array"},
                {"the required argument for option '--array' is missing"}},
        BadCase{"MissingValueBeforeFlag",
                {"--gemm", "--quiet"},
                {"the required argument for option '--gemm' is missing", "'--quiet'"}},
        BadCase{"Positional", {"--gemm", "4,4,4", "extra"}, {"unexpected argument 'extra'"}},
        BadCase{"Repeated",
                {"--gemm", "4,4,4", "--gemm", "8,8,8"},
                {"option '--gemm' given more than once"}},
        BadCase{"SwitchWithValue",
                {"--gemm", "4,4,4", "--quiet=yes"},
                {"option '--quiet' does not take any arguments"}},
        BadCase{"Dataflow",
                {"--gemm", "4,4,4", "--dataflow", "rs"},
                {"--dataflow 'rs': expected os, ws or is"}},
        BadCase{"FoldOverlap",
                {"--gemm", "4,4,4", "--fold-overlap", "maybe"},
                {"--fold-overlap 'maybe': expected on, off"}},
        BadCase{"Fidelity",
                {"--gemm", "4,4,4", "--fidelity", "slow"},
                {"--fidelity 'slow': expected cycle or fast"}},
        BadCase{"BandwidthZero",
                {"--gemm", "4,4,4", "--bandwidth", "0"},
                {"--bandwidth '0': expected a number greater than 0"}},
        BadCase{"DramBandwidthNegative",
                {"--gemm", "4,4,4", "--dram-bandwidth", "-1"},
                {"--dram-bandwidth '-1': expected a number from 0"}},
        BadCase{"DramLatencyText",
                {"--gemm", "4,4,4", "--dram-latency", "soon"},
                {"--dram-latency 'soon': expected an integer from 0"}},
        BadCase{"ClockZero",
                {"--gemm", "4,4,4", "--clock-ghz", "0"},
                {"--clock-ghz '0': expected a number greater than 0"}},
        BadCase{"IfmapSramZero",
                {"--gemm", "4,4,4", "--ifmap-sram-kb", "0"},
                {"--ifmap-sram-kb '0': expected an integer from 1"}},
        BadCase{"FilterSramNegative",
                {"--gemm", "4,4,4", "--filter-sram-kb", "-5"},
                {"--filter-sram-kb '-5'"}},
        BadCase{"OfmapSramOverflow",
                {"--gemm", "4,4,4", "--ofmap-sram-kb", "9223372036854775808"},
                {"--ofmap-sram-kb '9223372036854775808'"}},
        BadCase{"SeedNegative",
                {"--gemm", "4,4,4", "--seed", "-1"},
                {"--seed '-1': expected an integer from 0"}},
        BadCase{"NothingToRun", {"--array", "4x4"}, {"nothing to run: give --gemm M,N,K"}},
        BadCase{"OutIsAFile",
                {"--gemm", "4,4,4", "--out", SSIM_BINARY},
                {"--out '" + std::string(SSIM_BINARY) + "': exists and is not a folder"}},
        BadCase{"ConfigMissing",
                {"--gemm", "4,4,4", "--config", kDataDir + "no_such.cfg"},
                {kDataDir + "no_such.cfg: cannot read config file: No such file or directory"}},
        BadCase{"ConfigIsAFolder", {"--gemm", "4,4,4", "--config", kDataDir}, {"is a directory"}},
        BadCase{"ConfigBadValue",
                {"--gemm", "4,4,4", "--config", kDataDir + "bad_value.cfg"},
                {kDataDir + "bad_value.cfg:6: key 'ArrayWidth' value 'abc': expected an integer "
                            "from 1 to 65536"}},
        BadCase{"ConfigUnknownKey",
                {"--gemm", "4,4,4", "--config", kDataDir + "unknown_key.cfg"},
                {kDataDir + "unknown_key.cfg:7: unknown key 'ArrayDepth'"}},
        BadCase{"ConfigFineFlagBad",
                {"--config", kDataDir + "colon_form.cfg", "--gemm", "4,4,4", "--array", "4x0"},
                {"--array '4x0'"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// --help, --version, --print-config

TEST(CliTest, HelpListsEveryFlagWithItsDefault) {
  TempDir cwd;
  const Outcome r = run_binary({"--help"}, cwd.path);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  for (const char* flag :
       {"--gemm M,N,K", "--array RxC", "--dataflow os|ws|is", "--fold-overlap on|off",
        "--fidelity cycle|fast", "--bandwidth WORDS_PER_CYCLE", "--dram-bandwidth BYTES_PER_CYCLE",
        "--dram-latency CYCLES", "--clock-ghz", "--ifmap-sram-kb", "--filter-sram-kb",
        "--ofmap-sram-kb", "--config FILE", "--out DIR", "--seed N", "--quiet", "--help",
        "--version", "--print-config"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  const HwSpec d;
  const std::string array_default =
      "[default: " + std::to_string(d.array_rows) + "x" + std::to_string(d.array_cols) + "]";
  EXPECT_NE(r.out.find(array_default), std::string::npos);
  EXPECT_NE(r.out.find("[default: results/<run_name>]"), std::string::npos);
  EXPECT_TRUE(entries(cwd.path).empty());
}

TEST(CliTest, VersionPrintsTheCompiledVersion) {
  TempDir cwd;
  const Outcome r = run_binary({"--version"}, cwd.path);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("systolic-sim ") + SSIM_VERSION + "\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, PrintConfigRoundTripsAndFlagsOverrideTheFile) {
  TempDir cwd;
  const Outcome r = run_binary({"--array", "4x6", "--config", kDataDir + "systolic_sim.cfg",
                                "--fold-overlap", "off", "--print-config"},
                               cwd.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const HwSpec h = parse_cfg_text(r.out, "stdout");
  EXPECT_EQ(h.array_rows, 4);          // flag
  EXPECT_EQ(h.array_cols, 6);          // flag
  EXPECT_FALSE(h.fold_overlap);        // flag over the file's "on"
  EXPECT_EQ(h.clock_ghz, 0.75);        // file
  EXPECT_EQ(h.dram_latency, 40);       // file
  EXPECT_EQ(h.run_name, "ours_8x16");  // file
  EXPECT_TRUE(entries(cwd.path).empty());

  // The printed config, read back, prints the same.
  TempDir t;
  const fs::path printed = t.path / "printed.cfg";
  std::ofstream(printed) << r.out;
  const Outcome again = run_binary({"--config", printed.string(), "--print-config"}, cwd.path);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, r.out);
}

// ---------------------------------------------------------------------------------------------
// Runs (need ssim::run_gemm)

std::map<std::string, std::string> read_single_row_csv(const fs::path& p, size_t* lines) {
  std::istringstream in(slurp(p));
  std::string header, row, extra;
  std::getline(in, header);
  std::getline(in, row);
  *lines = 0;
  for (const std::string* l : {&header, &row}) *lines += !l->empty();
  while (std::getline(in, extra)) ++*lines;
  std::map<std::string, std::string> m;
  std::istringstream hs(header), rs(row);
  std::string h, v;
  while (std::getline(hs, h, ',')) {
    std::getline(rs, v, ',');
    m[h] = v;
  }
  return m;
}

using test::ceil_div;

struct RunCase {
  const char* name;
  const char* fidelity;
  const char* dataflow;
  int64_t M, N, K;
  int R, C;
};

void PrintTo(const RunCase& c, std::ostream* os) {
  *os << c.name;
}

class CliRunTest : public ::testing::TestWithParam<RunCase> {};

TEST_P(CliRunTest, RunWritesCsvAndTable) {
  const RunCase c = GetParam();
  TempDir cwd;
  const std::string shape =
      std::to_string(c.M) + "," + std::to_string(c.N) + "," + std::to_string(c.K);
  const std::string array = std::to_string(c.R) + "x" + std::to_string(c.C);
  const Outcome r = run_binary({"--gemm", shape, "--array", array, "--dataflow", c.dataflow,
                                "--fidelity", c.fidelity, "--out", "res", "--seed", "7"},
                               cwd.path);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(entries(cwd.path), std::vector<std::string>{"res"});
  // The run folder and nothing else: no temporary left behind.
  auto files = entries(cwd.path / "res");
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files,
            (std::vector<std::string>{"BANDWIDTH_REPORT.csv", "COMPUTE_REPORT.csv",
                                      "DETAILED_ACCESS_REPORT.csv", "SYSTOLIC_SIM_REPORT.csv",
                                      "gemm_results.csv", "layers.csv", "summary.json"}));

  size_t lines = 0;
  auto row = read_single_row_csv(cwd.path / "res" / "gemm_results.csv", &lines);
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(row["dataflow"], c.dataflow);
  EXPECT_EQ(row["array_rows"], std::to_string(c.R));
  EXPECT_EQ(row["array_cols"], std::to_string(c.C));
  EXPECT_EQ(row["M"], std::to_string(c.M));
  EXPECT_EQ(row["N"], std::to_string(c.N));
  EXPECT_EQ(row["K"], std::to_string(c.K));
  EXPECT_EQ(row["seed"], "7");
  // Closed forms (SCALE-Sim's mapping): OS (Sr,Sc,T) = (M,N,K), WS (K,N,M), IS (K,M,N).
  const std::string df = c.dataflow;
  const int64_t Sr = df == "os" ? c.M : c.K;
  const int64_t Sc = df == "is" ? c.M : c.N;
  const int64_t T = df == "os" ? c.K : df == "ws" ? c.M : c.N;
  const int64_t folds = ceil_div(Sr, c.R) * ceil_div(Sc, c.C);
  const int64_t macs = c.M * c.N * c.K;
  EXPECT_EQ(row["macs"], std::to_string(macs));
  EXPECT_EQ(row["folds"], std::to_string(folds));
  const int64_t total = std::stoll(row["total_cycles"]);
  EXPECT_GE(total, folds * T);  // the array streams one fold's T vectors at a time
  EXPECT_NEAR(std::stod(row["compute_util_pct"]), 100.0 * macs / (double(c.R) * c.C * total), 1e-3);
  // Every fold streams all T vectors on an R x C array: macs / (folds * R * C * T).
  EXPECT_NEAR(std::stod(row["mapping_eff_pct"]), 100.0 * macs / (double(folds) * c.R * c.C * T),
              1e-3);
  const bool cycle = std::string(c.fidelity) == "cycle";
  EXPECT_EQ(row["fidelity"], c.fidelity);
  EXPECT_EQ(row["values_checked"], cycle ? "true" : "false");
  if (cycle) {
    EXPECT_EQ(row["values_ok"], "true");
  }

  // The table on stdout shows the same numbers.
  EXPECT_NE(r.out.find("total cycles"), std::string::npos);
  EXPECT_NE(r.out.find(row["total_cycles"]), std::string::npos);
  EXPECT_NE(r.out.find(shape), std::string::npos);
  EXPECT_NE(r.out.find(array), std::string::npos);
  EXPECT_NE(r.out.find(cycle ? "yes, equal to the reference GEMM" : "no (fast fidelity"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cli, CliRunTest,
                         ::testing::Values(RunCase{"CycleOS", "cycle", "os", 20, 12, 9, 4, 4},
                                           RunCase{"CycleWS", "cycle", "ws", 9, 10, 13, 4, 3},
                                           RunCase{"CycleIS", "cycle", "is", 11, 7, 6, 3, 5},
                                           RunCase{"FastOS", "fast", "os", 20, 12, 9, 4, 4},
                                           RunCase{"FastWS", "fast", "ws", 9, 10, 13, 4, 3},
                                           RunCase{"FastIS", "fast", "is", 11, 7, 6, 3, 5}),
                         [](const ::testing::TestParamInfo<RunCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(CliTest, DefaultOutputFolderIsResultsSlashRunName) {
  TempDir cwd;
  const Outcome r = run_binary({"--config", kDataDir + "colon_form.cfg", "--gemm", "16,16,16",
                                "--fidelity", "fast", "--quiet"},
                               cwd.path);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // --quiet
  // The file sets keys that are read but not modelled: one note says so (nothing else).
  EXPECT_EQ(r.err,
            "note: MemoryBanks 2, FilterOffset 3000000, OfmapOffset 7000000: read but not "
            "modelled, no result depends on it (DRAM banks and trace addresses without --traces; "
            "docs/config.md)\n");
  const fs::path csv = cwd.path / "results" / "colon_form_12x14" / "gemm_results.csv";
  ASSERT_TRUE(fs::exists(csv));
  size_t lines = 0;
  auto row = read_single_row_csv(csv, &lines);
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(row["run_name"], "colon_form_12x14");
  EXPECT_EQ(row["array_rows"], "12");  // from the file
  EXPECT_EQ(row["dataflow"], "is");    // from the file
  EXPECT_EQ(row["fidelity"], "fast");
  EXPECT_EQ(row["values_checked"], "false");
  // IS: Sr = K = 16 over 12 rows, Sc = M = 16 over 14 columns.
  EXPECT_EQ(row["folds"], std::to_string(ceil_div(16, 12) * ceil_div(16, 14)));
}

// The failure paths of a run, in-process: the cycle array's test hook makes it start folds early
// (it matters where folds overlap, hence --fold-overlap on).
// With its hazard checks on, it throws std::logic_error (a library bug: "internal error", exit 1,
// nothing written); with them off, the values come out wrong (exit 1, CSV says values_ok false).

TEST(CliTest, LibraryLogicErrorIsAnInternalErrorOnOneLine) {
#if defined(__SANITIZE_ADDRESS__)
  // The exception leaves a SystemC coroutine stack, which AddressSanitizer cannot follow: it
  // warns "False positive error reports may follow" and then reports one.
  GTEST_SKIP() << "exception out of a SystemC thread: AddressSanitizer false positive";
#endif
  TempDir t;
  const std::string out_dir = (t.path / "res").string();
  SystolicArrayCycle::inject_fault_for_tests(3, /*disable_hazard_checks=*/false);
  std::ostringstream out, err;
  // OS: the weights of a WS fold reach the array through a double-buffered SRAM block that
  // frees only when the fold two back has ended, which would hide the early start.
  const int code = run_cli({"--gemm", "8,8,8", "--array", "4x4", "--dataflow", "os", "--fidelity",
                            "cycle", "--fold-overlap", "on", "--out", out_dir},
                           out, err);
  SystolicArrayCycle::inject_fault_for_tests(0, false);
  EXPECT_EQ(code, kExitFailure);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str().rfind("internal error: ", 0), 0u) << err.str();
  EXPECT_EQ(err.str().find('\n'), err.str().size() - 1) << err.str();
  EXPECT_FALSE(fs::exists(out_dir));
}

TEST(CliTest, WrongValuesExitOneAfterWritingTheCsv) {
  TempDir t;
  const std::string out_dir = (t.path / "res").string();
  SystolicArrayCycle::inject_fault_for_tests(3, /*disable_hazard_checks=*/true);
  std::ostringstream out, err;
  // OS: the weights of a WS fold reach the array through a double-buffered SRAM block that
  // frees only when the fold two back has ended, which would hide the early start.
  const int code = run_cli({"--gemm", "8,8,8", "--array", "4x4", "--dataflow", "os", "--fidelity",
                            "cycle", "--fold-overlap", "on", "--out", out_dir},
                           out, err);
  SystolicArrayCycle::inject_fault_for_tests(0, false);
  EXPECT_EQ(code, kExitFailure) << err.str();
  EXPECT_NE(err.str().find("error: the cycle-level array's output C differs from the reference"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(err.str().find('\n'), err.str().size() - 1) << err.str();
  size_t lines = 0;
  auto row = read_single_row_csv(fs::path(out_dir) / "gemm_results.csv", &lines);
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(row["values_checked"], "true");
  EXPECT_EQ(row["values_ok"], "false");
  EXPECT_NE(out.str().find("yes, DIFFERENT from the reference GEMM"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Report helpers

TEST(CliReportTableTest, AlignsColumnsWithoutTrailingSpaces) {
  TextTable t({"name", "value"}, {TextTable::Align::Left, TextTable::Align::Right});
  t.add_row({"a", "1"});
  t.add_row({"long name", "12345"});
  t.add_row({"x"});
  EXPECT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.columns(), 2u);
  EXPECT_EQ(t.str(),
            "name       value\n"
            "----------------\n"
            "a              1\n"
            "long name  12345\n"
            "x\n");
  TextTable plain;
  plain.add_row({"ab", "c"});
  plain.add_row({"d", "efg"});
  EXPECT_EQ(plain.str(), "ab  c\nd   efg\n");
  TextTable utf8;  // width counts characters, not bytes
  utf8.add_row({"\xC2\xB5s", "1"});
  utf8.add_row({"abc", "2"});
  EXPECT_EQ(utf8.str(), "\xC2\xB5s   1\nabc  2\n");
}

TEST(CliReportTableTest, CsvQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_line({"a", "b,c", ""}), "a,\"b,c\",\n");
}

// CsvRow writes the line csv_line writes from the same fields (quoting, empty fields), and
// SCALE-Sim's form with its separator and tail.
TEST(CliReportTableTest, CsvRowIsCsvLineWithoutAStringPerField) {
  std::string out = "x\n";
  CsvRow(out)
      .text("a,b")
      .integer(int64_t(-7))
      .integer(uint64_t(18446744073709551615ull))
      .empty()
      .text("say \"hi\"")
      .g9(2.0 / 3)
      .shortest(0.1)
      .end();
  EXPECT_EQ(out, "x\n" + csv_line({"a,b", "-7", "18446744073709551615", "", "say \"hi\"",
                                   "0.666666667", "0.1"}));
  std::string s;
  CsvRow(s, ", ").integer(3).raw("1.5").end(",\n");
  EXPECT_EQ(s, "3, 1.5,\n");
}

// A row longer than CsvRow's buffer (1 KiB), fields longer than it, quoted or not, and the
// four characters that need quotes at every place of a field: the line csv_line writes.
TEST(CliReportTableTest, CsvRowLongRowsAndQuotingAsCsvLine) {
  std::vector<std::string> fields;
  for (int i = 0; i < 300; ++i) fields.push_back("field" + std::to_string(i));
  fields.push_back(std::string(3000, 'x'));
  fields.push_back(std::string(1500, 'y') + "\"" + std::string(700, 'z'));
  fields.push_back(std::string(600, 'q') + ",");
  const std::string plain = "abcdefghijklmnopqrstuvw\xc3\xa9\x7f~ !#$%&'()*+-./";
  for (char special : {',', '"', '\r', '\n'})
    for (size_t at = 0; at <= plain.size(); ++at) {
      std::string f = plain;
      f.insert(at, 1, special);
      fields.push_back(f);
    }
  fields.push_back(plain);
  std::string out = "head\n";
  {
    CsvRow w(out);
    for (const std::string& f : fields) w.text(f);
    w.end();
  }
  EXPECT_EQ(out, "head\n" + csv_line(fields));
  for (const std::string& f : fields)
    EXPECT_EQ(csv_needs_quotes(f), f.find_first_of(",\"\r\n") != std::string::npos) << f;
  // A row not ended is appended when the CsvRow goes; a separator is one or two characters.
  std::string unended;
  CsvRow(unended).integer(1).integer(-2);
  EXPECT_EQ(unended, "1,-2");
  EXPECT_THROW(CsvRow(unended, ",,,"), std::logic_error);
}

// The report files' numbers (sim/report/number_text.hpp) are the references' bytes: write_g9
// what printf's %.9g prints (layers.csv's numbers were printed so: rounding ties to even, the
// exponent switch at 1e9 and 1e-5, trailing zeros dropped), write_shortest what std::to_chars
// prints (libstdc++'s Ryu: the shortest text that reads back, fixed or scientific notation),
// write_decimal std::to_chars's integers; over random bit patterns (every exponent: the exact
// 128-bit path and the fallback beyond it), report-like values, integers, powers of two and ten
// and their neighbours, values next to a rounding tie, subnormals, zeros, infinities and NaN.
TEST(CliReportTableTest, NumberTextIsPrintfAndToChars) {
  auto printf_g9 = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return std::string(buf);
  };
  auto to_chars_shortest = [](double v) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  };
  int differ = 0;
  auto check = [&](double v) {
    char buf[kFloatTextMax];
    const std::string g(buf, write_g9(buf, v)), s(buf, write_shortest(buf, v));
    if (g != printf_g9(v) && ++differ <= 5)
      ADD_FAILURE() << "write_g9 " << g << " vs printf " << printf_g9(v);
    if (s != to_chars_shortest(v) && ++differ <= 5)
      ADD_FAILURE() << "write_shortest " << s << " vs std::to_chars " << to_chars_shortest(v);
  };
  auto check_integer = [&](uint64_t n) {
    char a[24], b[24];
    const std::string mine(a, write_decimal(a, n)), ref(b, std::to_chars(b, b + 24, n).ptr);
    if (mine != ref && ++differ <= 5) ADD_FAILURE() << "write_decimal " << mine << " vs " << ref;
  };
  for (double v : {0.0,
                   -0.0,
                   1.0,
                   0.5,
                   123456789.5,
                   123456788.5,
                   999999999.5,
                   999999998.5,
                   1e9,
                   1e-5,
                   9.999999995e-5,
                   0.0001,
                   1.0 / 3,
                   2.0 / 3,
                   0.1,
                   0.3,
                   100.0,
                   1e5,
                   1e15,
                   1e16,
                   1e21,
                   1e22,
                   1.2345678901234567e21,
                   12300000000000001048576.0,
                   9007199254740993.0,
                   5e-324,
                   2.2250738585072014e-308,
                   1.7976931348623157e308,
                   1e100,
                   -2.5e-7,
                   HUGE_VAL,
                   -HUGE_VAL,
                   std::nan(""),
                   -std::nan("")})
    check(v);
  uint64_t x = 0x9E3779B97F4A7C15ull;  // splitmix64
  auto next = [&x] {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int i = 0; i < 100000; ++i) {
    const uint64_t z = next();
    double d;
    std::memcpy(&d, &z, sizeof d);
    check(d);  // any bit pattern: mostly beyond the exact path's range
    // Exponents from 2^-70 to 2^150: the exact path (about 1e-14 to 1e44) and both its ends.
    const uint64_t bits =
        (z & ((uint64_t(1) << 52) - 1)) | (uint64_t(1023 - 70 + int(z >> 56) % 221) << 52);
    std::memcpy(&d, &bits, sizeof d);
    check(d);
    check(-d);
    check(double(z % 100000000000ull) / 100.0);    // cycles and ratios
    check(double(z >> 11) * 0x1p-53 * 1e-3);       // small fractions
    check(double((z % 2000000000ull) | 1) + 0.5);  // ties at the 10th digit
    check(double(z % 1000000));                    // whole numbers
    check(double(z % 1000000000) * 1e9);
    check(double(z % 100000) / 7.0);
    const double p2 = std::ldexp(1.0, int(z % 200) - 100), p10 = std::pow(10.0, int(z % 60) - 20);
    for (double p : {p2, p10}) {
      check(p);
      check(std::nextafter(p, 0.0));
      check(std::nextafter(p, HUGE_VAL));
    }
    // A 10-digit number ending in 5 (a tie for 9 digits) at some scale, and its neighbours.
    const double tie =
        double((z >> 8) % 900000000ull * 10 + 1000000005ull) * std::pow(10.0, int(z % 40) - 25);
    check(tie);
    check(std::nextafter(tie, 0.0));
    check(std::nextafter(tie, HUGE_VAL));
    check_integer(z);
    check_integer(z >> (z % 64));
    check_integer(z % 1000);
  }
  for (uint64_t p = 1, i = 0; i < 20; ++i, p *= 10) {
    check_integer(p);
    check_integer(p - 1);
    check_integer(p + 1);
  }
  check_integer(~uint64_t(0));
  EXPECT_EQ(differ, 0);
}

TEST(CliReportTableTest, AtomicWriteReplacesAndLeavesNoTemporary) {
  TempDir t;
  const std::string p = (t.path / "r.csv").string();
  write_file_atomic(p, "first\n");
  EXPECT_EQ(slurp(p), "first\n");
  write_file_atomic(p, "second, longer\n");
  EXPECT_EQ(slurp(p), "second, longer\n");
  EXPECT_EQ(entries(t.path), std::vector<std::string>{"r.csv"});
  EXPECT_THROW(write_file_atomic((t.path / "missing" / "r.csv").string(), "x"), std::system_error);
  EXPECT_EQ(entries(t.path), std::vector<std::string>{"r.csv"});
}

// A report (Sync::None) over an old file swaps names with it and removes it: the outcome of a
// rename() in every case it can tell apart (a second name of the old file keeps the old text, a
// symbolic link is replaced by the file, a folder in the way is an error and nothing is left).
TEST(CliReportTableTest, AtomicWriteOfAReportReplacesAsRenameDoes) {
  TempDir t;
  const fs::path p = t.path / "r.csv";
  write_file_atomic(p.string(), "first\n", Sync::None);
  EXPECT_EQ(slurp(p), "first\n");
  fs::create_hard_link(p, t.path / "second_name.csv");
  write_file_atomic(p.string(), "second, longer\n", Sync::None);
  EXPECT_EQ(slurp(p), "second, longer\n");
  EXPECT_EQ(slurp(t.path / "second_name.csv"), "first\n");
  EXPECT_EQ(fs::hard_link_count(p), 1u);
  write_file_atomic(p.string(), "3\n", Sync::None);
  EXPECT_EQ(slurp(p), "3\n");
  EXPECT_EQ(entries(t.path), (std::vector<std::string>{"r.csv", "second_name.csv"}));

  fs::create_symlink(t.path / "second_name.csv", t.path / "link.csv");
  write_file_atomic((t.path / "link.csv").string(), "into the link's place\n", Sync::None);
  EXPECT_FALSE(fs::is_symlink(t.path / "link.csv"));
  EXPECT_EQ(slurp(t.path / "link.csv"), "into the link's place\n");
  EXPECT_EQ(slurp(t.path / "second_name.csv"), "first\n");

  fs::create_directory(t.path / "dir.csv");
  EXPECT_THROW(write_file_atomic((t.path / "dir.csv").string(), "x", Sync::None),
               std::system_error);
  EXPECT_TRUE(fs::is_directory(t.path / "dir.csv"));
  EXPECT_EQ(entries(t.path),
            (std::vector<std::string>{"dir.csv", "link.csv", "r.csv", "second_name.csv"}));
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// SCALE-Sim's command line (-c CFG -t TOPO -p OUTDIR -i conv|gemm) and a topology named in the
// config run as they do there.
TEST(CliScaleSim, ShortSpellingsAndTopologyFromTheConfig) {
  TempDir t;
  const std::string topo = (t.path / "g.csv").string();
  std::ofstream(topo) << "Layer, M, N, K,\nA, 64, 32, 16,\n";
  const std::string cfg = (t.path / "s.cfg").string();
  std::ofstream(cfg) << "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
                        "[network_presets]\nTopologyCsvLoc: g.csv\n[run_presets]\n"
                        "InterfaceBandwidth: CALC\n";
  std::ostringstream out, err;
  // -i says what the file is; a mismatch is bad input. (First: an exception thrown after a
  // SystemC simulation ran in the process is a false positive of AddressSanitizer,
  // google/sanitizers#189.)
  std::ostringstream e2;
  EXPECT_EQ(run_cli({"-c", cfg, "-t", topo, "-p", (t.path / "o3").string(), "-i", "conv"}, out, e2),
            kExitBadInput);
  EXPECT_NE(e2.str().find("--input-type conv: "), std::string::npos) << e2.str();
  EXPECT_FALSE(fs::exists(t.path / "o3"));
  const std::string o1 = (t.path / "o1").string(), o2 = (t.path / "o2").string();
  ASSERT_EQ(run_cli({"-c", cfg, "-t", topo, "-p", o1, "-i", "gemm", "--quiet"}, out, err), 0)
      << err.str();
  ASSERT_EQ(run_cli({"-c", cfg, "-p", o2, "--quiet"}, out, err), 0) << err.str();
  // WS on 8 x 8: 2 K-chunks x 4 N-chunks, each 8 + 64 + 8 + 8 - 2 cycles (cycle-accounting.md).
  for (const std::string& o : {o1, o2}) {
    std::ifstream f(o + "/COMPUTE_REPORT.csv");
    std::string head, row;
    std::getline(f, head);
    std::getline(f, row);
    EXPECT_EQ(row.rfind("0, " + std::to_string(8 * (8 + 64 + 8 + 8 - 2)) + ",", 0), 0u) << row;
  }
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// SCALE-Sim's own AlexNet conv1 row (224 x 224 input): standard sizes give 54 x 54 outputs,
// SCALE-Sim's rounding 55 x 55; with --scalesim-rounding the golden case's 112,221 cycles
// (docs/validation.md: 36 folds x (2 x 32 + 32 + 3025 - 2) - 3 x 21), else 36 x 2916 + 3321.
TEST(CliScaleSim, ScaleSimRoundingReproducesItsOutputSizes) {
  TempDir t;
  const std::string topo = (t.path / "alexnet.csv").string();
  std::ofstream(topo) << "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                         "Channels, Num Filter, Strides,\nConv1     ,224         ,224        ,11 "
                         "          ,11          ,3       ,96        ,4      ,\n";
  const std::string cfg = (t.path / "s.cfg").string();
  std::ofstream(cfg) << "[architecture_presets]\nArrayHeight: 32\nArrayWidth: 32\n"
                        "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: ws\n"
                        "[run_presets]\nInterfaceBandwidth: CALC\n";
  // The refusal first: an exception after a simulation in the same process trips ASan's
  // stack-switch false positive (google/sanitizers#189).
  {
    std::ostringstream out, err;
    EXPECT_EQ(run_cli({"--gemm", "4,4,4", "--scalesim-rounding", "--out", (t.path / "o9").string()},
                      out, err),
              kExitBadInput);
  }
  const int64_t expect[2] = {36 * 2916 + 3321, 36 * (2 * 32 + 32 + 3025 - 2) - 3 * 21};
  for (int rounding = 0; rounding < 2; ++rounding) {
    const std::string o = (t.path / ("o" + std::to_string(rounding))).string();
    std::vector<std::string> args = {"-c", cfg, "-t", topo, "-p", o, "--quiet"};
    if (rounding) args.push_back("--scalesim-rounding");
    std::ostringstream out, err;
    ASSERT_EQ(run_cli(args, out, err), 0) << err.str();
    EXPECT_NE(err.str().find("SCALE-Sim rounds the output size up for Conv1 (" +
                             std::to_string((3025 - 2916) * 363 * 96) + " MACs more in all)"),
              std::string::npos)
        << err.str();
    std::ifstream f(o + "/COMPUTE_REPORT.csv");
    std::string head, row;
    std::getline(f, head);
    std::getline(f, row);
    EXPECT_EQ(row.rfind("0, " + std::to_string(expect[rounding]) + ",", 0), 0u) << row;
  }
}

}  // namespace
}  // namespace ssim
