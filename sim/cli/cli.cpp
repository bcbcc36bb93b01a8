#include "sim/cli/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "models/accelerator.hpp"
#include "sim/cli/out_folder.hpp"
#include "sim/cli/preflight.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/report/progress.hpp"
#include "sim/report/report_table.hpp"
#include "sim/report/run_outputs.hpp"
#include "sim/run/canonical_cache.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/presets.hpp"
#include "workloads/data_dir.hpp"
#include "workloads/lower.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

#ifndef SSIM_VERSION
#error "SSIM_VERSION must be defined by the build (see CMakeLists.txt)"
#endif

namespace ssim {

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// The options that are not hardware flags (those come from hw_flags()).
struct RunOption {
  const char* name;
  const char* value_name;  // nullptr for a switch
  const char* help;
};

const RunOption kRunOptions[] = {
    {"gemm", "M,N,K",
     "simulate one GEMM C[MxN] = A[MxK] * B[KxN]; each of M, N, K from 1 to 1048576"},
    {"workload", "NAME|FILE",
     "simulate a network: a built-in name (resnet50, alexnet, mobilenetv2, bert-base-128, "
     "bert-base-512, gpt2-prefill-1024, gpt2-decode, vit-b16, mlp, vector-add, "
     "matrix-multiply), a SCALE-Sim topology .csv, a .yaml network or an .onnx model "
     "(docs/workloads.md)"},
    {"batch", "N",
     "an .onnx model's batch size where its input's batch dim is symbolic [default: 1]"},
    {"onnx-unsupported", "error|skip",
     "an .onnx model's unsupported ops: an error (default), or skipped with one warning line"},
    {"config", "FILE|PRESET",
     "hardware config: a SCALE-Sim .cfg file, optionally with a [systolic_sim] section, or a "
     "preset name (seed-roofline, tpu-v1, gemmini, eyeriss, scale-sim-32x32); flags override it"},
    {"out", "DIR", "output folder [default: results/<run_name>]"},
    {"scalesim-rounding", nullptr,
     "size conv outputs of a SCALE-Sim .csv as SCALE-Sim does, ceil((H - F + S) / S), instead of "
     "floor((H - F) / S) + 1"},
    {"input-type", "conv|gemm",
     "the topology's form, as SCALE-Sim's -i: checked against the file (its header decides)"},
    {"seed", "N", "seed of the random GEMM operands [default: 1]"},
    {"energy-table", "FILE",
     "energy per action and area per component (YAML; technology_nm and any entry of "
     "docs/energy.md) over the defaults (Horowitz ISSCC 2014, 45 nm)"},
    {"report", nullptr,
     "also draw the roofline, utilization and time-breakdown figures and write report.html "
     "(needs python3-matplotlib)"},
    {"quiet", nullptr, "print nothing on success (errors still go to stderr)"},
    {"traces", "on|gz",
     "write SCALE-Sim's six cycle traces per GEMM op into OUT/layer<N>/ (gz: gzip-compressed; "
     "--traces alone: on; docs/report-format.md)"},
    {"trace-layers", "LIST", "trace only these GEMM ops or layers (comma-separated names)"},
    {"trace-cycles", "A:B", "trace only cycles A to B of each op (inclusive)"},
    {"trace-limit", "BYTES",
     "refuse to run when the traces would exceed this size (K, M, G suffixes) [default: 2G]"},
};

const RunOption kOtherOptions[] = {
    {"print-config", nullptr,
     "print the resolved hardware config (defaults <- --config <- flags) in .cfg format and exit"},
    {"help", nullptr, "print this help and exit"},
    {"version", nullptr, "print the version and exit"},
};

po::options_description make_options(bool for_help) {
  const unsigned width = 100;
  po::options_description all(width, width / 2);
  auto add = [&](po::options_description& group, const RunOption& o) {
    if (o.value_name) {
      group.add_options()(o.name, po::value<std::string>()->value_name(o.value_name), o.help);
    } else {
      group.add_options()(o.name, o.help);
    }
  };
  po::options_description run("Run", width, width / 2);
  for (const RunOption& o : kRunOptions) add(run, o);
  po::options_description hw(
      for_help ? "Hardware (override the --config file; defaults are the built-in ones)" : "",
      width, width / 2);
  for (const HwFlagInfo& f : hw_flags()) {
    const std::string help = f.help + " [default: " + f.default_value + "]";
    hw.add_options()(f.name.c_str(), po::value<std::string>()->value_name(f.value_name),
                     help.c_str());
  }
  po::options_description other("Other", width, width / 2);
  for (const RunOption& o : kOtherOptions) add(other, o);
  all.add(run).add(hw).add(other);
  return all;
}

bool is_hw_flag(const std::string& name) {
  for (const HwFlagInfo& f : hw_flags()) {
    if (f.name == name) return true;
  }
  return false;
}

uint64_t parse_seed(const std::string& v) {
  uint64_t x = 0;
  const char* e = v.data() + v.size();
  const auto r = std::from_chars(v.data(), e, x, 10);
  if (v.empty() || r.ec != std::errc() || r.ptr != e) {
    throw InputError("--seed '" + v + "': expected an integer from 0 to 18446744073709551615");
  }
  return x;
}

}  // namespace

