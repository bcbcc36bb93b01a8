#include "sim/spec/energy.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <sstream>

#include "models/program.hpp"
#include "sim/spec/config.hpp"
#include "workloads/read_util.hpp"

namespace ssim {
namespace {

// --- 45 nm reference numbers (docs/energy.md, "Defaults and sources") ----------------------------
// Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V.
constexpr double kIntMult8Pj = 0.2;      // 8-bit integer multiply
constexpr double kIntAdd32Pj = 0.1;      // 32-bit integer add
constexpr double kFp16AddPj = 0.4;       // 16-bit floating-point add
constexpr double kFp16MultPj = 1.1;      // 16-bit floating-point multiply
constexpr double kSram64b8KibPj = 10.0;  // 64-bit access of an 8 KiB SRAM (32 KiB: 20, 1 MiB: 100)
constexpr double kDram64bPj = 1950.0;    // 64-bit DRAM access: 1.3 .. 2.6 nJ, the middle
constexpr double kIntMult8Um2 = 282;     // areas at 45 nm
constexpr double kIntAdd32Um2 = 137;
constexpr double kFp16AddUm2 = 1360;
constexpr double kFp16MultUm2 = 1640;
// A 32-bit register-file access, 1 pJ (Horowitz's table as Han et al., NIPS 2015, Fig. 1, give it).
constexpr double kRegister32bPj = 1.0;
// Eyeriss (Chen et al., ISCA 2016, Table IV): moving a value to a neighbour PE costs 2x an RF
// access.
constexpr double kTransferOverRegister = 2.0;
// NanGate FreePDK45 Open Cell Library, DFF_X1: 4.522 um^2 per flip-flop (bit).
constexpr double kFlopUm2 = 4.522;
// Intel 45 nm 6T SRAM cell (Mistry et al., IEDM 2007): 0.346 um^2; arrays 70 % cells (assumed).
constexpr double kSramCellUm2 = 0.346;
constexpr double kSramArrayEfficiency = 0.7;

const std::vector<EnergyKeyInfo> kKeys = {
    {"mac_pj", "energy of one MAC at the input width (multiply, 32-bit accumulate), pJ", 0, 1e6},
    {"register_read_pj_per_bit", "a PE register read, pJ per bit", 0, 1e6},
    {"register_write_pj_per_bit", "a PE register write, pJ per bit", 0, 1e6},
    {"transfer_pj_per_bit", "on-chip transfer of a value into a neighbour PE, pJ per bit", 0, 1e6},
    {"sram_read_pj_64b_8kib", "SRAM read of 64 bits in an 8 KiB bank, pJ", 0, 1e6},
    {"sram_write_pj_64b_8kib", "SRAM write of 64 bits in an 8 KiB bank, pJ", 0, 1e6},
    {"sram_size_exponent", "SRAM access energy grows as (bank KiB / 8)^this", 0, 2},
    {"dram_read_pj_per_byte", "DRAM read, pJ per byte", 0, 1e6},
    {"dram_write_pj_per_byte", "DRAM write, pJ per byte", 0, 1e6},
    {"vector_op_pj", "one lane operation of the vector unit, pJ", 0, 1e6},
    {"pe_um2", "area of one PE, um^2", 0, 1e9},
    {"register_um2_per_bit", "area of one register bit, um^2 (in the default pe_um2)", 0, 1e6},
    {"sram_um2_per_kib", "SRAM area per KiB, um^2", 0, 1e9},
    {"vector_lane_um2", "area of one vector-unit lane, um^2", 0, 1e9},
};

int pe_register_bits(const HwSpec& hw) {
  const int b = 8 * hw.input_bytes;
  if (hw.dataflow == Dataflow::OS) return 2 * b + 32 + 32;  // A, B pipes; accumulator, drain
  return b + b * (hw.fold_overlap ? 2 : 1) + 32;            // streamed; stationary banks; psum
}

std::string yaml_line(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return std::to_string(m.line >= 0 ? m.line + 1 : 1);
}

}  // namespace

const std::vector<EnergyKeyInfo>& energy_keys() {
  return kKeys;
}

double sram_access_pj(double pj_64b_8kib, double exponent, double bank_kib, int bits) {
  return pj_64b_8kib * std::pow(bank_kib / 8.0, exponent) * double(bits) / 64.0;
}

std::map<std::string, double> EnergyCosts::entries() const {
  return {{"mac_pj", mac_pj},
          {"register_read_pj_per_bit", register_read_pj_per_bit},
          {"register_write_pj_per_bit", register_write_pj_per_bit},
          {"transfer_pj_per_bit", transfer_pj_per_bit},
          {"sram_read_pj_64b_8kib", sram_read_pj_64b_8kib},
          {"sram_write_pj_64b_8kib", sram_write_pj_64b_8kib},
          {"sram_size_exponent", sram_size_exponent},
          {"dram_read_pj_per_byte", dram_read_pj_per_byte},
          {"dram_write_pj_per_byte", dram_write_pj_per_byte},
          {"vector_op_pj", vector_op_pj},
          {"pe_um2", pe_um2},
          {"register_um2_per_bit", register_um2_per_bit},
          {"sram_um2_per_kib", sram_um2_per_kib},
          {"vector_lane_um2", vector_lane_um2}};
}

EnergyCosts resolve_energy(const EnergyTable& t, const HwSpec& hw) {
  // Scaling from 45 nm (docs/energy.md): energy ~ node, area ~ node^2; DRAM is off chip.
  const double e = t.technology_nm / 45.0, a = e * e;
  auto pick = [&](const char* key, double dflt) {
    const auto it = t.given.find(key);
    return it != t.given.end() ? it->second : dflt;
  };
  const double w = double(hw.input_bytes);  // multiplier energy and area ~ width^2
  EnergyCosts c;
  c.technology_nm = t.technology_nm;
  c.mac_pj = pick("mac_pj", (kIntMult8Pj * w * w + kIntAdd32Pj) * e);
  c.register_read_pj_per_bit = pick("register_read_pj_per_bit", kRegister32bPj / 32 * e);
  c.register_write_pj_per_bit = pick("register_write_pj_per_bit", kRegister32bPj / 32 * e);
  c.transfer_pj_per_bit =
      pick("transfer_pj_per_bit", kTransferOverRegister * kRegister32bPj / 32 * e);
  c.sram_read_pj_64b_8kib = pick("sram_read_pj_64b_8kib", kSram64b8KibPj * e);
  c.sram_write_pj_64b_8kib = pick("sram_write_pj_64b_8kib", kSram64b8KibPj * e);
  c.sram_size_exponent = pick("sram_size_exponent", 0.5);
  c.dram_read_pj_per_byte = pick("dram_read_pj_per_byte", kDram64bPj / 8);
  c.dram_write_pj_per_byte = pick("dram_write_pj_per_byte", kDram64bPj / 8);
  c.vector_op_pj = pick("vector_op_pj", (kFp16AddPj + kFp16MultPj) * e);
  c.register_um2_per_bit = pick("register_um2_per_bit", kFlopUm2 * a);
  c.pe_um2 = pick("pe_um2", (kIntMult8Um2 * w * w + kIntAdd32Um2) * a +
                                pe_register_bits(hw) * c.register_um2_per_bit);
  c.sram_um2_per_kib = pick("sram_um2_per_kib", 8192 * kSramCellUm2 / kSramArrayEfficiency * a);
  c.vector_lane_um2 = pick("vector_lane_um2", (kFp16AddUm2 + kFp16MultUm2) * a);
  return c;
}

EnergyTable parse_energy_table_text(const std::string& text, const std::string& source) {
  EnergyTable t;
  t.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(source + ":" + std::to_string(e.mark.line >= 0 ? e.mark.line + 1 : 1) +
                     ": YAML syntax error: " + e.msg);
  }
  std::string allowed = "technology_nm, energy, area";
  for (const EnergyKeyInfo& k : kKeys) allowed += std::string(", ") + k.key;
  if (!root.IsMap())
    throw InputError(source + ":" + yaml_line(root) +
                     ": an energy table is a YAML map of keys to numbers (docs/energy.md); "
                     "allowed keys: " +
                     allowed);
  std::set<std::string> seen;
  auto number = [&](const YAML::Node& v, const std::string& key, double lo, double hi) {
    double x = 0;
    const std::string s = v.IsScalar() ? v.Scalar() : std::string();
    std::istringstream in(s);
    in >> x;
    const bool ok = v.IsScalar() && !s.empty() && !in.fail() && in.eof() && std::isfinite(x);
    if (!ok || x < lo || x > hi) {
      std::ostringstream r;
      r << source << ":" << yaml_line(v) << ": key '" << key << "': '"
        << (v.IsScalar()     ? s
            : v.IsMap()      ? "a map"
            : v.IsSequence() ? "a list"
                             : "empty")
        << "' is not allowed; expected a number from " << lo << " to " << hi;
      throw InputError(r.str());
    }
    return x;
  };
  auto entry = [&](const YAML::Node& kn, const YAML::Node& v, const std::string& section) {
    const std::string key = kn.IsScalar() ? kn.Scalar() : std::string("?");
    if (!seen.insert(key).second)
      throw InputError(source + ":" + yaml_line(kn) + ": key '" + key +
                       "': given twice; each entry once");
    if (key == "technology_nm" && section.empty()) {
      t.technology_nm = number(v, key, 3, 250);
      return;
    }
    for (const EnergyKeyInfo& k : kKeys)
      if (key == k.key) {
        t.given[key] = number(v, key, k.min, k.max);
        return;
      }
    throw InputError(source + ":" + yaml_line(kn) + ": key '" + key +
                     "': unknown; allowed: " + allowed);
  };
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node kn = it->first, v = it->second;
    const std::string key = kn.IsScalar() ? kn.Scalar() : std::string("?");
    if (key == "energy" || key == "area") {
      if (!seen.insert(key).second)
        throw InputError(source + ":" + yaml_line(kn) + ": key '" + key +
                         "': given twice; each section once");
      if (!v.IsMap())
        throw InputError(source + ":" + yaml_line(kn) + ": key '" + key +
                         "': expected a map of entries (docs/energy.md)");
      for (auto jt = v.begin(); jt != v.end(); ++jt) entry(jt->first, jt->second, key);
    } else {
      entry(kn, v, "");
    }
  }
  return t;
}

