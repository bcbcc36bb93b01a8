// The ONNX reader as a plugin of the systolic-sim executable (docs/architecture.md, "The ONNX
// plugin"). The reader needs libonnx, libonnx_proto and libprotobuf, whose loading and static
// initialisers were about a third of every run's start-up; the executable loads them only when a
// workload is an .onnx file, by dlopen()ing ssim_onnx.so (workloads/onnx_plugin_entry.cpp) and
// calling its entry. The tests, the benches and the Python module link the reader directly.
#pragma once

#include <string>

#include "workloads/layer.hpp"
#include "workloads/readers.hpp"

namespace ssim {

// The plugin's file name, and where the executable looks for it, in order: $SSIM_ONNX_PLUGIN (a
// path to the file), EXE/../lib/systolic-sim/ (an installed binary in PREFIX/bin), EXE's own
// folder (the build tree).
constexpr const char* kOnnxPluginFile = "ssim_onnx.so";
constexpr const char* kOnnxPluginEnv = "SSIM_ONNX_PLUGIN";

// Both sides' view of the types that cross the boundary: a plugin from another build is refused.
inline std::string onnx_plugin_abi() {
  return std::string(SSIM_VERSION) + " network " + std::to_string(sizeof(Network)) + " layer " +
         std::to_string(sizeof(Layer)) + " options " + std::to_string(sizeof(OnnxOptions));
}

// The plugin's entry points (extern "C", looked up by these names).
constexpr const char* kOnnxPluginAbiSymbol = "ssim_onnx_plugin_abi";
constexpr const char* kOnnxPluginReadSymbol = "ssim_onnx_plugin_read";
using OnnxPluginAbiFn = void (*)(std::string* out);
// Reads the model at `path` into `out`; throws what read_onnx_network() throws (InputError).
using OnnxPluginReadFn = void (*)(const std::string* path, const OnnxOptions* opts, Network* out);

}  // namespace ssim
