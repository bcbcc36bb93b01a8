// ONNX models as workloads: parse (Debian's libonnx), resolve the shapes (ONNX shape inference
// plus our own evaluation of the small integer tensors PyTorch's exporter computes shapes with),
// walk the graph in topological order and lower each node to our Layer types. The supported ops
// and the rules are in docs/workloads.md, "ONNX models".
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/types.hpp"
#include "workloads/onnx_graph.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {

using namespace onnx_detail;

namespace {

// ONNX models up to protobuf's 2 GiB limit (weights may also be in external files, never read).
constexpr uintmax_t kMaxOnnxBytes = (uintmax_t(2) << 30) - 1;

const char* const kSupportedOps =
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

std::string common_scope(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string p = names[0];
  for (const std::string& n : names) {
    size_t k = 0;
    while (k < p.size() && k < n.size() && p[k] == n[k]) ++k;
    p.resize(k);
  }
  const size_t slash = p.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "";
  return p.substr(0, slash);
}

// Q K^T [-> Div|Mul by a constant] [-> Add mask] -> Softmax [-> Dropout|Identity|Cast] -> P V,
// found from the Softmax. A Div|Mul of Q by a constant right before Q K^T (PyTorch scales Q)
// joins the pattern too.
bool Lowering::match_attention(int sm) {
  const Node& s = node(sm);
  if (s.input_size() < 1) return false;
  std::vector<int> nodes{sm};
  auto producer_node = [&](const std::string& t) -> int {
    auto it = made_by_.find(t);
    return it == made_by_.end() ? -1 : it->second;
  };
  // Walk back from the softmax over at most four scale and mask steps to Q K^T.
  auto rank = [&](const std::string& x) {  // how likely x is the scores, not the mask
    if (x.empty() || is_const(x)) return -1;
    const int q = producer_node(x);
    if (q < 0) return 0;
    const std::string& op = node(q).op_type();
    return op == "MatMul"                 ? 3
           : op == "Div" || op == "Mul"   ? 2
           : op == "Add" || op == "Where" ? 1
                                          : 0;
  };
  auto pick = [&](const std::string& a, const std::string& b) {
    return rank(a) >= rank(b) ? (rank(a) > 0 ? a : std::string())
                              : (rank(b) > 0 ? b : std::string());
  };
  std::string t = s.input(0);
  int p = producer_node(t);
  for (int step = 0; step < 4 && p >= 0 && consumers(t) == 1; ++step) {
    const Node& a = node(p);
    const std::string& op = a.op_type();
    std::string main;
    if ((op == "Div" || op == "Mul") && a.input_size() == 2 && scalar_const(a.input(1)))
      main = a.input(0);
    else if (op == "Mul" && a.input_size() == 2 && scalar_const(a.input(0)))
      main = a.input(1);
    else if (op == "Add" && a.input_size() == 2)
      main = pick(a.input(0), a.input(1));  // the other operand is a mask
    else if (op == "Where" && a.input_size() == 3)
      main = pick(a.input(1), a.input(2));  // a boolean mask selects -inf
    else
      break;
    if (main.empty()) return false;
    nodes.push_back(p);
    t = main;
    p = producer_node(t);
  }
  if (p < 0 || node(p).op_type() != "MatMul" || consumers(t) != 1) return false;
  const int qk = p;
  nodes.push_back(qk);
  std::string q = node(qk).input(0), k = node(qk).input(1);
  if (is_const(q) || is_const(k)) return false;
  if (int sc = producer_node(q); sc >= 0 && consumers(q) == 1 &&
                                 (node(sc).op_type() == "Div" || node(sc).op_type() == "Mul") &&
                                 node(sc).input_size() == 2 && scalar_const(node(sc).input(1)) &&
                                 !is_const(node(sc).input(0))) {
    nodes.push_back(sc);
    q = node(sc).input(0);
  }
  // Softmax -> (Dropout | Identity | Cast)* -> MatMul(P, V)
  std::string pt = s.output(0);
  int c = only_consumer(pt);
  while (c >= 0 && (node(c).op_type() == "Dropout" || node(c).op_type() == "Identity" ||
                    node(c).op_type() == "Cast")) {
    nodes.push_back(c);
    pt = node(c).output(0);
    c = only_consumer(pt);
  }
  if (c < 0 || node(c).op_type() != "MatMul" || node(c).input(0) != pt) return false;
  const int av = c;
  const std::string v = node(av).input(1);
  if (is_const(v)) return false;
  // Shapes: Q [.., S, dh], scores [.., S, L], V [.., L, dh].
  auto sh = [&](const std::string& x) -> const std::vector<int64_t>* {
    auto it = g_.shape.find(x);
    return it == g_.shape.end() ? nullptr : &it->second;
  };
  const auto *qs = sh(node(qk).input(0)), *ss = sh(node(qk).output(0)), *vs = sh(v),
             *os = sh(node(av).output(0));
  if (!qs || !ss || !vs || !os || qs->size() < 2 || ss->size() < 2 || vs->size() < 2 ||
      os->size() != ss->size())
    return false;
  const int64_t S = (*ss)[ss->size() - 2], L = ss->back(), dh = qs->back();
  if (vs->back() != dh || (*vs)[vs->size() - 2] != L || os->back() != dh) return false;
  // The softmax runs over the key axis.
  int64_t axis = attr_int(s, "axis", g_.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += int64_t(ss->size());
  if (axis != int64_t(ss->size()) - 1) return false;
  Pattern pat{Pattern::Attention, {q, k, v}, "", S, L, dh, numel(*ss) / (S * L)};
  record_pattern(std::move(pat), nodes, av);
  return true;
}

// ReduceMean(x) -> Sub(x, mean) -> Pow(d, 2) -> ReduceMean -> Add(eps) -> Sqrt -> Div(d, .)
// [-> Mul(gamma)] [-> Add(beta)], found from the first ReduceMean.
bool Lowering::match_layernorm(int rm) {
  const Node& m1 = node(rm);
  if (m1.input_size() < 1 || m1.output_size() < 1) return false;
  const std::string x = m1.input(0), mean = m1.output(0);
  std::vector<int> nodes{rm};
  auto uses = [&](const std::string& t) {
    auto it = uses_.find(t);
    return it == uses_.end() ? std::vector<int>{} : it->second;
  };
  int sub = only_consumer(mean);
  if (sub < 0 || node(sub).op_type() != "Sub" || node(sub).input(0) != x) return false;
  nodes.push_back(sub);
  const std::string d = node(sub).output(0);
  const auto du = uses(d);
  if (du.size() != 2) return false;
  int pw = -1, div = -1;
  for (int u : du) {
    if (node(u).op_type() == "Pow" ||
        (node(u).op_type() == "Mul" && node(u).input(0) == d && node(u).input(1) == d))
      pw = u;
    else if (node(u).op_type() == "Div" && node(u).input(0) == d)
      div = u;
  }
  if (pw < 0 || div < 0) return false;
  nodes.push_back(pw);
  int m2 = only_consumer(node(pw).output(0));
  if (m2 < 0 || node(m2).op_type() != "ReduceMean") return false;
  nodes.push_back(m2);
  int add = only_consumer(node(m2).output(0));
  if (add < 0 || node(add).op_type() != "Add") return false;
  nodes.push_back(add);
  int sq = only_consumer(node(add).output(0));
  if (sq < 0 || node(sq).op_type() != "Sqrt" || only_consumer(node(sq).output(0)) != div)
    return false;
  nodes.push_back(sq);
  nodes.push_back(div);
  int last = div;
  for (const char* op : {"Mul", "Add"}) {
    const int c = only_consumer(node(last).output(0));
    if (c >= 0 && node(c).op_type() == op && node(c).input_size() == 2 &&
        (is_const(node(c).input(0)) || is_const(node(c).input(1)))) {
      nodes.push_back(c);
      last = c;
    }
  }
  Pattern pat{Pattern::LayerNorm, {x}, "", 0, 0, 0, 0};
  record_pattern(std::move(pat), nodes, last);
  return true;
}

// GELU as PyTorch exports it: x / sqrt(2) (or x * 1/sqrt(2)) -> Erf -> Add 1 -> Mul x -> Mul 0.5
// (the 0.5 may come first: Mul(x, 0.5) * (1 + erf)). Found from the Erf.
bool Lowering::match_gelu(int erf) {
  const Node& e = node(erf);
  auto it = made_by_.find(e.input(0));
  if (it == made_by_.end()) return false;
  const Node& sc = node(it->second);
  if ((sc.op_type() != "Div" && sc.op_type() != "Mul") || sc.input_size() != 2 ||
      !scalar_const(sc.input(1)))
    return false;
  const std::string x = sc.input(0);
  std::vector<int> nodes{it->second, erf};
  int add = only_consumer(e.output(0));
  if (add < 0 || node(add).op_type() != "Add") return false;
  nodes.push_back(add);
  int mul = only_consumer(node(add).output(0));
  if (mul < 0 || node(mul).op_type() != "Mul") return false;
  nodes.push_back(mul);
  int last = mul;
  const std::string other =
      node(mul).input(0) == node(add).output(0) ? node(mul).input(1) : node(mul).input(0);
  if (other != x) {  // Mul(x, 0.5) first
    auto h = made_by_.find(other);
    if (h == made_by_.end() || node(h->second).op_type() != "Mul" ||
        node(h->second).input(0) != x || consumers(other) != 1)
      return false;
    nodes.push_back(h->second);
  } else {
    const int half = only_consumer(node(mul).output(0));
    if (half >= 0 && node(half).op_type() == "Mul" && scalar_const(node(half).input(1))) {
      nodes.push_back(half);
      last = half;
    }
  }
  Pattern pat{Pattern::Gelu, {x}, "", 0, 0, 0, 0};
  pat.x_read_inside = true;
  for (int u : uses_[x])
    pat.x_read_inside =
        pat.x_read_inside && std::find(nodes.begin(), nodes.end(), u) != nodes.end();
  record_pattern(std::move(pat), nodes, last);
  return true;
}

void Lowering::record_pattern(Pattern pat, const std::vector<int>& nodes, int last) {
  std::vector<std::string> names;
  for (int i : nodes) names.push_back(node(i).name());
  names.push_back(node(last).name());
  pat.name = common_scope(names);
  if (pat.name.empty()) pat.name = label(last);
  for (int i : nodes)
    if (i != last) absorbed_.insert(i);
  patterns_[last] = std::move(pat);
}

void Lowering::find_patterns() {
  for (int i : order_) {
    if (absorbed_.count(i)) continue;
    const std::string& op = node(i).op_type();
    if (op == "Softmax")
      match_attention(i);
    else if (op == "ReduceMean")
      match_layernorm(i);
    else if (op == "Erf")
      match_gelu(i);
  }
}

void Lowering::lower_elementwise(int idx, ElementwiseOp op, int64_t elements, int64_t row,
                                 const std::vector<std::string>& from) {
  const auto [b, per] = per_sample(elements);
  ElementwiseLayer e;
  e.op = op;
  e.elements = per;
  if (op == ElementwiseOp::LayerNorm) e.row = row > 0 && per % row == 0 ? row : 0;
  set_out(node(idx), add_layer(label(idx), b, e, from));
}

bool Lowering::fuse_activation(const Node& n, int l, Activation a) {
  if (l < 0) return false;
  Layer& layer = net_.layers[size_t(l)];
  Activation* act = nullptr;
  if (auto* c = std::get_if<Conv2dLayer>(&layer.params)) act = &c->activation;
  if (auto* f = std::get_if<LinearLayer>(&layer.params)) act = &f->activation;
  if (!act || *act != Activation::None) return false;
  *act = a;
  set_out(n, l);
  return true;
}

void Lowering::lower_activation(int idx, Activation a, ElementwiseOp op) {
  const Node& n = node(idx);
  const std::string x = n.input(0);
  if (a != Activation::None && fuse_activation(n, fusable_producer(x), a)) return;
  lower_elementwise(idx, op, numel(shape_of(n, idx, n.output(0))), 0, {x});
}

void Lowering::lower_conv(int idx) {
  const Node& n = node(idx);
  if (n.input_size() < 2) fail(g_.source, "node '" + label(idx) + "' (Conv): needs X and W");
  const auto& xs = shape_of(n, idx, n.input(0));
  const auto& ws = shape_of(n, idx, n.input(1));
  const auto& ys = shape_of(n, idx, n.output(0));
  if (xs.size() != 4 && xs.size() != 3) return unsupported(idx, "only 1-D and 2-D convolutions");
  const bool one_d = xs.size() == 3;
  auto dim = [&](const std::vector<int64_t>& s, size_t i) {
    return one_d && i == 2 ? 1 : s[one_d && i == 3 ? 2 : i];
  };
  if (ws.size() != xs.size() || ys.size() != xs.size())
    fail(g_.source, "node '" + label(idx) + "' (Conv): X, W and Y ranks differ");
  Conv2dLayer c;
  c.in_c = xs[1];
  c.in_h = dim(xs, 2), c.in_w = dim(xs, 3);
  c.filters = ws[0];
  c.kernel_h = dim(ws, 2), c.kernel_w = dim(ws, 3);
  c.groups = attr_int(n, "group", 1);
  auto pick = [&](const std::vector<int64_t>& v, size_t i, int64_t d) {
    if (one_d) return i == 0 ? d : (v.empty() ? d : v[0]);
    return v.size() > i ? v[i] : d;
  };
  constexpr int64_t kBig = int64_t(1) << 20;
  const auto strides = ints(idx, "strides", 1, kBig), dil = ints(idx, "dilations", 1, kBig),
             pads = ints(idx, "pads", 0, kBig);
  if (attr_int(n, "group", 1) < 1 || attr_int(n, "group", 1) > kMaxDim)
    fail(g_.source, "node '" + label(idx) + "' (Conv): group " +
                        std::to_string(attr_int(n, "group", 1)) + " is not a positive size");
  c.stride_h = pick(strides, 0, 1), c.stride_w = pick(strides, 1, 1);
  c.dilation_h = pick(dil, 0, 1), c.dilation_w = pick(dil, 1, 1);
  const std::string ap = attr_str(n, "auto_pad");
  const int64_t ho = dim(ys, 2), wo = dim(ys, 3);
  auto total_pad = [&](int axis) -> int64_t {  // both sides together
    const int64_t in = axis == 0 ? c.in_h : c.in_w, k = axis == 0 ? c.kernel_h : c.kernel_w,
                  s = axis == 0 ? c.stride_h : c.stride_w,
                  d = axis == 0 ? c.dilation_h : c.dilation_w;
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER")
      return std::max<int64_t>(0, ((in + s - 1) / s - 1) * s + (k - 1) * d + 1 - in);
    if (ap == "VALID") return 0;
    const size_t r = one_d ? 1 : 2;
    if (pads.size() != 2 * r) return 0;
    if (one_d) return axis == 0 ? 0 : pads[0] + pads[1];
    return pads[size_t(axis)] + pads[size_t(axis) + r];
  };
  // Asymmetric padding: half on each side, the odd zero row as one more input row (MACs depend
  // on the output size only).
  const int64_t th = total_pad(0), tw = total_pad(1);
  c.pad_h = th / 2, c.pad_w = tw / 2;
  c.in_h += th % 2, c.in_w += tw % 2;
  c.bias = n.input_size() > 2 && !n.input(2).empty();
  if (c.out_h() != ho || c.out_w() != wo)
    fail(g_.source, "node '" + label(idx) + "' (Conv): output " + std::to_string(ho) + "x" +
                        std::to_string(wo) + " does not follow from its input and attributes");
  set_out(n, add_layer(label(idx), xs[0], c, {n.input(0)}));
}

void Lowering::lower_matmul(int idx, bool gemm) {
  const Node& n = node(idx);
  if (n.input_size() < 2) fail(g_.source, "node '" + label(idx) + "': needs A and B");
  std::vector<int64_t> as = shape_of(n, idx, n.input(0)), bs = shape_of(n, idx, n.input(1));
  const auto& ys = shape_of(n, idx, n.output(0));
  const bool a_const = is_const(n.input(0)), b_const = is_const(n.input(1));
  int64_t M, N, K;
  if (gemm) {  // 2-D, optional transposes (folded: only the shape matters)
    if (as.size() != 2 || bs.size() != 2)
      fail(g_.source, "node '" + label(idx) + "' (Gemm): A and B must be 2-D");
    const bool ta = attr_int(n, "transA", 0) != 0, tb = attr_int(n, "transB", 0) != 0;
    M = ta ? as[1] : as[0], K = ta ? as[0] : as[1];
    N = tb ? bs[0] : bs[1];
    if ((tb ? bs[1] : bs[0]) != K)
      fail(g_.source, "node '" + label(idx) + "' (Gemm): inner sizes differ");
  } else {
    if (as.empty() || bs.empty())
      fail(g_.source, "node '" + label(idx) + "' (MatMul): scalar input");
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    M = as[as.size() - 2], K = as.back(), N = bs.back();
    if (bs[bs.size() - 2] != K)
      fail(g_.source, "node '" + label(idx) + "' (MatMul): inner sizes differ");
  }
  const int64_t out = numel(ys);
  if (M <= 0 || N <= 0 || K <= 0 || out <= 0)
    fail(g_.source, "node '" + label(idx) + "': empty matrix product");
  // B a 2-D weight: a linear layer over all rows of A.
  if (b_const && !a_const && (gemm || bs.size() == 2)) {
    const int64_t rows = out / N;
    const auto [b, tokens] = per_sample(rows);
    LinearLayer l;
    l.tokens = tokens, l.in = K, l.out = N;
    l.bias = gemm && n.input_size() > 2 && !n.input(2).empty();
    set_out(n, add_layer(label(idx), b, l, {n.input(0)}));
    return;
  }
  // Otherwise `repeat` GEMMs of M x N x K (batched, broadcast).
  const int64_t repeat = out / (M * N);
  GemmLayer gl;
  gl.M = M, gl.N = N, gl.K = K;
  gl.b_weight = b_const;
  std::vector<std::string> from;
  if (!a_const) from.push_back(n.input(0));
  if (!b_const) from.push_back(n.input(1));
  set_out(n, add_layer(label(idx), repeat, gl, from));
}

void Lowering::lower_binary(int idx) {
  const Node& n = node(idx);
  const std::string& op = n.op_type();
  if (n.input_size() != 2)
    fail(g_.source, "node '" + label(idx) + "' (" + op + "): needs 2 inputs");
  const auto& ys = shape_of(n, idx, n.output(0));
  const auto ins = data_inputs(n);
  const ElementwiseOp kind = op == "Add" || op == "Sub" ? ElementwiseOp::Add : ElementwiseOp::Mul;
  if (ins.size() == 1) {
    const std::string cst = is_const(n.input(0)) ? n.input(0) : n.input(1);
    const auto& cs = shape_of(n, idx, cst);
    // A bias after a linear layer or conv: folded into the accumulator.
    const int l = fusable_producer(ins[0]);
    if (l >= 0 && (op == "Add" || op == "Sub") && !ys.empty()) {
      Layer& layer = net_.layers[size_t(l)];
      auto* f = std::get_if<LinearLayer>(&layer.params);
      auto* c = std::get_if<Conv2dLayer>(&layer.params);
      const bool bias_shaped =
          f ? numel(cs) == ys.back() && cs.back() == ys.back() : c && numel(cs) == c->filters;
      bool* bias = f ? &f->bias : c ? &c->bias : nullptr;
      const bool no_act =
          f ? f->activation == Activation::None : c && c->activation == Activation::None;
      if (bias && bias_shaped && no_act && !*bias) {
        *bias = true;
        set_out(n, l);
        return;
      }
    }
    lower_elementwise(idx, kind, numel(ys), 0, {ins[0]});
    return;
  }
  if (ins.empty()) {  // constant folding the exporter left: no work at run time
    pass_through(n);
    return;
  }
  lower_elementwise(idx, kind, numel(ys), 0, ins);
}

// A two-operand Einsum as a batched GEMM: labels in both operands and the output are the batch,
// in both but not the output are K, in one operand and the output are M (A) or N (B); a label
// summed within one operand counts into K. MACs = the product of every label's size.
void Lowering::lower_einsum(int idx) {
  const Node& n = node(idx);
  if (n.input_size() != 2) return unsupported(idx, "Einsum of other than two operands");
  const auto e = parse_einsum(attr_str(n, "equation"), shape_of(n, idx, n.input(0)),
                              shape_of(n, idx, n.input(1)));
  if (!e) return unsupported(idx, "Einsum equation '" + attr_str(n, "equation") + "'");
  int64_t M = 1, N = 1, K = 1, B = 1;
  for (const auto& [c, sz] : e->size) {
    const bool in_a = e->a.find(c) != std::string::npos, in_b = e->b.find(c) != std::string::npos,
               in_y = e->out.find(c) != std::string::npos;
    if (in_a && in_b && in_y)
      B *= sz;
    else if (in_y && in_a)
      M *= sz;
    else if (in_y)
      N *= sz;
    else
      K *= sz;
  }
  GemmLayer gl;
  gl.M = M, gl.N = N, gl.K = K;
  gl.b_weight = is_const(n.input(1));
  std::vector<std::string> from;
  for (int k = 0; k < 2; ++k)
    if (!is_const(n.input(k))) from.push_back(n.input(k));
  set_out(n, add_layer(label(idx), B, gl, from));
}

void Lowering::lower_pool(int idx) {
  const Node& n = node(idx);
  const std::string& op = n.op_type();
  const auto& xs = shape_of(n, idx, n.input(0));
  const bool global = op.rfind("Global", 0) == 0 || op.rfind("Reduce", 0) == 0;
  std::vector<int64_t> ys = shape_of(n, idx, n.output(0));
  if (global) ys = {xs.empty() ? 1 : xs[0], xs.size() > 1 ? xs[1] : 1, 1, 1};  // keepdims or not
  if (xs.size() != 4 || ys.size() != 4) return unsupported(idx, "only 2-D pooling");
  PoolLayer p;
  p.op = op.find("Max") != std::string::npos ? PoolOp::Max : PoolOp::Avg;
  p.channels = xs[1], p.in_h = xs[2], p.in_w = xs[3];
  if (global) {
    p.kernel_h = p.in_h, p.kernel_w = p.in_w;
  } else {
    constexpr int64_t kBig = int64_t(1) << 20;
    const auto k = ints(idx, "kernel_shape", 1, kBig), s = ints(idx, "strides", 1, kBig),
               pads = ints(idx, "pads", 0, kBig), dil = ints(idx, "dilations", 1, kBig);
    if (k.size() != 2)
      fail(g_.source, "node '" + label(idx) + "' (" + op + "): kernel_shape must have 2 entries");
    for (int64_t d : dil)
      if (d != 1) return unsupported(idx, "dilated pooling");
    p.kernel_h = k[0], p.kernel_w = k[1];
    p.stride_h = s.size() == 2 ? s[0] : 1, p.stride_w = s.size() == 2 ? s[1] : 1;
    const std::string ap = attr_str(n, "auto_pad");
    int64_t th = 0, tw = 0;
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      th = std::max<int64_t>(
          0, ((p.in_h + p.stride_h - 1) / p.stride_h - 1) * p.stride_h + p.kernel_h - p.in_h);
      tw = std::max<int64_t>(
          0, ((p.in_w + p.stride_w - 1) / p.stride_w - 1) * p.stride_w + p.kernel_w - p.in_w);
    } else if (ap != "VALID" && pads.size() == 4) {
      th = pads[0] + pads[2], tw = pads[1] + pads[3];
    }
    p.pad_h = std::min(th / 2, p.kernel_h / 2), p.pad_w = std::min(tw / 2, p.kernel_w / 2);
    p.in_h += th - 2 * p.pad_h, p.in_w += tw - 2 * p.pad_w;
    // ceil_mode: the extra output row/column reads past the input (as more input rows here).
    if (p.out_h() < ys[2]) p.in_h += (ys[2] - p.out_h()) * p.stride_h;
    if (p.out_w() < ys[3]) p.in_w += (ys[3] - p.out_w()) * p.stride_w;
  }
  if (p.out_h() != ys[2] || p.out_w() != ys[3])
    fail(g_.source, "node '" + label(idx) + "' (" + op + "): output " + std::to_string(ys[2]) +
                        "x" + std::to_string(ys[3]) +
                        " does not follow from its input and attributes");
  set_out(n, add_layer(label(idx), xs[0], p, {n.input(0)}));
}

void Lowering::lower_node(int idx) {
  const Node& n = node(idx);
  const std::string& op = n.op_type();
  if (!(n.domain().empty() || n.domain() == "ai.onnx")) return unsupported(idx);
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return unsupported(idx, "subgraphs");
  // Ops on integer or boolean tensors only compute indices and shapes.
  bool any_float = false, all_known = true;
  for (const std::string& o : n.output()) {
    if (o.empty()) continue;
    auto t = g_.type.find(o);
    if (t == g_.type.end())
      all_known = false;
    else if (is_float(t->second))
      any_float = true;
  }
  if (n.output_size() > 0 && all_known && !any_float) return pass_through(n);

  static const std::set<std::string> kFree = {
      "Reshape",         "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Split",
      "Slice",           "Gather",    "Expand",  "Pad",     "Shape",     "Size",   "Constant",
      "ConstantOfShape", "Identity",  "Dropout", "Cast",    "Tile"};
  if (kFree.count(op)) return pass_through(n);
  if (auto it = patterns_.find(idx); it != patterns_.end()) {
    const Pattern& pt = it->second;
    if (pt.kind == Pattern::Attention) {
      AttentionLayer a;
      a.projections = false;
      const auto [b, heads] = per_sample(pt.R);
      a.seq = pt.S, a.kv = pt.L, a.heads = heads, a.d_head = pt.dh, a.d_model = heads * pt.dh;
      a.cross = pt.L < pt.S;
      const int l = add_layer(pt.name, b, a, {});
      for (const std::string& t : pt.inputs) {
        const Producer p = producer(t);
        net_.layers[size_t(l)].from.push_back(p.layer >= 0 ? net_.layers[size_t(p.layer)].name
                                                           : net_.layers[size_t(l)].name);
      }
      // An input that is the network's own (no layer): no data flow to name.
      auto& from = net_.layers[size_t(l)].from;
      if (std::find(from.begin(), from.end(), net_.layers[size_t(l)].name) != from.end())
        from.clear();
      set_out(n, l);
      return;
    }
    const auto& ys = shape_of(n, idx, n.output(0));
    if (pt.kind == Pattern::LayerNorm) {
      const int64_t row = ys.empty() ? 0 : ys.back();
      const int64_t elems = numel(ys);
      const auto [b, per] = per_sample(elems);
      ElementwiseLayer e;
      e.op = ElementwiseOp::LayerNorm, e.elements = per,
      e.row = row > 0 && per % row == 0 ? row : 0;
      set_out(n, add_layer(pt.name, b, e, pt.inputs));
      return;
    }
    // GELU: fused into the producing linear layer or conv when it is the only reader.
    const Producer xp = producer(pt.inputs[0]);
    const int l = xp.direct && pt.x_read_inside && !is_output(pt.inputs[0]) ? xp.layer : -1;
    if (fuse_activation(n, l, Activation::Gelu)) return;
    const auto [b, per] = per_sample(numel(ys));
    ElementwiseLayer e;
    e.op = ElementwiseOp::Gelu, e.elements = per;
    set_out(n, add_layer(pt.name, b, e, pt.inputs));
    return;
  }

  if (op == "Where") {  // a masked select on float data: one vector op per element
    std::vector<std::string> from;
    for (int k = 1; k < n.input_size(); ++k)
      if (!n.input(k).empty() && !is_const(n.input(k))) from.push_back(n.input(k));
    if (from.empty()) return pass_through(n);
    return lower_elementwise(idx, ElementwiseOp::Add, numel(shape_of(n, idx, n.output(0))), 0,
                             from);
  }
  if (op == "Conv") return lower_conv(idx);
  if (op == "MatMul") return lower_matmul(idx, false);
  if (op == "Gemm") return lower_matmul(idx, true);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return lower_binary(idx);
  if (op == "Relu" || op == "LeakyRelu" || op == "PRelu")
    return lower_activation(idx, Activation::Relu, ElementwiseOp::Relu);
  if (op == "Clip") {
    // Clip(0, 6) is ReLU6; any other clamp is charged as one (one compare-select per element).
    return lower_activation(idx, Activation::Relu6, ElementwiseOp::Relu6);
  }
  if (op == "Sigmoid" || op == "HardSigmoid")
    return lower_activation(idx, Activation::Sigmoid, ElementwiseOp::Sigmoid);
  if (op == "Tanh") return lower_activation(idx, Activation::Tanh, ElementwiseOp::Tanh);
  if (op == "Gelu") return lower_activation(idx, Activation::Gelu, ElementwiseOp::Gelu);
  if (op == "HardSwish") return lower_activation(idx, Activation::Silu, ElementwiseOp::Silu);
  if (op == "Erf") return lower_activation(idx, Activation::None, ElementwiseOp::Gelu);
  if (op == "BatchNormalization") {
    // Folded into the conv before it (scale and shift of its weights and bias); else a
    // per-element multiply-add.
    const int l = fusable_producer(n.input(0));
    if (l >= 0) {
      Layer& layer = net_.layers[size_t(l)];
      if (auto* c = std::get_if<Conv2dLayer>(&layer.params);
          c && c->activation == Activation::None) {
        c->bias = true;
        set_out(n, l);
        return;
      }
    }
    return lower_elementwise(idx, ElementwiseOp::Mul, numel(shape_of(n, idx, n.output(0))), 0,
                             {n.input(0)});
  }
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool")
    return lower_pool(idx);
  if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceSum" || op == "ReduceMin") {
    // Mean or max over H and W of an NCHW tensor: a global pool. Any other reduction reads each
    // input element once: an elementwise add over the input.
    const auto& xs = shape_of(n, idx, n.input(0));
    std::vector<int64_t> axes = attr_ints(n, "axes");
    if (g_.opset >= 13 && op == "ReduceSum" && n.input_size() > 1) {
      const Value* v = value(n.input(1));
      axes.clear();
      if (v)
        for (double a : v->data) axes.push_back(to_i64(a));
    }
    for (int64_t& a : axes) a = a < 0 ? a + int64_t(xs.size()) : a;
    std::sort(axes.begin(), axes.end());
    if (xs.size() == 4 && axes == std::vector<int64_t>{2, 3} &&
        (op == "ReduceMean" || op == "ReduceMax"))
      return lower_pool(idx);
    return lower_elementwise(idx, ElementwiseOp::Add, numel(xs), 0, {n.input(0)});
  }
  if (op == "Einsum") return lower_einsum(idx);
  if (op == "Softmax" || op == "LogSoftmax") {
    const auto& xs = shape_of(n, idx, n.input(0));
    if (xs.empty()) return pass_through(n);
    int64_t axis = attr_int(n, "axis", g_.opset >= 13 ? -1 : 1);
    if (axis < 0) axis += int64_t(xs.size());
    if (axis < 0 || axis >= int64_t(xs.size()))
      fail(g_.source, "node '" + label(idx) + "' (Softmax): axis out of range");
    // opset < 13 flattens from `axis`; 13+ normalises along `axis` alone.
    int64_t length = 1;
    for (size_t i = size_t(axis); i < (g_.opset >= 13 ? size_t(axis) + 1 : xs.size()); ++i)
      length *= xs[i];
    const auto [b, rows] = per_sample(numel(xs) / length);
    SoftmaxLayer s;
    s.rows = rows, s.length = length;
    set_out(n, add_layer(label(idx), b, s, {n.input(0)}));
    return;
  }
  if (op == "LayerNormalization") {
    const auto& xs = shape_of(n, idx, n.input(0));
    int64_t axis = attr_int(n, "axis", -1);
    if (axis < 0) axis += int64_t(xs.size());
    int64_t row = 1;
    for (size_t i = size_t(std::max<int64_t>(axis, 0)); i < xs.size(); ++i) row *= xs[i];
    return lower_elementwise(idx, ElementwiseOp::LayerNorm, numel(xs), row, {n.input(0)});
  }
  return unsupported(idx);
}

