// The network schedule (docs/network-schedule.md): which vector ops a GEMM's output stage applies
// (fusion) and which tensors stay in the ifmap buffer between the ops that produce and read them
// (residency), decided over the network's data flow (Layer::from) before anything runs. The ops
// then run one after another as before (sim/run/network_run.*), each with its placement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/program.hpp"
#include "sim/spec/config.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim {

struct OpPlacement {
  // Fusion. A fused vector op runs in the output stage of GEMM op `fused_into` (and costs no
  // time or traffic of its own); a GEMM lists the ops its stage applies, in order.
  int fused_into = -1;
  std::vector<int> fused;
  Program::OutputStage stage;   // a GEMM's output stage (passes 0: nothing fused)
  int64_t stored_outputs = -1;  // a GEMM whose stage pools: the outputs it writes (-1: all)
  int side_op = -2;             // a fused add's second operand: the op that made it (-1: a
                                // parameter from DRAM; -2: no fused add)
  bool side_on_chip = false;    // ... and it is in the ifmap buffer (no DRAM read)

  // Residency.
  int input_op = -1;                 // the op whose output this op reads first (A; -1: none/DRAM)
  bool input_on_chip = false;        // GEMM: A is in the ifmap buffer; vector op: all its inputs
  int64_t input_dram_elements = -1;  // vector op: inputs read from DRAM (-1: all of them)
  bool output_on_chip = false;       // its (final) outputs stay in the ifmap buffer, not written
};

struct NetworkPlan {
  std::vector<OpPlacement> ops;  // one per lowered op
  int64_t resident_budget = 0;   // bytes of the ifmap buffer resident tensors may take
};

// The placements of `ops` = lower(net) on `hw` (hw.fusion, hw.residency). Throws InputError if
// a layer's `from` names no earlier layer.
NetworkPlan plan_network(const HwSpec& hw, const Network& net, const std::vector<Op>& ops);

// The output elements of an op (a GEMM: repeat * M * N).
int64_t op_outputs(const Op& op);

}  // namespace ssim