EnergyTable parse_energy_table_file(const std::string& path) {
  std::string text;
  try {
    text = detail::read_input_file(path, uintmax_t(1) << 20);
  } catch (const detail::InputFileError& e) {
    throw InputError(
        "--energy-table '" + path + "': " +
        (e.kind == detail::InputFileError::TooLarge ? std::string("larger than 1 MiB") : e.reason));
  }
  if (detail::trim(text).empty())
    throw InputError(path + ":1: empty energy table; expected a YAML map (docs/energy.md)");
  detail::check_text(text, path, "a YAML energy table");
  return parse_energy_table_text(text, path);
}

void add_register_traffic(RegisterTraffic& t, const Program& prog, const TileStep& s,
                          int array_rows) {
  // (Partial folds use the top-left r x c PEs; only R, the psum path, matters.)
  const uint64_t R = uint64_t(array_rows);
  const uint64_t b = 8 * uint64_t(prog.input_bytes), acc = 32;
  const bool os = prog.dataflow == Dataflow::OS;
  for (const Fold& f : s.folds) {
    const uint64_t r = uint64_t(f.rows), c = uint64_t(f.cols), T = uint64_t(f.T);
    const uint64_t macs = r * c * T;
    t.macs += macs;
    if (os) {
      // A right across c columns, B down r rows; the accumulator read and written per MAC.
      t.transfer_bits += 2 * macs * b;
      t.read_bits += macs * acc;
      t.write_bits += macs * acc;
      if (!f.more) {  // the fold's last segment: move into the drain registers, shift out
        t.read_bits += r * c * acc;
        t.write_bits += r * c * acc;
        t.transfer_bits += c * (r * (R - 1) - r * (r - 1) / 2) * acc;
      }
    } else {
      // The stationary value read per MAC; the streamed operand across c columns; the partial
      // sums down all R rows (the unused ones pass them on).
      t.read_bits += macs * b;
      t.transfer_bits += macs * b + c * T * R * acc;
      if (!f.cont) t.transfer_bits += c * (r * (r + 1) / 2) * b;  // preload down the columns
    }
  }
}

