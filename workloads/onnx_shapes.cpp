// The ONNX reader's shapes: every tensor's static shape from ONNX shape inference plus our own
// evaluation of the small integer tensors PyTorch's exporter computes shapes with, resolved in a
// child process (docs/workloads.md, "ONNX models"). Internal interface: onnx_graph.hpp.
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "models/types.hpp"
#include "workloads/onnx_graph.hpp"
#include "workloads/read_util.hpp"

namespace ssim::onnx_detail {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw InputError(detail::printable(source) + ": " + detail::printable(what));
}

bool is_float(int32_t t) {
  using TP = onnx::TensorProto;
  return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16;
}

// n values of type T stored little-endian in raw (a TensorProto's raw_data).
template <class T>
bool read_raw(const std::string& raw, int64_t n, std::vector<double>& out) {
  if (raw.size() != size_t(n) * sizeof(T)) return false;
  for (int64_t i = 0; i < n; ++i) {
    T x;
    std::memcpy(&x, raw.data() + size_t(i) * sizeof(T), sizeof(T));
    out.push_back(double(x));
  }
  return true;
}

std::optional<Value> tensor_value(const onnx::TensorProto& t) {
  using TP = onnx::TensorProto;
  if (t.data_location() == TP::EXTERNAL) return std::nullopt;
  Value v;
  v.type = t.data_type();
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxEvalElements) return std::nullopt;
    n *= d;
    if (n > kMaxEvalElements) return std::nullopt;
    v.dims.push_back(d);
  }
  const std::string& raw = t.raw_data();
  auto& d = v.data;
  bool ok = true;
  switch (t.data_type()) {
    case TP::INT64:
      if (!raw.empty()) ok = read_raw<int64_t>(raw, n, d);
      for (int64_t x : t.int64_data()) d.push_back(double(x));
      break;
    case TP::INT32:
    case TP::BOOL:
    case TP::INT8:
    case TP::UINT8:
      if (!raw.empty())
        ok = t.data_type() == TP::INT32  ? read_raw<int32_t>(raw, n, d)
             : t.data_type() == TP::INT8 ? read_raw<int8_t>(raw, n, d)
                                         : read_raw<uint8_t>(raw, n, d);
      for (int32_t x : t.int32_data()) d.push_back(double(x));
      break;
    case TP::FLOAT:
      if (!raw.empty()) ok = read_raw<float>(raw, n, d);
      for (float x : t.float_data()) d.push_back(double(x));
      break;
    case TP::DOUBLE:
      if (!raw.empty()) ok = read_raw<double>(raw, n, d);
      for (double x : t.double_data()) d.push_back(x);
      break;
    default:
      return std::nullopt;
  }
  if (!ok || v.numel() != n) return std::nullopt;
  return v;
}

// Values are doubles: exact for integers up to 2^53; INT64_MAX and INT64_MIN (Slice's "to the
// end") round to +-2^63 and are clamped back.
int64_t to_i64(double x) {
  if (!(x == x)) return 0;
  if (x >= 9.2233720368547758e18) return INT64_MAX;
  if (x <= -9.2233720368547758e18) return INT64_MIN;
  return int64_t(x);
}
int32_t to_i32(double x) {
  return int32_t(std::clamp<int64_t>(to_i64(x), INT32_MIN, INT32_MAX));
}

onnx::TensorProto to_tensor(const std::string& name, const Value& v) {
  using TP = onnx::TensorProto;
  onnx::TensorProto t;
  t.set_name(name);
  for (int64_t d : v.dims) t.add_dims(d);
  const bool flt = is_float(v.type);
  t.set_data_type(flt                   ? TP::FLOAT
                  : v.type == TP::INT32 ? TP::INT32
                  : v.type == TP::BOOL  ? TP::BOOL
                                        : TP::INT64);
  for (double x : v.data) {
    if (flt)
      t.add_float_data(float(x));
    else if (t.data_type() == TP::INT64)
      t.add_int64_data(to_i64(x));
    else
      t.add_int32_data(to_i32(x));
  }
  return t;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_int(const onnx::NodeProto& n, const char* name, int64_t dflt) {
  const auto* a = attr(n, name);
  return a && a->has_i() ? a->i() : dflt;
}
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name) {
  const auto* a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}
