// The catalogue of bad inputs of test_robustness*.cpp (docs/bad-input.md): a case is arguments
// to the binary, files to put in its folder first and what the one-line error must name.
// RobustBadInputTest (test_robustness.cpp) runs each case; the cases are instantiated there and
// in test_robustness_limits.cpp.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace ssim::robust {

namespace fs = std::filesystem;
// The helpers every robustness test uses (tests/test_util.hpp).
using testutil::describe;
using testutil::entries;
using testutil::Outcome;
using testutil::run_binary;
using testutil::slurp;
using testutil::TempDir;
using testutil::write_file;

// ---------------------------------------------------------------------------------------------
// Bad input, catalogued (docs/bad-input.md has one row per case, with the message)

// How a case prepares the folder the binary runs in (beyond plain files).
enum class Setup {
  None,
  Directory,     // `name` is a folder
  ProcMem,       // `name` is a symlink to /proc/self/mem: opens, but every read fails (EIO)
  NoPermission,  // `name` is a file with mode 000 (skipped as root, who can read it anyway)
  Huge,          // `name` is a text file of `size` bytes
  Fifo,          // `name` is a FIFO with no writer: opening it for reading would block
  DevNull,       // `name` is a symlink to /dev/null, a character device (read, and empty)
  DevUrandom,    // `name` is a symlink to /dev/urandom, a character device of endless binary
  DevZero,       // `name` is a symlink to /dev/zero, endless NUL bytes
  DanglingLink,  // `name` is a symlink to a path that does not exist
  LinkLoop,      // `name` is a symlink to itself
};

struct BadCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> expect;                           // substrings of the stderr line
  std::vector<std::pair<std::string, std::string>> files{};  // written into the folder first
  Setup setup = Setup::None;
  std::string setup_name{};
  size_t size = 0;
};

inline void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

inline void prepare(const BadCase& c, const fs::path& dir) {
  for (const auto& [name, text] : c.files) write_file(dir / name, text);
  const fs::path p = dir / c.setup_name;
  switch (c.setup) {
    case Setup::None:
      break;
    case Setup::Directory:
      fs::create_directory(p);
      break;
    case Setup::ProcMem:
      fs::create_symlink("/proc/self/mem", p);
      break;
    case Setup::NoPermission:
      write_file(p, "x\n");
      fs::permissions(p, fs::perms::none);
      break;
    case Setup::Fifo:
      ASSERT_EQ(mkfifo(p.c_str(), 0644), 0) << p;
      break;
    case Setup::DevNull:
      fs::create_symlink("/dev/null", p);
      break;
    case Setup::DevUrandom:
      fs::create_symlink("/dev/urandom", p);
      break;
    case Setup::DevZero:
      fs::create_symlink("/dev/zero", p);
      break;
    case Setup::DanglingLink:
      fs::create_symlink("nowhere", p);
      break;
    case Setup::LinkLoop:
      fs::create_symlink(c.setup_name, p);
      break;
    case Setup::Huge: {
      std::ofstream f(p, std::ios::binary);
      const std::string line(1023, '#');
      for (size_t done = 0; done < c.size; done += 1024) f << line << '\n';
      break;
    }
  }
}

class RobustBadInputTest : public ::testing::TestWithParam<BadCase> {};

inline const std::string kGemm = "expected M,N,K, three integers from 1 to 1048576";
inline const std::string kArray = "rows and columns must be integers from 1 to 65536";
inline const std::string kCsvHead = "Layer, M, N, K,\n";
inline const std::string kConvHead =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n";
inline const std::string kYamlHead = "name: n\nlayers:\n";
inline const std::string kBinary(
    "\x7f"
    "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
    16);
inline const std::vector<std::string> kRun = {"--gemm", "64,64,64", "--out", "res"};

inline std::vector<std::string> run_with(std::vector<std::string> extra) {
  std::vector<std::string> a = kRun;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}
inline std::vector<std::string> workload(const std::string& w,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"--workload", w, "--out", "res"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}
inline std::vector<std::string> config(const std::string& c) {
  return run_with({"--config", c});
}

}  // namespace ssim::robust
