#include "sim/sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "sim/cli.hpp"
#include "sim/out_folder.hpp"
#include "sim/progress.hpp"
#include "sim/report_table.hpp"
#include "sim/run_outputs.hpp"
#include "sim/sweep_slurm.hpp"
#include "workloads/data_dir.hpp"
#include "workloads/readers.hpp"

#ifndef SSIM_VERSION
#error "SSIM_VERSION must be defined by the build (see CMakeLists.txt)"
#endif

namespace ssim {

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kMaxJobs = 1024;
constexpr uint64_t kMaxPoints = 1000000;

const char* const kCsvName = "sweep.csv";
const char* const kLayersName = "sweep_layers.csv";
const char* const kJsonName = "sweep.json";

// --- small text helpers -------------------------------------------------------------------------

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Shortest text that reads back as the same double; whole numbers without an exponent.
std::string num_text(double x) {
  char buf[64];
  if (x == std::floor(x) && std::fabs(x) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// A derived float in the CSVs: 9 significant digits (docs/report-format.md's rule).
std::string f9(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

std::string on_off(bool b) {
  return b ? "on" : "off";
}

std::string shape_text(int rows, int cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3) s.insert(size_t(i), ",");
  return s;
}

// --- the hardware parameter columns
// ---------------------------------------------------------------

// Every HwSpec field that can change a result, as a column of sweep.csv. A point is identified by
// its workload and these values.
struct ParamColumn {
  const char* column;
  std::string (*get)(const HwSpec&);
};

const std::vector<ParamColumn>& param_columns() {
  static const std::vector<ParamColumn> cols = {
      {"array_rows", [](const HwSpec& h) { return std::to_string(h.array_rows); }},
      {"array_cols", [](const HwSpec& h) { return std::to_string(h.array_cols); }},
      {"dataflow", [](const HwSpec& h) { return to_string(h.dataflow); }},
      {"fold_overlap", [](const HwSpec& h) { return on_off(h.fold_overlap); }},
      {"fusion", [](const HwSpec& h) { return on_off(h.fusion); }},
      {"residency", [](const HwSpec& h) { return on_off(h.residency); }},
      {"op_overlap", [](const HwSpec& h) { return on_off(h.op_overlap); }},
      {"load_ahead", [](const HwSpec& h) { return on_off(h.load_ahead); }},
      {"fidelity", [](const HwSpec& h) { return to_string(h.fidelity); }},
      {"ifmap_sram_kb", [](const HwSpec& h) { return std::to_string(h.ifmap_sram_kb); }},
      {"filter_sram_kb", [](const HwSpec& h) { return std::to_string(h.filter_sram_kb); }},
      {"ofmap_sram_kb", [](const HwSpec& h) { return std::to_string(h.ofmap_sram_kb); }},
      {"bandwidth_words", [](const HwSpec& h) { return num_text(h.bandwidth_words); }},
      {"dram_bandwidth", [](const HwSpec& h) { return num_text(h.dram_bytes_per_cycle); }},
      {"dram_gbps", [](const HwSpec& h) { return num_text(h.dram_gb_per_s); }},
      {"dram_latency", [](const HwSpec& h) { return std::to_string(h.dram_latency); }},
      {"unlimited_bandwidth", [](const HwSpec& h) { return on_off(h.unlimited_bandwidth); }},
      {"interface_bandwidth", [](const HwSpec& h) { return h.interface_bandwidth; }},
      {"memory_banks", [](const HwSpec& h) { return std::to_string(h.memory_banks); }},
      {"clock_ghz", [](const HwSpec& h) { return num_text(h.clock_ghz); }},
      {"vector_lanes", [](const HwSpec& h) { return std::to_string(h.vector_lanes); }},
      {"output_bytes", [](const HwSpec& h) { return std::to_string(h.output_bytes); }},
  };
  return cols;
}

std::string param_value(const HwSpec& hw, const std::string& column) {
  for (const ParamColumn& c : param_columns()) {
    if (column == c.column) return c.get(hw);
  }
  return "";
}

// --- the axes
// ---------------------------------------------------------------------------------------

// A flag of `sweep` that takes a comma-separated list.
struct AxisDef {
  std::string flag;                   // without "--"
  std::vector<std::string> hw_flags;  // the hardware flags each value is applied with
  std::string column;                 // the parameter column that shows its value ("" = array)
  std::string example;                // a valid list, for messages
};

// In point order: the first varies slowest. Arrays vary fastest, so that the rows of one
// workload and dataflow are a run of array sizes.
const std::vector<AxisDef>& axis_defs() {
  static const std::vector<AxisDef> defs = {
      {"sram-kb", {"ifmap-sram-kb", "filter-sram-kb", "ofmap-sram-kb"}, "ifmap_sram_kb", "256,512"},
      {"ifmap-sram-kb", {"ifmap-sram-kb"}, "ifmap_sram_kb", "256,512"},
      {"filter-sram-kb", {"filter-sram-kb"}, "filter_sram_kb", "256,512"},
      {"ofmap-sram-kb", {"ofmap-sram-kb"}, "ofmap_sram_kb", "128,256"},
      {"bandwidth", {"bandwidth"}, "bandwidth_words", "10,20"},
      {"dram-bandwidth", {"dram-bandwidth"}, "dram_bandwidth", "16,32"},
      {"dram-gbps", {"dram-gbps"}, "dram_gbps", "64,128"},
      {"dram-latency", {"dram-latency"}, "dram_latency", "0,100"},
      {"unlimited-bandwidth", {"unlimited-bandwidth"}, "unlimited_bandwidth", "off,on"},
      {"interface-bandwidth", {"interface-bandwidth"}, "interface_bandwidth", "user,calc"},
      {"memory-banks", {"memory-banks"}, "memory_banks", "1,2"},
      {"clock-ghz", {"clock-ghz"}, "clock_ghz", "1,2"},
      {"vector-lanes", {"vector-lanes"}, "vector_lanes", "16,32"},
      {"output-bytes", {"output-bytes"}, "output_bytes", "1,4"},
      {"fold-overlap", {"fold-overlap"}, "fold_overlap", "off,on"},
      {"fusion", {"fusion"}, "fusion", "off,on"},
      {"residency", {"residency"}, "residency", "off,on"},
      {"op-overlap", {"op-overlap"}, "op_overlap", "off,on"},
      {"load-ahead", {"load-ahead"}, "load_ahead", "off,on"},
      {"fidelity", {"fidelity"}, "fidelity", "fast,cycle"},
      {"dataflows", {"dataflow"}, "dataflow", "os,ws,is"},
      {"arrays", {"array"}, "", "8x8,16x16,32x32"},
  };
  return defs;
}

const AxisDef* find_axis(const std::string& flag) {
  for (const AxisDef& d : axis_defs()) {
    if (d.flag == flag) return &d;
  }
  return nullptr;
}

std::string axis_value(const AxisDef& d, const HwSpec& hw) {
  if (d.column.empty()) return shape_text(hw.array_rows, hw.array_cols);
  return param_value(hw, d.column);
}

// The one-line reason of an InputError from apply_hw_flag ("--array '0x4': rows and ...") without
// its "--flag 'value': " prefix.
std::string reason_of(const std::string& msg, const std::string& flag, const std::string& value) {
  const std::string prefix = "--" + flag + " '" + value + "': ";
  if (msg.compare(0, prefix.size(), prefix) == 0) return msg.substr(prefix.size());
  return msg;
}

// Splits a comma-separated list; empty lists and empty items are errors naming the flag.
std::vector<std::string> split_list(const std::string& flag, const std::string& value,
                                    const std::string& example) {
  const std::string expected = "expected a comma-separated list, e.g. --" + flag + " " + example;
  if (trim(value).empty())
    throw InputError("--" + flag + " '" + value + "': empty list; " + expected);
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    const std::string item =
        trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) {
      throw InputError("--" + flag + " '" + value + "': item " + std::to_string(items.size() + 1) +
                       " is empty; " + expected);
    }
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

// --- options
// -----------------------------------------------------------------------------------------

struct SweepOption {
  const char* name;        // boost name ("jobs,j" for a short form)
  const char* value_name;  // nullptr for a switch
  const char* help;
};

const SweepOption kWhatOptions[] = {
    {"workload", "NAME[,NAME...]",
     "built-in network names or .csv/.yaml files; each is run at every point"},
    {"gemm", "M,N,K", "sweep one GEMM instead of a workload"},
    {"scalesim-rounding", nullptr,
     "SCALE-Sim .csv topologies get SCALE-Sim's (rounded-up) conv output sizes"},
};

const SweepOption kRunOptions[] = {
    {"config", "FILE",
     "hardware config (SCALE-Sim .cfg or a preset name); flags and lists override it"},
    {"out", "DIR", "sweep folder: sweep.json, sweep.csv, sweep_layers.csv (required)"},
    {"jobs,j", "N", "worker processes [default: the CPUs available]"},
    {"seed", "N", "seed of the operands of --fidelity cycle runs [default: 1]"},
    {"energy-table", "FILE", "energy per action and area per component (YAML, docs/energy.md)"},
    {"report", nullptr, "write figures and DIR/report.html (scripts/ssim_sweep_report.py)"},
    {"force", nullptr, "DIR holds a sweep with other arguments: discard it and start over"},
    {"quiet", nullptr, "no progress and no summary (errors still go to stderr)"},
    {"help", nullptr, "print this help and exit"},
};

// Flags of the single-run CLI that are spelled differently in a sweep.
const std::map<std::string, std::string>& renamed_flags() {
  static const std::map<std::string, std::string> m = {{"array", "arrays"},
                                                       {"dataflow", "dataflows"}};
  return m;
}

po::options_description make_options(bool for_help) {
  const unsigned width = 100;
  auto add = [](po::options_description& g, const SweepOption& o) {
    if (o.value_name) {
      g.add_options()(o.name, po::value<std::string>()->value_name(o.value_name), o.help);
    } else {
      g.add_options()(o.name, o.help);
    }
  };
  po::options_description all(width, width / 2);
  po::options_description what("What to run (one of)", width, width / 2);
  for (const SweepOption& o : kWhatOptions) add(what, o);

  po::options_description lists(
      "Swept parameters (comma-separated lists; every point of the product runs)", width,
      width / 2);
  lists.add_options()("arrays", po::value<std::string>()->value_name("RxC[,RxC...]"),
                      "array shapes, e.g. 8x8,16x16,32x64 (.cfg ArrayHeight, ArrayWidth)");
  lists.add_options()("dataflows", po::value<std::string>()->value_name("DF[,DF...]"),
                      "dataflows out of os, ws, is (.cfg Dataflow)");
  lists.add_options()("sram-kb", po::value<std::string>()->value_name("KIB[,KIB...]"),
                      "all three scratchpads (ifmap, filter, ofmap) in KiB");
  std::set<std::string> listed;
  for (const AxisDef& d : axis_defs()) listed.insert(d.flag);
  for (const HwFlagInfo& f : hw_flags()) {
    if (renamed_flags().count(f.name)) continue;
    const bool list = listed.count(f.name) > 0;
    const std::string value_name = list ? f.value_name + "[,...]" : f.value_name;
    const std::string help = f.help + " [default: " + f.default_value + "]";
    lists.add_options()(f.name.c_str(), po::value<std::string>()->value_name(value_name),
                        help.c_str());
  }
  if (!for_help) {
    // Accepted so that the message can point to the sweep spelling.
    for (const auto& [old_name, new_name] : renamed_flags()) {
      lists.add_options()(old_name.c_str(), po::value<std::string>(), "");
    }
  }
  po::options_description run("Run", width, width / 2);
  for (const SweepOption& o : kRunOptions) add(run, o);
  all.add(what).add(lists).add(run);
  return all;
}

int default_jobs() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return std::min(n, kMaxJobs);
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? int(std::min<unsigned>(n, kMaxJobs)) : 1;
}

}  // namespace

int64_t parse_count(const std::string& flag, const std::string& v, int64_t lo, int64_t hi) {
  int64_t x = 0;
  const char* e = v.data() + v.size();
  const auto r = std::from_chars(v.data(), e, x, 10);
  if (v.empty() || r.ec != std::errc() || r.ptr != e || x < lo || x > hi) {
    throw InputError("--" + flag + " '" + v + "': expected an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi));
  }
  return x;
}

namespace {

SweepWorkload make_workload(std::string name, Network net) {
  SweepWorkload w;
  w.name = std::move(name);
  w.ops = lower(net);
  w.net = std::move(net);
  w.fingerprint = workload_fingerprint(w.ops);
  return w;
}

}  // namespace

// --- parsing
// ---------------------------------------------------------------------------------------

std::string sweep_help() {
  std::ostringstream s;
  s << cli_version() << ": design-space sweep\n\n"
    << "Usage: systolic-sim sweep (--workload NAME[,NAME...] | --gemm M,N,K) --out DIR\n"
    << "                          [--arrays RxC,...] [--dataflows os,ws,is] [LIST FLAGS]\n"
    << "                          [--config FILE] [HARDWARE FLAGS] [-j N] [--report] [--quiet]\n\n"
    << "Every point of the product of the lists is simulated (fast fidelity unless --fidelity\n"
    << "cycle), in -j worker processes. A hardware flag with one value sets it for all points.\n\n"
    << tidy(make_options(true)) << "\n"
    << "Examples:\n"
    << "  systolic-sim sweep --workload resnet50 --arrays 8x8,16x16,32x32,64x64,128x128,256x256 "
       "\\\n"
    << "                     --dataflows os,ws,is -j 2 --out sweep/ --report\n"
    << "  systolic-sim sweep --gemm 1024,1024,1024 --arrays 32x32,16x64 --sram-kb 64,256 \\\n"
    << "                     --dram-bandwidth 8,16,32 --out gemm-sweep/\n\n"
    << "Rows stream into DIR/sweep.csv as points finish (per-op rows into DIR/sweep_layers.csv).\n"
    << "Interrupted, the same command resumes and skips finished points; DIR/sweep.json records\n"
    << "the arguments, and other arguments into the same DIR are refused (exit 2) unless\n"
    << "--force. Exit codes: 0 done, 1 a point failed or output not written, 2 bad arguments\n"
    << "(nothing written), 130/143 interrupted. Formats: docs/sweep.md.\n\n"
    << sweep_slurm_help();
  return s.str();
}

SweepSpec parse_sweep_args(const std::vector<std::string>& args) {
  const po::options_description desc = make_options(false);
  po::parsed_options parsed(&desc);
  try {
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(args).options(desc).style(style).run();
  } catch (const po::error& e) {
    throw InputError(std::string(e.what()) + " (see systolic-sim sweep --help)");
  }

  std::map<std::string, std::string> seen;
  std::vector<std::string> order;  // flags in command-line order
  for (const po::option& o : parsed.options) {
    if (o.string_key.empty() || o.position_key >= 0) {
      const std::string tok = o.original_tokens.empty() ? "" : o.original_tokens.front();
      throw InputError("unexpected argument '" + tok +
                       "': flags start with -- (see systolic-sim sweep --help)");
    }
    const std::string& name = o.string_key;
    const std::string value = o.value.empty() ? "" : o.value.front();
    if (o.original_tokens.size() == 2 && value.rfind("--", 0) == 0) {
      throw InputError("the required argument for option '--" + name + "' is missing (got '" +
                       value + "', a flag)");
    }
    if (seen.count(name)) throw InputError("option '--" + name + "' given more than once");
    if (renamed_flags().count(name)) {
      const std::string& plural = renamed_flags().at(name);
      throw InputError("--" + name + " '" + value + "': a sweep takes a list: use --" + plural +
                       " (e.g. --" + plural + " " + find_axis(plural)->example + ")");
    }
    seen[name] = value;
    order.push_back(name);
  }

  SweepSpec spec;
  if (seen.count("help")) {
    spec.help = true;
    return spec;
  }
  spec.quiet = seen.count("quiet") > 0;
  spec.report = seen.count("report") > 0;
  spec.force = seen.count("force") > 0;

  // Cheap syntax checks first.
  if (seen.count("workload") && seen.count("gemm")) {
    throw InputError("--workload and --gemm both given: a sweep runs either workloads or one GEMM");
  }
  if (seen.count("config")) {
    spec.config_path = seen["config"];
    if (spec.config_path.empty()) throw InputError("--config '': expected a file name");
    CfgExtras extras;
    spec.base = parse_cfg_file(resolve_config(spec.config_path), spec.base, &extras);
    spec.notes = extras.notes;
    // SCALE-Sim names the topology in the config: it is swept when no workload is given.
    if (!extras.topology.empty() && !seen.count("workload") && !seen.count("gemm"))
      seen["workload"] = extras.topology;
  } else {
    spec.base = default_hardware();
  }
  if (!seen.count("workload") && !seen.count("gemm")) {
    throw InputError(
        "nothing to sweep: give --workload NAME[,NAME...] or --gemm M,N,K (see systolic-sim "
        "sweep --help)");
  }
  std::optional<GemmShape> gemm;
  if (seen.count("gemm")) gemm = parse_gemm_flag(seen["gemm"]);
  std::vector<std::string> workload_names;
  if (seen.count("workload")) {
    workload_names = split_list("workload", seen["workload"], "resnet50,bert-base-128");
    std::set<std::string> dup;
    for (const std::string& w : workload_names) {
      if (!dup.insert(w).second) {
        throw InputError("--workload '" + seen["workload"] + "': '" + w + "' given twice");
      }
    }
  }
  if (seen.count("seed")) {
    const std::string& v = seen["seed"];
    uint64_t x = 0;
    const char* e = v.data() + v.size();
    const auto r = std::from_chars(v.data(), e, x, 10);
    if (v.empty() || r.ec != std::errc() || r.ptr != e) {
      throw InputError("--seed '" + v + "': expected an integer from 0 to 18446744073709551615");
    }
    spec.seed = x;
  }
  spec.jobs = seen.count("jobs") ? int(parse_count("jobs (-j)", seen["jobs"], 1, kMaxJobs))
                                 : default_jobs();
  if (seen.count("energy-table")) {
    if (seen["energy-table"].empty()) throw InputError("--energy-table '': expected a file name");
    spec.base.energy = parse_energy_table_file(seen["energy-table"]);
  }
  if (!seen.count("out")) throw InputError("--out DIR is required: the folder of the sweep");
  spec.out_dir = seen["out"];
  if (spec.out_dir.empty()) throw InputError("--out '': expected a folder name");
  if (seen.count("sram-kb")) {
    for (const char* part : {"ifmap-sram-kb", "filter-sram-kb", "ofmap-sram-kb"}) {
      if (seen.count(part)) {
        throw InputError(std::string("--sram-kb and --") + part +
                         " both given: --sram-kb sets all three scratchpads; give one");
      }
    }
  }

  // The hardware: defaults <- the file (read above) <- flags; lists with one value are flags too.
  std::map<std::string, std::vector<std::string>> lists;  // axis flag -> canonical values
  for (const std::string& name : order) {
    const std::string& value = seen[name];
    const AxisDef* axis = find_axis(name);
    if (!axis) {
      bool is_hw = false;
      for (const HwFlagInfo& f : hw_flags()) is_hw = is_hw || f.name == name;
      if (is_hw) spec.hw_flags.emplace_back(name, value);  // a single-valued hardware flag
      continue;
    }
    const std::vector<std::string> items = split_list(name, value, axis->example);
    std::vector<std::string> canon;
    std::set<std::string> dup;
    for (const std::string& item : items) {
      HwSpec scratch = spec.base;
      for (const std::string& hw_flag : axis->hw_flags) {
        try {
          apply_hw_flag(scratch, hw_flag, item);
        } catch (const InputError& e) {
          const std::string why = reason_of(e.what(), hw_flag, item);
          throw InputError("--" + name + " '" + value +
                           "': " + (items.size() > 1 ? "'" + item + "': " : std::string()) + why);
        }
      }
      const std::string c = axis_value(*axis, scratch);
      if (!dup.insert(c).second) {
        throw InputError("--" + name + " '" + value + "': '" + item + "' given twice" +
                         (c != item ? " (as " + c + ")" : std::string()));
      }
      canon.push_back(c);
    }
    if (canon.size() == 1) {
      for (const std::string& hw_flag : axis->hw_flags)
        spec.hw_flags.emplace_back(hw_flag, canon[0]);
    } else {
      lists[name] = canon;
    }
  }
  // All single-valued flags at once, by meaning, not position (docs/config.md, "Precedence").
  apply_hw_flags(spec.base, spec.hw_flags);
  validate_hw(spec.base);
  for (const AxisDef& d : axis_defs()) {
    if (lists.count(d.flag)) spec.axes.push_back({d.flag, lists[d.flag]});
  }
  if (const std::string n = unmodelled_note(spec.base); !n.empty()) spec.notes.push_back(n);
  if (lists.count("memory-banks"))
    spec.notes.push_back("note: --memory-banks " + seen["memory-banks"] +
                         ": MemoryBanks is read but not modelled; every value of this axis gives "
                         "the same results");

  uint64_t n = 1;
  for (const SweepAxis& a : spec.axes) {
    n *= a.values.size();
    if (n > kMaxPoints) break;
  }
  n *= gemm ? 1 : workload_names.size();
  if (n > kMaxPoints) {
    throw InputError("the sweep has more than " + std::to_string(kMaxPoints) +
                     " points: shorten the lists");
  }

  // The workloads last: reading them may take a moment.
  if (gemm) {
    // As the single-run CLI builds it; the workload column avoids the commas.
    Network net;
    net.name = "gemm " + std::to_string(gemm->M) + "," + std::to_string(gemm->N) + "," +
               std::to_string(gemm->K);
    net.layers.push_back(make_layer("gemm", GemmLayer{gemm->M, gemm->N, gemm->K}));
    spec.workloads.push_back(make_workload("gemm-" + std::to_string(gemm->M) + "x" +
                                               std::to_string(gemm->N) + "x" +
                                               std::to_string(gemm->K),
                                           net));
  }
  for (const std::string& w : workload_names) {
    Network net;
    try {
      CsvOptions csv;
      csv.scalesim_rounding = seen.count("scalesim-rounding") > 0;
      csv.notes = &spec.notes;
      net = load_workload(w, csv);
    } catch (const InputError& e) {
      const std::string msg = one_line(e.what());
      throw InputError(msg.find("'" + w + "'") != std::string::npos ||
                               msg.compare(0, w.size(), w) == 0
                           ? "--workload: " + msg
                           : "--workload '" + w + "': " + msg);
    }
    spec.workloads.push_back(make_workload(w, std::move(net)));
  }
  return spec;
}

// --- points
// ---------------------------------------------------------------------------------------

namespace {

// Run time of a point in arbitrary units: the fast model takes about one step per fold and per
// tile, plus a fixed cost per op. Used to hand out the longest points first and for the ETA.
double estimate_cost(const SweepWorkload& w, const HwSpec& hw) {
  double folds = 0;
  for (const Op& op : w.ops) {
    folds += 40;
    if (const GemmOp* g = as_gemm(op)) {
      const SpatialMap s = spatial_map(hw.dataflow, g->shape);
      folds += double(g->repeat) * std::ceil(double(s.Sr) / hw.array_rows) *
               std::ceil(double(s.Sc) / hw.array_cols);
    }
  }
  if (hw.fidelity == Fidelity::Cycle) folds *= 50;
  return folds;
}

}  // namespace

std::vector<SweepPoint> enumerate_points(const SweepSpec& spec) {
  std::vector<SweepPoint> points;
  std::vector<size_t> digit(spec.axes.size(), 0);
  for (size_t wi = 0; wi < spec.workloads.size(); ++wi) {
    std::fill(digit.begin(), digit.end(), 0);
    while (true) {
      SweepPoint p;
      p.index = int(points.size());
      p.workload = int(wi);
      p.hw = spec.base;
      std::string extra;
      // The point's flags: the single-valued ones (already in base; applying them again changes
      // nothing) and its axis values, resolved together so that contradictions are found.
      std::vector<std::pair<std::string, std::string>> flags = spec.hw_flags;
      for (size_t a = 0; a < spec.axes.size(); ++a) {
        const SweepAxis& axis = spec.axes[a];
        const std::string& v = axis.values[digit[a]];
        for (const std::string& hw_flag : find_axis(axis.flag)->hw_flags)
          flags.emplace_back(hw_flag, v);
        p.values.push_back(v);
        if (axis.flag != "arrays" && axis.flag != "dataflows") extra += " " + axis.flag + "=" + v;
      }
      try {
        apply_hw_flags(p.hw, flags);
        validate_hw(p.hw);
      } catch (const InputError& e) {
        throw InputError("point '" + spec.workloads[wi].name + extra + "': " + e.what());
      }
      p.label = spec.workloads[wi].name + " " + shape_text(p.hw.array_rows, p.hw.array_cols) + " " +
                to_string(p.hw.dataflow) + extra;
      p.cost = estimate_cost(spec.workloads[wi], p.hw);
      points.push_back(std::move(p));
      // Next combination: the last axis varies fastest.
      size_t a = spec.axes.size();
      while (a > 0) {
        --a;
        if (++digit[a] < spec.axes[a].values.size()) break;
        digit[a] = 0;
        if (a == 0) {
          a = size_t(-1);
          break;
        }
      }
      if (spec.axes.empty() || a == size_t(-1)) break;
    }
  }
  return points;
}

std::string sweep_description_json(const SweepSpec& spec) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema_version"] = 1;
  j["tool"] = "systolic-sim";
  j["tool_version"] = SSIM_VERSION;
  ordered_json wl = ordered_json::array();
  for (const SweepWorkload& w : spec.workloads) {
    wl.push_back({{"name", w.name},
                  {"network", w.net.name},
                  {"layers", w.net.layers.size()},
                  {"ops", w.ops.size()},
                  {"fingerprint", w.fingerprint}});
  }
  j["workloads"] = wl;
  // The hardware every point starts from, as the .cfg keys (format_cfg), section by section.
  ordered_json hw = ordered_json::object();
  for (const CfgEntry& e : cfg_entries(spec.base)) hw[e.section][e.key] = e.value;
  j["base_hardware"] = hw;
  // The energy table every point prices its counts with (docs/energy.md).
  ordered_json energy = {{"source", spec.base.energy.source},
                         {"technology_nm", spec.base.energy.technology_nm}};
  ordered_json given = ordered_json::object();
  for (const auto& [k, v] : spec.base.energy.given) given[k] = v;
  energy["given"] = given;
  j["energy_table"] = energy;
  ordered_json axes = ordered_json::array();
  for (const SweepAxis& a : spec.axes) {
    // `column`: the sweep.csv column that shows the axis' value.
    const std::string column = find_axis(a.flag)->column;
    axes.push_back(
        {{"flag", a.flag}, {"column", column.empty() ? "array" : column}, {"values", a.values}});
  }
  j["axes"] = axes;
  j["seed"] = spec.seed;
  uint64_t points = spec.workloads.size();
  for (const SweepAxis& a : spec.axes) points *= a.values.size();
  j["points"] = points;
  return j.dump(2) + "\n";
}

// --- CSV rows
// -------------------------------------------------------------------------------------

namespace {

// The result columns, after the parameters.
const std::vector<std::string> kResultColumns = {"status",
                                                 "ops",
                                                 "cycles",
                                                 "seconds",
                                                 "macs",
                                                 "flops",
                                                 "utilization",
                                                 "compute_cycles",
                                                 "fill_drain_cycles",
                                                 "mem_stall_cycles",
                                                 "vector_cycles",
                                                 "stage_cycles",
                                                 "dram_read_bytes",
                                                 "dram_write_bytes",
                                                 "dram_bytes",
                                                 "dram_bytes_per_cycle",
                                                 "peak_flops_per_s",
                                                 "achieved_flops_per_s",
                                                 "energy_pj",
                                                 "pj_per_mac",
                                                 "tops_per_w",
                                                 "edp_j_s",
                                                 "area_mm2",
                                                 "values_ok",
                                                 "error"};

// point, workload, array, pes, then the parameter columns.
constexpr size_t kFirstParamColumn = 4;

std::vector<std::string> head_fields(const SweepSpec& spec, const SweepPoint& p) {
  std::vector<std::string> f = {std::to_string(p.index), spec.workloads[size_t(p.workload)].name,
                                shape_text(p.hw.array_rows, p.hw.array_cols),
                                std::to_string(int64_t(p.hw.array_rows) * p.hw.array_cols)};
  for (const ParamColumn& c : param_columns()) f.push_back(c.get(p.hw));
  return f;
}

}  // namespace

std::vector<std::string> sweep_csv_columns() {
  std::vector<std::string> c = {"point", "workload", "array", "pes"};
  for (const ParamColumn& p : param_columns()) c.push_back(p.column);
  c.insert(c.end(), kResultColumns.begin(), kResultColumns.end());
  return c;
}

std::vector<std::string> sweep_layers_csv_columns() {
  // The point's identity, then layers.csv's columns up to the network schedule's.
  std::vector<std::string> c = {"point", "workload", "array", "dataflow"};
  const std::vector<std::string> layer = layers_csv_columns();
  const auto end = std::find(layer.begin(), layer.end(), "overlap_cycles");
  c.insert(c.end(), layer.begin(), end + 1);
  return c;
}

std::string sweep_csv_row(const SweepSpec& spec, const SweepPoint& p, const NetworkRunResult& r) {
  std::vector<std::string> f = head_fields(spec, p);
  const double pes = double(p.hw.array_rows) * double(p.hw.array_cols);
  const double hz = p.hw.clock_ghz * 1e9;
  const double seconds = double(r.total_cycles) / hz;
  int64_t compute = 0, fill = 0, stall = 0, vec = 0, stage = 0;
  for (const OpRow& row : r.rows) {
    compute += row.compute_cycles;
    fill += row.fill_drain_cycles;
    stall += row.mem_stall_cycles;
    vec += row.vector_cycles;
    stage += row.stage_cycles;
  }
  f.push_back("ok");
  f.push_back(std::to_string(r.rows.size()));
  f.push_back(std::to_string(r.total_cycles));
  f.push_back(f9(seconds));
  f.push_back(std::to_string(r.macs));
  f.push_back(std::to_string(r.flops));
  f.push_back(f9(r.total_cycles > 0 ? double(r.macs) / (pes * double(r.total_cycles)) : 0.0));
  f.push_back(std::to_string(compute));
  f.push_back(std::to_string(fill));
  f.push_back(std::to_string(stall));
  f.push_back(std::to_string(vec));
  f.push_back(std::to_string(stage));
  f.push_back(std::to_string(r.dram_read_bytes));
  f.push_back(std::to_string(r.dram_write_bytes));
  f.push_back(std::to_string(r.dram_read_bytes + r.dram_write_bytes));
  f.push_back(num_text(p.hw.dram_bw()));
  f.push_back(f9(2.0 * pes * hz));
  f.push_back(f9(seconds > 0 ? double(r.flops) / seconds : 0.0));
  // Energy and area (docs/energy.md).
  const double pj = r.energy.total(), joules = pj * 1e-12;
  f.push_back(f9(pj));
  f.push_back(f9(r.macs ? pj / double(r.macs) : 0.0));
  f.push_back(f9(joules > 0 ? double(r.flops) / joules / 1e12 : 0.0));
  f.push_back(f9(joules * seconds));
  f.push_back(f9(area_of(resolve_energy(p.hw.energy, p.hw), p.hw).total() * 1e-6));
  f.push_back(r.values_checked ? (r.values_ok ? "true" : "false") : "");
  f.push_back("");
  return csv_line(f);
}

std::string sweep_error_row(const SweepSpec& spec, const SweepPoint& p, const std::string& error) {
  std::vector<std::string> f = head_fields(spec, p);
  f.push_back("error");
  for (size_t i = 1; i + 1 < kResultColumns.size(); ++i) f.push_back("");
  f.push_back(one_line(error));
  return csv_line(f);
}

std::string sweep_layers_rows(const SweepSpec& spec, const SweepPoint& p,
                              const NetworkRunResult& r) {
  std::string out;
  const std::string head =
      csv_line({std::to_string(p.index), spec.workloads[size_t(p.workload)].name,
                shape_text(p.hw.array_rows, p.hw.array_cols), to_string(p.hw.dataflow)});
  const std::string prefix = head.substr(0, head.size() - 1) + ",";
  for (const OpRow& row : r.rows) {
    std::vector<std::string> fields = layer_row_fields(row);
    fields[2] = one_line(fields[2]);  // the op name: one physical line per row
    out += prefix + csv_line(fields);
  }
  return out;
}

std::string point_key(const SweepSpec& spec, const SweepPoint& p) {
  std::string k = spec.workloads[size_t(p.workload)].name;
  for (const ParamColumn& c : param_columns()) k += std::string("\x1f") + c.get(p.hw);
  return k;
}

std::string row_key(const std::vector<std::string>& fields) {
  const size_t n = param_columns().size();
  if (fields.size() < kFirstParamColumn + n) return "";
  std::string k = fields[1];
  for (size_t i = 0; i < n; ++i) k += "\x1f" + fields[kFirstParamColumn + i];
  return k;
}

bool parse_csv_record(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  size_t i = 0;
  while (true) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;  // unclosed quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;
        cur += line[i++];
      }
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return true;
}