namespace {

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string checked_text(const GemmRunResult& r) {
  if (!r.values_checked) return "no (fast fidelity: cycle counts only)";
  return r.values_ok ? "yes, equal to the reference GEMM"
                     : "yes, DIFFERENT from the reference GEMM";
}

}  // namespace

namespace {

// A --gemm run is a network of one GEMM layer: the same path, outputs and reports.
Network gemm_network(const GemmShape& g) {
  Network net;
  net.name = "gemm " + shape_text(g);
  net.layers.push_back(make_layer("gemm", GemmLayer{g.M, g.N, g.K}));
  return net;
}

}  // namespace

std::string tidy(const po::options_description& desc) {
  std::ostringstream raw;
  raw << desc;
  std::istringstream in(raw.str());
  std::string line, out;
  bool last_blank = true;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    const bool blank = line.empty();
    if (!(blank && last_blank)) out += line + '\n';
    last_blank = blank;
  }
  return out;
}

GemmShape parse_gemm_flag(const std::string& value) {
  const std::string allowed = "--gemm '" + value + "': expected M,N,K, three integers from 1 to " +
                              std::to_string(kMaxGemmDim) + " (e.g. 512,512,512)";
  std::vector<int64_t> dims;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    std::string part =
        value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto b = part.find_first_not_of(" \t");
    const auto e = part.find_last_not_of(" \t");
    part = b == std::string::npos ? "" : part.substr(b, e - b + 1);
    int64_t x = 0;
    const char* end = part.data() + part.size();
    const auto r = std::from_chars(part.data(), end, x, 10);
    if (part.empty() || r.ec != std::errc() || r.ptr != end || x < 1 || x > kMaxGemmDim) {
      throw InputError(allowed);
    }
    dims.push_back(x);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (dims.size() != 3) throw InputError(allowed);
  return GemmShape{dims[0], dims[1], dims[2]};
}

std::string shape_text(const GemmShape& s) {
  return std::to_string(s.M) + "," + std::to_string(s.N) + "," + std::to_string(s.K);
}

