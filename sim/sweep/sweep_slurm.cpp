#include "sim/sweep/sweep_slurm.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "sim/cli/cli.hpp"
#include "sim/cli/out_folder.hpp"
#include "sim/report/progress.hpp"
#include "sim/report/report_table.hpp"
#include "sim/sweep/sweep.hpp"

namespace ssim {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxArrayTasks = 1000;  // Slurm's default MaxArraySize is 1001 (0..1000)
constexpr int64_t kDefaultPointsPerTask = 10;

// --- the flags --------------------------------------------------------------------------------

struct EngineFlags {
  std::string engine = "local";
  std::map<std::string, std::string> slurm;  // slurm-partition, ..., points-per-task -> value
  bool wait = false;
  std::string status_dir, merge_dir;
  bool status = false, merge = false;
};

const std::vector<std::string>& slurm_flag_names() {
  static const std::vector<std::string> names = {
      "slurm-partition",   "slurm-time",      "slurm-mem",  "slurm-account",
      "slurm-max-running", "points-per-task", "slurm-extra"};
  return names;
}

// Takes the engine's flags out of `args` ("--flag VALUE" or "--flag=VALUE").
EngineFlags take_engine_flags(std::vector<std::string>& args) {
  EngineFlags f;
  std::vector<std::string> rest;
  std::set<std::string> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (t.rfind("--", 0) != 0) {
      rest.push_back(t);
      continue;
    }
    const size_t eq = t.find('=');
    const std::string name = t.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const bool is_slurm = std::count(slurm_flag_names().begin(), slurm_flag_names().end(), name);
    const bool valued = is_slurm || name == "engine" || name == "status" || name == "merge";
    if (!valued && name != "wait") {
      rest.push_back(t);
      continue;
    }
    if (!seen.insert(name).second) throw InputError("option '--" + name + "' given more than once");
    std::string value;
    if (name == "wait") {
      if (eq != std::string::npos) throw InputError("--wait takes no value");
      f.wait = true;
      continue;
    }
    if (eq != std::string::npos) {
      value = t.substr(eq + 1);
    } else {
      if (i + 1 >= args.size())
        throw InputError("the required argument for option '--" + name + "' is missing");
      value = args[++i];
    }
    if (name == "engine") {
      f.engine = value;
    } else if (name == "status") {
      f.status = true;
      f.status_dir = value;
    } else if (name == "merge") {
      f.merge = true;
      f.merge_dir = value;
    } else {
      f.slurm[name] = value;
    }
  }
  args = rest;
  return f;
}

// Splits --slurm-extra like a shell would split words: blanks separate, '...' and "..." quote.
std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) throw InputError("--slurm-extra '" + s + "': a quote is not closed");
  if (in_word) words.push_back(cur);
  return words;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// --- running Slurm's commands -------------------------------------------------------------------

struct CommandResult {
  int code = 0;  // exit status; 127 when it could not be started
  std::string out, err;
};

