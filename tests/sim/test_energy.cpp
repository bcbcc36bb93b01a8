// Energy and area (docs/energy.md). The expected numbers are derived here by hand from the
// documented closed forms and the table's published defaults (Horowitz 45 nm: MAC 0.3 pJ,
// register 1/32 pJ per bit, transfer 2/32 pJ per bit, SRAM 10 pJ per 64 bits at 8 KiB growing as
// sqrt(size), DRAM 1.95 nJ per 64 bits, vector lane op 1.5 pJ), never by calling sim/spec/energy.*.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/spec/energy.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

using testutil::slurp;
using testutil::TempDir;
using testutil::write_file;

// The published defaults, typed in from docs/energy.md.
constexpr double kMac = 0.3, kReg = 1.0 / 32, kXfer = 2.0 / 32, kDram = 1950.0 / 8, kVec = 1.5;
// One access of `bits` to a bank of `kib` KiB: 10 pJ per 64 bits at 8 KiB, times sqrt(kib / 8).
double sram(double kib, int bits) {
  return 10.0 * std::sqrt(kib / 8) * bits / 64;
}

// A CSV file (layers.csv, sweep.csv) as maps column -> text.
std::vector<std::map<std::string, std::string>> read_layers(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line;
  std::vector<std::string> head;
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    if (head.empty()) {
      EXPECT_TRUE(parse_csv_record(line, head)) << line;
      continue;
    }
    std::vector<std::string> f;
    EXPECT_TRUE(parse_csv_record(line, f)) << line;
    std::map<std::string, std::string> m;
    for (size_t i = 0; i < head.size() && i < f.size(); ++i) m[head[i]] = f[i];
    rows.push_back(m);
  }
  return rows;
}

double num(const std::map<std::string, std::string>& row, const std::string& col) {
  return std::stod(row.at(col));
}

struct EnergyRun {
  std::vector<std::map<std::string, std::string>> layers;
  nlohmann::json summary;
};

EnergyRun run_energy(const TempDir& t, const std::string& name, std::vector<std::string> args) {
  const std::string out_dir = (t.path / name).string();
  args.insert(args.end(), {"--out", out_dir, "--quiet"});
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  EXPECT_EQ(code, 0) << err.str();
  EnergyRun r;
  r.layers = read_layers(out_dir + "/layers.csv");
  r.summary = nlohmann::json::parse(slurp(out_dir + "/summary.json"));
  return r;
}

void expect_near_rel(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-7 * std::max(1.0, std::fabs(want))) << what;
}

