// Layers and networks: what a workload is before it is lowered to GEMM and vector ops
// (workloads/lower.hpp). The file formats and the lowering rules are described in
// docs/workloads.md.
//
// Every layer describes ONE sample; Layer::batch multiplies it (conv and pool: batch images,
// linear and attention: batch sequences, elementwise and softmax: batch copies of the elements,
// raw GEMM: batch independent GEMMs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ssim {

// Data type of a layer's operands. Recorded as given; the array computes int8 x int8 -> int32.
enum class DataType { Int8, Int16, Int32, Fp16, Bf16, Fp32 };
std::string to_string(DataType t);             // "int8", "int16", "int32", "fp16", "bf16", "fp32"
DataType parse_data_type(std::string_view s);  // throws InputError naming the allowed values
int bytes_of(DataType t);                      // 1, 2, 4, 2, 2, 4

// Activation applied to a conv or linear layer's output (a vector op after the GEMM).
enum class Activation { None, Relu, Relu6, Gelu, Silu, Sigmoid, Tanh };
std::string to_string(Activation a);              // "none", "relu", "relu6", ...
Activation parse_activation(std::string_view s);  // throws InputError naming the allowed values

// What an elementwise layer computes. Add and Mul read two operands; the others read one.
// LayerNorm normalises rows; as a vector op it is charged per element like the others.
enum class ElementwiseOp { Add, Mul, Relu, Relu6, Gelu, Silu, Sigmoid, Tanh, LayerNorm };
std::string to_string(ElementwiseOp op);                 // "add", "mul", "relu", ..., "layernorm"
ElementwiseOp parse_elementwise_op(std::string_view s);  // throws InputError

enum class PoolOp { Max, Avg };
std::string to_string(PoolOp op);          // "max", "avg"
PoolOp parse_pool_op(std::string_view s);  // throws InputError

// 2-D convolution (cross-correlation) of one H x W x C image with `filters` R x S filters.
// groups splits channels and filters into `groups` independent convolutions (depthwise:
// groups == in_c). Output size: Ho = floor((H + 2*pad_h - dilation_h*(R-1) - 1) / stride_h) + 1.
struct Conv2dLayer {
  int64_t in_h = 0, in_w = 0, in_c = 0;
  int64_t filters = 0;
  int64_t kernel_h = 0, kernel_w = 0;  // R, S
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // zeros added on each side
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool bias = false;  // folded into the accumulator (no vector op)
  Activation activation = Activation::None;
  int64_t out_h() const;  // may be <= 0 for an invalid layer (see layer_problem)
  int64_t out_w() const;
};

// Fully connected layer on `tokens` tokens per sample: [tokens x in] * [in x out].
struct LinearLayer {
  int64_t tokens = 1;
  int64_t in = 0, out = 0;
  bool bias = false;  // folded into the accumulator (no vector op)
  Activation activation = Activation::None;
};

// Multi-head attention with Q, K, V and output projections (d_model -> heads*d_head -> d_model).
// Self-attention (cross == false): `seq` new tokens attend to kv >= seq positions; the K and V
// projections run on the seq new tokens only and the other kv - seq positions come from a KV
// cache (a decode step is seq = 1, kv = N). Cross-attention (cross == true): the seq tokens
// attend to kv tokens of another sequence, whose K and V projections are computed here.
// causal masks future positions inside the softmax; it does not change any GEMM shape.
// projections == false is the attention core alone (Q K^T, softmax, P V) on Q, K and V computed
// by other layers (an ONNX model's own projection MatMuls): `from` then names up to three layers,
// the producers of Q, K and V.
struct AttentionLayer {
  int64_t seq = 0;
  int64_t kv = 0;  // 0: same as seq
  int64_t d_model = 0;
  int64_t heads = 0;
  int64_t d_head = 0;  // 0: d_model / heads
  bool causal = false;
  bool cross = false;
  bool bias = false;        // projections have a bias, folded into the accumulator
  bool projections = true;  // false: no q, k, v and out GEMMs (see above)
  int64_t kv_len() const { return kv > 0 ? kv : seq; }
  int64_t head_dim() const { return d_head > 0 ? d_head : (heads > 0 ? d_model / heads : 0); }
};

