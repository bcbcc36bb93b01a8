// The parts of the Slurm engine (sweep_slurm.cpp) that are not its commands: the engine's flags,
// running Slurm's programs (sbatch, squeue, scancel), and the plan folder DIR/slurm/ (plan.json,
// one shard folder per array task). Internal to sim/sweep/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sweep/sweep.hpp"

namespace ssim::slurm_detail {

namespace fs = std::filesystem;

constexpr int64_t kMaxArrayTasks = 1000;  // Slurm's default MaxArraySize is 1001 (0..1000)
constexpr int64_t kDefaultPointsPerTask = 10;
inline const char* const kSlurmDir = "slurm";

struct EngineFlags {
  std::string engine = "local";
  std::map<std::string, std::string> slurm;  // slurm-partition, ..., points-per-task -> value
  bool wait = false;
  std::string status_dir, merge_dir;
  bool status = false, merge = false;
};

struct CommandResult {
  int code = 0;  // exit status; 127 when it could not be started
  std::string out, err;
};

// The sweep of a plan, parsed again from its arguments in the folder it was submitted from.
struct PlannedSweep {
  SweepSpec spec;
  std::vector<SweepPoint> points;
};

const std::vector<std::string>& slurm_flag_names();

// Takes the engine's flags out of `args` ("--flag VALUE" or "--flag=VALUE").
EngineFlags take_engine_flags(std::vector<std::string>& args);

// Splits --slurm-extra like a shell would split words: blanks separate, '...' and "..." quote.
std::vector<std::string> split_words(const std::string& s);

std::string shell_quote(const std::string& s);

// Runs argv (found on PATH) with stdin from /dev/null; collects stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv);

bool on_path(const std::string& name);

// The states of the jobs still known to Slurm ("123_4" -> RUNNING); empty when none are.
// Throws InputError when squeue fails for another reason than jobs it has forgotten.
std::map<std::string, std::string> queued_jobs(const std::vector<std::string>& ids);

fs::path slurm_dir(const fs::path& dir);

// DIR/slurm/plan.json, or a JSON null when there is none. Throws InputError when damaged.
nlohmann::json read_plan(const fs::path& dir, bool required);

std::vector<std::string> plan_job_ids(const nlohmann::json& plan);

fs::path task_dir(const fs::path& dir, size_t index);

std::vector<std::string> task_dirs(const fs::path& dir, const nlohmann::json& plan);

PlannedSweep planned_sweep(const fs::path& dir, const nlohmann::json& plan);

// The rows in the task folders so far (point -> its sweep.csv line), ok or error; a line still
// being written does not count.
std::map<int, std::string> rows_in_tasks(const fs::path& dir, size_t tasks);

size_t rows_in_file(const fs::path& csv);

}  // namespace ssim::slurm_detail
