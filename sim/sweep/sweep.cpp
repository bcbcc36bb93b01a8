// Running a sweep on this machine: the sweep folder opened (resume_store), the points still to run
// handed to the worker pool (worker_pool), each finished point appended to the CSVs as it
// arrives, the files rewritten in point order at the end, and the summary table.
#include "sim/sweep/sweep.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <system_error>

#include "sim/cli/cli.hpp"
#include "sim/cli/out_folder.hpp"
#include "sim/report/progress.hpp"
#include "sim/report/report_table.hpp"
#include "sim/report/run_outputs.hpp"
#include "sim/sweep/resume_store.hpp"
#include "sim/sweep/sweep_params.hpp"
#include "sim/sweep/sweep_slurm.hpp"
#include "sim/sweep/worker_pool.hpp"
#include "workloads/data_dir.hpp"

namespace ssim {

using namespace sweep_detail;

namespace {

namespace fs = std::filesystem;

volatile sig_atomic_t g_signal = 0;

void on_signal(int sig) {
  g_signal = sig;
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

int run_sweep_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> local_args = args;
  // --engine slurm, --status and --merge (sim/sweep/sweep_slurm.cpp); the local engine goes on
  // here.
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
  SweepRows stored;
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

    // The points run in worker processes; each result is recorded as it arrives.
    int delay_ms = 0;  // a test hook: slows the workers down (tests/sim/test_sweep.cpp)
    if (const char* d = std::getenv("SSIM_SWEEP_TEST_DELAY_MS")) delay_ms = std::atoi(d);
    WorkerPool pool(
        [&](int index) {
          const SweepPoint& p = points[size_t(index)];
          const SweepWorkload& w = spec.workloads[size_t(p.workload)];
          TaskOutput o;
          std::string row, layers;
          try {
            const NetworkRunResult r = run_network(p.hw, w.net, spec.seed);
            row = sweep_csv_row(spec, p, r);
            layers = sweep_layers_rows(spec, p, r);
          } catch (const InputError& e) {
            o.ok = false;
            row = sweep_error_row(spec, p, e.what());
          } catch (const std::exception& e) {
            o.ok = false;
            row = sweep_error_row(spec, p, std::string("internal error: ") + e.what());
          } catch (...) {
            o.ok = false;
            row = sweep_error_row(spec, p, "internal error: unknown exception");
          }
          o.parts = {std::move(row), std::move(layers)};
          return o;
        },
        delay_ms);
    WorkerPoolHooks hooks;
    hooks.on_done = [&](const TaskDone& d) {
      if (d.parts.size() != 2)
        throw std::runtime_error("garbled result of point " + std::to_string(d.task));
      record(d.task, d.parts[0], d.parts[1], d.ok, d.ms);
    };
    hooks.on_lost = [&](int lost, const std::string& how) {
      record(
          lost,
          sweep_error_row(spec, points[size_t(lost)], "internal error: the worker process " + how),
          "", false, 0);
    };
    hooks.on_tick = [&] { progress.tick(); };
    hooks.stop = [] { return g_signal != 0; };
    hooks.keep_assigning = [&] { return write_error.empty(); };
    try {
      // Interrupted or failed: the pool stops the workers; their points run again on resume.
      if (pool.run(pending, jobs, hooks)) interrupted = g_signal;
    } catch (const std::exception& e) {
      if (write_error.empty()) write_error = std::string("internal error: ") + e.what();
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
