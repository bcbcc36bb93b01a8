// Lowering layers to the operations the accelerator runs: GEMMs on the systolic array and vector
// ops on the vector unit. The rules per layer type are in docs/workloads.md.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "models/types.hpp"
#include "workloads/layer.hpp"

namespace ssim {

// `repeat` independent GEMMs of the same shape, each with its own A and B (conv groups, attention
// heads times batch, a batched raw GEMM). MACs = repeat * M * N * K.
struct GemmOp {
  std::string name;  // "<layer>" or "<layer>.<part>" (attention: .q .k .v .qk .av .out)
  GemmShape shape;
  int64_t repeat = 1;
  bool bias = false;        // a bias is added; folded into the accumulator (no extra op)
  bool b_is_weight = true;  // B is a weight tensor (false: B is an activation, e.g. K^T and V)
  int layer = -1;           // index of the layer in its network
  std::string layer_name;
  uint64_t macs() const { return uint64_t(repeat) * shape.macs(); }
};

enum class VectorKind {
  Add,
  Mul,
  Relu,
  Relu6,
  Gelu,
  Silu,
  Sigmoid,
  Tanh,
  LayerNorm,
  Softmax,
  MaxPool,
  AvgPool
};
std::string to_string(VectorKind k);  // "add", "mul", ..., "softmax", "maxpool", "avgpool"

// One operation of the vector unit. `elements` is its work: one element operation per lane and
// cycle at the unit's base rate (for pooling: outputs * kernel window; otherwise the elements
// processed). `inputs` and `outputs` are the elements read and written.
struct VectorOp {
  std::string name;  // "<layer>" or "<layer>.<part>" (e.g. "fc1.relu", "attn.softmax")
  VectorKind kind = VectorKind::Add;
  int64_t elements = 0;
  int64_t inputs = 0;
  int64_t outputs = 0;
  // Softmax and layernorm: elements per row (a reduction runs over each row); 0 for other kinds.
  int64_t row = 0;
  int layer = -1;
  std::string layer_name;
};

using Op = std::variant<GemmOp, VectorOp>;

const std::string& op_name(const Op& op);
int op_layer(const Op& op);
inline const GemmOp* as_gemm(const Op& op) {
  return std::get_if<GemmOp>(&op);
}
inline const VectorOp* as_vector(const Op& op) {
  return std::get_if<VectorOp>(&op);
}

// The ops of one layer, in execution order; `layer_index` is recorded in each op. The layer must
// be valid (validate()); throws InputError otherwise.
std::vector<Op> lower(const Layer& layer, int layer_index = 0);

// The ops of a whole network, layer after layer.
std::vector<Op> lower(const Network& net);

// Sum of GemmOp::macs() over the ops.
uint64_t total_macs(const std::vector<Op>& ops);
// MACs of one layer's GEMMs.
uint64_t layer_macs(const Layer& layer);
// Sum of VectorOp::elements over the ops.
uint64_t total_vector_elements(const std::vector<Op>& ops);

}  // namespace ssim
