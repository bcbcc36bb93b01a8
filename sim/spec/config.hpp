// The hardware and run specification: one typed, validated struct built from SCALE-Sim's .cfg keys,
// our own keys and command-line flags (flags override the file). See docs/config.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/types.hpp"
#include "sim/spec/energy.hpp"

namespace ssim {

enum class Fidelity { Cycle, Fast };

// The largest array --fidelity cycle may simulate (4096 x 4096 PEs): its register arrays must fit
// in memory. The fast model has no such limit.
constexpr int64_t kMaxCyclePEs = int64_t(1) << 24;

struct HwSpec {
  // [general]
  std::string run_name = "systolic_sim_run";

  // [architecture_presets] (SCALE-Sim keys)
  int array_rows = 32;               // ArrayHeight
  int array_cols = 32;               // ArrayWidth
  Dataflow dataflow = Dataflow::WS;  // Dataflow
  int64_t ifmap_sram_kb = 512;       // IfmapSramSzkB  (KiB)
  int64_t filter_sram_kb = 512;      // FilterSramSzkB (KiB)
  // 512 KiB holds a double-buffered 256 x 256 tile of int32 accumulators (docs/memory-system.md).
  int64_t ofmap_sram_kb = 512;       // OfmapSramSzkB  (KiB)
  int64_t ifmap_offset = 0;          // IfmapOffset (address offsets, for traces)
  int64_t filter_offset = 10000000;  // FilterOffset
  int64_t ofmap_offset = 20000000;   // OfmapOffset
  double bandwidth_words = 10;       // Bandwidth: DRAM words per cycle (SCALE-Sim's unit)
  int memory_banks = 1;              // MemoryBanks
  // [run_presets]
  // InterfaceBandwidth, as in SCALE-Sim: USER models the DRAM channel at `Bandwidth`; CALC runs
  // stall-free (unlimited bandwidth) and reports the bandwidth that took. SCALE-Sim's own files
  // say CALC; giving --bandwidth or --dram-bandwidth on the command line switches to USER.
  std::string interface_bandwidth = "USER";

  // [systolic_sim] (our keys)
  double clock_ghz = 1.0;           // ClockGHz: array clock, for FLOP/s and GB/s figures
  double dram_bytes_per_cycle = 0;  // DramBandwidth: bytes/cycle; 0 = bandwidth_words * word
  double dram_gb_per_s = 0;         // DramBandwidthGBs: GB/s at the array clock; 0 = not given
  int64_t dram_latency = 0;         // DramLatency: cycles from request to first byte
  bool fold_overlap = false;        // FoldOverlap: on|off
  bool fusion = true;     // Fusion: a GEMM's activation, residual add, pooling in its output stage
  bool residency = true;  // Residency: tensors stay in the ifmap buffer between ops where they fit
  bool op_overlap =
      true;  // OpOverlap: the next op prefetches weights and starts before the write-back ends
  bool load_ahead = true;  // LoadAhead: a block loads ahead of program order in idle channel time
  int vector_lanes = 16;   // VectorLanes: elements per cycle on the vector unit
  int input_bytes = 1;     // bytes per ifmap/filter element (int8)
  int output_bytes = 1;    // OutputBytes: bytes per ofmap element written to DRAM (1|2|4)
  bool unlimited_bandwidth = false;  // UnlimitedBandwidth: DRAM never stalls the array
  Fidelity fidelity = Fidelity::Fast;
  // Energy per action and area per component (--energy-table, docs/energy.md); not a .cfg key.
  EnergyTable energy;

