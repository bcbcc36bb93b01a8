// Random planning cases for the planner's tests (test_sub_gemm_search.cpp, test_lazy_plan.cpp):
// arrays from 1 x 1 to 256 x 256, the three dataflows, buffers from 1 KiB, fractional and slow
// channels (so the search cuts GEMMs, K included), latencies, GEMM dimensions with primes and 1s,
// conv layers of random geometry (lowered to their im2col GEMMs) and GEMM contexts.
#pragma once

#include <cstdint>
#include <random>

#include "sim/mapping/network_plan.hpp"
#include "sim/run/op_run.hpp"
#include "sim/spec/config.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim::plan_cases {

struct Rng {
  std::mt19937_64 gen;
  explicit Rng(uint64_t seed = 20261205) : gen(seed) {}
  int64_t in(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); }
  template <class T, size_t N>
  T pick(const T (&v)[N]) {
    return v[size_t(in(0, int64_t(N) - 1))];
  }
  bool chance(int percent) { return in(1, 100) <= percent; }
};

// A GEMM dimension: 1, a prime, a power of two, or any size.
inline int64_t dim(Rng& r) {
  static const int64_t special[] = {1, 2, 3, 7, 13, 31, 97, 127, 251, 509, 1021, 16, 64, 256, 1024};
  return r.chance(50) ? r.pick(special) : r.in(1, 1500);
}

inline HwSpec random_hw(Rng& r) {
  HwSpec hw;
  static const int sides[] = {1, 2, 3, 4, 7, 8, 16, 17, 32, 64, 128, 256};
  hw.array_rows = int(r.chance(50) ? r.pick(sides) : r.in(1, 256));
  hw.array_cols = int(r.chance(50) ? r.pick(sides) : r.in(1, 256));
  static const Dataflow flows[] = {Dataflow::OS, Dataflow::WS, Dataflow::IS};
  hw.dataflow = r.pick(flows);
  static const int64_t kib[] = {1, 1, 2, 3, 4, 8, 16, 64, 256, 512};
  hw.ifmap_sram_kb = r.pick(kib);
  hw.filter_sram_kb = r.pick(kib);
  hw.ofmap_sram_kb = r.pick(kib);
  static const double bws[] = {0.05, 0.25, 0.5, 1, 1.5, 2, 3.7, 8, 16, 64, 256};
  hw.dram_bytes_per_cycle = r.pick(bws);
  static const int64_t lats[] = {0, 0, 1, 10, 100, 1000};
  hw.dram_latency = r.pick(lats);
  hw.fold_overlap = r.chance(50);
  static const int ob[] = {1, 2, 4};
  hw.output_bytes = r.pick(ob);
  hw.input_bytes = r.chance(80) ? 1 : 2;
  if (r.chance(3)) hw.interface_bandwidth = "CALC";  // stall-free: no search
  return hw;
}

// A valid conv layer of random geometry.
inline Conv2dLayer random_conv(Rng& r) {
  for (;;) {
    Conv2dLayer c;
    c.in_h = r.in(1, 40), c.in_w = r.in(1, 40);
    c.groups = r.chance(70) ? 1 : r.in(1, 4);
    c.in_c = c.groups * r.in(1, 48);
    c.filters = c.groups * r.in(1, 96);
    c.kernel_h = r.in(1, 7), c.kernel_w = r.chance(70) ? c.kernel_h : r.in(1, 7);
    c.stride_h = r.in(1, 3), c.stride_w = r.chance(70) ? c.stride_h : r.in(1, 3);
    c.pad_h = r.in(0, 3), c.pad_w = r.in(0, 3);
    c.dilation_h = r.chance(80) ? 1 : 2, c.dilation_w = r.chance(80) ? 1 : 2;
    if (c.out_h() > 0 && c.out_w() > 0) return c;
  }
}

// A random GEMM op in `op`, a plain GEMM or (35 %) a random conv's lowered GEMM, and a context
// for it: a fused add's operand, A or C on chip, or none (ctx.conv points into op).
inline GemmContext random_gemm(Rng& r, const HwSpec& hw, GemmOp& op) {
  op = GemmOp{};
  op.shape = GemmShape{dim(r), dim(r), dim(r)};
  if (r.chance(35)) op = *as_gemm(lower(make_layer("conv", random_conv(r), r.in(1, 3))).at(0));
  OpPlacement place;
  if (r.chance(30)) place.side_op = -1, place.side_on_chip = r.chance(30);
  place.input_on_chip = r.chance(20);
  place.output_on_chip = r.chance(20);
  return gemm_context(hw, op, r.chance(60) ? &place : nullptr);
}

}  // namespace ssim::plan_cases
