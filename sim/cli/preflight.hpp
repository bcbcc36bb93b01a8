// The checks of a run's inputs that need the planner, made by parse_cli() before anything runs
// (docs/bad-input.md).
#pragma once

#include "sim/spec/config.hpp"
#include "workloads/layer.hpp"

namespace ssim {

// Checks, before anything runs, what would otherwise fail only in the middle of a possibly long
// run: every GEMM's smallest tile must fit the SRAM buffers (the tiler's check, once per shape),
// --fidelity cycle must be able to hold every GEMM's values, and with --report the roofline's
// reference GEMM (simulated after the workload) must fit too. Throws InputError.
void preflight(const HwSpec& hw, const Network& net, bool report);

}  // namespace ssim
