// Internal to the ONNX reader: the lowering of a shape-resolved ONNX graph (onnx_graph.hpp) to our
// layers. onnx_reader.cpp walks the graph (Lowering::run), onnx_patterns.cpp finds the fused
// patterns (attention, layer norm, GELU), onnx_lower_nodes.cpp lowers one node.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "workloads/layer.hpp"
#include "workloads/onnx_graph.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim::onnx_detail {

inline const char* const kSupportedOps =
    "Conv, ConvTranspose (skip only), Gemm, MatMul, BatchNormalization, Relu, Clip, LeakyRelu, "
    "Sigmoid, HardSigmoid, Tanh, Gelu, Erf (GELU pattern), HardSwish, Add, Sub, Mul, Div, Where, "
    "MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, ReduceMean/ReduceMax/ReduceSum/"
    "ReduceMin, Einsum (two operands), Softmax, LayerNormalization; cost nothing: Reshape, "
    "Transpose, Flatten, Squeeze, "
    "Unsqueeze, Concat, Split, Slice, Gather, Expand, Pad, Shape, Constant, ConstantOfShape, "
    "Identity, Dropout, Cast, and any op on integer or boolean tensors";

// ---------------------------------------------------------------------------------------------
// Lowering

struct Producer {
  int layer = -1;       // index in net.layers; -1: the network input or a constant
  bool direct = false;  // the layer's own output (not through a shape-only op)
};

class Lowering {
 public:
  Lowering(Graph& g, const OnnxOptions& opts, int64_t batch)
      : g_(g), opts_(opts), batch_(batch), gr_(g.model.graph()) {}

  Network run();

 private:
  using Node = onnx::NodeProto;

  const std::vector<int64_t>& shape_of(const Node& n, int idx, const std::string& t) {
    auto it = g_.shape.find(t);
    if (it == g_.shape.end())
      fail(g_.source, "node '" + label(idx) + "' (" + n.op_type() + "): tensor '" + t +
                          "' has no static shape after shape inference" + where_shapes_stop(t) +
                          " (a missing initializer or an input size the model leaves open)");
    return it->second;
  }
  // The first node upstream of t whose inputs have shapes but whose output has none.
  std::string where_shapes_stop(const std::string& t) const {
    std::string cur = t;
    for (int steps = 0; steps < 100000; ++steps) {
      auto m = made_by_.find(cur);
      if (m == made_by_.end()) return "";
      const Node& p = node(m->second);
      std::string next;
      for (const std::string& in : p.input())
        if (!in.empty() && !g_.shape.count(in)) {
          next = in;
          break;
        }
      if (next.empty()) {
        std::string shapes;
        for (const std::string& in : p.input()) {
          if (in.empty()) continue;
          std::string d;
          for (int64_t x : g_.shape.at(in)) d += (d.empty() ? "" : ",") + std::to_string(x);
          shapes += (shapes.empty() ? "" : " and ") + std::string("[") + d + "]";
        }
        return "; inference stops at node '" + label(m->second) + "' (" + p.op_type() +
               ", inputs " + shapes + ")";
      }
      cur = next;
    }
    return "";
  }
  std::string label(int idx) const { return node_label(gr_.node(idx), idx); }
  // An ints attribute whose entries must lie in [lo, hi].
  std::vector<int64_t> ints(int idx, const char* name, int64_t lo, int64_t hi) const {
    const std::vector<int64_t> v = attr_ints(node(idx), name);
    for (int64_t x : v)
      if (x < lo || x > hi)
        fail(g_.source, "node '" + label(idx) + "' (" + node(idx).op_type() + "): attribute '" +
                            name + "' has " + std::to_string(x) + "; expected " +
                            std::to_string(lo) + " to " + std::to_string(hi));
    return v;
  }
  bool is_const(const std::string& t) const { return g_.consts.count(t) > 0; }
  const Value* value(const std::string& t) const {
    auto it = g_.values.find(t);
    return it == g_.values.end() ? nullptr : &it->second;
  }
  int consumers(const std::string& t) const {
    auto it = uses_.find(t);
    return it == uses_.end() ? 0 : int(it->second.size());
  }
  // The single consumer of t, or -1.
  int only_consumer(const std::string& t) const {
    auto it = uses_.find(t);
    return it == uses_.end() || it->second.size() != 1 ? -1 : it->second[0];
  }
  const Node& node(int i) const { return gr_.node(i); }
  // The non-constant inputs.
  std::vector<std::string> data_inputs(const Node& n) const {
    std::vector<std::string> r;
    for (const std::string& t : n.input())
      if (!t.empty() && !is_const(t)) r.push_back(t);
    return r;
  }
  bool scalar_const(const std::string& t) const {
    const Value* v = value(t);
    return v && v->numel() == 1;
  }
  bool const_near(const std::string& t, double x) const {
    const Value* v = value(t);
    return v && v->numel() == 1 && std::fabs(v->data[0] - x) < 1e-3 * std::max(1.0, std::fabs(x));
  }

  // Splits `rows` into (batch, per-sample): the model's batch when it divides them.
  std::pair<int64_t, int64_t> per_sample(int64_t rows) const {
    if (batch_ > 1 && rows % batch_ == 0) return {batch_, rows / batch_};
    return {1, rows};
  }

  std::string unique_name(std::string name) {
    name = detail::printable(name);
    if (name.empty()) name = "node";
    std::string n = name;
    for (int k = 2; names_.count(n); ++k) n = name + "_" + std::to_string(k);
    names_.insert(n);
    return n;
  }

