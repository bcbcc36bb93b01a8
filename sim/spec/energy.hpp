// Energy and area in the Accelergy style (docs/energy.md): a table of energy per action and area
// per component at a named technology node, applied to the counts a run already keeps (MACs,
// register traffic per dataflow, SRAM accesses per buffer, DRAM bytes, vector-unit operations).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/types.hpp"

namespace ssim {

struct HwSpec;
struct Program;
struct TileStep;

// The table's entries by key (docs/energy.md, "The table"). Unset entries take their default:
// the 45 nm value (Horowitz, ISSCC 2014; see docs/energy.md) scaled to `technology_nm`.
struct EnergyTable {
  double technology_nm = 45;            // the node the run is reported at
  std::map<std::string, double> given;  // entries the user set, at technology_nm
  std::string source = "defaults";      // "defaults" or the --energy-table file
};

// Every entry of the table, in the order of docs/energy.md: {key, what, unit}.
struct EnergyKeyInfo {
  const char* key;
  const char* what;
  double min, max;  // allowed range (inclusive)
};
const std::vector<EnergyKeyInfo>& energy_keys();

// Reads a YAML energy table (`technology_nm:` and the entries of energy_keys(), at the top level
// or under `energy:` / `area:`). Throws InputError "FILE:LINE: key 'K': ..." for an unknown key,
// a value that is not a number or lies outside its range, a duplicate, or a syntax error.
EnergyTable parse_energy_table_text(const std::string& text, const std::string& source);
EnergyTable parse_energy_table_file(const std::string& path);

// The table resolved for a spec: every entry a number at technology_nm.
struct EnergyCosts {
  double technology_nm = 45;
  double mac_pj = 0;                    // per MAC at the input width, accumulate in int32
  double register_read_pj_per_bit = 0;  // a PE's own register (stationary value, accumulator)
  double register_write_pj_per_bit = 0;
  double transfer_pj_per_bit = 0;    // on-chip transfer: a value moved into a neighbour PE
  double sram_read_pj_64b_8kib = 0;  // SRAM access of 64 bits in an 8 KiB bank
  double sram_write_pj_64b_8kib = 0;
  double sram_size_exponent = 0;  // access energy ~ (bank KiB / 8)^exponent
  double dram_read_pj_per_byte = 0;
  double dram_write_pj_per_byte = 0;
  double vector_op_pj = 0;  // one lane operation of the vector unit
  double pe_um2 = 0;        // one PE: multiplier, adder, registers
  double register_um2_per_bit = 0;
  double sram_um2_per_kib = 0;
  double vector_lane_um2 = 0;
  // key -> value, every entry (for summary.json)
  std::map<std::string, double> entries() const;
};
EnergyCosts resolve_energy(const EnergyTable& table, const HwSpec& hw);

// Energy of one SRAM access of `bits` in a bank of `bank_kib` KiB (docs/energy.md).
double sram_access_pj(double pj_64b_8kib, double exponent, double bank_kib, int bits);

// What a run counted that costs energy (docs/energy.md, "Counts").
struct EnergyCounts {
  uint64_t macs = 0;
  uint64_t register_read_bits = 0, register_write_bits = 0;  // a PE's own registers
  uint64_t transfer_bits = 0;                                // values moved PE to PE
  uint64_t sram_reads[3] = {0, 0, 0};                        // elements, per Operand
  uint64_t sram_writes[3] = {0, 0, 0};
  int sram_bits[3] = {8, 8, 32};  // bits per element access, per Operand
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  uint64_t vector_ops = 0;  // lane operations of the vector unit (or of a fused output stage)
};

// The register and transfer traffic of a GEMM program's folds: the closed forms of
// docs/energy.md, "Register traffic", summed over every fold segment of every step.
struct RegisterTraffic {
  uint64_t read_bits = 0, write_bits = 0, transfer_bits = 0, macs = 0;
  void times(uint64_t k) {  // k copies of it
    read_bits *= k, write_bits *= k, transfer_bits *= k, macs *= k;
  }
};
RegisterTraffic register_traffic(const Program& prog, int array_rows, int array_cols);
// One step's part of it (of one copy: register_traffic() multiplies by the shared copies), added
// to t: for a caller that passes over the steps once for several sums.
void add_register_traffic(RegisterTraffic& t, const Program& prog, const TileStep& s,
                          int array_rows);

// Energy by component in pJ (the columns of layers.csv).
struct EnergyBreakdown {
  double mac = 0, reg = 0, transfer = 0, sram_ifmap = 0, sram_filter = 0, sram_ofmap = 0, dram = 0,
         vector = 0;
  double total() const {
    return mac + reg + transfer + sram_ifmap + sram_filter + sram_ofmap + dram + vector;
  }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};
// Component names as in layers.csv (energy_<name>_pj) and summary.json, in column order.
const std::vector<std::string>& energy_component_names();
std::vector<double> energy_component_values(const EnergyBreakdown& e);

EnergyBreakdown energy_of(const EnergyCosts& c, const HwSpec& hw, const EnergyCounts& n);

// Area in um^2 by component.
struct AreaBreakdown {
  double pe_array = 0, sram_ifmap = 0, sram_filter = 0, sram_ofmap = 0, vector = 0;
  double total() const { return pe_array + sram_ifmap + sram_filter + sram_ofmap + vector; }
};
AreaBreakdown area_of(const EnergyCosts& c, const HwSpec& hw);

}  // namespace ssim
