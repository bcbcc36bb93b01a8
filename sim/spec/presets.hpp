// Hardware presets: `--config NAME` names a file models/presets/NAME.cfg, found in the data
// folders (workloads/data_dir.hpp) as the binary and the installed tool see them.
#pragma once

#include <string>

namespace ssim {

// --config's value as a file: NAME (no '/', no .cfg) that is not a file is a preset, looked up as
// presets/NAME.cfg in the data folders (workloads/data_dir.hpp). Throws InputError listing the
// presets when there is no such file or preset.
std::string resolve_config(const std::string& value);

}  // namespace ssim
