#include "workloads/data_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace ssim {
namespace fs = std::filesystem;

namespace {

std::mutex& hint_mutex() {
  static std::mutex m;
  return m;
}

std::string& hint() {
  static std::string h;
  return h;
}

}  // namespace

void set_data_dir_hint(const std::string& dir) {
  std::lock_guard<std::mutex> lock(hint_mutex());
  hint() = dir;
}

std::vector<std::string> data_dir_candidates() {
  std::vector<std::string> c;
  if (const char* env = std::getenv(kDataDirEnv); env && *env) c.push_back(env);
  {
    std::lock_guard<std::mutex> lock(hint_mutex());
    if (!hint().empty()) c.push_back(hint());
  }
  if (const std::string dir = executable_dir(); !dir.empty()) {
    const fs::path bin(dir);
    c.push_back((bin.parent_path() / "share" / "systolic-sim").string());
    c.push_back(bin.string());
  }
  return c;
}

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> data_dirs() {
  std::vector<std::string> dirs;
  for (const std::string& d : data_dir_candidates()) {
    std::error_code ec;
    if (fs::is_directory(d, ec) && std::find(dirs.begin(), dirs.end(), d) == dirs.end())
      dirs.push_back(d);
  }
  return dirs;
}

std::string find_data_file(const std::string& rel) {
  for (const std::string& d : data_dirs()) {
    std::error_code ec;
    const fs::path p = fs::path(d) / rel;
    if (fs::exists(p, ec)) return p.string();
  }
  return std::string();
}

std::vector<std::string> data_subdirs(const std::string& sub) {
  std::vector<std::string> out;
  for (const std::string& d : data_dirs()) {
    std::error_code ec;
    const fs::path p = fs::path(d) / sub;
    if (fs::is_directory(p, ec)) out.push_back(p.string());
  }
  return out;
}

std::string data_file_missing(const std::string& rel) {
  std::string where;
  for (const std::string& d : data_dir_candidates()) where += (where.empty() ? "" : ", ") + d;
  return rel + " not found in the data folders (" + where + "); set " + kDataDirEnv +
         " to the folder that holds presets/, networks/ and scripts/ (docs/install.md)";
}

}  // namespace ssim
