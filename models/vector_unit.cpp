#include "models/vector_unit.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/sim_time.hpp"

namespace ssim {
namespace {

// Depth of a binary reduction tree over `lanes` values: ceil(log2 lanes), 0 for one lane.
int64_t tree_depth(int64_t lanes) {
  int64_t d = 0;
  while ((int64_t(1) << d) < lanes) ++d;
  return d;
}

VectorTimingTable make_default_timing() {
  VectorTimingTable t{};
  auto set = [&t](VectorKind k, int64_t passes, int64_t latency, int64_t reductions = 0,
                  int64_t row_latency = 0) {
    t[static_cast<size_t>(k)] = VectorKindTiming{passes, latency, reductions, row_latency};
  };
  // Why these numbers: docs/vector-unit.md, "Default timing".
  set(VectorKind::Add, 1, 2);
  set(VectorKind::Mul, 1, 2);
  set(VectorKind::Relu, 1, 2);
  set(VectorKind::Relu6, 1, 2);
  set(VectorKind::Sigmoid, 1, 6);
  set(VectorKind::Tanh, 1, 6);
  set(VectorKind::Silu, 1, 7);
  set(VectorKind::Gelu, 2, 8);
  set(VectorKind::Softmax, 3, 2, 2, 9);
  set(VectorKind::LayerNorm, 2, 3, 1, 6);
  set(VectorKind::MaxPool, 1, 2);
  set(VectorKind::AvgPool, 1, 3);
  return t;
}

void check_cmd(const VectorCmd& cmd) {
  // The message's prefix is built only for a message (built always, it was 10 % of a ResNet-50
  // run's instructions: the planner asks for the cycles of many candidate chunks).
  const auto where = [&cmd] {
    return "vector unit: command " + std::to_string(cmd.id) + " (" + to_string(cmd.kind) + "): ";
  };
  if (cmd.elements < 1)
    throw std::logic_error(where() + "elements = " + std::to_string(cmd.elements) + ", need >= 1");
  if (cmd.inputs < 0)
    throw std::logic_error(where() + "inputs = " + std::to_string(cmd.inputs) + ", need >= 0");
  switch (vector_shape(cmd.kind)) {
    case VectorShape::Row:
      if (cmd.row < 0 || (cmd.row > 0 && cmd.elements % cmd.row != 0))
        throw std::logic_error(where() + "row = " + std::to_string(cmd.row) +
                               " does not divide elements = " + std::to_string(cmd.elements));
      break;
    case VectorShape::Window:
      if (cmd.window < 1)
        throw std::logic_error(where() + "window = " + std::to_string(cmd.window) + ", need >= 1");
      break;
    case VectorShape::Elementwise:
      break;
  }
}

}  // namespace

VectorShape vector_shape(VectorKind k) {
  switch (k) {
    case VectorKind::Softmax:
    case VectorKind::LayerNorm:
      return VectorShape::Row;
    case VectorKind::MaxPool:
    case VectorKind::AvgPool:
      return VectorShape::Window;
    default:
      return VectorShape::Elementwise;
  }
}

const VectorTimingTable& default_vector_timing() {
  static const VectorTimingTable t = make_default_timing();
  return t;
}

void validate_vector_config(const VectorConfig& cfg) {
  if (cfg.lanes < 1)
    throw InputError("VectorLanes = " + std::to_string(cfg.lanes) +
                     ": the vector unit needs an integer number of lanes >= 1");
  for (int i = 0; i < kNumVectorKinds; ++i) {
    const VectorKind k = static_cast<VectorKind>(i);
    const VectorKindTiming& t = cfg.timing[size_t(i)];
    // (Built only for a message: every job configures the unit.)
    const auto name = [k] { return "vector timing of '" + to_string(k) + "': "; };
    if (t.passes < 1)
      throw InputError(name() + "passes = " + std::to_string(t.passes) + ", allowed: >= 1");
    if (t.latency < 0)
      throw InputError(name() + "latency = " + std::to_string(t.latency) + ", allowed: >= 0");
    const bool row = vector_shape(k) == VectorShape::Row;
    if (t.reductions < 0 || (!row && t.reductions != 0))
      throw InputError(
          name() + "reductions = " + std::to_string(t.reductions) +
          (row ? ", allowed: >= 0" : ", allowed: 0 (only softmax and layernorm reduce)"));
    if (t.row_latency < 0 || (!row && t.row_latency != 0))
      throw InputError(
          name() + "row_latency = " + std::to_string(t.row_latency) +
          (row ? ", allowed: >= 0" : ", allowed: 0 (only softmax and layernorm have rows)"));
  }
}

int64_t vector_issue_cycles(const VectorConfig& cfg, const VectorCmd& cmd) {
  check_cmd(cmd);
  const VectorKindTiming& t = cfg[cmd.kind];
  const int64_t P = cfg.lanes;
  switch (vector_shape(cmd.kind)) {
    case VectorShape::Elementwise:
      return t.passes * ceil_div(cmd.elements, P);
    case VectorShape::Row: {
      const int64_t row = cmd.row > 0 ? cmd.row : cmd.elements;
      const int64_t rows = cmd.elements / row;
      return rows * (t.passes * ceil_div(row, P) + t.reductions * tree_depth(P) + t.row_latency);
    }
    case VectorShape::Window:
      return t.passes * cmd.window * ceil_div(cmd.elements, P);
  }
  return 0;  // not reached
}

int64_t vector_cycles(const VectorConfig& cfg, const VectorCmd& cmd) {
  return vector_issue_cycles(cfg, cmd) + cfg[cmd.kind].latency;
}

VectorUnit::VectorUnit(sc_core::sc_module_name name)
    : sc_core::sc_module(name), done_events("done_events") {}

void VectorUnit::configure(const VectorConfig& cfg, int64_t origin) {
  validate_vector_config(cfg);
  cfg_ = cfg;
  clock_ = JobClock{origin, -1};
  stats_ = VectorStats{};
  done_.clear();
  submitted_ = finished_ = 0;
  prev_start_ = prev_issue_ = 0;
  prev_end_ = -1;
}

void VectorUnit::submit(const VectorCmd& cmd) {
  const int64_t issue = vector_issue_cycles(cfg_, cmd);  // checks the command
  const VectorKindTiming& t = cfg_[cmd.kind];
  ++submitted_;
  const int64_t a = job_cycle();
  const int64_t start =
      cmd.after_previous ? std::max(a, prev_end_ + 1) : std::max(a, prev_start_ + prev_issue_);
  const int64_t end = std::max(start + issue + t.latency - 1, prev_end_);

  stats_.ops += 1;
  stats_.elements_read += uint64_t(cmd.inputs);
  stats_.elements_written += uint64_t(cmd.elements);
  switch (vector_shape(cmd.kind)) {
    case VectorShape::Elementwise:
      stats_.sram_reads += uint64_t(cmd.inputs);
      stats_.lane_ops += uint64_t(t.passes) * uint64_t(cmd.elements);
      break;
    case VectorShape::Row:
      stats_.sram_reads += uint64_t(t.passes) * uint64_t(cmd.elements);
      stats_.lane_ops += uint64_t(t.passes) * uint64_t(cmd.elements);
      break;
    case VectorShape::Window:
      stats_.sram_reads += uint64_t(cmd.window) * uint64_t(cmd.elements);
      stats_.lane_ops += uint64_t(t.passes) * uint64_t(cmd.window) * uint64_t(cmd.elements);
      break;
  }
  stats_.issue_cycles += issue;
  if (stats_.first_cycle < 0) stats_.first_cycle = start;
  stats_.idle_cycles += std::max<int64_t>(0, start - (prev_end_ + 1));
  stats_.last_cycle = end;

  prev_start_ = start;
  prev_issue_ = issue;
  prev_end_ = end;

  ++finished_;
  done_.push_back(VectorDone{cmd.id, start, end});
  clock_.notify_at(done_events, end);
}

bool VectorUnit::pop_done(VectorDone& out) {
  if (done_.empty() || !clock_.reached(done_.front().end_cycle)) return false;
  out = done_.front();
  done_.pop_front();
  return true;
}

}  // namespace ssim
