// read_onnx_network() in the systolic-sim executable: loads the ONNX reader plugin on first use
// (workloads/onnx_plugin.hpp says why and where it is looked for).
#include "workloads/onnx_plugin.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "workloads/data_dir.hpp"
#include "workloads/readers.hpp"

namespace ssim {

namespace {

namespace fs = std::filesystem;

std::vector<std::string> plugin_candidates() {
  std::vector<std::string> c;
  if (const char* env = std::getenv(kOnnxPluginEnv); env && *env) {
    c.push_back(env);
    return c;
  }
  if (const std::string dir = executable_dir(); !dir.empty()) {
    const fs::path bin(dir);
    c.push_back((bin.parent_path() / "lib" / "systolic-sim" / kOnnxPluginFile).string());
    c.push_back((bin / kOnnxPluginFile).string());
  }
  return c;
}

// The plugin's read entry, loaded once (throws std::runtime_error naming what went wrong: the
// executable cannot read ONNX models without it, a broken install rather than a bad input).
OnnxPluginReadFn plugin_read() {
  static std::once_flag once;
  static OnnxPluginReadFn read = nullptr;
  static std::string error;
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& path : plugin_candidates()) {
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        error = std::string("cannot load the ONNX reader plugin: ") + dlerror();
        return;
      }
      auto abi = reinterpret_cast<OnnxPluginAbiFn>(dlsym(handle, kOnnxPluginAbiSymbol));
      auto fn = reinterpret_cast<OnnxPluginReadFn>(dlsym(handle, kOnnxPluginReadSymbol));
      std::string theirs;
      if (abi != nullptr) abi(&theirs);
      if (abi == nullptr || fn == nullptr || theirs != onnx_plugin_abi()) {
        error = "the ONNX reader plugin " + path + " is from another build (" +
                (theirs.empty() ? std::string("no entry points") : theirs) +
                "; this binary: " + onnx_plugin_abi() + "); reinstall systolic-sim";
        return;
      }
      read = fn;
      return;
    }
    error = std::string("the ONNX reader plugin ") + kOnnxPluginFile +
            " was not found (looked in " + tried + "); reinstall systolic-sim or set " +
            kOnnxPluginEnv + " to its path";
  });
  if (read == nullptr) throw std::runtime_error(error);
  return read;
}

}  // namespace

Network read_onnx_network(const std::string& path, const OnnxOptions& opts) {
  Network net;
  plugin_read()(&path, &opts, &net);
  return net;
}

}  // namespace ssim