Network Lowering::run() {
  // Producers and consumers; topological order (Kahn), which also finds cycles and inputs that
  // nothing defines.
  std::set<std::string> defined;
  for (const auto& v : gr_.input()) defined.insert(v.name());
  for (const auto& t : gr_.initializer()) defined.insert(t.name());
  const int nn = gr_.node_size();
  for (int i = 0; i < nn; ++i)
    for (const std::string& o : node(i).output())
      if (!o.empty()) {
        if (made_by_.count(o) || defined.count(o))
          fail(g_.source, "tensor '" + o + "' is produced twice (by node '" + label(i) + "')");
        made_by_[o] = i;
      }
  std::vector<int> pending(size_t(nn), 0);
  for (int i = 0; i < nn; ++i)
    for (const std::string& t : node(i).input()) {
      if (t.empty()) continue;
      uses_[t].push_back(i);
      if (made_by_.count(t))
        ++pending[size_t(i)];
      else if (!defined.count(t))
        fail(g_.source, "node '" + label(i) + "' (" + node(i).op_type() + ") reads tensor '" + t +
                            "', which no node, input or initializer defines");
    }
  // The file's order where it is a valid one (the smallest ready index first).
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < nn; ++i)
    if (pending[size_t(i)] == 0) ready.push(i);
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order_.push_back(i);
    for (const std::string& o : node(i).output()) {
      auto u = uses_.find(o);
      if (o.empty() || u == uses_.end()) continue;
      for (int c : u->second)
        if (--pending[size_t(c)] == 0) ready.push(c);
    }
  }
  if (int(order_.size()) != nn) {
    for (int i = 0; i < nn; ++i)
      if (pending[size_t(i)] > 0)
        fail(g_.source,
             "the graph has a cycle through node '" + label(i) + "' (" + node(i).op_type() + ")");
  }
  // A node that reads only constants is constant folding the exporter left (Identity of a weight,
  // a Reshape of a bias): its outputs are constants and it costs nothing.
  for (int i : order_) {
    const Node& n = node(i);
    bool all_const = true;
    for (const std::string& t : n.input()) all_const = all_const && (t.empty() || is_const(t));
    if (!all_const) continue;
    for (const std::string& o : n.output())
      if (!o.empty()) g_.consts.insert(o);
    absorbed_.insert(i);
  }
  find_patterns();
  for (int i : order_)
    if (!absorbed_.count(i)) lower_node(i);
  if (!skipped_.empty() && opts_.notes) {
    std::string list;
    for (const std::string& s : skipped_) list += (list.empty() ? "" : ", ") + s;
    opts_.notes->push_back("warning: " + detail::printable(g_.source) + ": skipped " +
                           std::to_string(skipped_.size()) + " unsupported node" +
                           (skipped_.size() == 1 ? "" : "s") +
                           " (their work is not simulated): " + list);
  }
  if (net_.layers.empty())
    fail(g_.source, "the model has no node that does work (conv, matmul, elementwise, ...)");
  return std::move(net_);
}

}  // namespace

