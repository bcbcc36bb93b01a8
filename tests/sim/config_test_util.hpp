// Helpers of the configuration tests (test_config.cpp, test_config_flags.cpp): specs compared
// field by field, the message of an InputError, a scratch folder.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/spec/config.hpp"

namespace ssim::configtest {

namespace fs = std::filesystem;

inline const std::string kDataDir = std::string(SSIM_SOURCE_DIR) + "/tests/data/config/";

// Every field of a spec, as text, so two specs can be compared field by field.
inline std::vector<std::pair<std::string, std::string>> fields(const HwSpec& h) {
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

inline void expect_same_spec(const HwSpec& a, const HwSpec& b) {
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

inline std::string cfg_error(const std::string& text) {
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

}  // namespace ssim::configtest