// WS, 64 x 48 x 40 on 16 x 16, stall-free, the default 512 KiB buffers (everything fits).
// Folds: Sr = K = 40 -> chunks of 16, 16, 8 rows; Sc = N = 48 -> 3 chunks of 16; T = M = 64.
TEST(Energy, SmallGemmEqualsTheClosedFormAndTheTable) {
  TempDir t("ssim_energy");
  const EnergyRun r = run_energy(t, "ws",
                                 {"--gemm", "64,48,40", "--array", "16x16", "--dataflow", "ws",
                                  "--interface-bandwidth", "calc", "--fold-overlap", "off"});
  ASSERT_EQ(r.layers.size(), 1u);
  const auto& row = r.layers[0];
  const double M = 64, N = 48, K = 40, R = 16;
  const double macs = M * N * K;
  // Register reads: the stationary weight per MAC, 8 bits.
  const double reg_bits = macs * 8;
  // Transfers: the inputs across the columns (8 bits per MAC), the partial sums down all 16 rows
  // (c T R x 32 per fold, 9 folds of c = 16), the preloads (c r (r + 1) / 2 x 8 per fold).
  const double psum = 9 * 16 * M * R * 32;
  const double preload = 3 * 16 * (16 * 17 / 2 + 16 * 17 / 2 + 8 * 9 / 2) * 8;
  const double xfer_bits = macs * 8 + psum + preload;
  // SRAM (docs/memory-system.md, "Counting rules"): ifmap reads M K per Sc-chunk, writes M K;
  // filter reads and writes K N; ofmap writes M N per K-chunk, reads the partial sums of the two
  // later K-chunks and each output once for the write-back. A 512 KiB buffer: 256 KiB banks.
  const double e_ifmap = (M * K * 3 + M * K) * sram(256, 8);
  const double e_filter = (K * N + K * N) * sram(256, 8);
  const double e_ofmap = (M * N * 3 + (M * N * 2 + M * N)) * sram(256, 32);
  const double e_dram = (M * K + K * N + M * N) * kDram;  // int8 in and out
  expect_near_rel(num(row, "energy_mac_pj"), macs * kMac, "mac");
  expect_near_rel(num(row, "energy_register_pj"), reg_bits * kReg, "register");
  expect_near_rel(num(row, "energy_transfer_pj"), xfer_bits * kXfer, "transfer");
  expect_near_rel(num(row, "energy_sram_ifmap_pj"), e_ifmap, "sram ifmap");
  expect_near_rel(num(row, "energy_sram_filter_pj"), e_filter, "sram filter");
  expect_near_rel(num(row, "energy_sram_ofmap_pj"), e_ofmap, "sram ofmap");
  expect_near_rel(num(row, "energy_dram_pj"), e_dram, "dram");
  EXPECT_EQ(num(row, "energy_vector_pj"), 0);
  const double total =
      macs * kMac + reg_bits * kReg + xfer_bits * kXfer + e_ifmap + e_filter + e_ofmap + e_dram;
  expect_near_rel(num(row, "energy_pj"), total, "total");

  // summary.json: the totals and the derived figures.
  const auto& e = r.summary.at("energy");
  expect_near_rel(e.at("total_pj").get<double>(), total, "summary total");
  expect_near_rel(e.at("pj_per_mac").get<double>(), total / macs, "pJ/MAC");
  const double joules = total * 1e-12;
  const double seconds = r.summary.at("totals").at("seconds").get<double>();
  expect_near_rel(e.at("tops_per_w").get<double>() * 1e12, 2 * macs / joules, "TOPS/W");
  expect_near_rel(e.at("energy_delay_product_j_s").get<double>() * 1e24, joules * seconds * 1e24,
                  "EDP");
  // Area: 256 PEs of (282 + 137 + 48 flip-flops x 4.522) um^2, 3 x 512 KiB of SRAM at
  // 8192 x 0.346 / 0.7 um^2 per KiB, 16 lanes of (1360 + 1640) um^2.
  const double pe = 282 + 137 + 48 * 4.522;
  const double area = 256 * pe + 3 * 512 * (8192 * 0.346 / 0.7) + 16 * 3000.0;
  expect_near_rel(r.summary.at("area").at("total_mm2").get<double>() * 1e6, area, "area");
}

