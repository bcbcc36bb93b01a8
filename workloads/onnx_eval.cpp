// The ONNX reader's evaluator of small tensors: the integer arithmetic PyTorch's exporter computes
// shapes with (Shape, Gather, Concat, Slice, Unsqueeze, arithmetic, ...), evaluated on constant
// values so that the shapes behind it become static (docs/workloads.md, "ONNX models").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/onnx_graph.hpp"

namespace ssim::onnx_detail {

// The element count of a small value's dims; nullopt when a dim is negative or too large.
std::optional<int64_t> value_numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > kMaxEvalElements) return std::nullopt;
    n *= d;
    if (n > kMaxEvalElements) return std::nullopt;
  }
  return n;
}

// Numpy broadcasting of two shapes.
std::optional<std::vector<int64_t>> broadcast(std::vector<int64_t> a, std::vector<int64_t> b) {
  if (a.size() < b.size()) std::swap(a, b);
  b.insert(b.begin(), a.size() - b.size(), 1);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i] || b[i] == 1) continue;
    if (a[i] == 1) {
      a[i] = b[i];
      continue;
    }
    return std::nullopt;
  }
  return a;
}

// Evaluates one node on known small values; nullopt when it cannot (an op it does not know, an
// input without a value, a result too large).
std::optional<std::vector<Value>> evaluate(const onnx::NodeProto& n, int opset,
                                           const std::vector<const Value*>& in,
                                           const std::vector<const std::vector<int64_t>*>& shp) {
  using TP = onnx::TensorProto;
  const std::string& op = n.op_type();
  auto have = [&](size_t i) { return i < in.size() && in[i]; };
  auto one = [](Value v) { return std::vector<Value>{std::move(v)}; };
  auto ints_of = [&](size_t i) {
    std::vector<int64_t> r;
    for (double x : in[i]->data) r.push_back(to_i64(x));
    return r;
  };
  if (op == "Constant") {
    if (const auto* a = attr(n, "value"); a && a->has_t()) {
      auto v = tensor_value(a->t());
      if (v) return one(*v);
      return std::nullopt;
    }
    if (const auto* a = attr(n, "value_int"); a && a->has_i())
      return one(Value{{}, {double(a->i())}});
    if (const auto* a = attr(n, "value_ints")) {
      Value v{{int64_t(a->ints_size())}, {}};
      for (int64_t x : a->ints()) v.data.push_back(double(x));
      return one(v);
    }
    if (const auto* a = attr(n, "value_float"); a && a->has_f())
      return one(Value{{}, {double(a->f())}, TP::FLOAT});
    return std::nullopt;
  }
  if (op == "Shape") {
    if (shp.empty() || !shp[0]) return std::nullopt;
    const auto& s = *shp[0];
    const int64_t r = int64_t(s.size());
    int64_t b = attr_int(n, "start", 0), e = attr_int(n, "end", r);
    if (b < 0) b += r;
    if (e < 0) e += r;
    b = std::clamp<int64_t>(b, 0, r);
    e = std::clamp<int64_t>(e, b, r);
    Value v{{e - b}, {}};
    for (int64_t i = b; i < e; ++i) v.data.push_back(double(s[size_t(i)]));
    return one(v);
  }
  if (op == "Size") {
    if (shp.empty() || !shp[0]) return std::nullopt;
    return one(Value{{}, {double(numel(*shp[0]))}});
  }
  if (op == "ConstantOfShape") {
    if (!have(0) || in[0]->dims.size() > 1) return std::nullopt;
    Value v;
    int64_t total = 1;
    for (double d : in[0]->data) {
      if (!(d >= 0 && d <= double(kMaxEvalElements))) return std::nullopt;
      total *= to_i64(d);
      if (total > kMaxEvalElements) return std::nullopt;
      v.dims.push_back(to_i64(d));
    }
    double fill = 0;
    v.type = TP::FLOAT;
    if (const auto* a = attr(n, "value"); a && a->has_t()) {
      auto t = tensor_value(a->t());
      if (!t || t->numel() != 1) return std::nullopt;
      fill = t->data[0];
      v.type = t->type;
    }
    v.data.assign(size_t(total), fill);
    return one(v);
  }
  for (size_t i = 0; i < size_t(n.input_size()); ++i)
    if (!n.input(int(i)).empty() && !have(i)) return std::nullopt;
  if (in.empty() || !have(0)) return std::nullopt;
  const Value& x = *in[0];
  if (op == "Identity" || op == "Dropout") return std::vector<Value>(size_t(n.output_size()), x);
  if (op == "Cast") {
    Value v = x;
    v.type = int32_t(attr_int(n, "to", TP::INT64));
    if (!is_float(v.type))
      for (double& d : v.data) d = std::trunc(d);
    return one(v);
  }
  if (op == "Neg" || op == "Sqrt" || op == "Reciprocal" || op == "Floor" || op == "Ceil" ||
      op == "Abs" || op == "Not") {
    Value v = x;
    for (double& d : v.data)
      d = op == "Neg"          ? -d
          : op == "Sqrt"       ? std::sqrt(d)
          : op == "Reciprocal" ? 1 / d
          : op == "Floor"      ? std::floor(d)
          : op == "Ceil"       ? std::ceil(d)
          : op == "Abs"        ? std::fabs(d)
                               : double(d == 0);
    return one(v);
  }
  static const std::set<std::string> kBinary = {"Add",  "Sub",     "Mul", "Div", "Equal",
                                                "Less", "Greater", "Max", "Min", "Pow",
                                                "Mod",  "And",     "Or"};
  if (kBinary.count(op) || op == "Where") {
    std::vector<const Value*> args(in.begin(), in.end());
    if (args.size() != (op == "Where" ? 3u : 2u)) return std::nullopt;
    std::vector<int64_t> out = args[0]->dims;
    for (size_t i = 1; i < args.size(); ++i) {
      auto b = broadcast(out, args[i]->dims);
      if (!b) return std::nullopt;
      out = *b;
    }
    const int64_t total = numel(out);
    if (total > kMaxEvalElements) return std::nullopt;
    auto at = [&](const Value& v, int64_t flat) {  // broadcast read
      int64_t idx = 0, stride = 1;
      const size_t off = out.size() - v.dims.size();
      for (size_t k = v.dims.size(); k-- > 0;) {
        const int64_t d = v.dims[k];
        int64_t rem = flat;
        for (size_t j = out.size(); j-- > k + off + 1;) rem /= out[j];
        const int64_t c = rem % out[k + off];
        idx += (d == 1 ? 0 : c) * stride;
        stride *= d;
      }
      return v.data[size_t(idx)];
    };
    Value r{out, {}, op == "Where" ? args[1]->type : args[0]->type};
    const bool integral = !is_float(r.type);
    static const std::set<std::string> kBool = {"Equal", "Less", "Greater", "And", "Or"};
    if (kBool.count(op)) r.type = TP::BOOL;
    for (int64_t i = 0; i < total; ++i) {
      const double a = at(*args[0], i), b = at(*args[1], i);
      double y = 0;
      if (op == "Add")
        y = a + b;
      else if (op == "Sub")
        y = a - b;
      else if (op == "Mul")
        y = a * b;
      else if (op == "Div") {
        if (b == 0) return std::nullopt;
        y = integral ? std::trunc(a / b) : a / b;
      } else if (op == "Equal")
        y = a == b;
      else if (op == "Less")
        y = a < b;
      else if (op == "Greater")
        y = a > b;
      else if (op == "Max")
        y = std::max(a, b);
      else if (op == "Min")
        y = std::min(a, b);
      else if (op == "Pow")
        y = std::pow(a, b);
      else if (op == "Mod") {
        if (b == 0) return std::nullopt;
        y = attr_int(n, "fmod", 0) ? std::fmod(a, b) : a - b * std::floor(a / b);
      } else if (op == "And")
        y = a != 0 && b != 0;
      else if (op == "Or")
        y = a != 0 || b != 0;
      else
        y = a != 0 ? b : at(*args[2], i);  // Where
      r.data.push_back(y);
    }
    return one(r);
  }
  if (op == "Gather") {
    if (!have(1)) return std::nullopt;
    int64_t axis = attr_int(n, "axis", 0);
    if (axis < 0) axis += int64_t(x.dims.size());
    if (axis != 0 || x.dims.size() != 1) return std::nullopt;
    Value r{in[1]->dims, {}, x.type};
    for (double d : in[1]->data) {
      int64_t i = to_i64(d);
      if (i < 0) i += x.numel();
      if (i < 0 || i >= x.numel()) return std::nullopt;
      r.data.push_back(x.data[size_t(i)]);
    }
    return one(r);
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes =
        opset >= 13 ? (have(1) ? ints_of(1) : std::vector<int64_t>{}) : attr_ints(n, "axes");
    Value r = x;
    if (op == "Squeeze") {
      const int64_t rank = int64_t(x.dims.size());
      std::vector<int64_t> dims;
      for (int64_t i = 0; i < rank; ++i) {
        const bool listed = std::any_of(axes.begin(), axes.end(),
                                        [&](int64_t a) { return (a < 0 ? a + rank : a) == i; });
        if ((axes.empty() && x.dims[size_t(i)] == 1) || listed) continue;
        dims.push_back(x.dims[size_t(i)]);
      }
      r.dims = dims;
      if (value_numel(dims) != x.numel()) return std::nullopt;
    } else {
      const int64_t rank = int64_t(x.dims.size() + axes.size());
      for (int64_t& a : axes) a = a < 0 ? a + rank : a;
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes) {
        if (a < 0 || a > int64_t(r.dims.size())) return std::nullopt;
        r.dims.insert(r.dims.begin() + a, 1);
      }
    }
    return one(r);
  }
  if (op == "Concat") {
    Value r{{0}, {}, x.type};
    for (const Value* v : in) {
      if (!v || v->dims.size() > 1) return std::nullopt;
      r.data.insert(r.data.end(), v->data.begin(), v->data.end());
    }
    r.dims = {r.numel()};
    return one(r);
  }
  if (op == "Reshape" || op == "Flatten") {
    Value r = x;
    r.dims = {x.numel()};
    if (op == "Reshape" && have(1)) {
      std::vector<int64_t> d = ints_of(1);
      int64_t known = 1, unknown = -1;
      for (size_t i = 0; i < d.size(); ++i) {
        if (d[i] == 0 && i < x.dims.size()) d[i] = x.dims[i];
        if (d[i] == -1) {
          unknown = int64_t(i);
          continue;
        }
        if (d[i] < 0 || d[i] > kMaxEvalElements) return std::nullopt;
        known *= d[i];
        if (known > kMaxEvalElements) return std::nullopt;
      }
      if (unknown >= 0 && known > 0 && known <= kMaxEvalElements)
        d[size_t(unknown)] = x.numel() / known;
      if (value_numel(d) != x.numel()) return std::nullopt;
      r.dims = d;
    }
    return one(r);
  }
  if (op == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    if (opset >= 10) {
      if (!have(1) || !have(2)) return std::nullopt;
      starts = ints_of(1), ends = ints_of(2);
      if (have(3)) axes = ints_of(3);
      if (have(4)) steps = ints_of(4);
    } else {
      starts = attr_ints(n, "starts"), ends = attr_ints(n, "ends"), axes = attr_ints(n, "axes");
    }
    const int64_t rank = int64_t(x.dims.size());
    if (starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()) ||
        (!steps.empty() && steps.size() != starts.size()))
      return std::nullopt;
    // Per axis: first index, step and count.
    std::vector<int64_t> first(size_t(rank), 0), step(size_t(rank), 1), count = x.dims;
    for (size_t k = 0; k < starts.size(); ++k) {
      int64_t a = axes.empty() ? int64_t(k) : axes[k];
      if (a < 0) a += rank;
      if (a < 0 || a >= rank) return std::nullopt;
      const int64_t len = x.dims[size_t(a)], st = steps.empty() ? 1 : steps[k];
      if (st == 0) return std::nullopt;
      int64_t b = starts[k], e = ends[k];
      if (b < 0) b += len;
      if (e < 0) e += len;
      int64_t cnt;
      if (st > 0) {
        b = std::clamp<int64_t>(b, 0, len), e = std::clamp<int64_t>(e, 0, len);
        cnt = e > b ? (e - b + st - 1) / st : 0;
      } else {
        b = std::clamp<int64_t>(b, -1, len - 1), e = std::clamp<int64_t>(e, -1, len - 1);
        cnt = b > e ? (b - e - st - 1) / -st : 0;
      }
      first[size_t(a)] = b, step[size_t(a)] = st, count[size_t(a)] = cnt;
    }
    Value r{count, {}, x.type};
    const int64_t total = numel(count);
    std::vector<int64_t> stride(size_t(rank), 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      stride[size_t(d)] = stride[size_t(d) + 1] * x.dims[size_t(d) + 1];
    for (int64_t i = 0; i < total; ++i) {
      int64_t rem = i, src = 0;
      for (int64_t d = rank - 1; d >= 0; --d) {
        const int64_t c = rem % count[size_t(d)];
        rem /= count[size_t(d)];
        src += (first[size_t(d)] + c * step[size_t(d)]) * stride[size_t(d)];
      }
      r.data.push_back(x.data[size_t(src)]);
    }
    return one(r);
  }
  if (op == "Transpose") {
    const size_t rank = x.dims.size();
    std::vector<int64_t> perm = attr_ints(n, "perm");
    if (perm.empty())
      for (size_t d = rank; d-- > 0;) perm.push_back(int64_t(d));
    if (perm.size() != rank) return std::nullopt;
    std::vector<int64_t> out(rank), stride(rank, 1);
    for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * x.dims[d];
    for (size_t d = 0; d < rank; ++d) {
      if (perm[d] < 0 || perm[d] >= int64_t(rank)) return std::nullopt;
      out[d] = x.dims[size_t(perm[d])];
    }
    Value r{out, {}, x.type};
    for (int64_t i = 0; i < x.numel(); ++i) {
      int64_t rem = i, src = 0;
      for (size_t d = rank; d-- > 0;) {
        const int64_t c = rem % out[d];
        rem /= out[d];
        src += c * stride[size_t(perm[d])];
      }
      r.data.push_back(x.data[size_t(src)]);
    }
    return one(r);
  }
  if (op == "Range") {
    if (!have(1) || !have(2) || x.numel() != 1) return std::nullopt;
    const double s = x.data[0], lim = in[1]->data.at(0), d = in[2]->data.at(0);
    if (d == 0) return std::nullopt;
    const double cnt = std::max(0.0, std::ceil((lim - s) / d));
    if (cnt > double(kMaxEvalElements)) return std::nullopt;
    Value r{{int64_t(cnt)}, {}, x.type};
    for (int64_t i = 0; i < int64_t(cnt); ++i) r.data.push_back(s + double(i) * d);
    return one(r);
  }
  return std::nullopt;
}

