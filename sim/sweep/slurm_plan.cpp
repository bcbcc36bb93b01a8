#include "sim/sweep/slurm_plan.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "sim/cli/out_folder.hpp"
#include "sim/sweep/resume_store.hpp"

namespace ssim::slurm_detail {

// --- the flags --------------------------------------------------------------------------------

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

}  // namespace ssim::slurm_detail