// Changing the dataflow moves the array's register and transfer energy as the closed forms say:
// 64^3 on 32 x 32 is 4 full folds (r = c = 32, T = 64) in both.
TEST(Energy, DataflowMovesRegisterEnergyAsTheClosedFormSays) {
  TempDir t("ssim_energy");
  const std::vector<std::string> base = {
      "--gemm", "64,64,64", "--array", "32x32", "--interface-bandwidth", "calc"};
  auto with = [&](const std::string& df) {
    std::vector<std::string> a = base;
    a.insert(a.end(), {"--dataflow", df});
    return run_energy(t, df, a).layers.at(0);
  };
  const auto ws = with("ws"), os = with("os");
  const double macs = 64.0 * 64 * 64, R = 32, r = 32, c = 32, T = 64, folds = 4;
  // WS: weight read per MAC; inputs across, psums down R rows, preload c r (r + 1) / 2.
  const double ws_reg = macs * 8 * kReg;
  const double ws_xfer =
      (macs * 8 + folds * c * T * R * 32 + folds * c * r * (r + 1) / 2 * 8) * kXfer;
  // OS: the accumulator read and written per MAC and once more for the move into the drain
  // register; A and B transfers per MAC; the drain c (r (R - 1) - r (r - 1) / 2) x 32 per fold.
  const double os_reg = 2 * (macs * 32 + folds * r * c * 32) * kReg;
  const double os_xfer = (2 * macs * 8 + folds * c * (r * (R - 1) - r * (r - 1) / 2) * 32) * kXfer;
  expect_near_rel(num(ws, "energy_register_pj"), ws_reg, "ws register");
  expect_near_rel(num(ws, "energy_transfer_pj"), ws_xfer, "ws transfer");
  expect_near_rel(num(os, "energy_register_pj"), os_reg, "os register");
  expect_near_rel(num(os, "energy_transfer_pj"), os_xfer, "os transfer");
  // docs/energy.md's worked numbers: 65,536 / 689,152 pJ (WS), 532,480 / 389,120 pJ (OS).
  EXPECT_DOUBLE_EQ(ws_reg, 65536);
  EXPECT_DOUBLE_EQ(ws_xfer, 689152);
  EXPECT_DOUBLE_EQ(os_reg, 532480);
  EXPECT_DOUBLE_EQ(os_xfer, 389120);
  // The MACs do not depend on the dataflow.
  EXPECT_EQ(num(ws, "energy_mac_pj"), num(os, "energy_mac_pj"));

  // IS is WS with A and B swapped: IS on (M, N, K) has WS's register traffic on (N, M, K).
  const auto is = run_energy(t, "is",
                             {"--gemm", "64,48,40", "--array", "16x16", "--dataflow", "is",
                              "--interface-bandwidth", "calc"})
                      .layers.at(0);
  const auto ws2 = run_energy(t, "ws2",
                              {"--gemm", "48,64,40", "--array", "16x16", "--dataflow", "ws",
                               "--interface-bandwidth", "calc"})
                       .layers.at(0);
  EXPECT_EQ(num(is, "energy_register_pj"), num(ws2, "energy_register_pj"));
  EXPECT_EQ(num(is, "energy_transfer_pj"), num(ws2, "energy_transfer_pj"));
}

// A vector op: lane operations, its SRAM accesses and its DRAM bytes.
TEST(Energy, VectorOpEqualsTheTable) {
  TempDir t("ssim_energy");
  write_file(t.path / "v.yaml",
             "name: v\nlayers:\n  - {name: res, type: elementwise, op: add, shape: [4, 32]}\n");
  const EnergyRun r = run_energy(t, "v", {"--workload", (t.path / "v.yaml").string()});
  ASSERT_EQ(r.layers.size(), 1u);
  const auto& row = r.layers[0];
  // 128 outputs of an add (one pass): 128 lane operations; 256 int8 inputs written to and read
  // from the ifmap buffer, 128 results written to and read from the ofmap buffer; 256 bytes read
  // from DRAM, 128 written.
  expect_near_rel(num(row, "energy_vector_pj"), 128 * kVec, "vector");
  expect_near_rel(num(row, "energy_sram_ifmap_pj"), 512 * sram(256, 8), "ifmap");
  expect_near_rel(num(row, "energy_sram_ofmap_pj"), 256 * sram(256, 8), "ofmap");
  expect_near_rel(num(row, "energy_dram_pj"), 384 * kDram, "dram");
  EXPECT_EQ(num(row, "energy_mac_pj"), 0);
  EXPECT_EQ(num(row, "energy_register_pj"), 0);
}

