// Every input that ever broke a parser (tests/fuzz/regressions/<target>/), and the fuzzers' seed
// corpora (tests/fuzz/<target>/), run through the same entry points as the libFuzzer targets
// (fuzz/fuzz_entries.hpp) in the normal build: no crash, no hang, and either success or an
// InputError with a one-line message. scripts/fuzz.sh runs the fuzzers themselves.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/fuzz_entries.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using testutil::slurp;

const fs::path kFuzzDir = fs::path(SSIM_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const fs::path& dir : {kFuzzDir / target, kFuzzDir / "regressions" / target}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs every input of `target` through `entry`; each must finish (within 10 s, as the fuzzers'
// -timeout) without an exception escaping.
template <class Entry>
void run_all(const std::string& target, Entry entry) {
  const std::vector<fs::path> files = inputs_of(target);
  ASSERT_FALSE(files.empty()) << "no seeds in " << (kFuzzDir / target);
  for (const fs::path& f : files) {
    const std::string bytes = slurp(f);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
        << f.string();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 10.0) << f.string() << " took " << s << " s";
  }
}

TEST(FuzzRegression, CfgReader) {
  run_all("cfg", fuzz::cfg_one);
}

TEST(FuzzRegression, TopologyCsvReader) {
  run_all("csv", fuzz::csv_one);
}

TEST(FuzzRegression, YamlNetworkReader) {
  run_all("yaml", fuzz::yaml_one);
}

TEST(FuzzRegression, OnnxReader) {
  run_all("onnx", fuzz::onnx_one);
}

TEST(FuzzRegression, CommandLine) {
  // As in the fuzzer: the working folder holds a.cfg, a.csv and a.yaml.
  const fs::path before = fs::current_path();
  const fs::path scratch = fuzz::cli_fuzz_setup();
  run_all("cli", fuzz::cli_one);
  fs::current_path(before);
  std::error_code ec;
  fs::remove_all(scratch, ec);
}

// The entries themselves: they accept what is valid and refuse what is not.
TEST(FuzzRegression, EntriesAcceptValidAndRefuseBadInput) {
  auto feed = [](void (*entry)(const uint8_t*, size_t), const std::string& s) {
    entry(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_NO_THROW(feed(fuzz::cfg_one, "[architecture_presets]\nArrayHeight = 8\n"));
  EXPECT_NO_THROW(feed(fuzz::cfg_one, std::string("\0\1\2", 3)));
  EXPECT_NO_THROW(feed(fuzz::csv_one, "Layer, M, N, K,\ng, 1, 2, 3,\n"));
  EXPECT_NO_THROW(feed(fuzz::yaml_one, "layers: [{name: a, type: gemm, M: 1, N: 1, K: 1}]\n"));
  EXPECT_NO_THROW(feed(fuzz::yaml_one, "{"));
  EXPECT_NO_THROW(feed(fuzz::onnx_one, std::string("\x08\x07\x12", 3)));
  EXPECT_EQ(fuzz::split_args("--gemm\n4,4,4\n"), (std::vector<std::string>{"--gemm", "4,4,4"}));
  EXPECT_EQ(fuzz::split_args(std::string("a\nb\0c", 5)), (std::vector<std::string>{"a\nb", "c"}));
  // A broken invariant is reported, not swallowed.
  EXPECT_THROW(fuzz::check_message(InputError("two\nlines")), fuzz::FuzzInvariantError);
  EXPECT_THROW(fuzz::check_message(InputError("")), fuzz::FuzzInvariantError);
}

}  // namespace
}  // namespace ssim
