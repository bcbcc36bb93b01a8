// Reading SCALE-Sim .cfg files (plus our [systolic_sim] section) and command-line hardware flags
// into a validated HwSpec. Every key, its unit, default and range is documented in docs/config.md.
//
// Boost.Program_options' ini parser only takes `key = value`, knows no line numbers and strips
// `#` comments. So the text is first scanned line by line here: `Key: value` is rewritten to
// `Key=value`, key and section spellings are made canonical (SCALE-Sim's configparser ignores the
// case of keys), unknown or duplicate sections and keys are reported with file:line, and a
// key -> line map is kept. Boost then parses the normalised text, and each value is validated
// into its HwSpec field with the line it came from.
#include "sim/spec/config.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>

#include "sim/spec/cfg_keys.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/read_util.hpp"

namespace ssim {

using namespace cfg_detail;

std::string to_string(Fidelity f) {
  return f == Fidelity::Cycle ? "cycle" : "fast";
}

namespace cfg_detail {

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = {
      {"general", "run_name",
       [](HwSpec& h, const std::string& v) { h.run_name = parse_run_name(v); },
       [](const HwSpec& h) { return h.run_name; }},
      {"architecture_presets", "ArrayHeight",
       [](HwSpec& h, const std::string& v) { h.array_rows = int(parse_int(v, 1, kMaxDim)); },
       [](const HwSpec& h) { return std::to_string(h.array_rows); }},
      {"architecture_presets", "ArrayWidth",
       [](HwSpec& h, const std::string& v) { h.array_cols = int(parse_int(v, 1, kMaxDim)); },
       [](const HwSpec& h) { return std::to_string(h.array_cols); }},
      {"architecture_presets", "IfmapSramSzkB",
       [](HwSpec& h, const std::string& v) { h.ifmap_sram_kb = parse_int(v, 1, kMaxSramKb); },
       [](const HwSpec& h) { return std::to_string(h.ifmap_sram_kb); }},
      {"architecture_presets", "FilterSramSzkB",
       [](HwSpec& h, const std::string& v) { h.filter_sram_kb = parse_int(v, 1, kMaxSramKb); },
       [](const HwSpec& h) { return std::to_string(h.filter_sram_kb); }},
      {"architecture_presets", "OfmapSramSzkB",
       [](HwSpec& h, const std::string& v) { h.ofmap_sram_kb = parse_int(v, 1, kMaxSramKb); },
       [](const HwSpec& h) { return std::to_string(h.ofmap_sram_kb); }},
      {"architecture_presets", "IfmapOffset",
       [](HwSpec& h, const std::string& v) { h.ifmap_offset = parse_int(v, 0, kMaxOffset); },
       [](const HwSpec& h) { return std::to_string(h.ifmap_offset); }},
      {"architecture_presets", "FilterOffset",
       [](HwSpec& h, const std::string& v) { h.filter_offset = parse_int(v, 0, kMaxOffset); },
       [](const HwSpec& h) { return std::to_string(h.filter_offset); }},
      {"architecture_presets", "OfmapOffset",
       [](HwSpec& h, const std::string& v) { h.ofmap_offset = parse_int(v, 0, kMaxOffset); },
       [](const HwSpec& h) { return std::to_string(h.ofmap_offset); }},
      {"architecture_presets", "Dataflow",
       [](HwSpec& h, const std::string& v) { h.dataflow = parse_df(v); },
       [](const HwSpec& h) { return to_string(h.dataflow); }},
      {"architecture_presets", "Bandwidth",
       [](HwSpec& h, const std::string& v) {
         h.bandwidth_words = parse_number(v, 0, true, kMaxBandwidth);
       },
       [](const HwSpec& h) { return fmt_double(h.bandwidth_words); }},
      {"architecture_presets", "MemoryBanks",
       [](HwSpec& h, const std::string& v) { h.memory_banks = int(parse_int(v, 1, kMaxDim)); },
       [](const HwSpec& h) { return std::to_string(h.memory_banks); }},
      {"run_presets", "InterfaceBandwidth",
       [](HwSpec& h, const std::string& v) {
         const std::string l = lower(v);
         if (l != "calc" && l != "user") throw BadValue{"expected CALC or USER"};
         h.interface_bandwidth = l == "calc" ? "CALC" : "USER";
       },
       [](const HwSpec& h) { return h.interface_bandwidth; }},
      {"systolic_sim", "ClockGHz",
       [](HwSpec& h, const std::string& v) {
         h.clock_ghz = parse_number(v, 0, true, kMaxClockGHz);
       },
       [](const HwSpec& h) { return fmt_double(h.clock_ghz); }},
      {"systolic_sim", "DramBandwidth",
       [](HwSpec& h, const std::string& v) {
         h.dram_bytes_per_cycle = parse_number(v, 0, false, kMaxBandwidth);
       },
       [](const HwSpec& h) { return fmt_double(h.dram_bytes_per_cycle); }},
      {"systolic_sim", "DramBandwidthGBs",
       [](HwSpec& h, const std::string& v) {
         h.dram_gb_per_s = parse_number(v, 0, false, kMaxBandwidth);
       },
       [](const HwSpec& h) { return fmt_double(h.dram_gb_per_s); }},
      {"systolic_sim", "DramLatency",
       [](HwSpec& h, const std::string& v) { h.dram_latency = parse_int(v, 0, kMaxLatency); },
       [](const HwSpec& h) { return std::to_string(h.dram_latency); }},
      {"systolic_sim", "FoldOverlap",
       [](HwSpec& h, const std::string& v) { h.fold_overlap = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.fold_overlap); }},
      {"systolic_sim", "Fusion", [](HwSpec& h, const std::string& v) { h.fusion = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.fusion); }},
      {"systolic_sim", "Residency",
       [](HwSpec& h, const std::string& v) { h.residency = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.residency); }},
      {"systolic_sim", "OpOverlap",
       [](HwSpec& h, const std::string& v) { h.op_overlap = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.op_overlap); }},
      {"systolic_sim", "LoadAhead",
       [](HwSpec& h, const std::string& v) { h.load_ahead = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.load_ahead); }},
      {"systolic_sim", "VectorLanes",
       [](HwSpec& h, const std::string& v) { h.vector_lanes = int(parse_int(v, 1, kMaxDim)); },
       [](const HwSpec& h) { return std::to_string(h.vector_lanes); }},
      {"systolic_sim", "OutputBytes",
       [](HwSpec& h, const std::string& v) {
         if (v != "1" && v != "2" && v != "4") throw BadValue{"expected 1, 2 or 4"};
         h.output_bytes = v[0] - '0';
       },
       [](const HwSpec& h) { return std::to_string(h.output_bytes); }},
      {"systolic_sim", "UnlimitedBandwidth",
       [](HwSpec& h, const std::string& v) { h.unlimited_bandwidth = parse_bool(v); },
       [](const HwSpec& h) { return fmt_bool(h.unlimited_bandwidth); }},
      {"systolic_sim", "Fidelity",
       [](HwSpec& h, const std::string& v) { h.fidelity = parse_fidelity(v); },
       [](const HwSpec& h) { return to_string(h.fidelity); }},
  };
  return specs;
}

}  // namespace cfg_detail