CliOptions parse_cli(const std::vector<std::string>& args_in) {
  // Boost's error messages substitute placeholders such as %canonical_option% and %value% until
  // none is left: an argument that contains one (e.g. "--x%canonical_option%") makes what() loop
  // forever. So Boost never sees a '%': it stands in as kPercent and is put back in the values
  // and messages (tests/fuzz/regressions/cli/).
  constexpr char kPercent = '\x1f';
  std::vector<std::string> args = args_in;
  // --traces without a value means on.
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--traces" && (i + 1 == args.size() || args[i + 1].rfind("--", 0) == 0))
      args[i] = "--traces=on";
  // SCALE-Sim's spellings: -c CFG, -t TOPOLOGY, -p OUTDIR, -i conv|gemm.
  for (std::string& a : args) {
    if (a == "-c")
      a = "--config";
    else if (a == "-t")
      a = "--workload";
    else if (a == "-p")
      a = "--out";
    else if (a == "-i")
      a = "--input-type";
  }
  auto restore = [&](std::string s) {
    std::replace(s.begin(), s.end(), kPercent, '%');
    return s;
  };
  for (std::string& a : args) {
    if (a.find(kPercent) != std::string::npos)
      throw InputError("argument '" + one_line(a) +
                       "' contains the control character 0x1f; flags and values are text");
    std::replace(a.begin(), a.end(), '%', kPercent);
  }
  const po::options_description desc = make_options(false);
  po::parsed_options parsed(&desc);
  try {
    // One spelling per flag: no abbreviations (--arr for --array).
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(args).options(desc).style(style).run();
  } catch (const po::error& e) {
    throw InputError(restore(e.what()) + " (see --help)");
  }
  for (po::option& o : parsed.options) {
    for (std::string& v : o.value) v = restore(v);
    for (std::string& t : o.original_tokens) t = restore(t);
  }

  // The flags in command-line order, each at most once.
  std::map<std::string, std::string> seen;
  std::vector<std::pair<std::string, std::string>> hw_flags_given;
  for (const po::option& o : parsed.options) {
    if (o.string_key.empty() || o.position_key >= 0) {
      const std::string tok = o.original_tokens.empty() ? "" : o.original_tokens.front();
      throw InputError("unexpected argument '" + tok + "': flags start with -- (see --help)");
    }
    const std::string& name = o.string_key;
    const std::string value = o.value.empty() ? "" : o.value.front();
    // Boost takes "--array --quiet" as --array='--quiet'; a value that is a flag means a
    // missing value.
    if (o.original_tokens.size() == 2 && value.rfind("--", 0) == 0) {
      throw InputError("the required argument for option '--" + name + "' is missing (got '" +
                       value + "', a flag)");
    }
    if (seen.count(name)) {
      throw InputError("option '--" + name + "' given more than once");
    }
    seen[name] = value;
    if (is_hw_flag(name)) hw_flags_given.emplace_back(name, value);
  }

  CliOptions opts;
  if (seen.count("help")) {
    opts.action = CliAction::Help;
    return opts;
  }
  if (seen.count("version")) {
    opts.action = CliAction::Version;
    return opts;
  }
  if (seen.count("print-config")) opts.action = CliAction::PrintConfig;
  opts.quiet = seen.count("quiet") > 0;

  // Cheap syntax checks first, then the file, then the flags on top of it.
  if (seen.count("gemm")) opts.gemm = parse_gemm_flag(seen["gemm"]);
  if (seen.count("seed")) opts.seed = parse_seed(seen["seed"]);
  HwSpec hw = base_hardware(seen, &opts.config_path, &opts.notes);
  apply_hw_flags(hw, hw_flags_given);  // by meaning, not position (docs/config.md)
  opts.hw = ValidHw(std::move(hw));    // the run's one check of the spec
  if (seen.count("energy-table")) {
    if (seen["energy-table"].empty()) throw InputError("--energy-table '': expected a file name");
    opts.hw = opts.hw.with_energy(parse_energy_table_file(seen["energy-table"]));
  }
  if (seen.count("traces")) parse_traces_flag(seen["traces"], opts.traces);
  if (seen.count("trace-layers")) parse_trace_layers_flag(seen["trace-layers"], opts.traces);
  if (seen.count("trace-cycles")) parse_trace_cycles_flag(seen["trace-cycles"], opts.traces);
  if (seen.count("trace-limit")) parse_trace_limit_flag(seen["trace-limit"], opts.traces);
  if (const std::string n = unmodelled_note(opts.hw, opts.traces.on); !n.empty())
    opts.notes.push_back(n);

  if (opts.action == CliAction::PrintConfig) return opts;
  opts.report = seen.count("report") > 0;
  if (seen.count("gemm") && seen.count("workload"))
    throw InputError("--gemm and --workload: give one of them, not both");
  OnnxOptions onnx;
  onnx.notes = &opts.notes;
  if (seen.count("batch")) {
    const std::string& v = seen["batch"];
    int64_t b = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), b, 10);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size() || b < 1 ||
        b > (int64_t(1) << 20))
      throw InputError("--batch '" + one_line(v) + "': expected an integer from 1 to 1048576");
    onnx.batch = b;
  }
  if (seen.count("onnx-unsupported")) {
    const std::string& v = seen["onnx-unsupported"];
    if (v != "error" && v != "skip")
      throw InputError("--onnx-unsupported '" + one_line(v) + "': expected error or skip");
    onnx.skip_unsupported = v == "skip";
  }
  const bool is_onnx =
      seen.count("workload") && seen["workload"].size() >= 5 &&
      detail::to_lower(seen["workload"].substr(seen["workload"].size() - 5)) == ".onnx";
  for (const char* f : {"batch", "onnx-unsupported"})
    if (seen.count(f) && !is_onnx)
      throw InputError(std::string("--") + f + ": applies to ONNX models (--workload FILE.onnx)");
  if (seen.count("workload")) {
    if (seen["workload"].empty()) throw InputError("--workload '': expected a name or a file");
    CsvOptions csv;
    csv.scalesim_rounding = seen.count("scalesim-rounding") > 0;
    csv.notes = &opts.notes;
    opts.workload = load_workload(seen["workload"], csv, onnx);
  }
  if (seen.count("scalesim-rounding")) {
    if (!opts.workload)
      throw InputError("--scalesim-rounding: needs a SCALE-Sim topology (--workload FILE.csv)");
    if (opts.workload->source.size() < 4 ||
        opts.workload->source.compare(opts.workload->source.size() - 4, 4, ".csv") != 0)
      opts.notes.push_back("note: --scalesim-rounding applies to SCALE-Sim .csv topologies; " +
                           opts.workload->name + " keeps its sizes");
  }
  if (seen.count("input-type")) {
    const std::string t = seen["input-type"];
    if (t != "conv" && t != "gemm")
      throw InputError("--input-type '" + one_line(t) + "': expected conv or gemm");
    if (!opts.workload)
      throw InputError("--input-type " + t + ": needs a topology (--workload or -t FILE)");
    bool all_gemm = true;
    for (const Layer& l : opts.workload->layers) all_gemm = all_gemm && l.type() == LayerType::Gemm;
    if (all_gemm != (t == "gemm"))
      throw InputError("--input-type " + t + ": " + opts.workload->name + " is a " +
                       (all_gemm ? "GEMM (M, N, K)" : "conv") + " topology");
  }
  if (!opts.gemm && !opts.workload) {
    throw InputError("nothing to run: give --gemm M,N,K or --workload NAME|FILE (see --help)");
  }
  opts.out_dir = seen.count("out") ? seen["out"] : "results/" + opts.hw->run_name;
  check_out_dir(opts.out_dir);
  preflight(opts.hw, opts.gemm ? gemm_network(*opts.gemm) : *opts.workload, opts.report);
  return opts;
}

