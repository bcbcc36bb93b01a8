// Design-space sweeps: `systolic-sim sweep` runs every point of a product of hardware parameter
// lists (array shapes, dataflows, SRAM sizes, DRAM bandwidth, fold overlap, clock, ...) for one or
// several workloads, in parallel worker processes, and streams one CSV row per finished point
// into DIR/sweep.csv (and the per-op rows into DIR/sweep_layers.csv). Killed and rerun with the
// same arguments it skips the finished points; at the end both files are rewritten in point
// order, so an interrupted-then-resumed sweep leaves the same bytes as an uninterrupted one.
// User guide and file formats: docs/sweep.md.
//
// The parts (sim/sweep/README.md): sweep_args.cpp (the flags), sweep_points.cpp (the points and
// sweep.json), sweep_rows.cpp (the CSV rows), resume_store.* (what a sweep folder holds, for
// resuming), worker_pool.* (the worker processes), sweep.cpp (running it), sweep_slurm.* (the
// Slurm engine).
//
// Why worker processes: a process can elaborate one SystemC design, and a process whose
// simulation threw cannot simulate again. So the sweep forks -j worker processes before anything
// is simulated; each elaborates the accelerator once and runs many points one after another
// (points are handed out one at a time, the most expensive first, so the workers stay busy). A
// worker whose point threw reports the error and exits, and a fresh worker takes its place. The
// parent process never simulates: it hands out points, and it alone writes the files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "models/types.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"
#include "sim/spec/valid_hw.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim {

// One swept parameter: a sweep flag (without "--") and its values, canonical text, in the order
// given. `arrays` holds RxC shapes, `dataflows` os|ws|is, `sram-kb` sets the three scratchpads;
// every other axis is the hardware flag of the same name (sim/spec/config.hpp hw_flags()).
struct SweepAxis {
  std::string flag;
  std::vector<std::string> values;
};

struct SweepWorkload {
  std::string name;  // as given to --workload, or "gemm-MxNxK" for --gemm
  Network net;
  std::vector<Op> ops;      // lower(net)
  std::string fingerprint;  // hash of the lowered ops: a changed workload file is detected
};

struct SweepSpec {
  std::vector<SweepWorkload> workloads;
  ValidHw base;  // defaults <- --config <- single-valued flags, checked
  // The single-valued hardware flags as given (name without "--", value), already in `base`.
  std::vector<std::pair<std::string, std::string>> hw_flags;
  std::string config_path;
  std::vector<SweepAxis> axes;  // with two or more values, slowest-varying first
  uint64_t seed = 1;
  int jobs = 1;  // -j, default: the CPUs this process may run on
  std::string out_dir;
  bool report = false, quiet = false, force = false, help = false;
  bool progress_bar = false;  // set by run_sweep_cli: stderr is a terminal
  // Run only these points (an array task's share of a Slurm sweep, sim/sweep/sweep_slurm.hpp);
  // empty: all of them.
  std::vector<int> only_points;
  std::vector<std::string> notes;  // the config's notes (keys read but not modelled), for stderr
};

// One point: a workload on one hardware spec.
struct SweepPoint {
  int index = 0;  // position in point order (workload slowest, then the axes in order)
  int workload = 0;
  ValidHw hw;                       // base with the point's axis values, checked
  std::vector<std::string> values;  // this point's value of each axis of SweepSpec::axes
  std::string label;                // "resnet50 32x32 ws", plus other axes as flag=value
  double cost = 0;                  // estimated run time, arbitrary units (scheduling, ETA)
};

// Parses the arguments after "sweep". Throws InputError with one line naming the flag and value.
// Reads the --config file and the workloads, but writes nothing (and does not check --out).
SweepSpec parse_sweep_args(const std::vector<std::string>& args);

// Every point, in point order. Each point's spec is checked as it is made (ValidHw); a refusal
// names the point.
std::vector<SweepPoint> enumerate_points(const SweepSpec& spec);

// The description of a sweep stored in DIR/sweep.json; two invocations run the same points in
// the same order exactly when their descriptions are equal. No timestamps: the same arguments
// give the same file.
std::string sweep_description_json(const SweepSpec& spec);

// The CSV files. Columns are documented in docs/sweep.md.
std::vector<std::string> sweep_csv_columns();
std::vector<std::string> sweep_layers_csv_columns();
// The row of a finished point, and its per-op rows (one per row of layers.csv).
std::string sweep_csv_row(const SweepSpec& spec, const SweepPoint& p, const NetworkRunResult& r);
std::string sweep_layers_rows(const SweepSpec& spec, const SweepPoint& p,
                              const NetworkRunResult& r);
// The row of a point that failed: parameters, status "error" and the one-line message.
std::string sweep_error_row(const SweepSpec& spec, const SweepPoint& p, const std::string& error);
// The key identifying a point: the workload and every hardware parameter column. The same for
// a point and for a row of sweep.csv written for it (fields split by parse_csv_record).
std::string point_key(const SweepSpec& spec, const SweepPoint& p);
std::string row_key(const std::vector<std::string>& fields);

// The field `column` of a sweep.csv row (with or without its '\n'); "" when it has none.
std::string sweep_row_field(const std::string& row, const std::string& column);
// What a row says of its point, for progress lines: "18,998 cycles, 86.2 % utilization" or
// "FAILED: <error>".
std::string sweep_row_outcome(const std::string& row);

// An integer flag value from lo to hi; throws InputError "--FLAG 'V': expected an integer from
// LO to HI".
int64_t parse_count(const std::string& flag, const std::string& v, int64_t lo, int64_t hi);

// Splits one CSV record (RFC 4180 quoting, no line break inside fields; without the '\n').
// Returns false if a quote is not closed or stray characters follow a closing quote.
// Hand-written rather than a CSV library: the records are lines the sweep wrote itself, and a line
// cut off inside a quoted field must be reported as damaged (the resume store drops it), where a
// general reader would carry the open quote into the next line and swallow a good row.
bool parse_csv_record(const std::string& line, std::vector<std::string>& fields);

// Runs `f`. Returns -1 when it returns; when it throws, the exit code after one line on `err`:
// an InputError gives "error: PREFIX<message>" and kExitBadInput, another exception
// "internal error: PREFIX<message>" and kExitFailure.
int exit_code_of(std::ostream& err, const std::string& prefix, const std::function<void()>& f);

// Runs a parsed sweep with the local engine (worker processes on this machine); exit codes and
// output as run_sweep_cli.
int run_sweep(SweepSpec spec, std::ostream& out, std::ostream& err);

// Runs scripts/ssim_sweep_report.py DIR (the figures and report.html); its exit code, its
// output to `err` when it failed.
int run_sweep_report(const std::string& dir, std::ostream& err);

// `systolic-sim sweep ARGS`: runs the sweep, prints progress to `err` (a bar when `err` is
// std::cerr on a terminal, a line per point otherwise, nothing with --quiet) and a summary to
// `out`. Exit codes as run_cli: 0 done; 1 a point failed, values mismatched, output not written
// or the report failed; 2 bad arguments or a folder holding a different sweep (nothing written);
// 128 + signal when interrupted by SIGINT or SIGTERM (finished points are kept).
int run_sweep_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

std::string sweep_help();

}  // namespace ssim