// technology_nm scales the defaults (energy ~ node, area ~ node^2, DRAM not at all); a given
// entry is taken as it is.
TEST(Energy, TechnologyScalingAndOverrides) {
  TempDir t("ssim_energy");
  write_file(t.path / "half.yaml", "technology_nm: 22.5\n");
  write_file(t.path / "mine.yaml",
             "technology_nm: 22.5\nenergy:\n  mac_pj: 2\n  dram_read_pj_per_byte: 100\n"
             "area:\n  sram_um2_per_kib: 1000\n");
  const std::vector<std::string> g = {
      "--gemm", "64,48,40", "--array", "16x16", "--interface-bandwidth", "calc"};
  auto with = [&](const std::string& name, const std::string& table) {
    std::vector<std::string> a = g;
    if (!table.empty()) a.insert(a.end(), {"--energy-table", (t.path / table).string()});
    return run_energy(t, name, a);
  };
  const EnergyRun base = with("base", ""), half = with("half", "half.yaml"),
                  mine = with("mine", "mine.yaml");
  const auto &b = base.layers.at(0), &h = half.layers.at(0), &m = mine.layers.at(0);
  for (const char* col : {"energy_mac_pj", "energy_register_pj", "energy_transfer_pj",
                          "energy_sram_ifmap_pj", "energy_sram_filter_pj", "energy_sram_ofmap_pj"})
    expect_near_rel(num(h, col), num(b, col) / 2, col);
  EXPECT_EQ(num(h, "energy_dram_pj"), num(b, "energy_dram_pj"));
  const auto& ab = base.summary.at("area");
  const auto& ah = half.summary.at("area");
  expect_near_rel(ah.at("total_mm2").get<double>(), ab.at("total_mm2").get<double>() / 4, "area");
  EXPECT_EQ(half.summary.at("energy").at("technology_nm").get<double>(), 22.5);

  expect_near_rel(num(m, "energy_mac_pj"), 64.0 * 48 * 40 * 2, "given mac_pj");
  // DRAM: 4480 bytes read at the given 100 pJ, 3072 written at the default.
  expect_near_rel(num(m, "energy_dram_pj"), 4480 * 100 + 3072 * kDram, "given dram read");
  expect_near_rel(mine.summary.at("area").at("sram_ifmap_mm2").get<double>(), 512 * 1000 * 1e-6,
                  "given sram area");
  EXPECT_EQ(mine.summary.at("energy").at("table_source").get<std::string>(),
            (t.path / "mine.yaml").string());
}

// Fusion and residency show in the energy: a fused activation moves no DRAM bytes of its own, a
// resident tensor is not written out and read back, so the network spends less DRAM energy, by
// exactly the bytes saved at the table's price.
TEST(Energy, FusionAndResidencySaveTheDramEnergyOfTheBytesTheySave) {
  TempDir t("ssim_energy");
  write_file(t.path / "n.yaml",
             "name: n\nlayers:\n  - {name: fc, type: linear, tokens: 64, in: 64, out: 64, "
             "activation: relu}\n");
  const std::string w = (t.path / "n.yaml").string();
  auto with = [&](const std::string& name, const char* fusion, const char* residency) {
    return run_energy(t, name, {"--workload", w, "--fusion", fusion, "--residency", residency});
  };
  const EnergyRun plain = with("plain", "off", "off"), fused = with("fused", "on", "off"),
                  resident = with("resident", "off", "on");
  auto dram = [](const EnergyRun& r) {
    double e = 0, bytes = 0;
    for (const auto& row : r.layers) {
      e += num(row, "energy_dram_pj");
      bytes += num(row, "dram_read_bytes") + num(row, "dram_write_bytes");
    }
    return std::make_pair(e, bytes);
  };
  const auto [e_plain, b_plain] = dram(plain);
  for (const EnergyRun* r : {&fused, &resident}) {
    const auto [e, b] = dram(*r);
    EXPECT_LT(b, b_plain);
    expect_near_rel(e_plain - e, (b_plain - b) * kDram, "dram saved");
    // The rows add up to the summary's total.
    double sum = 0;
    for (const auto& row : r->layers) sum += num(row, "energy_pj");
    expect_near_rel(r->summary.at("energy").at("total_pj").get<double>(), sum, "sum of rows");
  }
}