std::string cli_version() {
  return std::string("systolic-sim ") + SSIM_VERSION;
}

std::string cli_help() {
  std::ostringstream s;
  s << cli_version() << ": cycle-level simulator of systolic-array accelerators\n\n"
    << "Usage: systolic-sim --gemm M,N,K [--config FILE] [flags]\n"
    << "       systolic-sim --workload NAME|FILE [--config FILE] [flags] [--report]\n"
    << "       systolic-sim [--config FILE] [flags] --print-config\n"
    << "       systolic-sim sweep ... (design-space sweeps: systolic-sim sweep --help, "
       "docs/sweep.md)\n\n"
    << tidy(make_options(true)) << "\n"
    << "Examples:\n"
    << "  systolic-sim --gemm 512,512,512 --array 32x32 --dataflow os --fidelity cycle\n"
    << "  systolic-sim --config google.cfg --gemm 1024,4800,1600 --fold-overlap on --out res/\n"
    << "  systolic-sim --workload resnet50 --array 128x128 --dataflow ws --out res/ --report\n\n"
    << "Results go to <out>/: layers.csv (one row per op), summary.json, SCALE-Sim's\n"
    << "COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv, "
       "SYSTOLIC_SIM_REPORT.csv,\n"
    << "gemm_results.csv for --gemm, and with --report the figures and report.html\n"
    << "(docs/report-format.md). Exit codes: 0 success, 1 internal error or output\n"
    << "not written or values wrong, 2 bad input (nothing written). Config keys: docs/config.md.\n";
  return s.str();
}

