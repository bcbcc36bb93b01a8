// What run_network() tells an observer of its ops (--traces: sim/report/traces.*, which sits
// above sim/run/ and implements it): each op's start, with its program, and its end.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/program.hpp"
#include "workloads/lower.hpp"

namespace ssim {

class OpObserver {
 public:
  virtual ~OpObserver() = default;
  // Op `row` of the run (its row in layers.csv) starts: `g` its GEMM (nullptr: a vector op),
  // `prog` its program.
  virtual void begin_op(size_t row, const GemmOp* g, const Program& prog) = 0;
  // The op ended after `total_cycles` (its job's length).
  virtual void end_op(int64_t total_cycles) = 0;

  // The observer run_network() reports to (nullptr: none).
  static OpObserver*& active() {
    static OpObserver* a = nullptr;
    return a;
  }
};

}  // namespace ssim
