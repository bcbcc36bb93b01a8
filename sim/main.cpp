// systolic-sim's entry point. All the work is in run_cli() (sim/cli.cpp) and, for
// `systolic-sim sweep ...`, run_sweep_cli() (sim/sweep.cpp), which the tests also drive
// in-process, and for `systolic-sim sweep-task` (a Slurm array task), run_sweep_task()
// (sim/sweep_slurm.cpp); this file only adapts argv and the exit code.
#include <cstdlib>
#include <iostream>
#include <string>
#include <systemc>
#include <vector>

#include "sim/cli.hpp"
#include "sim/sweep.hpp"
#include "sim/sweep_slurm.hpp"

int sc_main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "sweep") {
    return ssim::run_sweep_cli(std::vector<std::string>(args.begin() + 1, args.end()), std::cout,
                               std::cerr);
  }
  if (!args.empty() && args[0] == "sweep-task") {  // an array task of a Slurm sweep
    return ssim::run_sweep_task(std::vector<std::string>(args.begin() + 1, args.end()), std::cout,
                                std::cerr);
  }
  return ssim::run_cli(args, std::cout, std::cerr);
}

// Our own main() takes precedence over the one in libsystemc.so; it silences the SystemC banner.
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
