// The entry points of the libFuzzer targets (fuzz/fuzz_*.cpp), shared with the regression test
// (tests/sim/test_fuzz_regressions.cpp), which runs every input in tests/fuzz/regressions/ through
// the same function in the normal test build.
//
// Each entry feeds one input to a parser. Refusing the input with ssim::InputError is the expected
// way to fail; the message must then be one non-empty line. Any other exception escapes (a bug:
// libFuzzer reports it as a crash, the test as a failure), and so does a broken invariant of an
// accepted input (thrown as FuzzInvariantError). Crashes, hangs, leaks and sanitizer reports are
// libFuzzer's and the sanitizers' to catch.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/types.hpp"
#include "sim/cli/cli.hpp"
#include "sim/spec/config.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"
#include "workloads/readers.hpp"

namespace ssim::fuzz {

struct FuzzInvariantError : std::logic_error {
  using std::logic_error::logic_error;
};

inline void require(bool ok, const std::string& what) {
  if (!ok) throw FuzzInvariantError("fuzz invariant broken: " + what);
}

// An InputError's message: one line, not empty, no control characters but tab.
inline void check_message(const InputError& e) {
  const std::string m = e.what();
  require(!m.empty(), "empty InputError message");
  for (unsigned char c : m)
    require(!(c < 0x20 && c != '\t') && c != 0x7f,
            "InputError message with a control character: " + m);
}

inline std::string as_text(const uint8_t* data, size_t size) {
  return size ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
}

// --- .cfg reader ---------------------------------------------------------------------------------
// An accepted file prints (format_cfg) as a file that reads back to the same spec.
inline void cfg_one(const uint8_t* data, size_t size) {
  HwSpec h;
  try {
    h = parse_cfg_text(as_text(data, size), "fuzz.cfg");
  } catch (const InputError& e) {
    check_message(e);
    return;
  }
  const std::string printed = format_cfg(h);
  HwSpec back;
  try {
    back = parse_cfg_text(printed, "printed.cfg");
  } catch (const InputError& e) {
    require(false, std::string("format_cfg output does not read back: ") + e.what());
  }
  require(format_cfg(back) == printed, "format_cfg round trip changed the spec");
  try {
    (void)ValidHw(h);  // may refuse combinations (e.g. a cycle-fidelity array too large)
  } catch (const InputError& e) {
    check_message(e);
  }
}

// --- workload readers ----------------------------------------------------------------------------
// An accepted network is valid and lowers to GEMM and vector ops with positive sizes.
inline void check_network(const Network& net) {
  require(!net.layers.empty(), "a network without layers");
  try {
    validate(net);
  } catch (const InputError& e) {
    require(false, std::string("a reader returned an invalid network: ") + e.what());
  }
  for (const Op& op : lower(net)) {
    if (const GemmOp* g = as_gemm(op)) {
      require(g->shape.M > 0 && g->shape.N > 0 && g->shape.K > 0 && g->repeat > 0,
              "a GEMM op with a size that is not positive: " + g->name);
    } else {
      const VectorOp& v = std::get<VectorOp>(op);
      require(v.elements > 0, "a vector op without elements: " + v.name);
    }
  }
}

inline void csv_one(const uint8_t* data, size_t size) {
  Network net;
  try {
    net = parse_scalesim_csv(as_text(data, size), "fuzz.csv");
  } catch (const InputError& e) {
    check_message(e);
    return;
  }
  check_network(net);
}

inline void yaml_one(const uint8_t* data, size_t size) {
  Network net;
  try {
    net = parse_yaml_network(as_text(data, size), "fuzz.yaml");
  } catch (const InputError& e) {
    check_message(e);
    return;
  }
  check_network(net);
}

// An accepted ONNX model is a valid network (check_network); --batch 2 and skipped unsupported ops
// exercise the symbolic batch and the skip path.
inline void onnx_one(const uint8_t* data, size_t size) {
  Network net;
  std::vector<std::string> notes;
  OnnxOptions opts;
  opts.skip_unsupported = size % 2 == 1;
  opts.notes = &notes;
  try {
    net = parse_onnx_network(as_text(data, size), "fuzz.onnx", opts);
  } catch (const InputError& e) {
    check_message(e);
    return;
  }
  check_network(net);
  for (const std::string& n : notes) check_message(InputError(n));
}

// --- command line --------------------------------------------------------------------------------
// The input is argv after argv[0]: split at NUL bytes if it has any, else at newlines. Only
// parse_cli() runs (it reads a --config or --workload file but writes nothing); the simulation
// does not. Arguments that name /dev, /proc or /sys are skipped (a FIFO or a terminal would block
// the read; the file readers have their own targets). Relative paths are resolved in the folder
// cli_fuzz_setup() made: it holds a.cfg, a.csv and a.yaml.
inline std::vector<std::string> split_args(const std::string& in) {
  const char sep = in.find('\0') != std::string::npos ? '\0' : '\n';
  std::vector<std::string> args;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find(sep, start);
    if (end == std::string::npos) end = in.size();
    args.push_back(in.substr(start, end - start));
    start = end + 1;
  }
  if (!args.empty() && args.back().empty()) args.pop_back();  // a final separator
  return args;
}

// Makes a scratch folder with a small valid config and workloads and enters it. Returns its path.
inline std::string cli_fuzz_setup() {
  char tmpl[] = "/tmp/ssim_fuzz_cli_XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (!dir || chdir(dir) != 0) std::abort();
  const std::pair<const char*, const char*> files[] = {
      {"a.cfg",
       "[general]\nrun_name = fuzz\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
       "Dataflow: os\n[systolic_sim]\nFidelity = fast\n"},
      {"a.csv", "Layer, M, N, K,\ng0, 16, 8, 4,\n"},
      {"a.yaml",
       "name: f\nlayers:\n  - {name: l0, type: linear, in: 8, out: 4, tokens: 2}\n"
       "  - {name: s0, type: softmax, rows: 2, length: 4}\n"},
  };
  for (const auto& [name, text] : files) {
    FILE* f = std::fopen(name, "wb");
    if (!f) std::abort();
    std::fputs(text, f);
    std::fclose(f);
  }
  return dir;
}

inline bool names_special_files(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    for (const char* p : {"/dev", "/proc", "/sys"})
      if (a.find(p) != std::string::npos) return true;
  return false;
}

inline void cli_one(const uint8_t* data, size_t size) {
  const std::vector<std::string> args = split_args(as_text(data, size));
  if (names_special_files(args)) return;
  CliOptions o;
  try {
    o = parse_cli(args);
  } catch (const InputError& e) {
    // Boost's messages and file contents may carry control characters; run_cli() prints one
    // line of them. Only emptiness is checked here.
    require(*e.what() != '\0', "empty InputError message");
    return;
  }
  if (o.action != CliAction::Run) return;
  require(o.gemm.has_value() != o.workload.has_value(), "a run needs exactly one of gemm/workload");
  require(!o.out_dir.empty(), "a run without an output folder");
  // o.hw is a ValidHw: parse_cli cannot hand back a spec that was not checked.
  if (o.workload) check_network(*o.workload);
}

}  // namespace ssim::fuzz