RegisterTraffic register_traffic(const Program& prog, int array_rows, int array_cols) {
  (void)array_cols;
  RegisterTraffic t;  // (of one copy when the copies share their steps: times `shared` below)
  prog.for_each_base([&](const TileStep& s) { add_register_traffic(t, prog, s, array_rows); });
  t.times(uint64_t(prog.shared));
  return t;
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  mac += o.mac;
  reg += o.reg;
  transfer += o.transfer;
  sram_ifmap += o.sram_ifmap;
  sram_filter += o.sram_filter;
  sram_ofmap += o.sram_ofmap;
  dram += o.dram;
  vector += o.vector;
  return *this;
}

const std::vector<std::string>& energy_component_names() {
  static const std::vector<std::string> n = {"mac",         "register",   "transfer", "sram_ifmap",
                                             "sram_filter", "sram_ofmap", "dram",     "vector"};
  return n;
}

std::vector<double> energy_component_values(const EnergyBreakdown& e) {
  return {e.mac, e.reg, e.transfer, e.sram_ifmap, e.sram_filter, e.sram_ofmap, e.dram, e.vector};
}

EnergyBreakdown energy_of(const EnergyCosts& c, const HwSpec& hw, const EnergyCounts& n) {
  EnergyBreakdown e;
  e.mac = double(n.macs) * c.mac_pj;
  e.reg = double(n.register_read_bits) * c.register_read_pj_per_bit +
          double(n.register_write_bits) * c.register_write_pj_per_bit;
  e.transfer = double(n.transfer_bits) * c.transfer_pj_per_bit;
  const double kib[3] = {double(hw.ifmap_sram_kb), double(hw.filter_sram_kb),
                         double(hw.ofmap_sram_kb)};
  double* out[3] = {&e.sram_ifmap, &e.sram_filter, &e.sram_ofmap};
  for (int i = 0; i < 3; ++i) {
    const double bank = kib[i] / 2;  // a double-buffered buffer: two banks of half its size
    *out[i] = double(n.sram_reads[i]) * sram_access_pj(c.sram_read_pj_64b_8kib,
                                                       c.sram_size_exponent, bank, n.sram_bits[i]) +
              double(n.sram_writes[i]) * sram_access_pj(c.sram_write_pj_64b_8kib,
                                                        c.sram_size_exponent, bank, n.sram_bits[i]);
  }
  e.dram = double(n.dram_read_bytes) * c.dram_read_pj_per_byte +
           double(n.dram_write_bytes) * c.dram_write_pj_per_byte;
  e.vector = double(n.vector_ops) * c.vector_op_pj;
  return e;
}

AreaBreakdown area_of(const EnergyCosts& c, const HwSpec& hw) {
  AreaBreakdown a;
  a.pe_array = double(hw.array_rows) * double(hw.array_cols) * c.pe_um2;
  a.sram_ifmap = double(hw.ifmap_sram_kb) * c.sram_um2_per_kib;
  a.sram_filter = double(hw.filter_sram_kb) * c.sram_um2_per_kib;
  a.sram_ofmap = double(hw.ofmap_sram_kb) * c.sram_um2_per_kib;
  a.vector = double(hw.vector_lanes) * c.vector_lane_um2;
  return a;
}

}  // namespace ssim