std::string attr_str(const onnx::NodeProto& n, const char* name) {
  const auto* a = attr(n, name);
  return a && a->has_s() ? a->s() : std::string();
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

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

// Names a node in messages.
std::string node_label(const onnx::NodeProto& n, int index) {
  return n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
}

void collect_shapes(Graph& g) {
  g.shape.clear();
  auto take = [&](const onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type()) return;
    const auto& tt = v.type().tensor_type();
    if (tt.elem_type() != 0) g.type[v.name()] = tt.elem_type();
    if (!tt.has_shape()) return;
    std::vector<int64_t> s;
    int64_t n = 1;
    for (const auto& d : tt.shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() < 0 || d.dim_value() > kMaxDim) return;
      s.push_back(d.dim_value());
      n = d.dim_value() == 0                 ? 0
          : n > kMaxElements / d.dim_value() ? kMaxElements + 1
                                             : n * d.dim_value();
      if (n > kMaxElements) return;
    }
    g.shape[v.name()] = s;
  };
  const auto& gr = g.model.graph();
  for (const auto& v : gr.input()) take(v);
  for (const auto& v : gr.value_info()) take(v);
  for (const auto& v : gr.output()) take(v);
  for (const auto& t : gr.initializer()) {
    std::vector<int64_t> s;
    bool ok = true;
    int64_t n = 1;
    for (int64_t d : t.dims()) {
      ok = ok && d >= 0 && d <= kMaxDim;
      if (ok) n = d == 0 ? 0 : n > kMaxElements / d ? kMaxElements + 1 : n * d;
      ok = ok && n <= kMaxElements;
      s.push_back(d);
    }
    if (ok) g.shape[t.name()] = s;
    g.type[t.name()] = t.data_type();
  }
}

