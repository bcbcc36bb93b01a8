// Hardware presets: `--config NAME` names a file models/presets/NAME.cfg, found in the data
// folders (workloads/data_dir.hpp) as the binary and the installed tool see them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/spec/config.hpp"

namespace ssim {

// --config's value as a file: NAME (no '/', no .cfg) that is not a file is a preset, looked up as
// presets/NAME.cfg in the data folders (workloads/data_dir.hpp). Throws InputError listing the
// presets when there is no such file or preset.
std::string resolve_config(const std::string& value);

// The hardware a run or a sweep starts from, before its flags, from its command line's flags
// (name -> value): --config's file or preset when given (its name kept in *config_path, its notes
// of keys not modelled in *notes), else default_hardware(). A SCALE-Sim topology the file names
// becomes `flags["workload"]` when neither --workload nor --gemm is given. Throws InputError on
// an empty name and what resolve_config and parse_cfg_file throw.
HwSpec base_hardware(std::map<std::string, std::string>& flags, std::string* config_path,
                     std::vector<std::string>* notes);

}  // namespace ssim
