#include "sim/cli/preflight.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "sim/cli/cli.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/network_run.hpp"
#include "sim/run/periodic_run.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

// --fidelity cycle keeps every GEMM's values: A (M x K int8), B (K x N int8), C and the
// reference C (M x N int32 each). Larger GEMMs are refused before the run (docs/bad-input.md).
constexpr double kMaxCycleDataBytes = double(int64_t(1) << 31);  // 2 GiB

// The GEMM the roofline's reference kernel runs after a simulation with --report
// (run_canonical_kernels).
constexpr int64_t kCanonicalGemmDim = kCanonicalMatrixMultiplySize;

}  // namespace

void preflight(const HwSpec& hw, const Network& net, bool report) {
  std::set<std::tuple<int64_t, int64_t, int64_t>> shapes;
  for (const Op& op : lower(net)) {
    const GemmOp* g = as_gemm(op);
    if (!g) continue;
    if (shapes.insert({g->shape.M, g->shape.N, g->shape.K}).second) {
      try {
        (void)plan_blocks(hw, g->shape);
      } catch (const InputError& e) {
        throw InputError(std::string(e.what()) + " (GEMM '" + g->name + "')");
      }
    }
    if (hw.fidelity != Fidelity::Cycle) continue;
    const double M = double(g->shape.M), N = double(g->shape.N), K = double(g->shape.K);
    const double bytes = M * K + K * N + 8 * M * N;
    if (bytes > kMaxCycleDataBytes) {
      char mib[32];
      std::snprintf(mib, sizeof mib, "%.0f", bytes / (1 << 20));
      throw InputError("--fidelity cycle: GEMM '" + g->name + "' (M,N,K = " + shape_text(g->shape) +
                       ") needs " + mib +
                       " MiB for its values (A, B, C and the reference C: M*K + K*N + 8*M*N "
                       "bytes), more than the 2048 MiB allowed; use --fidelity fast, which gives "
                       "the same cycle counts");
    }
  }
  if (!report) return;
  try {
    (void)plan_blocks(hw, GemmShape{kCanonicalGemmDim, kCanonicalGemmDim, kCanonicalGemmDim});
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (for the roofline's reference " +
                     std::to_string(kCanonicalGemmDim) + "^3 GEMM, which --report simulates)");
  }
  // The reference kernels run outside run_network, which checks the network's ops so.
  VectorOp add;
  add.kind = VectorKind::Add;
  add.elements = add.outputs = kCanonicalVectorAddElements;
  add.inputs = 2 * add.elements;
  // The GEMM as run_canonical_kernels() runs it: by its head programs if periodic.
  GemmOp mm;
  mm.shape = GemmShape{kCanonicalGemmDim, kCanonicalGemmDim, kCanonicalGemmDim};
  // (Head programs are held; a GEMM run whole and the vector add are planned lazily when large.)
  const std::optional<PeriodicPlan> periodic = periodic_plan(ValidHw(hw).fast(), mm);
  const int64_t held = periodic ? periodic->head_steps : 0;
  const int64_t whole =
      std::max(periodic ? 0 : plan_steps_bound(hw, mm.shape, 1), plan_steps_bound(hw, add));
  const bool over_held = held > max_program_steps(true);
  if (over_held || whole > max_program_steps(false))
    throw InputError(
        "--report: the roofline's reference kernels (a " + std::to_string(kCanonicalGemmDim) +
        "^3 GEMM and a " + std::to_string(kCanonicalVectorAddElements) +
        "-element vector add) would be planned as up to " +
        std::to_string(over_held ? held : whole) + " program steps on this hardware (array " +
        std::to_string(hw.array_rows) + "x" + std::to_string(hw.array_cols) + "), more than " +
        program_steps_limit_text(over_held) +
        "; use a larger array or larger SRAM buffers, or leave out --report");
}

}  // namespace ssim
