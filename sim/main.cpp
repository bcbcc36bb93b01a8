// systolic-sim's entry point. All the work is in run_command() (sim/entry.cpp): run_cli()
// (sim/cli/cli.cpp) and, for `systolic-sim sweep ...`, run_sweep_cli() (sim/sweep/sweep.cpp), which
// the tests also drive in-process; this file only adapts argv and the exit code.
#include <cstdlib>
#include <iostream>
#include <string>
#include <systemc>
#include <vector>

#include "sim/entry.hpp"

int sc_main(int argc, char** argv) {
  return ssim::run_command(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}

// Our own main() takes precedence over the one in libsystemc.so; it silences the SystemC banner.
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
