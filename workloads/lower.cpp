#include "workloads/lower.hpp"

namespace ssim {

const std::string& op_name(const Op& op) {
  return std::visit([](const auto& o) -> const std::string& { return o.name; }, op);
}

int op_layer(const Op& op) {
  return std::visit([](const auto& o) { return o.layer; }, op);
}

namespace {

VectorKind activation_kind(Activation a) {
  switch (a) {
    case Activation::Relu:
      return VectorKind::Relu;
    case Activation::Relu6:
      return VectorKind::Relu6;
    case Activation::Gelu:
      return VectorKind::Gelu;
    case Activation::Silu:
      return VectorKind::Silu;
    case Activation::Sigmoid:
      return VectorKind::Sigmoid;
    case Activation::Tanh:
      return VectorKind::Tanh;
    case Activation::None:
      break;
  }
  return VectorKind::Relu;  // not reached for Activation::None
}

VectorKind elementwise_kind(ElementwiseOp op) {
  switch (op) {
    case ElementwiseOp::Add:
      return VectorKind::Add;
    case ElementwiseOp::Mul:
      return VectorKind::Mul;
    case ElementwiseOp::Relu:
      return VectorKind::Relu;
    case ElementwiseOp::Relu6:
      return VectorKind::Relu6;
    case ElementwiseOp::Gelu:
      return VectorKind::Gelu;
    case ElementwiseOp::Silu:
      return VectorKind::Silu;
    case ElementwiseOp::Sigmoid:
      return VectorKind::Sigmoid;
    case ElementwiseOp::Tanh:
      return VectorKind::Tanh;
    case ElementwiseOp::LayerNorm:
      return VectorKind::LayerNorm;
  }
  return VectorKind::Add;
}

class Emitter {
 public:
  Emitter(const Layer& layer, int index) : layer_(layer), index_(index) {}

  void gemm(const std::string& part, int64_t M, int64_t N, int64_t K, int64_t repeat, bool bias,
            bool b_is_weight) {
    GemmOp g;
    g.name = full_name(part);
    g.shape = GemmShape{M, N, K};
    g.repeat = repeat;
    g.bias = bias;
    g.b_is_weight = b_is_weight;
    g.layer = index_;
    g.layer_name = layer_.name;
    ops_.emplace_back(std::move(g));
  }

  void vector(const std::string& part, VectorKind kind, int64_t elements, int64_t inputs,
              int64_t outputs, int64_t row = 0) {
    VectorOp v;
    v.row = row;
    v.name = full_name(part);
    v.kind = kind;
    v.elements = elements;
    v.inputs = inputs;
    v.outputs = outputs;
    v.layer = index_;
    v.layer_name = layer_.name;
    ops_.emplace_back(std::move(v));
  }

  // The last GEMM emitted is a conv's im2col GEMM.
  void set_conv(const ConvGeom& c) {
    GemmOp& g = std::get<GemmOp>(ops_.back());
    g.has_conv = true;
    g.conv = c;
  }

  // An activation over n elements, named after it ("fc1.relu").
  void activation(Activation a, int64_t n) {
    if (a == Activation::None) return;
    vector(to_string(a), activation_kind(a), n, n, n);
  }

  std::vector<Op> take() { return std::move(ops_); }