  // DRAM bandwidth in bytes per cycle, after resolving the two ways to give it.
  // DramBandwidthGBs (converted at the clock) wins over DramBandwidth, which wins over Bandwidth.
  double dram_bw() const {
    if (dram_gb_per_s > 0) return dram_gb_per_s / clock_ghz;
    return dram_bytes_per_cycle > 0 ? dram_bytes_per_cycle : bandwidth_words * input_bytes;
  }
  // Whether the DRAM channel never stalls: UnlimitedBandwidth on, or InterfaceBandwidth CALC.
  bool dram_stall_free() const { return unlimited_bandwidth || interface_bandwidth == "CALC"; }
  ArrayConfig array() const { return {array_rows, array_cols, dataflow, fold_overlap}; }
};

std::string to_string(Fidelity f);  // "cycle", "fast"

// --- Reading and validating (sim/spec/config.cpp; every key is documented in docs/config.md)
// ---------
//
// All functions below throw InputError with a one-line message naming where the problem is
// (file:line and key, or the flag), the value, and what is allowed.

// Reads a SCALE-Sim .cfg file (both `Key = value` and `Key: value`, padded values, `#`/`;`
// comments, keys and section names case-insensitive) plus our [systolic_sim] section, and applies
// the keys it sets on top of `base`. Unknown sections or keys, duplicate keys or sections, and
// values out of range are errors; so are missing, unreadable, empty and binary files.
//
// SCALE-Sim's files load as they are: LF, CRLF or CR line ends; configparser continuation lines
// (an indented line right after a key continues its value); `Bandwidth: 10,20` lists (the first
// is used, as SCALE-Sim does); `[network_presets] TopologyCsvLoc` (the topology, relative to the
// file's folder); SCALE-Sim v3 keys we do not model (`ReadRequestBuffer`, `WriteRequestBuffer`,
// `OnChipMemoryBanks`, every key of `[layout]` and `[sparsity]`) are read, checked and named in
// one note. Notes and the topology go to `extras` (the CLI prints the notes on stderr).
struct CfgExtras {
  std::vector<std::string> notes;  // one line each, e.g. "note: x.cfg: not modelled, ignored: ..."
  std::string topology;            // [network_presets] TopologyCsvLoc, resolved ("" if none)
};
// The hardware without --config: the `edge-32x32` design point (models/presets/edge-32x32.cfg,
// docs/config.md, "The default hardware"): HwSpec's values with a 16-byte-per-cycle DRAM bus and
// fold overlap. Under a --config file a key the file does not set keeps HwSpec's own value,
// which is what the key means to SCALE-Sim (no fold overlap, 10 words per cycle).
HwSpec default_hardware();

HwSpec parse_cfg_file(const std::string& path, HwSpec base = HwSpec{}, CfgExtras* extras = nullptr);

// The same for text already in memory; `source_name` stands for the file name in messages.
HwSpec parse_cfg_text(const std::string& text, const std::string& source_name,
                      HwSpec base = HwSpec{}, CfgExtras* extras = nullptr);

// The spec in .cfg format (all four sections, every key); parse_cfg_text() of it gives `hw` back.
std::string format_cfg(const HwSpec& hw);

// Every .cfg key of a spec with its value as format_cfg() writes it, section by section (the
// resolved configuration recorded in summary.json and sweep.json).
struct CfgEntry {
  std::string section, key, value;
};
std::vector<CfgEntry> cfg_entries(const HwSpec& hw);

// The keys systolic-sim reads and checks but does not model (MemoryBanks, IfmapOffset,
// FilterOffset, OfmapOffset): one note line naming those set to a non-default value, e.g.
// "note: MemoryBanks 4: read but not modelled, no result depends on it", or "" if none is.
// With `traces` (--traces) the offsets are used (trace addresses) and only MemoryBanks is named.
std::string unmodelled_note(const HwSpec& hw, bool traces = false);

// The checks of a whole spec are ValidHw's (sim/spec/valid_hw.hpp): the runners take only a
// checked spec.

// A command-line flag that sets HwSpec fields, e.g. {"array", "RxC", "...", "32x32"}.
struct HwFlagInfo {
  std::string name;           // without the leading "--"
  std::string value_name;     // placeholder shown in --help
  std::string help;           // one sentence; names the .cfg key it overrides
  std::string default_value;  // the value in a default HwSpec, as it would be typed
};
const std::vector<HwFlagInfo>& hw_flags();

// Applies the hardware flags given (names without "--", values as typed) on top of `hw`, which
// holds the defaults and the config file: defaults < config file < flags. Among the flags the
// result never depends on their order (each sets its own fields; they are applied in the order of
// hw_flags()). A bandwidth flag (--bandwidth, --dram-bandwidth, --dram-gbps) switches
// InterfaceBandwidth to USER unless --interface-bandwidth is given too. Flags that contradict each
// other are refused naming both: two DRAM bandwidths (nonzero), --interface-bandwidth calc or
// --unlimited-bandwidth on with a bandwidth flag, --unlimited-bandwidth on with
// --interface-bandwidth user. Throws InputError, e.g.
// "--array '0x4': rows and columns must be integers from 1 to 65536 (e.g. 32x32)".
void apply_hw_flags(HwSpec& hw, const std::vector<std::pair<std::string, std::string>>& flags);
// apply_hw_flags() with one flag.
void apply_hw_flag(HwSpec& hw, const std::string& name, const std::string& value);

}  // namespace ssim