  int add_layer(const std::string& name, int64_t batch, LayerParams p,
                const std::vector<std::string>& inputs) {
    Layer l;
    l.name = unique_name(name);
    l.batch = batch;
    l.params = std::move(p);
    for (const std::string& t : inputs) {
      const Producer pr = producer(t);
      if (pr.layer >= 0) l.from.push_back(net_.layers[size_t(pr.layer)].name);
    }
    net_.layers.push_back(std::move(l));
    return int(net_.layers.size()) - 1;
  }
  Producer producer(const std::string& t) const {
    auto it = prod_.find(t);
    return it == prod_.end() ? Producer{} : it->second;
  }
  void set_out(const Node& n, int layer) {
    for (const std::string& o : n.output())
      if (!o.empty()) prod_[o] = Producer{layer, true};
  }
  // Shape-only: each output is the first data input's producer (not direct).
  void pass_through(const Node& n) {
    const auto ins = data_inputs(n);
    Producer p = ins.empty() ? Producer{} : producer(ins[0]);
    p.direct = false;
    for (const std::string& o : n.output())
      if (!o.empty()) prod_[o] = p;
  }
  // The layer whose own output t is, when t is read only by one node (fusion allowed), else -1.
  int fusable_producer(const std::string& t) const {
    const Producer p = producer(t);
    return p.direct && p.layer >= 0 && consumers(t) == 1 && !is_output(t) ? p.layer : -1;
  }
  bool is_output(const std::string& t) const {
    for (const auto& o : gr_.output())
      if (o.name() == t) return true;
    return false;
  }

  void unsupported(int idx, const std::string& why = "") {
    const Node& n = node(idx);
    const std::string what =
        n.op_type() +
        (n.domain().empty() || n.domain() == "ai.onnx" ? "" : " of domain '" + n.domain() + "'");
    if (!opts_.skip_unsupported)
      fail(g_.source, "node '" + label(idx) + "' (op " + what + ", opset " +
                          std::to_string(g_.opset) + "): not supported" +
                          (why.empty() ? "" : " (" + why + ")") +
                          "; supported ops: " + kSupportedOps + " (or --onnx-unsupported skip)");
    const int64_t m = skipped_macs(n);
    skipped_.push_back("'" + label(idx) + "' (" + what + (why.empty() ? "" : ", " + why) +
                       (m > 0 ? ", " + std::to_string(m) + " MACs" : "") + ")");
    pass_through(n);
  }
  // The MACs a skipped convolution would have had (any rank; ConvTranspose too), else 0.
  int64_t skipped_macs(const Node& n) const {
    if ((n.op_type() != "Conv" && n.op_type() != "ConvTranspose") || n.input_size() < 2 ||
        n.output_size() < 1)
      return 0;
    auto x = g_.shape.find(n.input(0)), w = g_.shape.find(n.input(1)),
         y = g_.shape.find(n.output(0));
    if (x == g_.shape.end() || w == g_.shape.end() || y == g_.shape.end() || w->second.empty())
      return 0;
    // Conv: each output element sums C/g * kernel products; ConvTranspose: each input element
    // scatters into F/g * kernel outputs. W's dims after the first are exactly that.
    double per = 1;
    for (size_t i = 1; i < w->second.size(); ++i) per *= double(w->second[i]);
    const double m = per * double(numel(n.op_type() == "Conv" ? y->second : x->second));
    return m < 9e18 ? int64_t(m) : 0;
  }

  void find_patterns();
  bool match_attention(int sm);
  bool match_layernorm(int rm);
  bool match_gelu(int erf);
  void lower_node(int idx);
  void lower_conv(int idx);
  void lower_matmul(int idx, bool gemm);
  void lower_binary(int idx);
  void lower_activation(int idx, Activation a, ElementwiseOp op);
  // Makes `a` layer l's activation (a conv or linear layer without one) and n's output its
  // output; false when it cannot.
  bool fuse_activation(const Node& n, int l, Activation a);
  void lower_pool(int idx);
  void lower_einsum(int idx);
  // An elementwise layer of `elements` (all samples) reading the producers of `from`.
  void lower_elementwise(int idx, ElementwiseOp op, int64_t elements, int64_t row,
                         const std::vector<std::string>& from);

  Graph& g_;
  const OnnxOptions& opts_;
  int64_t batch_;
  const onnx::GraphProto& gr_;
  Network net_;
  std::set<std::string> names_;
  std::map<std::string, Producer> prod_;
  std::unordered_map<std::string, std::vector<int>> uses_;
  std::unordered_map<std::string, int> made_by_;  // tensor -> the node that computes it
  std::vector<int> order_;
  // Fused patterns: the nodes absorbed (skipped) and, for each pattern's last node, what it is.
  std::set<int> absorbed_;
  struct Pattern {
    enum Kind { Attention, LayerNorm, Gelu } kind;
    std::vector<std::string> inputs;  // attention: q, k, v; others: x
    std::string name;
    int64_t S = 0, L = 0, dh = 0, R = 0;  // attention
    bool x_read_inside = false;           // GELU: x is read by the pattern's nodes only
  };
  std::map<int, Pattern> patterns_;
  // A pattern of `nodes` ending at `last`: named after their common scope; all but `last` are
  // absorbed, `last` lowers the pattern.
  void record_pattern(Pattern pat, const std::vector<int>& nodes, int last);
  std::vector<std::string> skipped_;
};

// The longest '/'-separated scope all `names` share ("" if none).
std::string common_scope(const std::vector<std::string>& names);

}  // namespace ssim::onnx_detail