// Runs argv (found on PATH) with stdin from /dev/null; collects stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult r;
  int o[2], e[2];
  if (::pipe2(o, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (::pipe2(e, O_CLOEXEC) != 0) {
    ::close(o[0]);
    ::close(o[1]);
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::dup2(o[1], 1);
    ::dup2(e[1], 2);
    std::vector<char*> a;
    for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    const std::string msg = argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    _exit(127);
  }
  ::close(o[1]);
  ::close(e[1]);
  pollfd p[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(p[i].fd);
        p[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, size_t(n));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream s(path);
  std::string d;
  while (std::getline(s, d, ':')) {
    if (d.empty()) d = ".";
    const fs::path f = fs::path(d) / name;
    if (::access(f.c_str(), X_OK) == 0 && fs::is_regular_file(f)) return true;
  }
  return false;
}

// The states of the jobs still known to Slurm ("123_4" -> RUNNING); empty when none are.
// Throws InputError when squeue fails for another reason than jobs it has forgotten.
std::map<std::string, std::string> queued_jobs(const std::vector<std::string>& ids) {
  std::map<std::string, std::string> states;
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ",") + id;
  if (list.empty()) return states;
  const CommandResult r = run_command({"squeue", "-h", "-r", "-o", "%i %T", "-j", list});
  if (r.code != 0) {
    if (r.err.find("Invalid job id") != std::string::npos) return states;  // all finished
    throw InputError("squeue -j " + list + " failed: " + one_line(r.err.empty() ? r.out : r.err));
  }
  std::istringstream in(r.out);
  std::string id, state;
  while (in >> id >> state) states[id] = state;
  return states;
}

// --- the plan -----------------------------------------------------------------------------------

const char* const kSlurmDir = "slurm";

fs::path slurm_dir(const fs::path& dir) {
  return dir / kSlurmDir;
}

// DIR/slurm/plan.json, or a JSON null when there is none. Throws InputError when damaged.
nlohmann::json read_plan(const fs::path& dir, bool required) {
  bool exists = false;
  const fs::path p = slurm_dir(dir) / "plan.json";
  const std::string text = slurp(p, exists);
  if (!exists) {
    if (required) {
      throw InputError("'" + dir.string() +
                       "': no Slurm submission in this folder (no slurm/plan.json); submit with "
                       "systolic-sim sweep ... --engine slurm --out " +
                       dir.string());
    }
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("args") || !j.contains("tasks") ||
      !j.contains("cwd")) {
    throw InputError("'" + p.string() + "': damaged (not a plan this version writes)");
  }
  return j;
}

std::vector<std::string> plan_job_ids(const nlohmann::json& plan) {
  std::vector<std::string> ids;
  for (const char* k : {"array_job", "merge_job"}) {
    if (plan.contains(k) && plan[k].is_string()) ids.push_back(plan[k].get<std::string>());
  }
  return ids;
}

fs::path task_dir(const fs::path& dir, size_t index) {
  return slurm_dir(dir) / ("task-" + std::to_string(index));
}

std::vector<std::string> task_dirs(const fs::path& dir, const nlohmann::json& plan) {
  std::vector<std::string> dirs;
  if (plan.is_object()) {
    for (size_t i = 0; i < plan["tasks"].size(); ++i) dirs.push_back(task_dir(dir, i).string());
  }
  return dirs;
}

// The sweep of a plan, parsed again from its arguments in the folder it was submitted from.
struct PlannedSweep {
  SweepSpec spec;
  std::vector<SweepPoint> points;
};

PlannedSweep planned_sweep(const fs::path& dir, const nlohmann::json& plan) {
  // Relative file names in the arguments (workloads, --config) are the submitter's.
  const fs::path here = fs::current_path();
  const std::string cwd = plan["cwd"].get<std::string>();
  if (::chdir(cwd.c_str()) != 0) {
    throw InputError("'" + cwd + "' (the folder the sweep was submitted from): " +
                     std::strerror(errno) + "; this node must see it");
  }
  PlannedSweep s;
  try {
    s.spec = parse_sweep_args(plan["args"].get<std::vector<std::string>>());
  } catch (...) {
    fs::current_path(here);
    throw;
  }
  fs::current_path(here);  // the files are read
  s.spec.out_dir = dir.string();
  s.points = enumerate_points(s.spec);
  bool exists = false;
  const std::string stored = slurp(dir / "sweep.json", exists);
  if (!exists || stored != sweep_description_json(s.spec)) {
    throw InputError("'" + (dir / "sweep.json").string() + "': " +
                     (exists ? "differs from the sweep of slurm/plan.json (a workload or config "
                               "file changed since the submission?)"
                             : "missing") +
                     "; submit the sweep again");
  }
  return s;
}

// The rows in the task folders so far (point -> its sweep.csv line), ok or error; a line still
// being written does not count.
std::map<int, std::string> rows_in_tasks(const fs::path& dir, size_t tasks) {
  std::map<int, std::string> done;
  for (size_t i = 0; i < tasks; ++i) {
    bool exists = false;
    const std::string text = slurp(task_dir(dir, i) / "sweep.csv", exists);
    size_t start = text.find('\n');  // after the header
    if (start == std::string::npos) continue;
    ++start;
    while (start < text.size()) {
      const size_t nl = text.find('\n', start);
      if (nl == std::string::npos) break;
      const std::string line = text.substr(start, nl + 1 - start);
      start = nl + 1;
      int index = -1;
      std::from_chars(line.data(), line.data() + line.size(), index);
      if (index >= 0) done.emplace(index, line);
    }
  }
  return done;
}

size_t rows_in_file(const fs::path& csv) {
  bool exists = false;
  const std::string text = slurp(csv, exists);
  const size_t n = size_t(std::count(text.begin(), text.end(), '\n'));
  return n > 0 ? n - 1 : 0;
}

// --- merge --------------------------------------------------------------------------------------

// `sweep --merge DIR`: the sweep folder's rows and the task folders' rows into DIR/sweep.csv and
// DIR/sweep_layers.csv in point order (an ok row wins over an error row). Exit codes as a local
// sweep: 0 all points ok, 1 some failed or have no row yet, 2 no plan or a damaged folder.
int merge(const std::string& dir_arg, std::ostream& out, std::ostream& err) {
  const fs::path dir = fs::absolute(dir_arg).lexically_normal();
  int code = kExitOk;
  try {
    const nlohmann::json plan = read_plan(dir, true);
    const PlannedSweep s = planned_sweep(dir, plan);
    FolderLock lock;
    if (!lock.acquire(dir.string(), 60)) {
      throw InputError("'" + dir.string() + "': another sweep or run is writing to this folder");
    }
    SweepRows all = read_sweep_rows(s.spec, s.points, dir.string(), true);
    for (const std::string& t : task_dirs(dir, plan)) {
      if (!fs::exists(t)) continue;
      SweepRows m = read_sweep_rows(s.spec, s.points, t, true);
      for (auto& [index, row] : m.rows) {
        if (all.rows.count(index) && sweep_row_field(all.rows[index], "status") == "ok") continue;
        all.rows[index] = std::move(row);
        all.layers[index] = std::move(m.layers[index]);
      }
    }
    std::string rows, layers;
    std::vector<int> missing, failed;
    bool values_bad = false;
    for (const SweepPoint& p : s.points) {
      if (!all.rows.count(p.index)) {
        missing.push_back(p.index);
        continue;
      }
      rows += all.rows[p.index];
      layers += all.layers[p.index];
      if (sweep_row_field(all.rows[p.index], "status") != "ok") failed.push_back(p.index);
      if (sweep_row_field(all.rows[p.index], "values_ok") == "false") values_bad = true;
    }
    write_file_atomic((dir / "sweep_layers.csv").string(),
                      csv_line(sweep_layers_csv_columns()) + layers);
    write_file_atomic((dir / "sweep.csv").string(), csv_line(sweep_csv_columns()) + rows);
    const size_t total = s.points.size();
    if (!s.spec.quiet) {
      out << "sweep: " << total - missing.size() << " of " << total << " points merged into "
          << (dir / "sweep.csv").string() << ", " << (dir / "sweep_layers.csv").string() << '\n';
    }
    if (!missing.empty()) {
      err << "error: " << missing.size() << " of " << total
          << " points have no row (first: " << s.points[size_t(missing[0])].label
          << "): their array tasks were cancelled, failed or ran out of time (logs: "
          << slurm_dir(dir).string()
          << "/task-*.log); run the same sweep command again to submit them" << std::endl;
      code = kExitFailure;
    }
    if (!failed.empty()) {
      err << "error: " << failed.size() << " of " << total
          << " points failed (first: " << s.points[size_t(failed[0])].label << ": "
          << sweep_row_field(all.rows[failed[0]], "error") << "); status 'error' in "
          << (dir / "sweep.csv").string() << "; rerun the same command to retry them" << std::endl;
      code = kExitFailure;
    }
    if (values_bad) {
      err << "error: the cycle-level array's output differs from the reference GEMM at some "
             "points (values_ok = false in "
          << (dir / "sweep.csv").string() << ")" << std::endl;
      code = kExitFailure;
    }
    if (code == kExitOk && plan.value("report", false)) {
      if (run_sweep_report(dir.string(), err) != 0) {
        code = kExitFailure;
      } else if (!s.spec.quiet) {
        out << "report: " << (dir / "report.html").string() << '\n';
      }
    }
  } catch (const InputError& e) {
    err << "error: --merge: " << message_line(e.what()) << std::endl;
    code = kExitBadInput;
  } catch (const std::exception& e) {
    err << "error: --merge '" << dir.string() << "': " << message_line(e.what()) << std::endl;
    code = kExitFailure;
  }
  // For `--wait`: the merge job's exit code.
  std::error_code ec;
  if (fs::is_directory(slurm_dir(dir), ec)) {
    try {
      write_file_atomic((slurm_dir(dir) / "merge.result").string(), std::to_string(code) + "\n");
    } catch (const std::exception&) {
    }
  }
  return code;
}

// --- status -------------------------------------------------------------------------------------

int status(const std::string& dir_arg, std::ostream& out, std::ostream& err) {
  const fs::path dir = fs::absolute(dir_arg).lexically_normal();
  try {
    const nlohmann::json plan = read_plan(dir, true);
    const size_t tasks = plan["tasks"].size();
    const int64_t total = plan.value("points", int64_t(0));
    const int64_t before = plan.value("done_before", int64_t(0));
    int64_t submitted = 0;
    for (const auto& t : plan["tasks"]) submitted += int64_t(t.size());
    size_t failed = 0;
    const std::map<int, std::string> done = rows_in_tasks(dir, tasks);
    for (const auto& [index, row] : done) failed += sweep_row_field(row, "status") != "ok";
    const size_t rows = done.size();
    out << "sweep " << dir.string() << ": " << total << " points, " << before
        << " done before this submission; " << rows << " of " << submitted
        << " submitted points have a row";
    if (failed) out << " (" << failed << " failed)";
    out << '\n';
    const std::vector<std::string> ids = plan_job_ids(plan);
    const std::map<std::string, std::string> q = queued_jobs(ids);
    std::map<std::string, int> by_state;
    std::string merge_state = "finished";
    for (const auto& [id, state] : q) {
      if (ids.size() > 1 && id == ids[1]) {
        merge_state = state;
      } else {
        ++by_state[state];
      }
    }
    if (!ids.empty()) {
      out << "job array " << ids[0] << ": " << tasks << " task" << (tasks == 1 ? "" : "s");
      size_t queued = 0;
      for (const auto& [state, n] : by_state) {
        out << ", " << n << " " << state;
        queued += size_t(n);
      }
      out << ", " << tasks - std::min(tasks, queued) << " ended (logs: " << slurm_dir(dir).string()
          << "/task-*.log)\n";
    }
    if (ids.size() > 1) out << "merge job " << ids[1] << ": " << merge_state << '\n';
    bool exists = false;
    const std::string result = slurp(slurm_dir(dir) / "merge.result", exists);
    if (exists) {
      out << "merged: " << rows_in_file(dir / "sweep.csv") << " of " << total << " rows in "
          << (dir / "sweep.csv").string() << " (merge exit code "
          << result.substr(0, result.find('\n')) << ")\n";
    } else {
      out << "merged: not yet; merge now with systolic-sim sweep --merge " << dir.string() << '\n';
    }
    return kExitOk;
  } catch (const InputError& e) {
    err << "error: --status: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  }
}

// --- submission ---------------------------------------------------------------------------------

struct SubmitError {
  std::string msg;
};

std::string job_id_of(const std::string& parsable) {
  std::string id;
  for (char c : parsable) {
    if (c < '0' || c > '9') break;
    id += c;
  }
  return id;
}

std::string sbatch_message(const CommandResult& r) {
  std::string m = one_line(r.err.empty() ? r.out : r.err);
  while (!m.empty() && (m.back() == ' ' || m.back() == ';')) m.pop_back();
  return m.empty() ? "exit status " + std::to_string(r.code) : m;
}

int wait_for(const fs::path& dir, const nlohmann::json& plan, const PlannedSweep& s,
             std::ostream& out, std::ostream& err) {
  const size_t tasks = plan["tasks"].size();
  const std::string merge_id = plan["merge_job"].get<std::string>();
  double cost_left = 0;
  size_t submitted = 0;
  for (const auto& t : plan["tasks"]) {
    for (const auto& i : t) {
      cost_left += s.points[i.get<size_t>()].cost;
      ++submitted;
    }
  }
  const size_t total = s.points.size();
  Progress progress(err, &err == &std::cerr && ::isatty(STDERR_FILENO), s.spec.quiet, total,
                    total - submitted, cost_left);
  std::set<int> seen;
  int squeue_failures = 0;
  while (true) {
    for (const auto& [index, row] : rows_in_tasks(dir, tasks)) {
      if (size_t(index) < total && seen.insert(index).second) {
        const SweepPoint& p = s.points[size_t(index)];
        progress.item_done(p.cost, p.label + ": " + sweep_row_outcome(row));
      }
    }
    try {
      if (queued_jobs({merge_id}).empty()) break;
      squeue_failures = 0;
    } catch (const InputError&) {
      if (++squeue_failures >= 30) throw;  // 15 s: not a busy moment of slurmctld
    }
    progress.tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  progress.finish();
  bool exists = false;
  const std::string log = slurp(slurm_dir(dir) / "merge.out", exists);
  out << log;
  const std::string elog = slurp(slurm_dir(dir) / "merge.err", exists);
  err << elog << std::flush;
  const std::string result = slurp(slurm_dir(dir) / "merge.result", exists);
  if (!exists) {
    err << "error: the merge job " << merge_id << " ended without merging (cancelled?); merge with "
        << "systolic-sim sweep --merge " << dir.string() << std::endl;
    return kExitFailure;
  }
  return std::atoi(result.c_str());
}

int submit(const EngineFlags& flags, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  PlannedSweep s;
  int64_t per_task = 0, max_running = 0;
  fs::path dir, exe, cwd;
  int code = exit_code_of(err, "", [&] {
    s.spec = parse_sweep_args(args);
    for (const std::string& n : s.spec.notes) err << message_line(n) << '\n';
  });
  if (code >= 0) return code;
  if (s.spec.help) {
    out << sweep_help();
    return kExitOk;
  }
  code = exit_code_of(err, "", [&] {
    if (flags.slurm.count("points-per-task"))
      per_task = parse_count("points-per-task", flags.slurm.at("points-per-task"), 1, 1000000);
    if (flags.slurm.count("slurm-max-running"))
      max_running =
          parse_count("slurm-max-running", flags.slurm.at("slurm-max-running"), 1, 1000000);
    if (flags.slurm.count("slurm-extra")) split_words(flags.slurm.at("slurm-extra"));
    for (const char* f : {"slurm-partition", "slurm-time", "slurm-mem", "slurm-account"}) {
      if (flags.slurm.count(f) && flags.slurm.at(f).empty())
        throw InputError(std::string("--") + f + " '': expected a value");
    }
    s.points = enumerate_points(s.spec);
    if (!on_path("sbatch")) {
      throw InputError(
          "--engine slurm: sbatch not found on PATH; run on a machine that can submit Slurm "
          "jobs (a login node; Debian package slurm-client), or use --engine local");
    }
    cwd = fs::current_path();
    dir = fs::absolute(s.spec.out_dir).lexically_normal();
    check_shared_path("--out", dir.string());
    check_out_dir(dir.string());
    exe = fs::read_symlink("/proc/self/exe");
    check_shared_path("the systolic-sim binary", exe.string());
    s.spec.out_dir = dir.string();
    // A submission still running would write the same rows twice.
    const nlohmann::json old = read_plan(dir, false);
    if (old.is_object()) {
      const std::vector<std::string> ids = plan_job_ids(old);
      if (!queued_jobs(ids).empty()) {
        std::string list;
        for (const std::string& id : ids) list += " " + id;
        throw InputError("--out '" + dir.string() + "': its last submission (jobs" + list +
                         ") is still queued or running; wait for it (systolic-sim sweep --status " +
                         dir.string() + ") or cancel it (scancel" + list + ")");
      }
    }
  });
  if (code >= 0) return code;

  std::vector<std::string> common = {"--chdir=" + cwd.string()};
  for (const auto& [flag, opt] :
       std::vector<std::pair<std::string, std::string>>{{"slurm-partition", "--partition="},
                                                        {"slurm-time", "--time="},
                                                        {"slurm-account", "--account="}}) {
    if (flags.slurm.count(flag)) common.push_back(opt + flags.slurm.at(flag));
  }
  std::vector<std::string> extra;
  if (flags.slurm.count("slurm-extra")) extra = split_words(flags.slurm.at("slurm-extra"));
  auto task_args = [&](const std::string& array) {
    std::vector<std::string> a = {
        "sbatch", "--parsable", "--job-name=ssim-sweep",
        "--output=" + (slurm_dir(dir) / "task-%a.log").string(),
        "--array=" + array + (max_running ? "%" + std::to_string(max_running) : "")};
    a.insert(a.end(), common.begin(), common.end());
    if (flags.slurm.count("slurm-mem")) a.push_back("--mem=" + flags.slurm.at("slurm-mem"));
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  {
    // A partition, account, time or sbatch argument Slurm refuses: before the folder is touched.
    std::vector<std::string> a = task_args("0-0");
    a.insert(a.begin() + 1, "--test-only");
    a.push_back("--wrap=true");
    const CommandResult r = run_command(a);
    if (r.code != 0) {
      err << "error: sbatch refused the job array: " << message_line(sbatch_message(r))
          << std::endl;
      return kExitBadInput;
    }
  }

  // The folder holds this sweep, with the rows finished so far (the last submission's task
  // folders folded in); its plan of the last submission goes.
  const fs::path sdir = slurm_dir(dir);
  std::vector<int> pending;
  size_t already = 0;
  {
    FolderLock lock;
    SweepRows stored;
    std::vector<std::string> old_tasks;
    try {
      old_tasks = task_dirs(dir, read_plan(dir, false));
    } catch (const InputError&) {
      // A damaged plan: its task folders are not read.
    }
    if (const int code = open_sweep_folder(s.spec, s.points, old_tasks, lock, stored, err);
        code >= 0)
      return code;
    std::error_code ec;
    fs::remove_all(sdir, ec);
    for (const SweepPoint& p : s.points) {
      if (!stored.rows.count(p.index)) pending.push_back(p.index);
    }
    already = stored.rows.size();
  }
  const size_t total = s.points.size();
  if (pending.empty()) {
    if (!s.spec.quiet)
      err << "sweep: all " << total << " points already done in " << (dir / "sweep.csv").string()
          << "; nothing to submit" << std::endl;
    if (s.spec.report) return run_sweep_report(dir.string(), err) == 0 ? kExitOk : kExitFailure;
    return kExitOk;
  }
  if (per_task == 0) {
    per_task = std::max<int64_t>(kDefaultPointsPerTask,
                                 (int64_t(pending.size()) + kMaxArrayTasks - 1) / kMaxArrayTasks);
  }
  const int64_t ntasks = (int64_t(pending.size()) + per_task - 1) / per_task;
  if (ntasks > kMaxArrayTasks) {
    err << "error: --points-per-task " << per_task << ": " << pending.size()
        << " points would make " << ntasks << " array tasks; Slurm's default MaxArraySize allows "
        << kMaxArrayTasks << ": give at least "
        << (int64_t(pending.size()) + kMaxArrayTasks - 1) / kMaxArrayTasks << std::endl;
    return kExitBadInput;
  }

  nlohmann::ordered_json plan;
  plan["args"] = args;
  plan["cwd"] = cwd.string();
  plan["binary"] = exe.string();
  plan["report"] = s.spec.report;
  plan["points"] = total;
  plan["done_before"] = already;
  nlohmann::ordered_json shares = nlohmann::ordered_json::array();
  for (int64_t t = 0; t < ntasks; ++t) {
    const size_t b = size_t(t * per_task), e = std::min(pending.size(), size_t((t + 1) * per_task));
    shares.push_back(std::vector<int>(pending.begin() + long(b), pending.begin() + long(e)));
  }
  plan["tasks"] = shares;

  std::string array_id, merge_id;
  try {
    fs::create_directories(sdir);
    write_file_atomic((sdir / "plan.json").string(), plan.dump(1) + "\n");
    write_file_atomic(
        (sdir / "task.sh").string(),
        "#!/bin/sh\n# One array task of a systolic-sim sweep (plan: plan.json)\nexec " +
            shell_quote(exe.string()) + " sweep-task " + shell_quote(dir.string()) +
            " \"$SLURM_ARRAY_TASK_ID\"\n");
    write_file_atomic((sdir / "merge.sh").string(),
                      "#!/bin/sh\n# Merges the task folders of a systolic-sim sweep\nexec " +
                          shell_quote(exe.string()) + " sweep --merge " +
                          shell_quote(dir.string()) + "\n");
    std::vector<std::string> a = task_args("0-" + std::to_string(ntasks - 1));
    a.push_back((sdir / "task.sh").string());
    const CommandResult r = run_command(a);
    array_id = job_id_of(r.out);
    if (r.code != 0 || array_id.empty())
      throw SubmitError{"sbatch refused the job array: " + sbatch_message(r)};
    std::vector<std::string> m = {"sbatch",
                                  "--parsable",
                                  "--job-name=ssim-sweep-merge",
                                  "--output=" + (sdir / "merge.out").string(),
                                  "--error=" + (sdir / "merge.err").string(),
                                  "--dependency=afterany:" + array_id};
    m.insert(m.end(), common.begin(), common.end());
    m.insert(m.end(), extra.begin(), extra.end());
    m.push_back((sdir / "merge.sh").string());
    const CommandResult rm = run_command(m);
    merge_id = job_id_of(rm.out);
    if (rm.code != 0 || merge_id.empty()) {
      run_command({"scancel", array_id});
      throw SubmitError{"sbatch refused the merge job: " + sbatch_message(rm) + " (job array " +
                        array_id + " cancelled)"};
    }
    plan["array_job"] = array_id;
    plan["merge_job"] = merge_id;
    write_file_atomic((sdir / "plan.json").string(), plan.dump(1) + "\n");
  } catch (const SubmitError& e) {
    std::error_code ec;
    fs::remove_all(sdir, ec);
    err << "error: " << message_line(e.msg) << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::error_code ec;
    if (!array_id.empty()) run_command({"scancel", array_id});
    fs::remove_all(sdir, ec);
    err << "error: cannot submit the sweep: " << message_line(e.what()) << std::endl;
    return kExitFailure;
  }
  if (!s.spec.quiet) {
    err << "sweep: " << total << " point" << (total == 1 ? "" : "s");
    if (already) err << ", " << already << " already done in " << (dir / "sweep.csv").string();
    err << "; submitted " << pending.size() << " in " << ntasks << " array task"
        << (ntasks == 1 ? "" : "s") << " of up to " << per_task << ": job array " << array_id
        << ", merge job " << merge_id << std::endl;
  }
  if (flags.wait) {
    try {
      return wait_for(dir, nlohmann::json::parse(plan.dump()), s, out, err);
    } catch (const InputError& e) {
      err << "error: --wait: " << message_line(e.what()) << std::endl;
      return kExitFailure;
    }
  }
  if (!s.spec.quiet) {
    out << "job array " << array_id << " (" << ntasks << " tasks, logs " << sdir.string()
        << "/task-*.log), merge job " << merge_id << '\n'
        << "progress:   systolic-sim sweep --status " << shell_quote(dir.string()) << '\n'
        << "merge now:  systolic-sim sweep --merge " << shell_quote(dir.string())
        << "   (the merge job does it when the array ends)\n";
  }
  return kExitOk;
}

}  // namespace

void check_shared_path(const std::string& what, const std::string& path) {
  const fs::path p = fs::path(path).lexically_normal();
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(p, ec);
  for (const char* local : {"/tmp", "/var/tmp", "/dev/shm", "/run"}) {
    for (const fs::path& q : {p, ec ? p : real}) {
      const std::string s = q.string();
      const size_t n = std::strlen(local);
      if (s.compare(0, n, local) == 0 && (s.size() == n || s[n] == '/')) {
        throw InputError(what + " '" + path + "': under " + local +
                         ", which is local to each node on a cluster; the Slurm engine needs a "
                         "folder every node sees (a shared filesystem: home, project or scratch)");
      }
    }
  }
}

std::optional<int> run_sweep_engine(std::vector<std::string>& args, std::ostream& out,
                                    std::ostream& err) {
  EngineFlags f;
  try {
    f = take_engine_flags(args);
    if (f.engine != "local" && f.engine != "slurm")
      throw InputError("--engine '" + f.engine + "': expected local or slurm");
    if (f.status || f.merge) {
      const std::string flag = f.status ? "--status" : "--merge";
      if (f.status && f.merge) throw InputError("--status and --merge both given: give one");
      if (!args.empty() || !f.slurm.empty() || f.wait || f.engine != "local")
        throw InputError(flag + " DIR takes no other arguments");
      if ((f.status ? f.status_dir : f.merge_dir).empty())
        throw InputError(flag + " '': expected the sweep folder");
    } else if (f.engine == "local") {
      if (!f.slurm.empty())
        throw InputError("--" + f.slurm.begin()->first + ": only with --engine slurm");
      if (f.wait) throw InputError("--wait: only with --engine slurm");
    }
  } catch (const InputError& e) {
    err << "error: " << message_line(e.what()) << std::endl;
    return kExitBadInput;
  }
  if (f.status) return status(f.status_dir, out, err);
  if (f.merge) return merge(f.merge_dir, out, err);
  if (f.engine == "slurm") return submit(f, args, out, err);
  return std::nullopt;
}

int run_sweep_task(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  SweepSpec spec;
  const int code = exit_code_of(err, "sweep-task: ", [&] {
    if (args.size() != 2) throw InputError("usage: systolic-sim sweep-task DIR INDEX");
    const fs::path dir = fs::absolute(args[0]).lexically_normal();
    const nlohmann::json plan = read_plan(dir, true);
    const int64_t index =
        parse_count("sweep-task INDEX", args[1], 0, int64_t(plan["tasks"].size()) - 1);
    PlannedSweep s = planned_sweep(dir, plan);
    spec = std::move(s.spec);
    for (const std::string& n : spec.notes) err << message_line(n) << '\n';
    spec.out_dir = task_dir(dir, size_t(index)).string();
    spec.only_points = plan["tasks"][size_t(index)].get<std::vector<int>>();
    spec.jobs = 1;
    if (const char* c = std::getenv("SLURM_CPUS_PER_TASK"))
      spec.jobs = int(parse_count("SLURM_CPUS_PER_TASK", c, 1, 1024));
    spec.report = false;
    spec.force = false;
  });
  if (code >= 0) return code;
  return run_sweep(spec, out, err);
}

std::string sweep_slurm_help() {
  return "On a Slurm cluster (docs/sweep.md, \"On a Slurm cluster\"):\n"
         "  --engine local|slurm      local: worker processes here [default]; slurm: one job\n"
         "                            array, then a job that merges (DIR on a shared filesystem)\n"
         "  --points-per-task N       points per array task [default: 10, more above 10000\n"
         "                            points so that there are at most 1000 tasks]\n"
         "  --slurm-partition P, --slurm-time T, --slurm-mem M, --slurm-account A\n"
         "                            sbatch's --partition, --time, --mem, --account\n"
         "  --slurm-max-running N     at most N array tasks at once (--array=0-K%N)\n"
         "  --slurm-extra 'ARGS'      more sbatch arguments, e.g. '--qos=short --cpus-per-task=4'\n"
         "  --wait                    block until merged, with the progress bar\n"
         "  --status DIR              what a submitted sweep has done so far\n"
         "  --merge DIR               merge the rows so far into DIR/sweep.csv (the merge job\n"
         "                            does it when the array ends)\n";
}

}  // namespace ssim
