// ONNX models as workloads: parse (Debian's libonnx), resolve the shapes (ONNX shape inference
// plus our own evaluation of the small integer tensors PyTorch's exporter computes shapes with),
// walk the graph in topological order and lower each node to our Layer types. The supported ops
// and the rules are in docs/workloads.md, "ONNX models".
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {

namespace {

// ONNX models up to protobuf's 2 GiB limit (weights may also be in external files, never read).
constexpr uintmax_t kMaxOnnxBytes = (uintmax_t(2) << 30) - 1;
// Integer tensors up to this many elements are evaluated (shape arithmetic).
constexpr int64_t kMaxEvalElements = 4096;
// Tensor sizes beyond these are not taken as static shapes (element counts would overflow); the
// layers check their own limits (layer_problem).
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxElements = int64_t(1) << 53;

const char* const kSupportedOps =
    "Conv, ConvTranspose (skip only), Gemm, MatMul, BatchNormalization, Relu, Clip, LeakyRelu, "
    "Sigmoid, HardSigmoid, Tanh, Gelu, Erf (GELU pattern), HardSwish, Add, Sub, Mul, Div, Where, "
    "MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, ReduceMean/ReduceMax/ReduceSum/"
    "ReduceMin, Einsum (two operands), Softmax, LayerNormalization; cost nothing: Reshape, "
    "Transpose, Flatten, Squeeze, "
    "Unsqueeze, Concat, Split, Slice, Gather, Expand, Pad, Shape, Constant, ConstantOfShape, "
    "Identity, Dropout, Cast, and any op on integer or boolean tensors";

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw InputError(detail::printable(source) + ": " + detail::printable(what));
}

bool is_float(int32_t t) {
  using TP = onnx::TensorProto;
  return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16;
}

// A small tensor's value (shape arithmetic), as doubles.
struct Value {
  std::vector<int64_t> dims;
  std::vector<double> data;
  int32_t type = onnx::TensorProto::INT64;
  int64_t numel() const { return int64_t(data.size()); }
};

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

// A two-operand Einsum equation with the operands' shapes: each label's size and the labels of
// A, B and the output ("..." becomes the labels '0', '1', ... of the trailing batch dims).
struct Einsum {
  std::string a, b, out;
  std::map<char, int64_t> size;
  std::vector<int64_t> out_shape() const {
    std::vector<int64_t> s;
    for (char c : out) s.push_back(size.at(c));
    return s;
  }
};
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

struct Graph {
  onnx::ModelProto model;
  std::string source;
  int opset = 0;
  std::map<std::string, std::vector<int64_t>> shape;  // tensors with a full static shape
  std::map<std::string, int32_t> type;                // element type, where known
  std::set<std::string> consts;                       // initializers (weights, resolved values)
  std::map<std::string, Value> values;                // small constant values
};

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
  void lower_elementwise(int idx, ElementwiseOp op, const std::string& in, int64_t elements,
                         int64_t row, const std::vector<std::string>& from);

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

void Lowering::lower_elementwise(int idx, ElementwiseOp op, const std::string& in, int64_t elements,
                                 int64_t row, const std::vector<std::string>& from) {
  (void)in;
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
  lower_elementwise(idx, op, x, numel(shape_of(n, idx, n.output(0))), 0, {x});
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
    lower_elementwise(idx, kind, ins[0], numel(ys), 0, {ins[0]});
    return;
  }
  if (ins.empty()) {  // constant folding the exporter left: no work at run time
    pass_through(n);
    return;
  }
  lower_elementwise(idx, kind, ins[0], numel(ys), 0, ins);
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
    return lower_elementwise(idx, ElementwiseOp::Add, from[0], numel(shape_of(n, idx, n.output(0))),
                             0, from);
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
    return lower_elementwise(idx, ElementwiseOp::Mul, n.input(0),
                             numel(shape_of(n, idx, n.output(0))), 0, {n.input(0)});
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
    return lower_elementwise(idx, ElementwiseOp::Add, n.input(0), numel(xs), 0, {n.input(0)});
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
    return lower_elementwise(idx, ElementwiseOp::LayerNorm, n.input(0), numel(xs), row,
                             {n.input(0)});
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

Network parse_onnx_network(const std::string& bytes, const std::string& source,
                           const OnnxOptions& opts) {
  Graph g;
  g.source = source;
  if (bytes.empty()) fail(source, "empty file; expected an ONNX model");
  if (!g.model.ParseFromString(bytes))
    fail(source, "not an ONNX model (the protobuf does not parse: truncated or another format)");
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
  net.name = g.model.graph().name().empty() ? detail::file_stem(source) : detail::file_stem(source);
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
  return parse_onnx_network(bytes, path, opts);
}

}  // namespace ssim
