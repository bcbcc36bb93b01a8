// The whole command line of systolic-sim, as main() and the Python module run it:
// `systolic-sim sweep ARGS...` goes to run_sweep_cli(), `systolic-sim sweep-task DIR INDEX` (what
// a Slurm array task runs) to run_sweep_task(), anything else to run_cli().
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ssim {

// `args` are the arguments after argv[0]. Returns the exit code (sim/cli/cli.hpp's kExit*).
int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ssim