std::string sweep_row_field(const std::string& row, const std::string& column) {
  std::vector<std::string> f;
  const std::vector<std::string> cols = sweep_csv_columns();
  const size_t i = size_t(std::find(cols.begin(), cols.end(), column) - cols.begin());
  const std::string line = !row.empty() && row.back() == '\n' ? row.substr(0, row.size() - 1) : row;
  if (!parse_csv_record(line, f) || i >= f.size()) return "";
  return f[i];
}

std::string sweep_row_outcome(const std::string& row) {
  if (sweep_row_field(row, "status") != "ok") return "FAILED: " + sweep_row_field(row, "error");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %% utilization",
                100 * std::atof(sweep_row_field(row, "utilization").c_str()));
  return with_commas(std::atoll(sweep_row_field(row, "cycles").c_str())) + " cycles, " + buf;
}

// --- running
// ---------------------------------------------------------------------------------------

namespace {

volatile sig_atomic_t g_signal = 0;

void on_signal(int sig) {
  g_signal = sig;
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

}  // namespace

std::string slurp(const std::filesystem::path& p, bool& exists) {
  std::ifstream f(p, std::ios::binary);
  exists = bool(f);
  std::stringstream s;
  if (f) s << f.rdbuf();
  return s.str();
}

namespace {

// Worker process: reads point indices (one per line) from `in`, runs each and writes
//   "R <index> <ok> <milliseconds> <row bytes> <layer bytes>\n" <row> <layer rows>
// to `out`. Exits at end of input, and after a point that threw (SystemC cannot run again).
[[noreturn]] void worker_main(const SweepSpec& spec, const std::vector<SweepPoint>& points, int in,
                              int out) {
  int delay_ms = 0;
  if (const char* d = std::getenv("SSIM_SWEEP_TEST_DELAY_MS")) delay_ms = std::atoi(d);
  std::string buf;
  char chunk[256];
  while (true) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      const ssize_t n = ::read(in, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);
      buf.append(chunk, size_t(n));
    }
    const int index = std::atoi(buf.substr(0, nl).c_str());
    buf.erase(0, nl + 1);
    if (index < 0 || size_t(index) >= points.size()) _exit(3);
    const SweepPoint& p = points[size_t(index)];
    const SweepWorkload& w = spec.workloads[size_t(p.workload)];
    const auto t0 = Clock::now();
    std::string row, layers;
    bool ok = true;
    try {
      const NetworkRunResult r = run_network(p.hw, w.net, spec.seed);
      row = sweep_csv_row(spec, p, r);
      layers = sweep_layers_rows(spec, p, r);
    } catch (const InputError& e) {
      ok = false;
      row = sweep_error_row(spec, p, e.what());
    } catch (const std::exception& e) {
      ok = false;
      row = sweep_error_row(spec, p, std::string("internal error: ") + e.what());
    } catch (...) {
      ok = false;
      row = sweep_error_row(spec, p, "internal error: unknown exception");
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    const std::string head = "R " + std::to_string(index) + " " + (ok ? "1" : "0") + " " +
                             std::to_string(ms) + " " + std::to_string(row.size()) + " " +
                             std::to_string(layers.size()) + "\n";
    if (!write_all(out, head + row + layers)) _exit(4);
    if (!ok) _exit(0);
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
}

struct Worker {
  pid_t pid = -1;
  int cmd_fd = -1;    // parent -> worker: point indices
  int res_fd = -1;    // worker -> parent: results
  int point = -1;     // the point it runs, -1 when idle
  bool done = false;  // sent its last result (an error) or was told to stop
  std::string buf;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Closes every descriptor above 2 but `keep_a` and `keep_b` (in a freshly forked child).
void close_other_fds(int keep_a, int keep_b) {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      fds.push_back(std::atoi(e->d_name));
    }
    const int own = ::dirfd(d);
    ::closedir(d);
    fds.erase(std::remove(fds.begin(), fds.end(), own), fds.end());
  } else {
    for (int fd = 3; fd < 1024; ++fd) fds.push_back(fd);
  }
  for (int fd : fds) {
    if (fd > 2 && fd != keep_a && fd != keep_b) ::close(fd);
  }
}

// Forks a worker. Throws std::system_error if the pipes or the process cannot be made.
Worker spawn_worker(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  int cmd[2], res[2];
  if (::pipe2(cmd, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (::pipe2(res, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(cmd[0]);
    ::close(cmd[1]);
    throw std::system_error(e, std::generic_category(), "pipe");
  }
  const pid_t parent = ::getpid();
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {cmd[0], cmd[1], res[0], res[1]}) ::close(fd);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    // The worker dies with the sweep, even when the sweep is killed with SIGKILL.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);
    // Its own process group: Ctrl-C reaches the sweep, which stops the workers itself.
    ::setpgid(0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) ::signal(sig, SIG_DFL);
    close_other_fds(cmd[0], res[1]);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);  // SystemC's info messages would garble the progress output
      ::close(null);
    }
    worker_main(spec, points, cmd[0], res[1]);
  }
  ::close(cmd[0]);
  ::close(res[1]);
  Worker w;
  w.pid = pid;
  w.cmd_fd = cmd[1];
  w.res_fd = res[0];
  return w;
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped";
}

