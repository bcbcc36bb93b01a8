#include "sim/entry.hpp"

#include "sim/cli.hpp"
#include "sim/sweep.hpp"

namespace ssim {

int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (!args.empty() && args[0] == "sweep")
    return run_sweep_cli(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
  return run_cli(args, out, err);
}

}  // namespace ssim
