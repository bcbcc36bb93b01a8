#include "workloads/layer.hpp"

#include <algorithm>
#include <sstream>

#include "models/types.hpp"
#include "workloads/read_util.hpp"

namespace ssim {

// The names of the enum values (to_string() below, as text without a string).
static std::string_view name_of(DataType t);
static std::string_view name_of(Activation a);
static std::string_view name_of(ElementwiseOp op);
static std::string_view name_of(PoolOp op);
static std::string_view name_of(LayerType t);

namespace {

template <class E, size_t N>
E parse_enum(const char* what, std::string_view s, const E (&values)[N]) {
  for (E v : values)
    if (detail::equals_lowered(s, name_of(v))) return v;
  std::string allowed;
  for (E v : values) (allowed += allowed.empty() ? "" : ", ") += name_of(v);
  throw InputError(std::string("unknown ") + what + " '" + std::string(s) +
                   "'; allowed: " + allowed);
}

// floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1, or <= 0 when the window does not fit.
int64_t window_out(int64_t in, int64_t pad, int64_t dil, int64_t k, int64_t stride) {
  if (stride <= 0) return 0;
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  if (span < 0) return 0;
  return span / stride + 1;
}

// Largest value accepted for a single size, and for a derived element or MAC count.
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
constexpr double kMaxCount = 4.0e18;

}  // namespace

static std::string_view name_of(DataType t) {
  switch (t) {
    case DataType::Int8:
      return "int8";
    case DataType::Int16:
      return "int16";
    case DataType::Int32:
      return "int32";
    case DataType::Fp16:
      return "fp16";
    case DataType::Bf16:
      return "bf16";
    case DataType::Fp32:
      return "fp32";
  }
  return "?";
}

std::string to_string(DataType t) {
  return std::string(name_of(t));
}

DataType parse_data_type(std::string_view s) {
  static const DataType all[] = {DataType::Int8, DataType::Int16, DataType::Int32,
                                 DataType::Fp16, DataType::Bf16,  DataType::Fp32};
  return parse_enum("data type", s, all);
}

int bytes_of(DataType t) {
  switch (t) {
    case DataType::Int8:
      return 1;
    case DataType::Int16:
      return 2;
    case DataType::Int32:
      return 4;
    case DataType::Fp16:
      return 2;
    case DataType::Bf16:
      return 2;
    case DataType::Fp32:
      return 4;
  }
  return 1;
}

static std::string_view name_of(Activation a) {
  switch (a) {
    case Activation::None:
      return "none";
    case Activation::Relu:
      return "relu";
    case Activation::Relu6:
      return "relu6";
    case Activation::Gelu:
      return "gelu";
    case Activation::Silu:
      return "silu";
    case Activation::Sigmoid:
      return "sigmoid";
    case Activation::Tanh:
      return "tanh";
  }
  return "?";
}

std::string to_string(Activation a) {
  return std::string(name_of(a));
}

Activation parse_activation(std::string_view s) {
  static const Activation all[] = {Activation::None, Activation::Relu, Activation::Relu6,
                                   Activation::Gelu, Activation::Silu, Activation::Sigmoid,
                                   Activation::Tanh};
  return parse_enum("activation", s, all);
}

static std::string_view name_of(ElementwiseOp op) {
  switch (op) {
    case ElementwiseOp::Add:
      return "add";
    case ElementwiseOp::Mul:
      return "mul";
    case ElementwiseOp::Relu:
      return "relu";
    case ElementwiseOp::Relu6:
      return "relu6";
    case ElementwiseOp::Gelu:
      return "gelu";
    case ElementwiseOp::Silu:
      return "silu";
    case ElementwiseOp::Sigmoid:
      return "sigmoid";
    case ElementwiseOp::Tanh:
      return "tanh";
    case ElementwiseOp::LayerNorm:
      return "layernorm";
  }
  return "?";
}

std::string to_string(ElementwiseOp op) {
  return std::string(name_of(op));
}

ElementwiseOp parse_elementwise_op(std::string_view s) {
  static const ElementwiseOp all[] = {
      ElementwiseOp::Add,     ElementwiseOp::Mul,  ElementwiseOp::Relu,
      ElementwiseOp::Relu6,   ElementwiseOp::Gelu, ElementwiseOp::Silu,
      ElementwiseOp::Sigmoid, ElementwiseOp::Tanh, ElementwiseOp::LayerNorm};
  return parse_enum("elementwise op", s, all);
}

static std::string_view name_of(PoolOp op) {
  return op == PoolOp::Max ? std::string_view("max") : "avg";
}

std::string to_string(PoolOp op) {
  return std::string(name_of(op));
}

PoolOp parse_pool_op(std::string_view s) {
  static const PoolOp all[] = {PoolOp::Max, PoolOp::Avg};
  return parse_enum("pool op", s, all);
}

static std::string_view name_of(LayerType t) {
  switch (t) {
    case LayerType::Conv2d:
      return "conv2d";
    case LayerType::Linear:
      return "linear";
    case LayerType::Attention:
      return "attention";
    case LayerType::Elementwise:
      return "elementwise";
    case LayerType::Pool:
      return "pool";
    case LayerType::Softmax:
      return "softmax";
    case LayerType::Gemm:
      return "gemm";
  }
  return "?";
}

std::string to_string(LayerType t) {
  return std::string(name_of(t));
}

LayerType parse_layer_type(std::string_view s) {
  static const LayerType all[] = {LayerType::Conv2d,      LayerType::Linear, LayerType::Attention,
                                  LayerType::Elementwise, LayerType::Pool,   LayerType::Softmax,
                                  LayerType::Gemm};
  return parse_enum("layer type", s, all);
}

int64_t Conv2dLayer::out_h() const {
  return window_out(in_h, pad_h, dilation_h, kernel_h, stride_h);
}
int64_t Conv2dLayer::out_w() const {
  return window_out(in_w, pad_w, dilation_w, kernel_w, stride_w);
}
int64_t PoolLayer::out_h() const {
  return window_out(in_h, pad_h, 1, kernel_h, stride_h);
}
int64_t PoolLayer::out_w() const {
  return window_out(in_w, pad_w, 1, kernel_w, stride_w);
}

namespace {

// Collects the first problem found; the checks read like a specification.
class Checker {
 public:
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }
  void fail(const std::string& msg) {
    if (problem_.empty()) problem_ = msg;
  }
  void positive(const char* field, int64_t v) {
    if (!ok()) return;
    if (v <= 0)
      fail(std::string(field) + " is " + std::to_string(v) + ", must be a positive integer");
    else if (v > kMaxDim)
      fail(std::string(field) + " is " + std::to_string(v) + ", must be at most " +
           std::to_string(kMaxDim));
  }
  void non_negative(const char* field, int64_t v) {
    if (!ok()) return;
    if (v < 0)
      fail(std::string(field) + " is " + std::to_string(v) + ", must be 0 or more");
    else if (v > kMaxDim)
      fail(std::string(field) + " is " + std::to_string(v) + ", must be at most " +
           std::to_string(kMaxDim));
  }
  void count(const char* what, std::initializer_list<int64_t> factors) {
    if (!ok()) return;
    double p = 1;
    for (int64_t f : factors) p *= double(f);
    if (p > kMaxCount) {
      std::ostringstream os;
      os << what << " would be " << p << ", more than the " << kMaxCount << " allowed";
      fail(os.str());
    }
  }