// The first difference between two sweep descriptions, for the refusal message.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_object() || !b.is_object()) return "";
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key())) return it.key();
    if (b[it.key()] != it.value()) {
      if (it.key() == "axes" && it.value().is_array() && b[it.key()].is_array()) {
        std::map<std::string, nlohmann::json> x, y;
        for (const auto& e : it.value()) x[e.value("flag", "")] = e;
        for (const auto& e : b[it.key()]) y[e.value("flag", "")] = e;
        for (const auto& [k, v] : x) {
          if (!y.count(k) || y[k] != v) return "--" + k;
        }
        for (const auto& [k, v] : y) {
          if (!x.count(k)) return "--" + k;
        }
        return "axes";
      }
      if (it.key() == "base_hardware") {
        const std::string sub = first_difference(it.value(), b[it.key()]);
        return "hardware" + (sub.empty() ? std::string() : " " + sub);
      }
      if (it.value().is_object()) {
        for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) {
          if (!b[it.key()].contains(jt.key()) || b[it.key()][jt.key()] != jt.value()) {
            return jt.key();
          }
        }
      }
      return it.key();
    }
  }
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (!a.contains(it.key())) return it.key();
  }
  return "";
}

using Stored = SweepRows;

std::vector<std::string> split_lines(const std::string& text, bool& complete_last) {
  std::vector<std::string> lines;
  size_t start = 0;
  complete_last = true;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      complete_last = false;  // a line without its '\n': cut off, not kept
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

SweepRows read_sweep_rows(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                          const std::string& dir, bool keep_errors) {
  SweepRows st;
  std::map<std::string, int> by_key;
  for (const SweepPoint& p : points) by_key[point_key(spec, p)] = p.index;
  const std::string header = csv_line(sweep_csv_columns());
  const std::string lheader = csv_line(sweep_layers_csv_columns());

  bool exists = false, complete = true;
  const std::string csv = slurp(fs::path(dir) / kCsvName, exists);
  if (!exists) return st;
  std::vector<std::string> lines = split_lines(csv, complete);
  if (!complete) ++st.dropped;
  if (lines.empty()) return st;
  if (lines[0] + "\n" != header) {
    throw InputError("--out '" + dir + "': " + kCsvName +
                     " has other columns than this version writes; pass --force to start over, "
                     "or use a new folder");
  }
  std::map<int, int64_t> ops;  // point -> ops
  const std::vector<std::string> cols = sweep_csv_columns();
  const size_t status_col = size_t(std::find(cols.begin(), cols.end(), "status") - cols.begin());
  const size_t ops_col = status_col + 1;
  std::vector<std::string> f;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    if (!parse_csv_record(lines[i], f) || f.size() != cols.size()) {
      ++st.dropped;
      continue;
    }
    const auto k = by_key.find(row_key(f));
    if (k == by_key.end() || (f[status_col] != "ok" && !keep_errors) || st.rows.count(k->second)) {
      ++st.dropped;
      continue;
    }
    st.rows[k->second] = lines[i] + "\n";
    ops[k->second] = std::atoll(f[ops_col].c_str());
  }

  const std::string lcsv = slurp(fs::path(dir) / kLayersName, exists);
  std::map<int, int64_t> have;
  if (exists) {
    lines = split_lines(lcsv, complete);
    if (!lines.empty() && lines[0] + "\n" != lheader) {
      throw InputError("--out '" + dir + "': " + kLayersName +
                       " has other columns than this version writes; pass --force to start over, "
                       "or use a new folder");
    }
    const size_t ncol = sweep_layers_csv_columns().size();
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      if (!parse_csv_record(lines[i], f) || f.size() != ncol) {
        ++st.dropped;
        continue;
      }
      const int point = std::atoi(f[0].c_str());
      if (!st.rows.count(point) || f[0] != std::to_string(point) ||
          f[1] != spec.workloads[size_t(points[size_t(point)].workload)].name) {
        ++st.dropped;
        continue;
      }
      st.layers[point] += lines[i] + "\n";
      ++have[point];
    }
  }
  // A finished point has all its per-op rows; otherwise it runs again.
  for (auto it = st.rows.begin(); it != st.rows.end();) {
    if (have[it->first] != ops[it->first]) {
      st.dropped += 1 + size_t(have[it->first]);
      st.layers.erase(it->first);
      it = st.rows.erase(it);
    } else {
      ++it;
    }
  }
  return st;
}

