// Sweeps on a Slurm cluster: `systolic-sim sweep ... --engine slurm`. The sweep folder (on a
// filesystem the nodes share) gets the plan, DIR/slurm/plan.json: the sweep's arguments and the
// points still to run, cut into contiguous shares. One job array runs one share per task
// (`systolic-sim sweep-task DIR INDEX`: the local engine, restricted to the share, into its own
// shard folder DIR/slurm/task-INDEX/), and a job that depends on the array
// (`--dependency=afterany`) merges the shards into DIR/sweep.csv and DIR/sweep_layers.csv
// (`systolic-sim sweep --merge DIR`), in point order: the same bytes as a local run. Rerun, the
// same command folds the finished rows in and submits only the points with no row.
// User guide: docs/sweep.md, "On a Slurm cluster".
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace ssim {

// Takes the sweep arguments that are not the local engine's: --engine local|slurm, the --slurm-*
// flags, --points-per-task, --wait, --status DIR and --merge DIR. Returns the exit code when it
// did the work (a submission, a status, a merge, or an error in these flags, printed to `err` as
// one line); otherwise nothing, and `args` keeps the local engine's arguments.
std::optional<int> run_sweep_engine(std::vector<std::string>& args, std::ostream& out,
                                    std::ostream& err);

// `systolic-sim sweep-task DIR INDEX` (hidden; what an array task runs): runs share INDEX of the
// plan in DIR with the local engine into DIR/slurm/task-INDEX/, with SLURM_CPUS_PER_TASK workers
// (1 if unset). Exit codes as run_sweep_cli.
int run_sweep_task(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The part of `systolic-sim sweep --help` about the Slurm engine.
std::string sweep_slurm_help();

// A folder the nodes must see (the sweep folder, the binary): absolute, and not under a folder
// that is local to each node on a cluster (/tmp, /var/tmp, /dev/shm, /run). Throws InputError
// "WHAT 'PATH': ..." otherwise.
void check_shared_path(const std::string& what, const std::string& path);

}  // namespace ssim
