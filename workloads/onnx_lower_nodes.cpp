// Lowering one ONNX node to our layers: convolutions, GEMMs and MatMuls, elementwise ops, pooling,
// Einsum, and the ops that cost nothing (docs/workloads.md, "ONNX models").
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/types.hpp"
#include "workloads/onnx_lowering.hpp"
#include "workloads/read_util.hpp"

namespace ssim::onnx_detail {

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

}  // namespace ssim::onnx_detail