std::string unmodelled_note(const HwSpec& hw, bool traces) {
  const HwSpec d;
  std::string set;
  for (const char* key : {"MemoryBanks", "IfmapOffset", "FilterOffset", "OfmapOffset"}) {
    if (traces && std::strcmp(key, "MemoryBanks") != 0) continue;  // trace addresses use them
    for (const KeySpec& k : key_specs()) {
      if (std::strcmp(k.key, key) != 0 || k.get(hw) == k.get(d)) continue;
      set += (set.empty() ? "" : ", ") + std::string(key) + " " + k.get(hw);
    }
  }
  if (set.empty()) return "";
  return "note: " + set + ": read but not modelled, no result depends on it (DRAM banks" +
         (traces ? "" : " and trace addresses without --traces") + "; docs/config.md)";
}

std::vector<CfgEntry> cfg_entries(const HwSpec& hw) {
  std::vector<CfgEntry> entries;
  for (const KeySpec& k : key_specs()) entries.push_back({k.section, k.key, k.get(hw)});
  return entries;
}

std::string format_cfg(const HwSpec& hw) {
  std::ostringstream out;
  out << "# systolic-sim hardware configuration (SCALE-Sim .cfg format; [systolic_sim] holds\n"
         "# systolic-sim's own keys, which SCALE-Sim ignores). See docs/config.md.\n";
  std::string section;
  for (const KeySpec& k : key_specs()) {
    if (section != k.section) {
      if (!section.empty()) out << '\n';
      section = k.section;
      out << '[' << section << "]\n";
    }
    out << k.key << " = " << k.get(hw) << '\n';
  }
  return out.str();
}

