// systolic-sim's entry point. All the work is in run_command() (sim/entry.cpp): run_cli()
// (sim/cli/cli.cpp) and, for `systolic-sim sweep ...`, run_sweep_cli() (sim/sweep/sweep.cpp), which
// the tests also drive in-process; this file only adapts argv and the exit code.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <systemc>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/entry.hpp"

int sc_main(int argc, char** argv) {
  ssim::set_one_command_process();
  const int rc =
      ssim::run_command(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
#if defined(__SANITIZE_ADDRESS__)
  return rc;  // (LeakSanitizer, when it is on, checks at a normal exit)
#else
  // Every file is written and closed by now: the process ends here, without SystemC's and the
  // libraries' teardown (the simulation context, its modules and coroutine stacks, static
  // objects): 0.4 to 0.5 ms of a 9 to 11 ms run on the project machine (README, "Performance").
  // The streams are flushed first, as the Python module's child process does (python/core.cpp).
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  _exit(rc);
#endif
}

// Our own main() takes precedence over the one in libsystemc.so; it silences the SystemC banner.
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