std::string gemm_results_csv(const HwSpec& hw, const GemmRunResult& r, uint64_t seed) {
  std::string csv =
      csv_line({"run_name", "array_rows", "array_cols", "dataflow", "fold_overlap", "fidelity", "M",
                "N", "K", "total_cycles", "compute_cycles", "stall_cycles", "macs", "folds",
                "compute_util_pct", "mapping_eff_pct", "values_checked", "values_ok", "seed"});
  csv += csv_line({hw.run_name, std::to_string(hw.array_rows), std::to_string(hw.array_cols),
                   to_string(hw.dataflow), hw.fold_overlap ? "on" : "off", to_string(hw.fidelity),
                   std::to_string(r.shape.M), std::to_string(r.shape.N), std::to_string(r.shape.K),
                   std::to_string(r.total_cycles), std::to_string(r.compute_cycles),
                   std::to_string(r.stall_cycles), std::to_string(r.macs), std::to_string(r.folds),
                   fixed(100 * r.compute_util, 4), fixed(100 * r.mapping_eff, 4),
                   r.values_checked ? "true" : "false", r.values_ok ? "true" : "false",
                   std::to_string(seed)});
  return csv;
}

std::string gemm_summary_table(const HwSpec& hw, const GemmRunResult& r) {
  TextTable t;
  t.add_row({"run name", hw.run_name});
  t.add_row({"array", std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols)});
  t.add_row({"dataflow", to_string(hw.dataflow)});
  t.add_row({"fold overlap", hw.fold_overlap ? "on" : "off"});
  t.add_row({"fidelity", to_string(hw.fidelity)});
  t.add_row({"GEMM M,N,K", shape_text(r.shape)});
  t.add_row({"total cycles", std::to_string(r.total_cycles)});
  t.add_row({"stall cycles", std::to_string(r.stall_cycles)});
  t.add_row({"MACs", std::to_string(r.macs)});
  t.add_row({"folds", std::to_string(r.folds)});
  t.add_row({"compute utilization %", fixed(100 * r.compute_util, 2)});
  t.add_row({"mapping efficiency %", fixed(100 * r.mapping_eff, 2)});
  t.add_row({"values checked", checked_text(r)});
  if (!r.periodic.empty())  // a large GEMM run by its periodic groups (docs/cycle-accounting.md)
    t.add_row({"run as", r.periodic});
  return t.str();
}

namespace {

std::string out_of_memory_line(Fidelity fidelity, bool roofline_kernels) {
  // Advice names only what the run did not use already: the roofline's kernels run in fast
  // fidelity whatever --fidelity says.
  if (fidelity == Fidelity::Cycle && !roofline_kernels)
    return "error: out of memory while simulating (try --fidelity fast or a smaller workload); "
           "nothing written";
  if (roofline_kernels)  // whatever the workload: they are sized by the hardware
    return "error: out of memory while simulating the roofline's reference kernels (leave out "
           "--report, or use a larger array or larger SRAM buffers); nothing written";
  return "error: out of memory while simulating with the fast array model (try a smaller "
         "workload); nothing written";
}

}  // namespace