namespace {

std::string joined(const std::map<int, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += v;
  return s;
}

}  // namespace

int run_sweep_report(const std::string& dir, std::ostream& err) {
  const fs::path script = find_data_file("scripts/ssim_sweep_report.py");
  std::error_code ec;
  if (script.empty()) {
    err << "error: report: " << data_file_missing("scripts/ssim_sweep_report.py")
        << "; figures not made" << std::endl;
    return 1;
  }
  const char* py = fs::exists("/usr/bin/python3", ec) ? "/usr/bin/python3" : "python3";
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string cmd =
      std::string(py) + " " + quote(script.string()) + " " + quote(dir) + " 2>&1";
  std::fflush(nullptr);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    err << "error: report: could not run " << py << std::endl;
    return 1;
  }
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  const int status = ::pclose(p);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (code == 127) {
    err << "error: figures need Python 3 and matplotlib: apt-get install python3-matplotlib"
        << std::endl;
  } else if (code != 0) {
    err << output << std::flush;
  }
  return code;
}

namespace {

// Restores the previous SIGINT/SIGTERM/SIGPIPE handlers when the sweep returns.
struct SignalGuard {
  struct sigaction old_int {
  }, old_term{}, old_pipe{};
  SignalGuard() {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns at once
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, &old_pipe);
  }
  ~SignalGuard() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
  }
};

}  // namespace