// A vector-unit operation on `elements` elements per sample.
struct ElementwiseLayer {
  ElementwiseOp op = ElementwiseOp::Add;
  int64_t elements = 0;
  // LayerNorm: elements per normalised row (the last dimension); it divides `elements`. 0 means
  // one row over all elements. YAML `row:`, or the last entry of `shape:`.
  int64_t row = 0;
};

// Max or average pooling of an H x W x C image (zero/ignored padding, as torch's pooling).
struct PoolLayer {
  PoolOp op = PoolOp::Max;
  int64_t in_h = 0, in_w = 0, channels = 0;
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t out_h() const;
  int64_t out_w() const;
};

// Softmax over `rows` rows of `length` elements each (per sample).
struct SoftmaxLayer {
  int64_t rows = 0, length = 0;
};

// A raw GEMM C[M x N] = A[M x K] * B[K x N]. B are weights unless b_weight is false (a MatMul of
// two activations, e.g. an ONNX batched MatMul outside attention; `from` may then name B's
// producer second).
struct GemmLayer {
  int64_t M = 0, N = 0, K = 0;
  bool b_weight = true;
};

// The alternatives of LayerParams are in the order of LayerType.
enum class LayerType { Conv2d, Linear, Attention, Elementwise, Pool, Softmax, Gemm };
std::string to_string(LayerType t);              // "conv2d", "linear", "attention", ..., "gemm"
LayerType parse_layer_type(std::string_view s);  // throws InputError naming the allowed values
using LayerParams = std::variant<Conv2dLayer, LinearLayer, AttentionLayer, ElementwiseLayer,
                                 PoolLayer, SoftmaxLayer, GemmLayer>;

struct Layer {
  std::string name;
  int64_t batch = 1;
  DataType dtype = DataType::Int8;
  LayerParams params;
  // The earlier layers whose outputs it reads (YAML `from`), in order; empty: the layer before
  // it (the first layer reads the network's input). A binary elementwise layer with one name
  // here adds a constant (a parameter read from DRAM). See docs/workloads.md, "Data flow".
  std::vector<std::string> from;
  LayerType type() const { return static_cast<LayerType>(params.index()); }
};

template <class P>
Layer make_layer(std::string name, P params, int64_t batch = 1, DataType dtype = DataType::Int8) {
  return Layer{std::move(name), batch, dtype, LayerParams(std::move(params)), {}};
}

// The most layers a workload may have, and the most ops it may lower to (docs/bad-input.md,
// "Limits"): a run keeps a few KB per op (the layer, the op, its results and its lines in the
// report files), so that a workload at the limit stays far below the memory of a small machine.
// Each reader refuses a file with more layers while it reads it, lower() a network with more ops.
constexpr size_t kMaxWorkloadOps = size_t(1) << 18;  // 262,144
// "more than the 262144 a workload may hold (...); split it into several runs", for messages.
std::string workload_limit_text(const char* what);

struct Network {
  std::string name;
  std::string source;  // file it was read from ("" if built in code)
  int64_t batch = 1;   // the default batch its layers were read with
  DataType dtype = DataType::Int8;
  std::vector<Layer> layers;
};

// What is wrong with a layer's parameters (one line, without the layer's name), or "" if it is
// valid: non-positive sizes, groups that do not divide channels and filters, heads that do not
// divide d_model, an output size that is not positive, kv < seq for self-attention, sizes so
// large that element counts would overflow.
std::string layer_problem(const Layer& layer);

// Throws InputError("layer 'NAME': PROBLEM") if layer_problem() is not empty.
void validate(const Layer& layer);
// Validates every layer; the message also names the network and the layer's index.
void validate(const Network& net);

}  // namespace ssim
