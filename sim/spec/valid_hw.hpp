// ValidHw: a hardware spec that has passed every check, the only form the runners accept
// (sim/run/: run_network, run_gemm_op, run_vector_op, run_gemm, the reference kernels). The
// edge makes one once per run or sweep point (sim/cli/cli.cpp parse_cli, sim/sweep/sweep_args.cpp
// and sweep_points.cpp); a library caller holding a plain HwSpec (tests, bench/, fuzz/) makes one
// the same way, and gets the same refusal. Nothing below the edge checks the spec again.
#pragma once

#include <utility>

#include "sim/spec/config.hpp"

namespace ssim {

class ValidHw {
 public:
  // Checks every field of `hw` against the ranges the .cfg reader and the flags enforce, and the
  // combinations no single key can refuse: the PE count --fidelity cycle can hold, a clock or a
  // DRAM bandwidth too small for the time and DRAM models. Throws InputError with one line
  // naming the key (or flag), the value and what is allowed (sim/spec/config.cpp).
  explicit ValidHw(HwSpec hw);
  // HwSpec{}, checked like any other.
  ValidHw() : ValidHw(HwSpec{}) {}

  // Read-only: a checked spec cannot be changed into an unchecked one.
  const HwSpec& spec() const { return hw_; }
  const HwSpec* operator->() const { return &hw_; }
  operator const HwSpec&() const { return hw_; }  // for the readers below (mapping, reports)

  // The two changes that keep a spec valid, so need no second check:
  // another energy table (validation never reads it; parse_energy_table_* checks the table) ...
  ValidHw with_energy(EnergyTable energy) const {
    ValidHw v = *this;
    v.hw_.energy = std::move(energy);
    return v;
  }
  // ... and the fast fidelity (it has the fewer limits: only --fidelity cycle bounds the PEs).
  ValidHw fast() const {
    ValidHw v = *this;
    v.hw_.fidelity = Fidelity::Fast;
    return v;
  }

 private:
  HwSpec hw_;
};

}  // namespace ssim