 private:
  std::string problem_;
};

std::string out_size_problem(const char* dim, int64_t in, int64_t pad, int64_t dil, int64_t k) {
  std::ostringstream os;
  os << "output " << dim << " is not positive: input " << in << " + 2*padding " << pad
     << " is smaller than the ";
  if (dil != 1)
    os << "dilated kernel " << dil * (k - 1) + 1 << " (kernel " << k << ", dilation " << dil << ")";
  else
    os << "kernel " << k;
  return os.str();
}

}  // namespace

std::string layer_problem(const Layer& layer) {
  Checker c;
  c.positive("batch", layer.batch);
  if (!c.ok()) return c.problem();
  const int64_t B = layer.batch;
  switch (layer.type()) {
    case LayerType::Conv2d: {
      const auto& p = std::get<Conv2dLayer>(layer.params);
      c.positive("in_h", p.in_h);
      c.positive("in_w", p.in_w);
      c.positive("in_c", p.in_c);
      c.positive("filters", p.filters);
      c.positive("kernel_h", p.kernel_h);
      c.positive("kernel_w", p.kernel_w);
      c.positive("stride_h", p.stride_h);
      c.positive("stride_w", p.stride_w);
      c.non_negative("pad_h", p.pad_h);
      c.non_negative("pad_w", p.pad_w);
      c.positive("dilation_h", p.dilation_h);
      c.positive("dilation_w", p.dilation_w);
      c.positive("groups", p.groups);
      if (!c.ok()) break;
      if (p.in_c % p.groups != 0)
        c.fail("groups " + std::to_string(p.groups) + " does not divide in_c " +
               std::to_string(p.in_c));
      else if (p.filters % p.groups != 0)
        c.fail("groups " + std::to_string(p.groups) + " does not divide filters " +
               std::to_string(p.filters));
      else if (p.out_h() <= 0)
        c.fail(out_size_problem("height", p.in_h, p.pad_h, p.dilation_h, p.kernel_h));
      else if (p.out_w() <= 0)
        c.fail(out_size_problem("width", p.in_w, p.pad_w, p.dilation_w, p.kernel_w));
      c.count("the im2col matrix size", {B, p.out_h(), p.out_w(), p.kernel_h, p.kernel_w, p.in_c});
      c.count("the MAC count",
              {B, p.out_h(), p.out_w(), p.kernel_h, p.kernel_w, p.in_c / p.groups, p.filters});
      c.count("the input size", {B, p.in_h, p.in_w, p.in_c});
      break;
    }
    case LayerType::Linear: {
      const auto& p = std::get<LinearLayer>(layer.params);
      c.positive("tokens", p.tokens);
      c.positive("in", p.in);
      c.positive("out", p.out);
      c.count("the MAC count", {B, p.tokens, p.in, p.out});
      break;
    }
    case LayerType::Attention: {
      const auto& p = std::get<AttentionLayer>(layer.params);
      c.positive("seq", p.seq);
      c.non_negative("kv", p.kv);
      c.positive("d_model", p.d_model);
      c.positive("heads", p.heads);
      c.non_negative("d_head", p.d_head);
      if (!c.ok()) break;
      if (p.d_head == 0 && p.d_model % p.heads != 0)
        c.fail("heads " + std::to_string(p.heads) + " does not divide d_model " +
               std::to_string(p.d_model) + " (give d_head explicitly)");
      else if (!p.cross && p.kv_len() < p.seq)
        c.fail("kv " + std::to_string(p.kv_len()) + " is smaller than seq " +
               std::to_string(p.seq) +
               ": in self-attention the new tokens are part of the keys (use cross: true for "
               "cross-attention)");
      else if (p.causal && p.kv_len() < p.seq)
        c.fail("causal attention with kv " + std::to_string(p.kv_len()) + " < seq " +
               std::to_string(p.seq) + " leaves the first queries with no key to attend to");
      c.count("the attention score count", {B, p.heads, p.seq, p.kv_len()});
      c.count("the MAC count", {B, p.heads, p.seq, p.kv_len(), p.head_dim()});
      c.count("the MAC count", {B, p.kv_len(), p.d_model, p.heads, p.head_dim()});
      break;
    }
    case LayerType::Elementwise: {
      const auto& p = std::get<ElementwiseLayer>(layer.params);
      c.positive("elements", p.elements);
      c.non_negative("row", p.row);
      if (c.ok() && p.row > 0 && p.elements % p.row != 0)
        c.fail("row " + std::to_string(p.row) + " does not divide elements " +
               std::to_string(p.elements));
      c.count("the element count", {B, p.elements, 2});
      break;
    }
    case LayerType::Pool: {
      const auto& p = std::get<PoolLayer>(layer.params);
      c.positive("in_h", p.in_h);
      c.positive("in_w", p.in_w);
      c.positive("channels", p.channels);
      c.positive("kernel_h", p.kernel_h);
      c.positive("kernel_w", p.kernel_w);
      c.positive("stride_h", p.stride_h);
      c.positive("stride_w", p.stride_w);
      c.non_negative("pad_h", p.pad_h);
      c.non_negative("pad_w", p.pad_w);
      if (!c.ok()) break;
      // As PyTorch's pooling: a window that could lie wholly in the padding has no input.
      if (2 * p.pad_h > p.kernel_h || 2 * p.pad_w > p.kernel_w) {
        const bool h = 2 * p.pad_h > p.kernel_h;
        c.fail("padding " + std::to_string(h ? p.pad_h : p.pad_w) + " is more than half the " +
               (h ? "kernel height " : "kernel width ") +
               std::to_string(h ? p.kernel_h : p.kernel_w) +
               "; a pooling padding may be at most half the kernel (as in PyTorch)");
        break;
      }
      if (p.out_h() <= 0)
        c.fail(out_size_problem("height", p.in_h, p.pad_h, 1, p.kernel_h));
      else if (p.out_w() <= 0)
        c.fail(out_size_problem("width", p.in_w, p.pad_w, 1, p.kernel_w));
      c.count("the input size", {B, p.in_h, p.in_w, p.channels});
      c.count("the operation count", {B, p.out_h(), p.out_w(), p.channels, p.kernel_h, p.kernel_w});
      break;
    }
    case LayerType::Softmax: {
      const auto& p = std::get<SoftmaxLayer>(layer.params);
      c.positive("rows", p.rows);
      c.positive("length", p.length);
      c.count("the element count", {B, p.rows, p.length});
      break;
    }
    case LayerType::Gemm: {
      const auto& p = std::get<GemmLayer>(layer.params);
      c.positive("M", p.M);
      c.positive("N", p.N);
      c.positive("K", p.K);
      c.count("the MAC count", {B, p.M, p.N, p.K});
      break;
    }
  }
  return c.problem();
}

void validate(const Layer& layer) {
  const std::string p = layer_problem(layer);
  if (!p.empty()) throw InputError("layer '" + layer.name + "': " + p);
}

void validate(const Network& net) {
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const std::string p = layer_problem(net.layers[i]);
    if (!p.empty())
      throw InputError("network '" + net.name + "', layer " + std::to_string(i) + " '" +
                       net.layers[i].name + "': " + p);
  }
}

std::string workload_limit_text(const char* what) {
  return std::string("more than the ") + std::to_string(kMaxWorkloadOps) + " " + what +
         " a workload may hold (a run keeps a few KB per op); split it into several runs";
}

}  // namespace ssim
