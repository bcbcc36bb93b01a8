// The arguments of `systolic-sim sweep`: the options and their help, the lists of the axes, and
// parse_sweep_args() that turns them into a SweepSpec (workloads loaded, base hardware resolved).
#include <sched.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sim/cli/cli.hpp"
#include "sim/cli/out_folder.hpp"
#include "sim/report/run_outputs.hpp"
#include "sim/spec/presets.hpp"
#include "sim/sweep/sweep.hpp"
#include "sim/sweep/sweep_params.hpp"
#include "sim/sweep/sweep_slurm.hpp"
#include "workloads/data_dir.hpp"
#include "workloads/readers.hpp"

namespace ssim {

using namespace sweep_detail;

namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

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
  HwSpec base = base_hardware(seen, &spec.config_path, &spec.notes);
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
    base.energy = parse_energy_table_file(seen["energy-table"]);
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
      HwSpec scratch = base;
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
  apply_hw_flags(base, spec.hw_flags);
  spec.base = ValidHw(std::move(base));  // refused here, before any point is made from it
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
  const uint64_t per_workload = n;
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
  // The final sweep_layers.csv is put together in memory, in point order: one row per op of
  // every point.
  uint64_t layer_rows = 0;
  for (const SweepWorkload& w : spec.workloads) layer_rows += per_workload * w.ops.size();
  if (layer_rows > kMaxSweepLayerRows)
    throw InputError(
        "the sweep would write " + std::to_string(layer_rows) +
        " rows of sweep_layers.csv (points x ops), more than the " +
        std::to_string(kMaxSweepLayerRows) +
        " a sweep holds in memory (a few hundred bytes each); shorten the lists or sweep "
        "fewer or smaller workloads at once");
  return spec;
}

}  // namespace ssim
