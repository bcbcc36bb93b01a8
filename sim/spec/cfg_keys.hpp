// Internal to sim/spec/: the .cfg keys (section, key, how each sets and prints its HwSpec field)
// and the value parsers they share with the hardware flags (config.cpp) and the file reader
// (cfg_reader.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/spec/config.hpp"

namespace ssim::cfg_detail {

// A value that a setter rejects; `allowed` says what would have been accepted.
struct BadValue {
  std::string allowed;
};

std::string lower(std::string s);
std::string trim(const std::string& s);
int64_t parse_int(const std::string& v, int64_t lo, int64_t hi);
// Shortest text that reads back as the same double ("1", "0.5", "12.75").
std::string fmt_double(double x);
// A finite decimal number in [lo, hi] (or (lo, hi] when lo_open).
double parse_number(const std::string& v, double lo, bool lo_open, double hi);
bool parse_bool(const std::string& v);
std::string fmt_bool(bool b);
// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const std::string& s);
std::string parse_run_name(const std::string& raw);
Dataflow parse_df(const std::string& v);
Fidelity parse_fidelity(const std::string& v);

// A value for a one-line message: control characters shown as \xNN.
std::string quote_for_message(const std::string& s);

constexpr int64_t kMaxDim = 65536;  // array rows / columns, banks, lanes
// PEs of the largest array --fidelity cycle simulates (docs/bad-input.md): 4096 x 4096.
constexpr int64_t kMaxSramKb = int64_t(1) << 30;  // 1 TiB
constexpr int64_t kMaxOffset = int64_t(1) << 62;
constexpr int64_t kMaxLatency = 1000000000;
constexpr double kMaxBandwidth = 1e9;
constexpr double kMaxClockGHz = 1000;
// The DRAM channel counts in micro-bytes (models/dram_channel.cpp): slower is not representable.
constexpr double kMinDramBytesPerCycle = 1e-6;
constexpr double kMinClockGHz = 1e-6;

struct KeySpec {
  const char* section;
  const char* key;
  void (*set)(HwSpec&, const std::string&);  // throws BadValue
  std::string (*get)(const HwSpec&);
};
// Every key, section by section, in the order format_cfg() writes them.
const std::vector<KeySpec>& key_specs();

}  // namespace ssim::cfg_detail