void run_inference(Graph& g) {
  try {
    onnx::ShapeInferenceOptions opts(false, 0, false);
    onnx::shape_inference::InferShapes(g.model, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    fail(g.source, std::string("ONNX shape inference failed: ") + e.what());
  }
  collect_shapes(g);
}

// Shape inference, then the integer tensors it could not see through evaluated and made
// initializers, until nothing new is found.
void resolve_shapes(Graph& g) {
  auto* gr = g.model.mutable_graph();
  for (const auto& t : gr->initializer()) {
    g.consts.insert(t.name());
    if (auto v = tensor_value(t)) g.values[t.name()] = *v;
  }
  // Each round evaluates what the shapes known so far allow (in file order, so values flow
  // forward within a round); ViT-B/16 needs about 40 rounds. A cap bounds a pathological file.
  for (int round = 0; round < 400; ++round) {
    run_inference(g);
    bool progress = false;
    std::vector<int> remove;
    for (int i = 0; i < gr->node_size(); ++i) {
      const onnx::NodeProto& n = gr->node(i);
      if (n.output_size() == 0) continue;
      std::vector<const Value*> in;
      std::vector<const std::vector<int64_t>*> shp;
      for (const std::string& name : n.input()) {
        auto v = g.values.find(name);
        in.push_back(v == g.values.end() ? nullptr : &v->second);
        auto s = g.shape.find(name);
        shp.push_back(s == g.shape.end() ? nullptr : &s->second);
      }
      // Only integer/boolean results, and constants of any type (Constant nodes).
      bool wanted = n.op_type() == "Constant";
      for (const std::string& o : n.output()) {
        auto t = g.type.find(o);
        if (t != g.type.end() && !is_float(t->second)) wanted = true;
      }
      if (!wanted && !(n.op_type() == "Shape" || n.op_type() == "Size")) continue;
      auto out = evaluate(n, g.opset, in, shp);
      if (!out || out->size() < size_t(n.output_size())) continue;
      for (int k = 0; k < n.output_size(); ++k) {
        const std::string& o = n.output(k);
        if (o.empty()) continue;
        g.values[o] = (*out)[size_t(k)];
        g.consts.insert(o);
        *gr->add_initializer() = to_tensor(o, (*out)[size_t(k)]);
      }
      remove.push_back(i);
      progress = true;
    }
    // ONNX 1.12 infers an Einsum's rank only: its dims are ours.
    for (int i = 0; i < gr->node_size(); ++i) {
      const onnx::NodeProto& n = gr->node(i);
      if (n.op_type() != "Einsum" || n.input_size() != 2 || n.output_size() != 1 ||
          g.shape.count(n.output(0)) || !g.shape.count(n.input(0)) || !g.shape.count(n.input(1)))
        continue;
      const auto e =
          parse_einsum(attr_str(n, "equation"), g.shape.at(n.input(0)), g.shape.at(n.input(1)));
      if (!e) continue;
      onnx::ValueInfoProto* vi = nullptr;
      for (auto& v : *gr->mutable_value_info())
        if (v.name() == n.output(0)) vi = &v;
      if (!vi) vi = gr->add_value_info();
      vi->set_name(n.output(0));
      auto* tt = vi->mutable_type()->mutable_tensor_type();
      auto t = g.type.find(n.input(0));
      tt->set_elem_type(t == g.type.end() ? onnx::TensorProto::FLOAT : t->second);
      tt->clear_shape();
      for (int64_t d : e->out_shape()) tt->mutable_shape()->add_dim()->set_dim_value(d);
      progress = true;
    }
    if (!progress) break;
    // The evaluated nodes go; their outputs are initializers now.
    std::set<int> gone(remove.begin(), remove.end());
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    for (int i = 0; i < gr->node_size(); ++i)
      if (!gone.count(i)) *kept.Add() = gr->node(i);
    gr->mutable_node()->Swap(&kept);
  }
}

// Shape resolution runs in a child process: ONNX's shape inference (onnx 1.12) trusts the nodes
// it is given and crashes on some malformed ones (a Conv whose weight rank differs from its
// input's). A crash there is then one error line, not a crashed simulator. The child sends back
// what the lowering needs: shapes, element types, constant values and the constant names.
void put_u64(std::string& b, uint64_t x) {
  b.append(reinterpret_cast<const char*>(&x), 8);
}
void put_str(std::string& b, const std::string& s) {
  put_u64(b, s.size());
  b += s;
}
struct Unpacker {
  const std::string& b;
  size_t p = 1;  // after the status byte
  bool ok = true;
  uint64_t u64() {
    if (!ok || b.size() - p < 8) return ok = false, 0;
    uint64_t x;
    std::memcpy(&x, b.data() + p, 8);
    p += 8;
    return x;
  }
  std::string str() {
    const uint64_t n = u64();
    if (!ok || n > b.size() - p) return ok = false, std::string();
    std::string s = b.substr(p, size_t(n));
    p += size_t(n);
    return s;
  }
  std::vector<int64_t> ints() {
    const uint64_t n = u64();
    std::vector<int64_t> v;
    for (uint64_t i = 0; ok && i < n && i < b.size(); ++i) v.push_back(int64_t(u64()));
    return v;
  }
};

std::string pack(const Graph& g) {
  std::string b(1, '\0');
  auto ints = [&](const std::vector<int64_t>& v) {
    put_u64(b, v.size());
    for (int64_t x : v) put_u64(b, uint64_t(x));
  };
  put_u64(b, g.shape.size());
  for (const auto& [name, dims] : g.shape) put_str(b, name), ints(dims);
  put_u64(b, g.type.size());
  for (const auto& [name, t] : g.type) put_str(b, name), put_u64(b, uint64_t(uint32_t(t)));
  put_u64(b, g.values.size());
  for (const auto& [name, v] : g.values) {
    put_str(b, name);
    put_u64(b, uint64_t(uint32_t(v.type)));
    ints(v.dims);
    put_u64(b, v.data.size());
    for (double x : v.data) {
      uint64_t u;
      std::memcpy(&u, &x, 8);
      put_u64(b, u);
    }
  }
  put_u64(b, g.consts.size());
  for (const std::string& c : g.consts) put_str(b, c);
  return b;
}

bool unpack(const std::string& b, Graph& g) {
  Unpacker u{b};
  for (uint64_t i = 0, n = u.u64(); u.ok && i < n; ++i) {
    std::string name = u.str();
    g.shape[name] = u.ints();
  }
  for (uint64_t i = 0, n = u.u64(); u.ok && i < n; ++i) {
    std::string name = u.str();
    g.type[name] = int32_t(uint32_t(u.u64()));
  }
  for (uint64_t i = 0, n = u.u64(); u.ok && i < n; ++i) {
    std::string name = u.str();
    Value v;
    v.type = int32_t(uint32_t(u.u64()));
    v.dims = u.ints();
    for (uint64_t k = 0, m = u.u64(); u.ok && k < m && k < b.size(); ++k) {
      const uint64_t x = u.u64();
      double d;
      std::memcpy(&d, &x, 8);
      v.data.push_back(d);
    }
    g.values[name] = std::move(v);
  }
  for (uint64_t i = 0, n = u.u64(); u.ok && i < n; ++i) g.consts.insert(u.str());
  return u.ok && u.p == b.size();
}

void resolve_shapes_isolated(Graph& g) {
  int fds[2];
  if (::pipe(fds) != 0) return resolve_shapes(g);  // no pipe: in this process
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return resolve_shapes(g);
  }
  if (pid == 0) {
    // A crash in the child is the parent's error line: no sanitizer or fuzzer report for it.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    ::close(fds[0]);
    std::string out;
    try {
      resolve_shapes(g);
      out = pack(g);
    } catch (const InputError& e) {
      out = std::string(1, '\1') + e.what();
    } catch (const std::exception& e) {
      out = std::string(1, '\1') + detail::printable(g.source) +
            ": ONNX shape inference failed: " + e.what();
    }
    for (size_t off = 0; off < out.size();) {
      const ssize_t w = ::write(fds[1], out.data() + off, out.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += size_t(w);
    }
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string in;
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    in.append(buf, size_t(r));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.empty())
    fail(g.source, "ONNX shape inference crashed on this model" +
                       (WIFSIGNALED(status) ? " (signal " + std::to_string(WTERMSIG(status)) + ")"
                                            : std::string()) +
                       ": a malformed node (check it with onnx.checker.check_model)");
  if (in[0] == '\1') throw InputError(in.substr(1));
  g.shape.clear(), g.type.clear(), g.values.clear(), g.consts.clear();
  if (in[0] != '\0' || !unpack(in, g))
    fail(g.source, "internal: shape resolution sent back garbage");
  // The evaluated nodes go, their outputs become initializers, as in the child.
  auto* gr = g.model.mutable_graph();
  std::set<std::string> inits;
  for (const auto& t : gr->initializer()) inits.insert(t.name());
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (int i = 0; i < gr->node_size(); ++i) {
    const onnx::NodeProto& n = gr->node(i);
    bool evaluated = false, all = true;
    for (const std::string& o : n.output()) {
      if (o.empty()) continue;
      const bool v = g.values.count(o) > 0 && !inits.count(o);
      evaluated = evaluated || v;
      all = all && v;
    }
    if (evaluated && all) {
      for (const std::string& o : n.output())
        if (!o.empty()) *gr->add_initializer() = to_tensor(o, g.values.at(o));
    } else {
      *kept.Add() = n;
    }
  }
  gr->mutable_node()->Swap(&kept);
}

}  // namespace ssim::onnx_detail
