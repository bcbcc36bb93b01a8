// Where systolic-sim finds its data files: the presets (presets/NAME.cfg), the built-in networks
// (networks/NAME.yaml) and the report scripts (scripts/ssim_report.py, ...). No path of the
// source or build tree is compiled in; docs/install.md gives the order and the layouts.
#pragma once

#include <string>
#include <vector>

namespace ssim {

// The environment variable that names a data folder, searched before the others.
constexpr const char* kDataDirEnv = "SYSTOLIC_SIM_DATA";

// The data folders that exist, in search order, without duplicates:
//   1. $SYSTOLIC_SIM_DATA;
//   2. the folder set by set_data_dir_hint() (the Python module's own install location);
//   3. EXE/../share/systolic-sim (an installed binary, EXE its folder: PREFIX/bin);
//   4. EXE itself (the build tree: CMake links presets/, networks/ and scripts/ beside the binary).
std::vector<std::string> data_dirs();

// The folder of the running executable (/proc/self/exe, symbolic links resolved); empty if it
// cannot be read.
std::string executable_dir();

// The candidate folders of data_dirs(), whether they exist or not (for messages).
std::vector<std::string> data_dir_candidates();

// The first data folder holding `rel` (e.g. "scripts/ssim_report.py"); empty if none does.
std::string find_data_file(const std::string& rel);

// The same folders joined with `sub` ("presets", "networks"), those that exist.
std::vector<std::string> data_subdirs(const std::string& sub);

// Where the Python module found its data folder (step 2 above); empty clears it.
void set_data_dir_hint(const std::string& dir);

// The message for a data file not found: the file and the folders searched.
std::string data_file_missing(const std::string& rel);

}  // namespace ssim