ValidHw::ValidHw(HwSpec spec) : hw_(std::move(spec)) {
  const HwSpec& hw = hw_;
  HwSpec scratch;
  for (const KeySpec& k : key_specs()) {
    const std::string v = k.get(hw);
    try {
      k.set(scratch, v);
    } catch (const BadValue& bad) {
      throw InputError("hardware spec: key '" + std::string(k.key) + "' value '" +
                       quote_for_message(v) + "': " + bad.allowed);
    }
  }
  if (hw.input_bytes != 1 && hw.input_bytes != 2 && hw.input_bytes != 4) {
    throw InputError("hardware spec: input_bytes " + std::to_string(hw.input_bytes) +
                     ": expected 1, 2 or 4");
  }
  // The cycle-by-cycle array holds every PE's registers (about 13 bytes each for OS, 8 for WS
  // and IS) and steps all of them every cycle: refuse arrays that would not fit in memory before
  // anything is allocated.
  const int64_t pes = int64_t(hw.array_rows) * int64_t(hw.array_cols);
  if (hw.fidelity == Fidelity::Cycle && pes > kMaxCyclePEs) {
    throw InputError("array " + std::to_string(hw.array_rows) + "x" +
                     std::to_string(hw.array_cols) + " (--array; ArrayHeight x ArrayWidth) has " +
                     std::to_string(pes) + " PEs, more than the " + std::to_string(kMaxCyclePEs) +
                     " (e.g. 4096x4096) that --fidelity cycle (Fidelity) can hold in memory; "
                     "use --fidelity fast, which gives the same cycle counts");
  }
  if (hw.clock_ghz < kMinClockGHz) {  // seconds = cycles / clock would overflow to infinity
    throw InputError("clock " + fmt_double(hw.clock_ghz) +
                     " GHz (--clock-ghz; .cfg key ClockGHz) is below the 1e-06 GHz (1 kHz) the "
                     "time and FLOP/s figures can use; expected 1e-06 to 1000");
  }
  if (!hw.dram_stall_free() && hw.dram_bw() < kMinDramBytesPerCycle) {
    throw InputError("DRAM bandwidth " + fmt_double(hw.dram_bw()) +
                     " bytes/cycle (--bandwidth x element size, --dram-bandwidth or --dram-gbps; "
                     ".cfg keys Bandwidth, DramBandwidth, DramBandwidthGBs) is below the 1e-06 "
                     "bytes/cycle the DRAM model "
                     "resolves; expected at least 1e-06, or --unlimited-bandwidth on");
  }
}

// --- command-line flags -----------------------------------------------------------------------

