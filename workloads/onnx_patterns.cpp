// The fused patterns of an ONNX graph, found before lowering: attention (Q K^T, scale, mask,
// Softmax, P V), layer normalization and GELU written out node by node (docs/workloads.md).
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

}  // namespace ssim::onnx_detail
