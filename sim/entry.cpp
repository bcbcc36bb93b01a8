#include "sim/entry.hpp"

#include "sim/cli/cli.hpp"
#include "sim/sweep/sweep.hpp"
#include "sim/sweep/sweep_slurm.hpp"

namespace ssim {

int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (!args.empty() && args[0] == "sweep")
    return run_sweep_cli(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
  if (!args.empty() && args[0] == "sweep-task")  // an array task of a Slurm sweep (hidden)
    return run_sweep_task(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
  return run_cli(args, out, err);
}

}  // namespace ssim
