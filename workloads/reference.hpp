// Plain reference implementations, to check the lowering (and, through a GemmFunction, any GEMM
// engine such as the value-carrying systolic array) against direct computations.
//
// Layouts (all row-major):
//   GEMM:   A [M][K] int8, B [K][N] int8, C [M][N] int32.
//   Conv:   input NHWC [batch][H][W][C] int8; weights OHWI [filters][R][S][C/groups] int8
//           (filter f belongs to group f / (filters/groups) and reads that group's channels);
//           output NHWC [batch][Ho][Wo][filters] int32.
//   im2col: for group g, A_g [M = batch*Ho*Wo][K = R*S*C/groups], row (n*Ho + y)*Wo + x,
//           column (r*S + s)*(C/groups) + c, zero where the window lies in the padding;
//           B_g [K][N = filters/groups], B_g[(r*S + s)*(C/groups) + c][j] = w[g*N + j][r][s][c].
//   Attention: x [batch][seq][d_model]; wq, wk, wv [d_model][heads*d_head] (column h*d_head + i
//           belongs to head h); wo [heads*d_head][d_model]; output [batch][seq][d_model].
//           Biases are not modelled (zero).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "models/types.hpp"
#include "workloads/layer.hpp"

namespace ssim {

// C += A * B with int8 operands and int32 accumulators, like the array (the caller zeroes C).
void reference_gemm(const GemmData& d);
// C = A * B, returned.
std::vector<int32_t> reference_gemm(const GemmShape& shape, const int8_t* A, const int8_t* B);

// A GEMM engine with reference_gemm's contract (accumulates into d.C). An empty function means
// reference_gemm.
using GemmFunction = std::function<void(const GemmData&)>;

// ---- convolution ------------------------------------------------------------------------------
// The layer must be a valid Conv2d layer (std::invalid_argument otherwise); layer.batch images.
int64_t conv_input_elements(const Layer& layer);   // batch*H*W*C
int64_t conv_weight_elements(const Layer& layer);  // filters*R*S*C/groups
int64_t conv_output_elements(const Layer& layer);  // batch*Ho*Wo*filters

// The im2col matrix A_g and the weight matrix B_g of group g (layouts above).
std::vector<int8_t> im2col(const Layer& layer, const int8_t* input, int64_t group);
std::vector<int8_t> conv_weight_matrix(const Layer& layer, const int8_t* weights, int64_t group);

// Direct convolution by its definition (seven nested loops), int32 output.
std::vector<int32_t> conv2d_direct(const Layer& layer, const int8_t* input, const int8_t* weights);

// Convolution through its lowering: takes the layer's GemmOp from lower(), and for each of its
// `repeat` groups runs gemm(im2col, weight matrix) and places the result in the NHWC output.
// Throws std::logic_error if the lowered shape does not match the im2col matrices.
std::vector<int32_t> conv2d_via_lowering(const Layer& layer, const int8_t* input,
                                         const int8_t* weights, const GemmFunction& gemm = {});

// ---- attention --------------------------------------------------------------------------------
struct AttentionInputs {
  std::vector<int8_t> x;  // [batch][seq][d_model]: the tokens that make the queries
  // Self-attention: [batch][kv - seq][d_model], the earlier tokens whose keys and values are in
  // the KV cache (empty when kv == seq); the seq new tokens follow them. Cross-attention:
  // [batch][kv][d_model], the other sequence.
  std::vector<int8_t> context;
  std::vector<int8_t> wq, wk, wv;  // [d_model][heads*d_head]
  std::vector<int8_t> wo;          // [heads*d_head][d_model]
  double x_scale = 1.0 / 128;      // real value of x and context = int8 * x_scale
  double w_scale = 1.0 / 128;      // real value of the weights = int8 * w_scale
};

// Random int8 inputs for an attention layer (uniform in [-127, 127]) with scales that keep the
// attention scores of order one, so the softmax is neither flat nor one-hot.
AttentionInputs random_attention_inputs(const Layer& layer, uint64_t seed);

// Multi-head attention computed directly in double precision: Q, K, V projections, scores
// Q K^T / sqrt(d_head) with the causal mask (query i, at position kv - seq + i, sees keys
// 0 .. kv - seq + i), softmax, weighted sum of V, output projection. Returns [batch][seq][d_model].
std::vector<double> attention_direct(const Layer& layer, const AttentionInputs& in);

// The same through the layer's lowering (lower()): every GemmOp runs on int8 operands with int32
// results through `gemm`; between GEMMs the results are requantised to int8 with one symmetric
// scale per tensor (max |value| -> 127), the softmax runs in float and its probabilities are
// quantised as round(127 * p). The keys and values of the KV-cache positions are computed with
// the same `gemm` (they are not among the layer's ops). Returns [batch][seq][d_model].
// Throws std::logic_error if the lowered shapes do not match the computation.
std::vector<double> attention_via_lowering(const Layer& layer, const AttentionInputs& in,
                                           const GemmFunction& gemm = {});

}  // namespace ssim
