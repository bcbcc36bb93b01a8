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

// The geometry of a conv's im2col GEMM (one group): row m of A is output pixel m (image
// m / (out_h * out_w), then row-major), column k is filter tap (kh, kw, c) with c fastest:
// k = (kh * kernel_w + kw) * channels + c. The ifmap buffer holds raw input rows and the address
// generator expands windows (docs/memory-system.md, "Convolutions: im2col on chip").
struct ConvGeom {
  int64_t batch = 1;
  int64_t in_h = 0, in_w = 0, channels = 0;  // channels of one group
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t out_h = 0, out_w = 0;
  int64_t m_base = 0;  // A's row 0 is output pixel m_base (a sub-GEMM of rows m_base ..)
};

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
  bool has_conv = false;  // a conv's im2col GEMM: A is read as raw input rows (conv)
  ConvGeom conv;
  uint64_t macs() const { return uint64_t(repeat) * shape.macs(); }
};

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
