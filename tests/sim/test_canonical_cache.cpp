// The roofline's reference kernels are computed once per hardware and binary and then read from
// the user cache (sim/run/canonical_cache.hpp): the second run reads what the first stored, a
// different hardware or a damaged entry is simulated again, SSIM_CACHE_DIR=off keeps nothing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim/run/canonical_cache.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

HwSpec small_hw() {
  HwSpec hw;
  hw.array_rows = hw.array_cols = 128;  // the 4096^3 kernel in 16,384 steps
  return hw;
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

void expect_same(const CanonicalKernel& a, const CanonicalKernel& b) {
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.flops, b.flops);
  EXPECT_EQ(a.dram_bytes, b.dram_bytes);
  EXPECT_EQ(a.cycles, b.cycles);
}

TEST(CanonicalCache, SecondRunReadsTheEntryTheFirstStored) {
  testutil::TempDir dir("ssim_cache");
  ASSERT_EQ(::setenv("SSIM_CACHE_DIR", dir.path.c_str(), 1), 0);
  const HwSpec hw = small_hw();
  const CanonicalKernels plain = run_canonical_kernels(ValidHw(hw));  // the reference, no cache

  const CanonicalKernels first = canonical_kernels(ValidHw(hw));
  EXPECT_EQ(first.source, "simulated");
  expect_same(first.matrix_multiply, plain.matrix_multiply);
  expect_same(first.vector_add, plain.vector_add);
  const auto files = entries(dir.path);
  ASSERT_EQ(files.size(), 1u);

  // The entry holds the key and the numbers; a forged number comes back, so the second run
  // reads the file rather than simulating.
  nlohmann::json j = nlohmann::json::parse(std::ifstream(files[0]));
  EXPECT_EQ(j.at("key").get<std::string>(), canonical_cache_key(hw));
  EXPECT_EQ(j.at("matrix_multiply").at("cycles").get<int64_t>(), plain.matrix_multiply.cycles);
  j["matrix_multiply"]["cycles"] = 12345;
  std::ofstream(files[0]) << j.dump();
  const CanonicalKernels second = canonical_kernels(ValidHw(hw));
  EXPECT_EQ(second.source, "cached: " + files[0].string());
  EXPECT_EQ(second.matrix_multiply.cycles, 12345);
  expect_same(second.vector_add, plain.vector_add);

  // Other hardware: another key, another entry, simulated.
  HwSpec os = hw;
  os.dataflow = Dataflow::OS;
  EXPECT_NE(canonical_cache_key(os), canonical_cache_key(hw));
  EXPECT_EQ(canonical_kernels(ValidHw(os)).source, "simulated");
  EXPECT_EQ(entries(dir.path).size(), 2u);
  // The run name is not part of the hardware.
  HwSpec named = hw;
  named.run_name = "another";
  EXPECT_EQ(canonical_cache_key(named), canonical_cache_key(hw));
}

TEST(CanonicalCache, DamagedOrForeignEntriesAreSimulatedAgain) {
  testutil::TempDir dir("ssim_cache");
  ASSERT_EQ(::setenv("SSIM_CACHE_DIR", dir.path.c_str(), 1), 0);
  const HwSpec hw = small_hw();
  const CanonicalKernels first = canonical_kernels(ValidHw(hw));
  const fs::path entry = entries(dir.path).at(0);

  std::ofstream(entry) << "{\"key\": ";  // cut off
  CanonicalKernels k = canonical_kernels(ValidHw(hw));
  EXPECT_EQ(k.source, "simulated");
  expect_same(k.matrix_multiply, first.matrix_multiply);
  EXPECT_EQ(canonical_kernels(ValidHw(hw)).source, "cached: " + entry.string());  // rewritten whole

  nlohmann::json j = nlohmann::json::parse(std::ifstream(entry));
  nlohmann::json wrong = j;
  wrong["matrix_multiply"]["cycles"] = "12345";  // a field of another type
  std::ofstream(entry) << wrong.dump();
  EXPECT_EQ(canonical_kernels(ValidHw(hw)).source, "simulated");

  j["key"] = "another hardware";  // a file-name collision
  j["matrix_multiply"]["cycles"] = 1;
  std::ofstream(entry) << j.dump();
  k = canonical_kernels(ValidHw(hw));
  EXPECT_EQ(k.source, "simulated");
  EXPECT_EQ(k.matrix_multiply.cycles, first.matrix_multiply.cycles);
}

TEST(CanonicalCache, OffKeepsNothing) {
  testutil::TempDir dir("ssim_cache");
  ASSERT_EQ(::setenv("SSIM_CACHE_DIR", "off", 1), 0);
  EXPECT_EQ(canonical_cache_dir(), "");
  EXPECT_EQ(canonical_kernels(ValidHw(small_hw())).source, "simulated");
  ASSERT_EQ(::unsetenv("SSIM_CACHE_DIR"), 0);
  ASSERT_EQ(::setenv("XDG_CACHE_HOME", dir.path.c_str(), 1), 0);
  EXPECT_EQ(canonical_cache_dir(), dir.path.string() + "/systolic-sim");
}

}  // namespace
}  // namespace ssim