// A sweep's energy columns equal single runs of its points, with the same table.
TEST(Energy, SweepColumnsEqualSingleRuns) {
  TempDir t("ssim_energy");
  write_file(t.path / "tbl.yaml", "technology_nm: 28\nenergy: {dram_read_pj_per_byte: 80}\n");
  const std::string tbl = (t.path / "tbl.yaml").string();
  std::ostringstream sout, serr;
  // The sweep first: it forks its workers before this process has simulated anything.
  ASSERT_EQ(run_sweep_cli(
                {"--gemm", "64,48,40", "--arrays", "16x16", "--dataflows", "ws,os",
                 "--energy-table", tbl, "--out", (t.path / "sw").string(), "--quiet", "-j", "1"},
                sout, serr),
            0)
      << serr.str();
  const auto rows = read_layers((t.path / "sw" / "sweep.csv").string());
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    const EnergyRun one = run_energy(t, "one_" + row.at("dataflow"),
                                     {"--gemm", "64,48,40", "--array", "16x16", "--dataflow",
                                      row.at("dataflow"), "--energy-table", tbl});
    const auto& e = one.summary.at("energy");
    expect_near_rel(num(row, "energy_pj"), e.at("total_pj").get<double>(), "energy_pj");
    expect_near_rel(num(row, "pj_per_mac"), e.at("pj_per_mac").get<double>(), "pj_per_mac");
    expect_near_rel(num(row, "tops_per_w"), e.at("tops_per_w").get<double>(), "tops_per_w");
    expect_near_rel(num(row, "edp_j_s") * 1e24,
                    e.at("energy_delay_product_j_s").get<double>() * 1e24, "edp");
    expect_near_rel(num(row, "area_mm2"), one.summary.at("area").at("total_mm2").get<double>(),
                    "area");
  }
  EXPECT_NE(rows[0].at("energy_pj"), rows[1].at("energy_pj"));  // WS and OS differ
}

// Bad tables: one line, FILE:LINE, the key, what is allowed; exit 2 and nothing written.
TEST(Energy, BadTablesAreRefusedWithFileLineAndKey) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"mac_pj: 0.3\ndram_pj: 3\n", "t.yaml:2: key 'dram_pj': unknown; allowed: technology_nm"},
      {"energy:\n  mac_pj: -1\n", "t.yaml:2: key 'mac_pj': '-1' is not allowed; expected a number"},
      {"mac_pj: lots\n", "t.yaml:1: key 'mac_pj': 'lots' is not allowed; expected a number"},
      {"technology_nm: 1\n",
       "t.yaml:1: key 'technology_nm': '1' is not allowed; expected a "
       "number from 3 to 250"},
      {"sram_size_exponent: 3\n", "key 'sram_size_exponent': '3' is not allowed"},
      {"mac_pj: [1, 2]\n", "t.yaml:1: key 'mac_pj': 'a list' is not allowed"},
      {"mac_pj: 1\nenergy:\n  mac_pj: 2\n", "t.yaml:3: key 'mac_pj': given twice"},
      {"energy: 3\n", "t.yaml:1: key 'energy': expected a map of entries"},
      {"- mac_pj\n", "t.yaml:1: an energy table is a YAML map"},
      {"mac_pj: [1\n", "t.yaml:"},
      {"technology_nm: 45\narea:\n  pe_mm2: 1\n", "t.yaml:3: key 'pe_mm2': unknown"},
  };
  for (const Case& c : cases) {
    try {
      (void)parse_energy_table_text(c.text, "t.yaml");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  // Through the command line: exit 2, one "error:" line, no output folder.
  TempDir t("ssim_energy");
  const std::string dir = (t.path / "o").string();
  auto cli_error = [&](const std::string& table) {
    std::ostringstream out, err;
    EXPECT_EQ(
        run_cli({"--gemm", "8,8,8", "--energy-table", (t.path / table).string(), "--out", dir}, out,
                err),
        kExitBadInput);
    EXPECT_FALSE(std::filesystem::exists(dir));
    return err.str();
  };
  write_file(t.path / "bad.yaml", "energy:\n  mac_pj: 0.3\n  sram_pj: 1\n");
  EXPECT_EQ(cli_error("bad.yaml"),
            "error: " + (t.path / "bad.yaml").string() +
                ":3: key 'sram_pj': unknown; allowed: technology_nm, energy, area, mac_pj, "
                "register_read_pj_per_bit, register_write_pj_per_bit, transfer_pj_per_bit, "
                "sram_read_pj_64b_8kib, sram_write_pj_64b_8kib, sram_size_exponent, "
                "dram_read_pj_per_byte, dram_write_pj_per_byte, vector_op_pj, pe_um2, "
                "register_um2_per_bit, sram_um2_per_kib, vector_lane_um2\n");
  EXPECT_NE(cli_error("none.yaml").find("--energy-table"), std::string::npos);
  write_file(t.path / "empty.yaml", "\n");
  EXPECT_NE(cli_error("empty.yaml").find("empty.yaml:1: empty energy table"), std::string::npos);
}

}  // namespace
}  // namespace ssim
