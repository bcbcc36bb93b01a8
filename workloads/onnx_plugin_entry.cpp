// The entry points of ssim_onnx.so, the ONNX reader loaded by the executable
// (workloads/onnx_plugin.hpp). Linked with -Bsymbolic: the plugin's own copies of the reader's
// helpers (layer.cpp, read_util.cpp) are the ones it calls.
#include <string>

#include "workloads/onnx_plugin.hpp"
#include "workloads/readers.hpp"

extern "C" __attribute__((visibility("default"))) void ssim_onnx_plugin_abi(std::string* out) {
  *out = ssim::onnx_plugin_abi();
}

extern "C" __attribute__((visibility("default"))) void ssim_onnx_plugin_read(
    const std::string* path, const ssim::OnnxOptions* opts, ssim::Network* out) {
  *out = ssim::read_onnx_network(*path, *opts);
}