int exit_code_of(std::ostream& err, const std::string& prefix, const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    err << "error: " << prefix << message_line(e.what()) << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "internal error: " << prefix << message_line(e.what()) << std::endl;
    return kExitFailure;
  }
  return -1;
}

int open_sweep_folder(const SweepSpec& spec, const std::vector<SweepPoint>& points,
                      const std::vector<std::string>& more_dirs, FolderLock& lock,
                      SweepRows& stored, std::ostream& err) {
  const fs::path dir(spec.out_dir);
  const fs::path csv_path = dir / kCsvName, layers_path = dir / kLayersName,
                 json_path = dir / kJsonName;
  const std::string description = sweep_description_json(spec);
  const std::string header = csv_line(sweep_csv_columns());
  const std::string lheader = csv_line(sweep_layers_csv_columns());
  try {
    std::error_code ec;
    const bool existed = fs::exists(dir, ec);
    fs::create_directories(dir);
    if (!lock.acquire(dir.string(), 0)) {
      err << "error: --out '" << spec.out_dir
          << "': another sweep or run is writing to this folder; wait for it or use another "
             "folder"
          << std::endl;
      return kExitBadInput;
    }
    bool same = false;
    if (existed) {
      bool json_exists = false;
      const std::string old = slurp(json_path, json_exists);
      if (json_exists) {
        const nlohmann::json now = nlohmann::json::parse(description);
        const nlohmann::json before = nlohmann::json::parse(old, nullptr, false);
        same = !before.is_discarded() && before == now;
        if (before.is_discarded() && !spec.force) {  // cut short or edited: not a description
          err << "error: --out '" << spec.out_dir << "': its " << kJsonName
              << " is damaged (not valid JSON, e.g. cut short); pass --force to start the sweep "
                 "over, or use a new folder"
              << std::endl;
          return kExitBadInput;
        }
        if (!same && !spec.force) {
          const std::string what =
              before.is_discarded() ? std::string() : first_difference(before, now);
          err << "error: --out '" << spec.out_dir << "': holds a sweep with different arguments"
              << (what.empty() ? std::string() : " (" + what + " differs)")
              << " (see its sweep.json); rerun with those arguments to resume, pass --force to "
                 "discard it, or use a new folder"
              << std::endl;
          return kExitBadInput;
        }
      } else if (fs::exists(csv_path, ec) && !spec.force) {
        err << "error: --out '" << spec.out_dir << "': has a " << kCsvName << " but no "
            << kJsonName << ": not a sweep folder this version can resume; pass --force to "
            << "start over, or use a new folder" << std::endl;
        return kExitBadInput;
      }
    }
    if (!same) {
      // A new sweep (or --force): the old results and figures go.
      for (const char* name : {kCsvName, kLayersName, "report.html"}) fs::remove(dir / name, ec);
      fs::remove_all(dir / "figures", ec);
      write_file_atomic(json_path.string(), description);
    } else {
      stored = read_sweep_rows(spec, points, dir.string(), false);
      for (const std::string& more : more_dirs) {
        SweepRows m = read_sweep_rows(spec, points, more, false);
        stored.dropped += m.dropped;
        for (auto& [index, row] : m.rows) {
          if (stored.rows.count(index)) continue;
          stored.rows[index] = std::move(row);
          stored.layers[index] = std::move(m.layers[index]);
        }
      }
    }
    // The files as the run starts: the finished points' rows, in point order.
    write_file_atomic(layers_path.string(), lheader + joined(stored.layers));
    write_file_atomic(csv_path.string(), header + joined(stored.rows));
  } catch (const InputError& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "error: cannot write the sweep folder '" << spec.out_dir << "': " << one_line(e.what())
        << std::endl;
    return kExitFailure;
  }

  return -1;
}

