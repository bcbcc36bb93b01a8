// load_workload(): a workload by file name or by built-in name (the file helpers: read_util.cpp).
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "models/types.hpp"
#include "workloads/data_dir.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         detail::to_lower(s.substr(s.size() - suffix.size())) == suffix;
}

// name -> file, first folder wins.
std::vector<std::pair<std::string, std::string>> builtin_files() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& dir : builtin_network_dirs()) {
    std::error_code ec;
    std::vector<fs::path> here;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".yaml")
        here.push_back(entry.path());
    std::sort(here.begin(), here.end());
    for (const fs::path& p : here) {
      const std::string name = p.stem().string();
      const bool dup =
          std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == name; });
      if (!dup) files.emplace_back(name, p.string());
    }
  }
  return files;
}

// The file of the built-in network `name` (any case), "" when there is none: the file
// builtin_files() pairs with it (the first folder that has one; in a folder, the first in sorted
// order), without listing every file.
std::string builtin_file(const std::string& name) {
  const std::string lower = detail::to_lower(name);
  for (const std::string& dir : builtin_network_dirs()) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    std::string best;  // the file name
    while (const dirent* e = ::readdir(d)) {
      const std::string_view file = e->d_name;  // "<stem>.yaml", the stem not empty
      if (file.size() != lower.size() + 5 || file.substr(lower.size()) != ".yaml" ||
          !detail::equals_lowered(file.substr(0, lower.size()), lower) ||
          (!best.empty() && file >= best))
        continue;
      std::error_code ec;
      if (fs::is_regular_file(fs::path(dir) / file, ec)) best = std::string(file);
    }
    ::closedir(d);
    if (!best.empty()) return (fs::path(dir) / best).string();
  }
  return std::string();
}

}  // namespace

std::vector<std::string> builtin_network_dirs() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("SSIM_NETWORKS_DIR"); env && *env) candidates.push_back(env);
  for (const std::string& d : data_subdirs("networks")) candidates.push_back(d);
  std::vector<std::string> dirs;
  for (const std::string& d : candidates) {
    std::error_code ec;
    if (fs::is_directory(d, ec) && std::find(dirs.begin(), dirs.end(), d) == dirs.end())
      dirs.push_back(d);
  }
  return dirs;
}

std::vector<std::string> builtin_network_names() {
  std::vector<std::string> names;
  for (const auto& f : builtin_files()) names.push_back(f.first);
  std::sort(names.begin(), names.end());
  return names;
}

Network load_workload(const std::string& name_or_path, const CsvOptions& csv,
                      const OnnxOptions& onnx) {
  const std::string& w = name_or_path;
  if (ends_with(w, ".onnx")) return read_onnx_network(w, onnx);
  if (ends_with(w, ".csv")) return read_scalesim_csv(w, csv);
  if (ends_with(w, ".yaml") || ends_with(w, ".yml")) return read_yaml_network(w);
  if (const std::string file = builtin_file(w); !file.empty()) return read_yaml_network(file);
  std::string names;
  for (const std::string& n : builtin_network_names()) names += (names.empty() ? "" : ", ") + n;
  std::error_code ec;
  if (fs::exists(w, ec))
    throw InputError("workload '" + w +
                     "': cannot tell the format of this file; name it .csv (SCALE-Sim topology), "
                     ".yaml/.yml (network file) or .onnx (ONNX model)");
  throw InputError("unknown workload '" + w +
                   "'; built-in networks: " + (names.empty() ? "(none found)" : names) +
                   "; or give a .csv (SCALE-Sim topology), .yaml/.yml or .onnx file");
}

}  // namespace ssim