namespace {

struct FlagSpec {
  HwFlagInfo info;
  void (*set)(HwSpec&, const std::string&);  // throws BadValue
};

// Sets a field through its .cfg key, so a flag and its key accept exactly the same values.
void set_key(HwSpec& hw, const char* key, const std::string& v) {
  for (const KeySpec& k : key_specs()) {
    if (std::strcmp(k.key, key) == 0) return k.set(hw, v);
  }
}
std::string get_key(const HwSpec& hw, const char* key) {
  for (const KeySpec& k : key_specs()) {
    if (std::strcmp(k.key, key) == 0) return k.get(hw);
  }
  return "";
}

void set_array(HwSpec& hw, const std::string& v) {
  const std::string allowed =
      "rows and columns must be integers from 1 to " + std::to_string(kMaxDim) + " (e.g. 32x32)";
  const auto x = v.find_first_of("xX");
  if (x == std::string::npos) throw BadValue{allowed};
  try {
    const int64_t r = parse_int(v.substr(0, x), 1, kMaxDim);
    const int64_t c = parse_int(v.substr(x + 1), 1, kMaxDim);
    hw.array_rows = int(r);
    hw.array_cols = int(c);
  } catch (const BadValue&) {
    throw BadValue{allowed};
  }
}

const std::vector<FlagSpec>& flag_specs() {
  static const std::vector<FlagSpec> specs = [] {
    const HwSpec d = default_hardware();  // the defaults --help shows: those without --config
    auto key_flag = [&](const char* name, const char* value_name, const char* key,
                        const std::string& help, void (*set)(HwSpec&, const std::string&)) {
      return FlagSpec{{name, value_name, help + " (.cfg key " + key + ")", get_key(d, key)}, set};
    };
    std::vector<FlagSpec> v;
    v.push_back({{"array", "RxC",
                  "systolic array rows x columns, e.g. 32x32 or 12x14 (.cfg keys ArrayHeight, "
                  "ArrayWidth)",
                  std::to_string(d.array_rows) + "x" + std::to_string(d.array_cols)},
                 set_array});
    v.push_back(key_flag("dataflow", "os|ws|is", "Dataflow", "output, weight or input stationary",
                         [](HwSpec& h, const std::string& s) { set_key(h, "Dataflow", s); }));
    v.push_back(key_flag("fold-overlap", "on|off", "FoldOverlap",
                         "overlap a fold's preload/drain with the next fold (double buffering)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "FoldOverlap", s); }));
    v.push_back(key_flag("fusion", "on|off", "Fusion",
                         "apply a GEMM's activation, residual add and pooling in its output stage "
                         "(no DRAM round trip; docs/network-schedule.md)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "Fusion", s); }));
    v.push_back(key_flag("residency", "on|off", "Residency",
                         "keep an op's output in the ifmap buffer for the ops that read it, where "
                         "it fits (docs/network-schedule.md)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "Residency", s); }));
    v.push_back(key_flag("op-overlap", "on|off", "OpOverlap",
                         "load the next op's first weight blocks while an op computes, and start "
                         "it once the op's last results are handed to the DRAM channel "
                         "(docs/network-schedule.md)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "OpOverlap", s); }));
    v.push_back(key_flag("load-ahead", "on|off", "LoadAhead",
                         "while the next load in program order waits for its buffer half, load "
                         "the other operand's next block in the channel's idle time, one array "
                         "tile per request (docs/memory-system.md)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "LoadAhead", s); }));
    v.push_back(key_flag("fidelity", "cycle|fast", "Fidelity",
                         "cycle: value-carrying cycle-by-cycle array, checked against a reference "
                         "GEMM; fast: same cycle counts, one step per fold",
                         [](HwSpec& h, const std::string& s) { set_key(h, "Fidelity", s); }));
    v.push_back(key_flag("bandwidth", "WORDS_PER_CYCLE", "Bandwidth",
                         "DRAM bandwidth in words per cycle (SCALE-Sim's unit)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "Bandwidth", s); }));
    v.push_back(key_flag("dram-bandwidth", "BYTES_PER_CYCLE", "DramBandwidth",
                         "DRAM bandwidth in bytes per cycle; 0 = Bandwidth x element size",
                         [](HwSpec& h, const std::string& s) { set_key(h, "DramBandwidth", s); }));
    v.push_back(
        key_flag("dram-gbps", "GB_PER_S", "DramBandwidthGBs",
                 "DRAM bandwidth in GB/s at the array clock (bytes/cycle = GB/s / GHz); "
                 "0 = not given; wins over --dram-bandwidth",
                 [](HwSpec& h, const std::string& s) { set_key(h, "DramBandwidthGBs", s); }));
    v.push_back(
        key_flag("interface-bandwidth", "calc|user", "InterfaceBandwidth",
                 "user: model DRAM at the given bandwidth; calc: stall-free, as SCALE-Sim (the "
                 "reports give the average and peak bandwidth the run would need)",
                 [](HwSpec& h, const std::string& s) { set_key(h, "InterfaceBandwidth", s); }));
    v.push_back(key_flag("dram-latency", "CYCLES", "DramLatency",
                         "cycles from a DRAM request to its first byte",
                         [](HwSpec& h, const std::string& s) { set_key(h, "DramLatency", s); }));
    v.push_back(key_flag(
        "unlimited-bandwidth", "on|off", "UnlimitedBandwidth", "DRAM never stalls the array",
        [](HwSpec& h, const std::string& s) { set_key(h, "UnlimitedBandwidth", s); }));
    v.push_back(key_flag("clock-ghz", "GHZ", "ClockGHz", "array clock, for time and FLOP/s figures",
                         [](HwSpec& h, const std::string& s) { set_key(h, "ClockGHz", s); }));
    v.push_back(key_flag("ifmap-sram-kb", "KIB", "IfmapSramSzkB", "input scratchpad size in KiB",
                         [](HwSpec& h, const std::string& s) { set_key(h, "IfmapSramSzkB", s); }));
    v.push_back(key_flag("filter-sram-kb", "KIB", "FilterSramSzkB", "weight scratchpad size in KiB",
                         [](HwSpec& h, const std::string& s) { set_key(h, "FilterSramSzkB", s); }));
    v.push_back(key_flag("ofmap-sram-kb", "KIB", "OfmapSramSzkB", "output scratchpad size in KiB",
                         [](HwSpec& h, const std::string& s) { set_key(h, "OfmapSramSzkB", s); }));
    v.push_back(key_flag("memory-banks", "N", "MemoryBanks",
                         "DRAM banks: read and checked, not modelled (no result depends on it)",
                         [](HwSpec& h, const std::string& s) { set_key(h, "MemoryBanks", s); }));
    v.push_back(key_flag("vector-lanes", "N", "VectorLanes",
                         "elements per cycle on the vector unit",
                         [](HwSpec& h, const std::string& s) { set_key(h, "VectorLanes", s); }));
    v.push_back(key_flag("output-bytes", "1|2|4", "OutputBytes",
                         "bytes per output element written to DRAM",
                         [](HwSpec& h, const std::string& s) { set_key(h, "OutputBytes", s); }));
    v.push_back(key_flag("run-name", "NAME", "run_name",
                         "name of the run; the default output folder is results/NAME",
                         [](HwSpec& h, const std::string& s) { set_key(h, "run_name", s); }));
    return v;
  }();
  return specs;
}

}  // namespace

const std::vector<HwFlagInfo>& hw_flags() {
  static const std::vector<HwFlagInfo> infos = [] {
    std::vector<HwFlagInfo> v;
    for (const FlagSpec& f : flag_specs()) v.push_back(f.info);
    return v;
  }();
  return infos;
}

void apply_hw_flags(HwSpec& hw, const std::vector<std::pair<std::string, std::string>>& flags) {
  const std::vector<FlagSpec>& specs = flag_specs();
  // By meaning, not by position: in the order of flag_specs(). Each flag sets only its own fields,
  // so the order could not change the result anyway; this keeps the first error the same too.
  std::vector<std::pair<size_t, size_t>> order;  // (index in specs, index in flags)
  for (size_t i = 0; i < flags.size(); ++i) {
    size_t k = 0;
    while (k < specs.size() && specs[k].info.name != flags[i].first) ++k;
    if (k == specs.size()) throw InputError("unrecognised option '--" + flags[i].first + "'");
    order.emplace_back(k, i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [k, i] : order) {
    try {
      specs[k].set(hw, flags[i].second);
    } catch (const BadValue& bad) {
      throw InputError("--" + flags[i].first + " '" + quote_for_message(flags[i].second) +
                       "': " + bad.allowed);
    }
  }

  // Two flags that say opposite things are refused, naming both (docs/config.md, "Precedence").
  auto given = [&](const char* name) -> const std::string* {
    for (const auto& f : flags)
      if (f.first == name) return &f.second;
    return nullptr;
  };
  auto shown = [](const char* name, const std::string& v) {
    return std::string("--") + name + " '" + quote_for_message(v) + "'";
  };
  auto clash = [](const std::string& a, const std::string& b, const std::string& why) {
    throw InputError(a + " and " + b + " contradict each other: " + why);
  };
  std::vector<std::string> bandwidths, nonzero;  // the DRAM bandwidth flags given
  for (const char* name : {"bandwidth", "dram-bandwidth", "dram-gbps"}) {
    const std::string* v = given(name);
    if (!v) continue;
    bandwidths.push_back(shown(name, *v));
    if (std::string(name) == "bandwidth" || parse_number(trim(*v), 0, false, kMaxBandwidth) > 0)
      nonzero.push_back(bandwidths.back());
  }
  const std::string* ib = given("interface-bandwidth");
  const std::string* ub = given("unlimited-bandwidth");
  const bool calc = ib && lower(trim(*ib)) == "calc";
  const bool unlimited = ub && parse_bool(trim(*ub));
  if (nonzero.size() >= 2)
    clash(nonzero[0], nonzero[1], "both give the DRAM bandwidth; give one of them");
  if (calc && !bandwidths.empty())
    clash(shown("interface-bandwidth", *ib), bandwidths[0],
          "CALC runs stall-free and models no bandwidth; give one of them (--interface-bandwidth "
          "user models the given bandwidth)");
  if (unlimited && !bandwidths.empty())
    clash(shown("unlimited-bandwidth", *ub), bandwidths[0],
          "unlimited bandwidth never uses the given one; give one of them");
  if (unlimited && ib && !calc)
    clash(shown("unlimited-bandwidth", *ub), shown("interface-bandwidth", *ib),
          "USER models the DRAM channel at the given bandwidth; give one of them");
  // A bandwidth given is one to model: it turns a config file's InterfaceBandwidth CALC into USER
  // (flags win over the file), unless --interface-bandwidth says which.
  if (!bandwidths.empty() && !ib) hw.interface_bandwidth = "USER";
}

void apply_hw_flag(HwSpec& hw, const std::string& name, const std::string& value) {
  apply_hw_flags(hw, {{name, value}});
}

HwSpec default_hardware() {
  HwSpec h;
  h.bandwidth_words = 16;
  h.fold_overlap = true;
  return h;
}

}  // namespace ssim