 private:
  std::string full_name(const std::string& part) const {
    return part.empty() ? layer_.name : layer_.name + "." + part;
  }
  const Layer& layer_;
  int index_;
  std::vector<Op> ops_;
};

}  // namespace

std::vector<Op> lower(const Layer& layer, int layer_index) {
  validate(layer);
  Emitter e(layer, layer_index);
  const int64_t B = layer.batch;
  switch (layer.type()) {
    case LayerType::Conv2d: {
      // im2col: one row per output pixel, one column per (r, s, c) of a group's receptive field.
      const auto& p = std::get<Conv2dLayer>(layer.params);
      const int64_t M = B * p.out_h() * p.out_w();
      const int64_t K = p.kernel_h * p.kernel_w * (p.in_c / p.groups);
      const int64_t N = p.filters / p.groups;
      e.gemm("", M, N, K, p.groups, p.bias, true);
      ConvGeom c;
      c.batch = B;
      c.in_h = p.in_h, c.in_w = p.in_w, c.channels = p.in_c / p.groups;
      c.kernel_h = p.kernel_h, c.kernel_w = p.kernel_w;
      c.stride_h = p.stride_h, c.stride_w = p.stride_w;
      c.pad_h = p.pad_h, c.pad_w = p.pad_w;
      c.dilation_h = p.dilation_h, c.dilation_w = p.dilation_w;
      c.out_h = p.out_h(), c.out_w = p.out_w();
      e.set_conv(c);
      e.activation(p.activation, M * p.filters);
      break;
    }
    case LayerType::Linear: {
      const auto& p = std::get<LinearLayer>(layer.params);
      const int64_t M = B * p.tokens;
      e.gemm("", M, p.out, p.in, 1, p.bias, true);
      e.activation(p.activation, M * p.out);
      break;
    }
    case LayerType::Attention: {
      const auto& p = std::get<AttentionLayer>(layer.params);
      const int64_t S = p.seq, L = p.kv_len(), H = p.heads, dh = p.head_dim();
      const int64_t kv_tokens = p.cross ? L : S;  // self-attention: the rest is in the KV cache
      if (!p.projections) {                       // the attention core alone
        e.gemm("qk", S, L, dh, H * B, false, false);
        const int64_t scores = B * H * S * L;
        e.vector("softmax", VectorKind::Softmax, scores, scores, scores, L);
        e.gemm("av", S, dh, L, H * B, false, false);
        break;
      }
      e.gemm("q", B * S, H * dh, p.d_model, 1, p.bias, true);
      e.gemm("k", B * kv_tokens, H * dh, p.d_model, 1, p.bias, true);
      e.gemm("v", B * kv_tokens, H * dh, p.d_model, 1, p.bias, true);
      e.gemm("qk", S, L, dh, H * B, false, false);
      const int64_t scores = B * H * S * L;
      e.vector("softmax", VectorKind::Softmax, scores, scores, scores, L);
      e.gemm("av", S, dh, L, H * B, false, false);
      e.gemm("out", B * S, p.d_model, H * dh, 1, p.bias, true);
      break;
    }
    case LayerType::Elementwise: {
      const auto& p = std::get<ElementwiseLayer>(layer.params);
      const int64_t n = B * p.elements;
      const bool binary = p.op == ElementwiseOp::Add || p.op == ElementwiseOp::Mul;
      const bool rows = p.op == ElementwiseOp::LayerNorm;
      e.vector("", elementwise_kind(p.op), n, binary ? 2 * n : n, n,
               rows ? (p.row > 0 ? p.row : p.elements) : 0);
      break;
    }
    case LayerType::Pool: {
      const auto& p = std::get<PoolLayer>(layer.params);
      const int64_t out = B * p.out_h() * p.out_w() * p.channels;
      e.vector("", p.op == PoolOp::Max ? VectorKind::MaxPool : VectorKind::AvgPool,
               out * p.kernel_h * p.kernel_w, B * p.in_h * p.in_w * p.channels, out);
      break;
    }
    case LayerType::Softmax: {
      const auto& p = std::get<SoftmaxLayer>(layer.params);
      const int64_t n = B * p.rows * p.length;
      e.vector("", VectorKind::Softmax, n, n, n, p.length);
      break;
    }
    case LayerType::Gemm: {
      const auto& p = std::get<GemmLayer>(layer.params);
      e.gemm("", p.M, p.N, p.K, B, false, p.b_weight);
      break;
    }
  }
  return e.take();
}

std::vector<Op> lower(const Network& net) {
  std::vector<Op> ops;
  const std::string where = net.source.empty() ? "" : net.source + ": ";
  if (net.layers.size() > kMaxWorkloadOps)
    throw InputError(where + "network '" + net.name + "' has " + std::to_string(net.layers.size()) +
                     " layers: " + workload_limit_text("layers"));
  for (size_t i = 0; i < net.layers.size(); ++i) {
    try {
      for (Op& op : lower(net.layers[i], static_cast<int>(i))) ops.push_back(std::move(op));
    } catch (const InputError& err) {
      throw InputError("network '" + net.name + "', layer " + std::to_string(i) + ": " +
                       err.what());
    }
    if (ops.size() > kMaxWorkloadOps)
      throw InputError(where + "network '" + net.name + "': its layer " + std::to_string(i) + " '" +
                       net.layers[i].name + "' ends at op " + std::to_string(ops.size()) + ", " +
                       workload_limit_text("ops"));
  }
  return ops;
}

uint64_t total_macs(const std::vector<Op>& ops) {
  uint64_t s = 0;
  for (const Op& op : ops)
    if (const GemmOp* g = as_gemm(op)) s += g->macs();
  return s;
}

uint64_t layer_macs(const Layer& layer) {
  return total_macs(lower(layer));
}

uint64_t total_vector_elements(const std::vector<Op>& ops) {
  uint64_t s = 0;
  for (const Op& op : ops)
    if (const VectorOp* v = as_vector(op)) s += uint64_t(v->elements);
  return s;
}

}  // namespace ssim