// A single run's progress (ops done of total, time left) weighs each op by a rough count of
// its cycles: a GEMM's folds times (rows streamed + fill and drain), a vector op's elements
// over the lanes. The reference kernels of --report count as two more items.
double gemm_cost(const HwSpec& hw, const GemmShape& s, int64_t repeat) {
  const double folds =
      double(ceil_div(s.K, hw.array_rows)) * double(ceil_div(s.N, hw.array_cols)) * double(repeat);
  return folds * double(s.M + hw.array_rows + hw.array_cols);
}
double op_cost(const HwSpec& hw, const Op& op) {
  if (const GemmOp* g = as_gemm(op)) return gemm_cost(hw, g->shape, g->repeat) + 1;
  if (const VectorOp* v = as_vector(op)) return double(v->elements) / hw.vector_lanes + 1;
  return 1;
}
double canonical_cost(const HwSpec& hw) {
  return gemm_cost(hw,
                   GemmShape{kCanonicalMatrixMultiplySize, kCanonicalMatrixMultiplySize,
                             kCanonicalMatrixMultiplySize},
                   1) +
         double(kCanonicalVectorAddElements) / hw.vector_lanes;
}

// How long a run waits for another writer of its --out folder (a run writes for well under a
// second; a sweep holds the folder until it ends).
constexpr double kOutLockWaitSeconds = 60;

namespace {
bool one_command = false;
}  // namespace

