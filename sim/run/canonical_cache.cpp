#include "sim/run/canonical_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/spec/config.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// FNV-1a, 64 bits: a stable file name for a key (the key itself is stored and compared).
std::string fnv1a_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json to_json(const CanonicalKernel& k) {
  return {{"description", k.description},
          {"flops", k.flops},
          {"dram_bytes", k.dram_bytes},
          {"cycles", k.cycles}};
}

// The kernel stored under j (false when a field is missing or of another type). Nothing here
// throws: a damaged cache is ordinary, and an exception thrown after a SystemC simulation in the
// same process upsets AddressSanitizer (google/sanitizers#189).
bool from_json(const nlohmann::json& j, CanonicalKernel& k) {
  if (!j.is_object()) return false;
  const auto d = j.find("description"), f = j.find("flops"), b = j.find("dram_bytes"),
             c = j.find("cycles");
  if (d == j.end() || f == j.end() || b == j.end() || c == j.end() || !d->is_string() ||
      !f->is_number_unsigned() || !b->is_number_unsigned() || !c->is_number_integer())
    return false;
  k.description = d->get<std::string>();
  k.flops = f->get<uint64_t>();
  k.dram_bytes = b->get<uint64_t>();
  k.cycles = c->get<int64_t>();
  return true;
}

// The entry at `path` if it holds `key` (nothing for a missing or damaged file).
bool read_entry(const fs::path& path, const std::string& key, CanonicalKernels& out) {
  std::ifstream in(path);
  if (!in) return false;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  const auto k = j.find("key"), va = j.find("vector_add"), mm = j.find("matrix_multiply");
  if (k == j.end() || va == j.end() || mm == j.end() || !k->is_string() ||
      k->get<std::string>() != key)
    return false;
  CanonicalKernels r;
  if (!from_json(*va, r.vector_add) || !from_json(*mm, r.matrix_multiply)) return false;
  r.computed = true;
  r.source = "cached: " + path.string();
  out = r;
  return true;
}

void write_entry(const fs::path& path, const std::string& key, const CanonicalKernels& k) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return;
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out) return;
    const nlohmann::json j = {{"key", key},
                              {"vector_add", to_json(k.vector_add)},
                              {"matrix_multiply", to_json(k.matrix_multiply)}};
    out << j.dump(1) << '\n';
    if (!out.flush()) {
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace

std::string canonical_cache_dir() {
  const std::string own = env("SSIM_CACHE_DIR");
  if (own == "off") return "";
  if (!own.empty()) return own;
  const std::string xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty()) return xdg + "/systolic-sim";
  const std::string home = env("HOME");
  return home.empty() ? "" : home + "/.cache/systolic-sim";
}

std::string canonical_cache_key(const HwSpec& hw_in) {
  HwSpec hw = hw_in;
  hw.run_name.clear();
  hw.fidelity = Fidelity::Fast;  // the kernels always run on the fast model
  std::ostringstream key;
  key << format_cfg(hw);
  // The binary that computed them: another build may plan or time them differently.
  struct stat st {};
  if (::stat("/proc/self/exe", &st) == 0)
    key << "binary: " << st.st_size << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec
        << "\n";
  key << "kernels: vector_add " << kCanonicalVectorAddElements << ", matrix_multiply "
      << kCanonicalMatrixMultiplySize << "^3\n";
  return key.str();
}

CanonicalKernels canonical_kernels(const ValidHw& hw) {
  const std::string dir = canonical_cache_dir();
  if (dir.empty()) return run_canonical_kernels(hw);
  const std::string key = canonical_cache_key(hw);
  const fs::path path = fs::path(dir) / ("canonical-" + fnv1a_hex(key) + ".json");
  CanonicalKernels k;
  if (read_entry(path, key, k)) return k;
  k = run_canonical_kernels(hw);
  write_entry(path, key, k);
  return k;
}

}  // namespace ssim
