// Hardware presets: `--config NAME` names a file models/presets/NAME.cfg, found in the data
// folders (workloads/data_dir.hpp) as the binary and the installed tool see them.
#pragma once

#include <string>

#include "sim/spec/config.hpp"

namespace ssim {

// --config's value as a file: NAME (no '/', no .cfg) that is not a file is a preset, looked up as
// presets/NAME.cfg in the data folders (workloads/data_dir.hpp). Throws InputError listing the
// presets when there is no such file or preset.
std::string resolve_config(const std::string& value);

// The hardware a run or a sweep starts from, before its flags: --config's file or preset when
// `config` is given (its notes and SCALE-Sim topology in *extras), else default_hardware().
// Throws InputError on an empty name and what resolve_config and parse_cfg_file throw.
HwSpec base_hardware(const std::string* config, CfgExtras* extras);

}  // namespace ssim
