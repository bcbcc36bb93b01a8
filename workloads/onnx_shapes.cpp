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