Network parse_onnx_network(std::string bytes, const std::string& source, const OnnxOptions& opts) {
  Graph g;
  g.source = source;
  if (bytes.empty()) fail(source, "empty file; expected an ONNX model");
  if (!g.model.ParseFromString(bytes))
    fail(source, "not an ONNX model (the protobuf does not parse: truncated or another format)");
  // Shapes only: the file's bytes and the weights' data go now (ResNet-50: 100 MB each).
  bytes.clear();
  bytes.shrink_to_fit();
  for (auto& t : *g.model.mutable_graph()->mutable_initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims())
      n = d <= 0 ? 0 : n > kMaxEvalElements || d > kMaxEvalElements ? kMaxEvalElements + 1 : n * d;
    if (n > kMaxEvalElements) {
      t.clear_raw_data();
      t.clear_float_data();
      t.clear_int64_data();
      t.clear_int32_data();
      t.clear_double_data();
    }
  }
  if (!g.model.has_graph() || g.model.ir_version() <= 0)
    fail(source, "not an ONNX model (no graph or no IR version)");
  for (const auto& o : g.model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") g.opset = int(o.version());
  if (g.opset < 11 || g.opset > 17)
    fail(source, "ONNX opset " + std::to_string(g.opset) + " is not supported (11 to 17; " +
                     "export with opset_version=17)");
  auto* gr = g.model.mutable_graph();
  if (gr->node_size() == 0) fail(source, "the ONNX graph has no nodes");
  // ONNX's shape inference trusts the nodes (a Conv without its weight input crashes it in
  // onnx 1.12): each node of a known op is checked against its schema first (input and output
  // counts, attribute types), and control flow (subgraphs) is refused.
  for (int i = 0; i < gr->node_size(); ++i) {
    const onnx::NodeProto& n = gr->node(i);
    for (const auto& a : n.attribute())
      if (a.has_g() || a.graphs_size() > 0 || a.type() == onnx::AttributeProto::GRAPH ||
          a.type() == onnx::AttributeProto::GRAPHS)
        fail(source, "node '" + node_label(n, i) + "' (op " + n.op_type() +
                         "): control flow (subgraphs) is not supported");
    if (!(n.domain().empty() || n.domain() == "ai.onnx")) continue;
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(n.op_type(), g.opset, "");
    if (!schema) continue;  // not an ONNX op: reported as unsupported when lowered
    try {
      schema->Verify(n);
    } catch (const std::exception& e) {
      fail(source, "node '" + node_label(n, i) + "' (" + n.op_type() + "): " + e.what());
    }
  }
  for (const auto& in : gr->input())
    if (!in.type().has_tensor_type())
      fail(source,
           "input '" + in.name() + "' is not a tensor (sequences and maps are not supported)");
  // The batch: the first dim of each (non-initializer) input; a symbolic one is --batch.
  std::set<std::string> inits;
  for (const auto& t : gr->initializer()) inits.insert(t.name());
  int64_t batch = 0;
  bool symbolic = false;
  for (auto& in : *gr->mutable_input()) {
    if (inits.count(in.name())) continue;
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
      fail(source, "input '" + in.name() + "' has no shape");
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int d = 0; d < shape->dim_size(); ++d) {
      auto* dim = shape->mutable_dim(d);
      if (dim->has_dim_value()) {
        if (dim->dim_value() <= 0 || dim->dim_value() > kMaxDim)
          fail(source, "input '" + in.name() + "' dim " + std::to_string(d) + " is " +
                           std::to_string(dim->dim_value()) + "; expected a positive size");
        if (d == 0) batch = batch ? batch : dim->dim_value();
        continue;
      }
      if (d != 0)
        fail(source, "input '" + in.name() + "' dim " + std::to_string(d) + " is symbolic ('" +
                         dim->dim_param() +
                         "'); only the batch (dim 0) may be: export with a fixed size");
      symbolic = true;
      dim->set_dim_value(opts.batch > 0 ? opts.batch : 1);
    }
  }
  if (opts.batch > 0 && !symbolic)
    fail(source, "--batch " + std::to_string(opts.batch) + ": the model's batch is fixed (" +
                     std::to_string(batch) + "); --batch sets a symbolic batch dim only");
  if (symbolic) batch = opts.batch > 0 ? opts.batch : 1;
  if (batch <= 0) batch = 1;
  // Shapes from the exporter may carry the symbolic batch: inference recomputes them.
  gr->clear_value_info();
  for (auto& o : *gr->mutable_output())
    if (o.type().has_tensor_type()) o.mutable_type()->mutable_tensor_type()->clear_shape();
  resolve_shapes_isolated(g);
  Lowering low(g, opts, batch);
  Network net = low.run();
  net.name = detail::file_stem(source);  // PyTorch names every graph "main_graph"
  net.source = source;
  net.batch = batch;
  try {
    validate(net);
  } catch (const InputError& e) {
    fail(source, e.what());
  }
  return net;
}

Network read_onnx_network(const std::string& path, const OnnxOptions& opts) {
  std::string bytes;
  try {
    bytes = detail::read_input_file(path, kMaxOnnxBytes);
  } catch (const detail::InputFileError& e) {
    const std::string where = "'" + detail::printable(path) + "'";
    switch (e.kind) {
      case detail::InputFileError::Open:
        throw InputError("cannot open ONNX model " + where + ": " + e.reason);
      case detail::InputFileError::Read:
        throw InputError("cannot read ONNX model " + where + ": " + e.reason);
      case detail::InputFileError::TooLarge:
        break;
    }
    throw InputError("ONNX model " + where + " is too large (2 GiB at most; keep the weights " +
                     "in external data files)");
  }
  return parse_onnx_network(std::move(bytes), path, opts);
}

}  // namespace ssim
