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
#include "sim/sweep/resume_store.hpp"
#include "sim/sweep/slurm_plan.hpp"
#include "sim/sweep/sweep.hpp"

namespace ssim {

using namespace slurm_detail;

namespace {

namespace fs = std::filesystem;

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
