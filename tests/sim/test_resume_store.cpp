// Tests of the sweep's resume store (sim/sweep/resume_store.*): what read_sweep_rows() keeps of a
// sweep folder after the damage an interrupted sweep or a person can leave. A real two-point
// sweep is made once; each case damages a copy of its files, and the expected rows and the count
// of dropped lines are derived from the clean files (which lines belong to which point).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/report/report_table.hpp"
#include "sim/sweep/resume_store.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  bool exists = false;
  return slurp(p, exists);
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

// The lines of a file, each with its '\n'.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l + "\n");
  return v;
}

// A finished sweep of two points (mlp on 8x8 and 16x16), its spec and points, and its files
// split into lines: rows[i] is point i's sweep.csv line, layers[i] its sweep_layers.csv lines.
struct Folder {
  testutil::TempDir tmp{"ssim_resume"};
  fs::path dir;
  SweepSpec spec;
  std::vector<SweepPoint> points;
  std::string header, lheader;
  std::map<int, std::string> rows;
  std::map<int, std::vector<std::string>> layers;

  Folder() {
    dir = tmp.path / "sweep";
    const std::vector<std::string> args = {"--workload", "mlp",        "--arrays", "8x8,16x16",
                                           "--out",      dir.string(), "--quiet"};
    std::ostringstream out, err;
    EXPECT_EQ(run_sweep_cli(args, out, err), 0) << err.str();
    spec = parse_sweep_args(args);
    points = enumerate_points(spec);
    const auto csv = lines_of(read_text(dir / "sweep.csv"));
    const auto lcsv = lines_of(read_text(dir / "sweep_layers.csv"));
    header = csv.at(0);
    lheader = lcsv.at(0);
    for (size_t i = 1; i < csv.size(); ++i) rows[std::stoi(csv[i])] = csv[i];
    for (size_t i = 1; i < lcsv.size(); ++i) layers[std::stoi(lcsv[i])].push_back(lcsv[i]);
  }
  std::string layer_text(int point) const {
    std::string s;
    for (const std::string& l : layers.at(point)) s += l;
    return s;
  }
  // Writes the two files: `csv` after the header, `lcsv` after its header.
  void write(const std::string& csv, const std::string& lcsv) const {
    write_text(dir / "sweep.csv", header + csv);
    write_text(dir / "sweep_layers.csv", lheader + lcsv);
  }
  SweepRows read(bool keep_errors = false) const {
    return read_sweep_rows(spec, points, dir.string(), keep_errors);
  }
};

TEST(ResumeStore, AFinishedSweepIsReadBackWhole) {
  Folder f;
  ASSERT_EQ(f.rows.size(), 2u);
  ASSERT_GT(f.layers[0].size(), 1u);
  const SweepRows st = f.read();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rows, f.rows);
  EXPECT_EQ(st.layers.at(0), f.layer_text(0));
  EXPECT_EQ(st.layers.at(1), f.layer_text(1));
}

TEST(ResumeStore, RowsAreMatchedByTheirParametersNotTheirPosition) {
  Folder f;
  // Point 1 written before point 0 in both files: the same points are kept.
  f.write(f.rows[1] + f.rows[0], f.layer_text(1) + f.layer_text(0));
  const SweepRows st = f.read();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rows, f.rows);
}

TEST(ResumeStore, ACutOffLastLineDropsItsPoint) {
  Folder f;
  // Killed while writing point 1's row: its per-op rows are there, the row is cut mid-line.
  const std::string cut = f.rows[1].substr(0, f.rows[1].size() / 2);
  f.write(f.rows[0] + cut, f.layer_text(0) + f.layer_text(1));
  const SweepRows st = f.read();
  EXPECT_EQ(st.rows.count(0), 1u);
  EXPECT_EQ(st.rows.count(1), 0u);
  // The cut-off line, and each per-op row of a point without a row.
  EXPECT_EQ(st.dropped, 1 + f.layers[1].size());
}

TEST(ResumeStore, APointMissingAPerOpRowRunsAgain) {
  Folder f;
  std::string partial;
  for (size_t i = 0; i + 1 < f.layers[0].size(); ++i) partial += f.layers[0][i];
  f.write(f.rows[0] + f.rows[1], partial + f.layer_text(1));
  const SweepRows st = f.read();
  EXPECT_EQ(st.rows.count(0), 0u);
  EXPECT_EQ(st.layers.count(0), 0u);
  EXPECT_EQ(st.rows.at(1), f.rows[1]);
  EXPECT_EQ(st.dropped, 1 + (f.layers[0].size() - 1));  // its row and the per-op rows it had
}

TEST(ResumeStore, ErrorRowsAreKeptOnlyWhenAsked) {
  Folder f;
  const std::string error_row = sweep_error_row(f.spec, f.points[1], "boom");
  f.write(f.rows[0] + error_row, f.layer_text(0));
  EXPECT_EQ(sweep_row_field(error_row, "status"), "error");
  SweepRows st = f.read(false);
  EXPECT_EQ(st.rows.count(1), 0u);
  EXPECT_EQ(st.dropped, 1u);
  st = f.read(true);
  EXPECT_EQ(st.rows.at(1), error_row);
  EXPECT_EQ(st.dropped, 0u);
}

TEST(ResumeStore, GarbageDuplicatesAndForeignRowsAreDropped) {
  Folder f;
  // A row of a point not in this sweep: point 0's row with another array shape.
  std::vector<std::string> fields;
  ASSERT_TRUE(parse_csv_record(f.rows[0].substr(0, f.rows[0].size() - 1), fields));
  fields[2] = "64x64";
  fields[3] = "4096";
  fields[4] = fields[5] = "64";
  const std::string foreign = csv_line(fields);
  f.write("not,a,row\n" + f.rows[0] + f.rows[0] + foreign + "\"open,quote\n" + f.rows[1],
          f.layer_text(0) + f.layer_text(1));
  const SweepRows st = f.read();
  EXPECT_EQ(st.rows, f.rows);
  EXPECT_EQ(st.dropped, 4u);  // garbage, the duplicate, the foreign row, the unclosed quote
}

TEST(ResumeStore, AnotherHeaderIsRefused) {
  Folder f;
  write_text(f.dir / "sweep.csv", "point,workload,other\n" + f.rows[0]);
  EXPECT_THROW(f.read(), InputError);
  write_text(f.dir / "sweep.csv", f.header + f.rows[0]);
  write_text(f.dir / "sweep_layers.csv", "point,x\n");
  EXPECT_THROW(f.read(), InputError);
}

TEST(ResumeStore, AMissingFolderHoldsNothing) {
  Folder f;
  const SweepRows st = read_sweep_rows(f.spec, f.points, (f.tmp.path / "none").string(), false);
  EXPECT_TRUE(st.rows.empty());
  EXPECT_EQ(st.dropped, 0u);
}

TEST(SweepCsv, RecordsRoundTripThroughQuoting) {
  const std::vector<std::string> fields = {"a", "", "x,y", "say \"hi\"", "", "last"};
  std::string line = csv_line(fields);
  line.pop_back();
  std::vector<std::string> back;
  ASSERT_TRUE(parse_csv_record(line, back));
  EXPECT_EQ(back, fields);
  EXPECT_FALSE(parse_csv_record("a,\"open", back));
  EXPECT_FALSE(parse_csv_record("a,\"x\"y", back));
}

}  // namespace
}  // namespace ssim