std::optional<Einsum> parse_einsum(const std::string& equation, const std::vector<int64_t>& sa,
                                   const std::vector<int64_t>& sb) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const auto arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  const auto comma = lhs.find(',');
  if (comma == std::string::npos || lhs.find(',', comma + 1) != std::string::npos)
    return std::nullopt;
  Einsum e;
  std::string ops[2] = {lhs.substr(0, comma), lhs.substr(comma + 1)};
  const std::vector<int64_t>* shapes[2] = {&sa, &sb};
  auto ellipsis = [](int64_t free) {
    std::string l;
    for (int64_t p = 0; p < free; ++p) l += char('0' + (free - 1 - p));
    return l;
  };
  int64_t max_free = 0;
  std::map<char, int> count;
  for (int k = 0; k < 2; ++k) {
    std::string& o = ops[k];
    const auto& sh = *shapes[k];
    if (const auto d = o.find("..."); d != std::string::npos) {
      const int64_t free = int64_t(sh.size()) - int64_t(o.size() - 3);
      if (free < 0 || free > 10) return std::nullopt;
      max_free = std::max(max_free, free);
      o = o.substr(0, d) + ellipsis(free) + o.substr(d + 3);
    }
    if (o.size() != sh.size()) return std::nullopt;
    for (size_t j = 0; j < o.size(); ++j) {
      const char c = o[j];
      if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
      auto it = e.size.find(c);
      if (it != e.size.end() && it->second != sh[j] && it->second != 1 && sh[j] != 1)
        return std::nullopt;
      e.size[c] = it == e.size.end() ? sh[j] : std::max(it->second, sh[j]);
      ++count[c];
    }
  }
  if (arrow == std::string::npos) {
    e.out = ellipsis(max_free);
    for (const auto& [c, k] : count)
      if (k == 1 && !(c >= '0' && c <= '9')) e.out += c;
  } else {
    e.out = eq.substr(arrow + 2);
    if (const auto d = e.out.find("..."); d != std::string::npos)
      e.out = e.out.substr(0, d) + ellipsis(max_free) + e.out.substr(d + 3);
  }
  for (char c : e.out)
    if (!e.size.count(c)) return std::nullopt;
  e.a = ops[0], e.b = ops[1];
  return e;
}

}  // namespace ssim::onnx_detail