void set_one_command_process() {
  one_command = true;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CliOptions opts;
  try {
    opts = parse_cli(args);
  } catch (const InputError& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "internal error: " << message_line(e.what()) << std::endl;
    return kExitFailure;
  }

  for (const std::string& n : opts.notes) err << message_line(n) << '\n';
  switch (opts.action) {
    case CliAction::Help:
      out << cli_help();
      return kExitOk;
    case CliAction::Version:
      out << cli_version() << '\n';
      return kExitOk;
    case CliAction::PrintConfig:
      out << format_cfg(opts.hw);
      return kExitOk;
    case CliAction::Run:
      break;
  }
  // One command in this process: a SystemC design without what it cannot use.
  if (one_command) set_design_parts(DesignParts{opts.hw->fidelity == Fidelity::Cycle, false});

  const Network net = opts.gemm ? gemm_network(*opts.gemm) : *opts.workload;
  NetworkRunResult result;
  CanonicalKernels canonical;
  // Progress on stderr once the run takes more than a second: a bar on a terminal, a status
  // line a second otherwise, nothing with --quiet (the sweep's progress, sim/report/progress.hpp).
  const std::vector<Op> ops = lower(net);
  double cost = opts.report ? canonical_cost(opts.hw) : 0;
  for (const Op& op : ops) cost += op_cost(opts.hw, op);
  Progress progress(err, &err == &std::cerr && ::isatty(STDERR_FILENO), opts.quiet,
                    ops.size() + (opts.report ? 2 : 0), 0, cost,
                    Progress::Style{"run", "ops", 1.0, 1.0});
  bool phase_is_run = true;  // false: the roofline's kernels (always in fast fidelity)
  // --traces: streamed into a folder beside the output folder while the run goes, moved into it
  // with the other results, removed when the run fails (traces.hpp).
  std::unique_ptr<TraceSession> traces;
  struct TraceCleanup {
    std::unique_ptr<TraceSession>* t;
    ~TraceCleanup() {
      if (!*t) return;
      TraceSession::activate(nullptr);
      std::error_code ec;
      fs::remove_all((*t)->dir(), ec);
    }
  } trace_cleanup{&traces};
  try {
    check_traces(opts.hw, opts.traces, ops);
    if (opts.traces.on) {
      const fs::path out = fs::absolute(opts.out_dir).lexically_normal();
      const fs::path parent =
          out.has_filename() ? out.parent_path() : out.parent_path().parent_path();
      const std::string base =
          out.has_filename() ? out.filename().string() : out.parent_path().filename().string();
      traces = std::make_unique<TraceSession>(
          opts.hw, opts.traces,
          (parent / ("." + base + ".traces-" + std::to_string(::getpid()))).string());
      std::error_code ec;
      fs::remove_all(traces->dir(), ec);
      if (!ec) fs::create_directories(traces->dir(), ec);
      if (ec) {
        err << "error: cannot write the traces of '" << opts.out_dir << "' into '" << traces->dir()
            << "': " << ec.message() << std::endl;
        return kExitFailure;
      }
      TraceSession::activate(traces.get());
    }
    result = run_network(opts.hw, net, opts.seed,
                         [&](const Op& op) { progress.item_done(op_cost(opts.hw, op)); });
    if (traces) {
      TraceSession::activate(nullptr);
      traces->finish();
    }
    phase_is_run = false;
    if (opts.report) {                         // the roofline's dots only
      canonical = canonical_kernels(opts.hw);  // from the cache when computed before
      progress.item_done(canonical_cost(opts.hw) / 2);
      progress.item_done(canonical_cost(opts.hw) / 2);
    }
    progress.finish();
  } catch (const InputError& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    err << out_of_memory_line(opts.hw->fidelity, !phase_is_run) << std::endl;
    return kExitFailure;
  } catch (const std::exception& e) {
    err << "internal error: " << message_line(e.what()) << std::endl;
    return kExitFailure;
  }

  // Outputs only after the run succeeded: the folder is created here, files renamed into place.
  const fs::path csv_path = fs::path(opts.out_dir) / "gemm_results.csv";
  try {
    const std::string gemm_csv =
        opts.gemm ? gemm_results_csv(opts.hw, result.gemms.at(0), opts.seed) : std::string();
    fs::create_directories(opts.out_dir);
    // The lock sweeps take: two runs into one folder write one after the other, never mixed.
    FolderLock lock;
    if (!lock.acquire(opts.out_dir, kOutLockWaitSeconds)) {
      err << "error: cannot write results to '" << opts.out_dir
          << "': another run or sweep is writing to this folder (waited "
          << int(kOutLockWaitSeconds) << " s); nothing written" << std::endl;
      return kExitFailure;
    }
    write_run_folder(opts.out_dir, opts.hw, result, canonical,
                     RunRecord{opts.seed, workload_fingerprint(ops)});
    if (opts.gemm) write_file_atomic(csv_path.string(), gemm_csv, Sync::None);
    if (traces) traces->move_into(opts.out_dir);  // replacing a previous run's traces
  } catch (const std::system_error& e) {          // fs::filesystem_error is one too
    err << "error: cannot write results to '" << opts.out_dir << "': " << e.code().message()
        << std::endl;
    return kExitFailure;
  } catch (const std::exception& e) {
    err << "internal error: writing results to '" << opts.out_dir << "': " << one_line(e.what())
        << std::endl;
    return kExitFailure;
  }

  if (!opts.quiet) {
    if (opts.gemm) {
      out << gemm_summary_table(opts.hw, result.gemms.at(0));
      out << energy_summary_line(opts.hw, result);
    } else {
      out << network_summary_text(opts.hw, result);
    }
    out << "results: " << opts.out_dir << "/ (layers.csv, summary.json, COMPUTE_REPORT.csv, ...)\n";
    if (traces)
      out << "traces: " << traces->traced_ops() << " GEMM op"
          << (traces->traced_ops() == 1 ? "" : "s") << " in " << opts.out_dir
          << "/layer<N>/ (SRAM and DRAM traces, SCALE-Sim's format)\n";
  }
  if (result.values_checked && !result.values_ok) {
    err << "error: the cycle-level array's output C differs from the reference GEMM "
           "(values_ok = false in "
        << (opts.gemm ? csv_path.string() : opts.out_dir + "/summary.json") << ")" << std::endl;
    return kExitFailure;
  }
  if (opts.report) {
    const int rc = run_report_script(opts.out_dir, err);
    if (rc == 0) {
      if (!opts.quiet) out << "report: " << opts.out_dir << "/report.html\n";
    } else if (rc != 3) {  // 3: no matplotlib; the script said how to get it, CSV/JSON are there
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace ssim