int run_sweep_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> local_args = args;
  // --engine slurm, --status and --merge (sim/sweep_slurm.cpp); the local engine goes on here.
  if (const std::optional<int> code = run_sweep_engine(local_args, out, err)) return *code;
  SweepSpec spec;
  const int code = exit_code_of(err, "", [&] {
    spec = parse_sweep_args(local_args);
    for (const std::string& n : spec.notes) err << message_line(n) << '\n';
  });
  if (code >= 0) return code;
  if (spec.help) {
    out << sweep_help();
    return kExitOk;
  }
  return run_sweep(spec, out, err);
}

int run_sweep(SweepSpec spec, std::ostream& out, std::ostream& err) {
  std::vector<SweepPoint> points;
  auto prepare = [&] {
    points = enumerate_points(spec);
    check_out_dir(spec.out_dir);
  };
  if (const int code = exit_code_of(err, "", prepare); code >= 0) return code;
  spec.progress_bar = &err == &std::cerr && ::isatty(STDERR_FILENO);

  const fs::path dir(spec.out_dir);
  const fs::path csv_path = dir / kCsvName, layers_path = dir / kLayersName;
  const std::string header = csv_line(sweep_csv_columns());
  const std::string lheader = csv_line(sweep_layers_csv_columns());
  FolderLock lock;
  Stored stored;
  if (const int code = open_sweep_folder(spec, points, {}, lock, stored, err); code >= 0)
    return code;
  // An array task of a Slurm sweep runs its share of the points only.
  const std::set<int> share(spec.only_points.begin(), spec.only_points.end());
  auto mine = [&](int index) { return share.empty() || share.count(index) > 0; };

  // The points still to run, the most expensive first (the workers finish together).
  std::vector<int> pending;
  double cost_left = 0;
  for (const SweepPoint& p : points) {
    if (!stored.rows.count(p.index) && mine(p.index)) {
      pending.push_back(p.index);
      cost_left += p.cost;
    }
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [&](int a, int b) { return points[size_t(a)].cost > points[size_t(b)].cost; });
  std::reverse(pending.begin(), pending.end());  // taken from the back
  const size_t total = share.empty() ? points.size() : share.size();
  const size_t already = total - pending.size();
  const int jobs = int(std::min<size_t>(size_t(spec.jobs), pending.size()));
  if (!spec.quiet) {
    err << "sweep: " << total << " point" << (total == 1 ? "" : "s");
    if (already) err << ", " << already << " already done in " << csv_path.string();
    if (stored.dropped) {
      err << " (" << stored.dropped << " line" << (stored.dropped == 1 ? "" : "s")
          << " of failed, unfinished or damaged points not kept)";
    }
    if (!pending.empty()) err << "; running " << pending.size() << " with -j " << jobs;
    err << std::endl;
  }

  std::map<int, std::string> rows = stored.rows, layer_rows = stored.layers;
  std::map<int, std::string> errors;  // point -> message
  bool values_bad = false;
  int interrupted = 0;
  std::string write_error;
  Progress progress(err, spec.progress_bar, spec.quiet, total, already, cost_left);
  if (!pending.empty()) {
    const int csv_fd = ::open(csv_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    const int layers_fd = ::open(layers_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (csv_fd < 0 || layers_fd < 0) {
      err << "error: cannot open " << csv_path.string() << ": " << std::strerror(errno)
          << std::endl;
      if (csv_fd >= 0) ::close(csv_fd);
      if (layers_fd >= 0) ::close(layers_fd);
      return kExitFailure;
    }
    SignalGuard signals;
    std::vector<Worker> workers;
    auto assign = [&](Worker& w) {
      if (pending.empty() || !write_error.empty()) {
        close_fd(w.cmd_fd);  // the worker exits at end of input
        w.done = true;
        return;
      }
      w.point = pending.back();
      pending.pop_back();
      if (!write_all(w.cmd_fd, std::to_string(w.point) + "\n")) {
        // Its death shows up as end of file on its result pipe.
        close_fd(w.cmd_fd);
      }
    };
    // Appends a finished point: its per-op rows first, then its row, each one write() of whole
    // lines followed by fdatasync(), so the row appears only once everything it needs is on disk.
    auto record = [&](int index, const std::string& row, const std::string& layers, bool ok,
                      int64_t ms) {
      if ((!layers.empty() && (!write_all(layers_fd, layers) || ::fdatasync(layers_fd) != 0)) ||
          !write_all(csv_fd, row) || ::fdatasync(csv_fd) != 0) {
        if (write_error.empty()) {
          write_error = "cannot write " + csv_path.string() + ": " + std::strerror(errno);
        }
      }
      const SweepPoint& p = points[size_t(index)];
      std::string what = sweep_row_outcome(row);
      if (ok) {
        rows[index] = row;
        layer_rows[index] = layers;
        if (sweep_row_field(row, "values_ok") == "false") values_bad = true;
        char buf[48];
        std::snprintf(buf, sizeof buf, " (%.2f s)", double(ms) / 1000.0);
        what += buf;
      } else {
        errors[index] = sweep_row_field(row, "error");
        rows[index] = row;  // reported in the final file, run again on resume
      }
      progress.item_done(p.cost, p.label + ": " + what);
    };

    try {
      for (int i = 0; i < jobs; ++i) {
        workers.push_back(spawn_worker(spec, points));
        assign(workers.back());
      }
      while (!workers.empty()) {
        if (g_signal) {
          interrupted = g_signal;
          break;
        }
        std::vector<pollfd> pfds;
        for (const Worker& w : workers) pfds.push_back({w.res_fd, POLLIN, 0});
        const int n = ::poll(pfds.data(), nfds_t(pfds.size()), 500);
        if (n < 0 && errno != EINTR)
          throw std::system_error(errno, std::generic_category(), "poll");
        progress.tick();
        if (n <= 0) continue;
        for (size_t i = 0; i < workers.size(); ++i) {
          if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          Worker& w = workers[i];
          char chunk[65536];
          const ssize_t got = ::read(w.res_fd, chunk, sizeof chunk);
          if (got < 0 && errno == EINTR) continue;
          if (got > 0) {
            w.buf.append(chunk, size_t(got));
            // Complete messages: "R index ok ms row_len layers_len\n" row layers.
            while (true) {
              const size_t nl = w.buf.find('\n');
              if (nl == std::string::npos) break;
              std::istringstream h(w.buf.substr(0, nl));
              char tag = 0;
              long long index = -1, okv = 0, ms = 0, rl = 0, ll = 0;
              h >> tag >> index >> okv >> ms >> rl >> ll;
              if (tag != 'R' || index != w.point) {
                throw std::runtime_error("garbled message from worker " + std::to_string(w.pid));
              }
              if (w.buf.size() < nl + 1 + size_t(rl + ll)) break;
              const std::string row = w.buf.substr(nl + 1, size_t(rl));
              const std::string layers = w.buf.substr(nl + 1 + size_t(rl), size_t(ll));
              w.buf.erase(0, nl + 1 + size_t(rl + ll));
              w.point = -1;
              record(int(index), row, layers, okv == 1, ms);
              if (okv == 1) {
                assign(w);
              } else {
                close_fd(w.cmd_fd);  // it exits: SystemC cannot run after an exception
                w.done = true;
              }
            }
            continue;
          }
          // End of file: the worker exited.
          int status = 0;
          ::waitpid(w.pid, &status, 0);
          close_fd(w.cmd_fd);
          close_fd(w.res_fd);
          const int lost = w.point;
          workers.erase(workers.begin() + long(i));
          pfds.erase(pfds.begin() + long(i));
          --i;
          if (lost >= 0) {
            if (g_signal) break;
            record(lost,
                   sweep_error_row(spec, points[size_t(lost)],
                                   "internal error: the worker process " + exit_text(status)),
                   "", false, 0);
          }
          if (!pending.empty() && write_error.empty() && !g_signal) {
            workers.push_back(spawn_worker(spec, points));
            pfds.push_back({workers.back().res_fd, 0, 0});
            assign(workers.back());
          }
        }
      }
    } catch (const std::exception& e) {
      if (write_error.empty()) write_error = std::string("internal error: ") + e.what();
    }
    // Interrupted or failed: stop the workers; their points run again on resume.
    for (Worker& w : workers) {
      ::kill(w.pid, SIGKILL);
      int status = 0;
      ::waitpid(w.pid, &status, 0);
      close_fd(w.cmd_fd);
      close_fd(w.res_fd);
    }
    ::close(csv_fd);
    ::close(layers_fd);
  }
  progress.finish();

  if (interrupted) {
    err << "sweep: interrupted by " << (interrupted == SIGINT ? "SIGINT" : "SIGTERM") << "; "
        << rows.size() - errors.size() << " of " << total << " points done and kept in "
        << csv_path.string() << "; run the same command again to resume" << std::endl;
    return 128 + interrupted;
  }
  if (!write_error.empty()) {
    err << "error: " << message_line(write_error) << std::endl;
    return kExitFailure;
  }

  // The final files, in point order: the same arguments give the same bytes, however often the
  // sweep was interrupted.
  try {
    write_file_atomic(layers_path.string(), lheader + joined(layer_rows));
    write_file_atomic(csv_path.string(), header + joined(rows));
  } catch (const std::exception& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitFailure;
  }

  if (!spec.quiet) {
    const std::vector<std::string> cols = sweep_csv_columns();
    auto col = [&](const char* name) {
      return size_t(std::find(cols.begin(), cols.end(), name) - cols.begin());
    };
    std::vector<std::string> head = {"workload", "array", "dataflow"};
    for (const SweepAxis& a : spec.axes) {
      if (a.flag != "arrays" && a.flag != "dataflows") head.push_back(a.flag);
    }
    const size_t fixed = head.size();
    for (const char* h : {"cycles", "time", "utilization", "DRAM MB"}) head.push_back(h);
    head.push_back(std::string("T") + kOpUnit + "/s");
    std::vector<TextTable::Align> align(fixed, TextTable::Align::Left);
    align.resize(head.size(), TextTable::Align::Right);
    TextTable t(head, align);
    size_t shown = 0;
    for (const auto& [index, row] : rows) {
      if (++shown > 60) break;
      std::vector<std::string> f;
      parse_csv_record(row.substr(0, row.size() - 1), f);
      const SweepPoint& p = points[size_t(index)];
      std::vector<std::string> cells = {f[col("workload")], f[col("array")], f[col("dataflow")]};
      for (size_t a = 0; a < spec.axes.size(); ++a) {
        if (spec.axes[a].flag != "arrays" && spec.axes[a].flag != "dataflows") {
          cells.push_back(p.values[a]);
        }
      }
      if (f[col("status")] != "ok") {
        cells.push_back("failed");
      } else {
        char buf[64];
        cells.push_back(f[col("cycles")]);
        std::snprintf(buf, sizeof buf, "%.4g ms", 1e3 * std::atof(f[col("seconds")].c_str()));
        cells.push_back(buf);
        std::snprintf(buf, sizeof buf, "%.1f %%", 100 * std::atof(f[col("utilization")].c_str()));
        cells.push_back(buf);
        std::snprintf(buf, sizeof buf, "%.2f", std::atof(f[col("dram_bytes")].c_str()) / 1e6);
        cells.push_back(buf);
        std::snprintf(buf, sizeof buf, "%.2f",
                      std::atof(f[col("achieved_flops_per_s")].c_str()) / 1e12);
        cells.push_back(buf);
      }
      t.add_row(cells);
    }
    out << t.str();
    if (rows.size() > 60) out << "(" << rows.size() - 60 << " more rows in sweep.csv)\n";
    out << "sweep: " << total << " point" << (total == 1 ? "" : "s") << " in "
        << duration_text(progress.elapsed()) << "; results: " << csv_path.string() << ", "
        << layers_path.string() << '\n';
  }

  int code = kExitOk;
  if (!errors.empty()) {
    const auto& [index, msg] = *errors.begin();
    err << "error: " << errors.size() << " of " << total
        << " points failed (first: " << points[size_t(index)].label << ": " << msg
        << "); status 'error' in " << csv_path.string() << "; rerun the same command to retry them"
        << std::endl;
    code = kExitFailure;
  }
  if (values_bad) {
    err << "error: the cycle-level array's output differs from the reference GEMM at some points "
           "(values_ok = false in "
        << csv_path.string() << ")" << std::endl;
    code = kExitFailure;
  }
  if (spec.report && code == kExitOk) {
    const int rc = run_sweep_report(spec.out_dir, err);
    if (rc != 0)
      code = kExitFailure;
    else if (!spec.quiet)
      out << "report: " << (dir / "report.html").string() << '\n';
  }
  return code;
}

}  // namespace ssim
