#include "sim/spec/presets.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "models/types.hpp"
#include "workloads/data_dir.hpp"

namespace ssim {

namespace fs = std::filesystem;

std::string resolve_config(const std::string& v) {
  std::error_code ec;
  if (fs::exists(v, ec) || v.find('/') != std::string::npos ||
      (v.size() > 4 && v.compare(v.size() - 4, 4, ".cfg") == 0))
    return v;
  std::vector<fs::path> dirs;
  for (const std::string& d : data_subdirs("presets")) dirs.push_back(d);
  for (const fs::path& d : dirs) {
    const fs::path p = d / (v + ".cfg");
    if (fs::exists(p, ec)) return p.string();
  }
  std::string names;
  for (const fs::path& d : dirs) {
    if (!fs::is_directory(d, ec)) continue;
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".cfg") found.push_back(e.path().stem().string());
    std::sort(found.begin(), found.end());
    for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
    if (!names.empty()) break;
  }
  throw InputError("--config '" + v +
                   "': no such file, and no preset of that name (presets: " + names + ")");
}

HwSpec base_hardware(std::map<std::string, std::string>& flags, std::string* config_path,
                     std::vector<std::string>* notes) {
  if (!flags.count("config")) return default_hardware();
  *config_path = flags["config"];
  if (config_path->empty()) throw InputError("--config '': expected a file name");
  CfgExtras extras;
  HwSpec hw = parse_cfg_file(resolve_config(*config_path), HwSpec{}, &extras);
  *notes = extras.notes;
  // SCALE-Sim names the topology in the config: it is the workload when none is given.
  if (!extras.topology.empty() && !flags.count("workload") && !flags.count("gemm"))
    flags["workload"] = extras.topology;
  return hw;
}

}  // namespace ssim
