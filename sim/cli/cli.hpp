// The command line of systolic-sim: parsing (Boost.Program_options), and running what it asks for.
// main() only hands argv to run_cli(); everything here throws or returns an exit code, so the
// tests can drive it in-process. Flags are documented in `systolic-sim --help` and docs/config.md.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "models/types.hpp"
#include "sim/report/traces.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/layer.hpp"

namespace ssim {

// Exit codes of systolic-sim.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;   // internal error, output could not be written, values mismatch
constexpr int kExitBadInput = 2;  // bad flag, config file or shape; nothing was written

enum class CliAction { Run, Help, Version, PrintConfig };

struct CliOptions {
  CliAction action = CliAction::Run;
  ValidHw hw;               // defaults <- --config file <- hardware flags, checked
  std::string config_path;  // --config, empty if none

  // What to run; exactly one source must be given for CliAction::Run.
  std::optional<GemmShape> gemm;    // --gemm M,N,K
  std::optional<Network> workload;  // --workload NAME|FILE, loaded and validated
  bool report = false;              // --report: figures and report.html after the run
  TraceOptions traces;              // --traces, --trace-layers, --trace-cycles, --trace-limit

  std::string out_dir;             // --out, or results/<run_name>
  uint64_t seed = 1;               // --seed
  bool quiet = false;              // --quiet
  std::vector<std::string> notes;  // one-line notes for stderr (e.g. config keys not modelled)
};

// Parses the arguments after argv[0]. Throws InputError with one line naming the flag (or the
// config file:line and key) and the value. Reads the --config file, but writes nothing.
CliOptions parse_cli(const std::vector<std::string>& args);

// "M,N,K", each an integer from 1 to kMaxGemmDim. Throws InputError naming --gemm.
constexpr int64_t kMaxGemmDim = int64_t(1) << 20;
GemmShape parse_gemm_flag(const std::string& value);
// The other way: "M,N,K".
std::string shape_text(const GemmShape& s);

// Boost's option list without trailing spaces and without runs of blank lines.
std::string tidy(const boost::program_options::options_description& desc);

std::string cli_help();     // the text of --help
std::string cli_version();  // "systolic-sim <SSIM_VERSION>"

// The outputs of one GEMM run.
std::string gemm_results_csv(const HwSpec& hw, const GemmRunResult& r, uint64_t seed);
std::string gemm_summary_table(const HwSpec& hw, const GemmRunResult& r);

// Does what the arguments ask; prints results to `out` and one-line errors to `err`:
// "error: ..." for bad input (returns kExitBadInput), "internal error: ..." for a library bug.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// main() and the Python module's child process run one command and end: run_cli() then builds
// only the parts of the SystemC design its fidelity uses (models/accelerator.hpp, DesignParts).
// Off by default: the tests run many commands in one process.
void set_one_command_process();

}  // namespace ssim
