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
#include "workloads/onnx_lowering.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"

namespace ssim {

using namespace onnx_detail;

namespace {

// ONNX models up to protobuf's 2 GiB limit (weights may also be in external files, never read).
constexpr uintmax_t kMaxOnnxBytes = (uintmax_t(2) << 30) - 1;

// --- The weights' bytes dropped before the parse ------------------------------------------------
// parse_onnx_network() keeps the data of small initializers only (kMaxEvalElements elements, for
// shapes). Parsed whole, a model near 2 GiB held its bytes twice (the file and the parsed
// raw_data: 4 GB, std::bad_alloc under a 4 GB address space); the raw_data of the initializers it
// drops anyway is left out of the bytes before protobuf parses them, by a scan of the wire format
// (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.dims = 1, raw_data = 9). Only
// those payloads go (bytes, which protobuf does not check), so the parse gives what it gave, less
// data that was cleared right after it.

bool read_varint(const std::string& b, size_t& i, size_t end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (i >= end) return false;
    const uint8_t c = uint8_t(b[i++]);
    v |= uint64_t(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

void write_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char(uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(v);
}

// One field at b[i]: its number, wire type and payload [p, q); the field ends at q. False on
// anything but a well-formed field of wire type 0, 1, 2 or 5.
struct WireField {
  uint64_t number = 0;
  int type = 0;
  size_t p = 0, q = 0;
};
bool read_field(const std::string& b, size_t& i, size_t end, WireField& f) {
  uint64_t key = 0, len = 0;
  if (!read_varint(b, i, end, key)) return false;
  f.number = key >> 3;
  f.type = int(key & 7);
  f.p = i;
  switch (f.type) {
    case 0:
      if (!read_varint(b, i, end, len)) return false;
      break;
    case 1:
      i += 8;
      break;
    case 2:
      if (!read_varint(b, i, end, len) || len > end - i) return false;
      f.p = i;
      i += size_t(len);
      break;
    case 5:
      i += 4;
      break;
    default:
      return false;
  }
  if (i > end) return false;
  f.q = i;
  return true;
}

// The elements of a TensorProto in b[begin, end) as the reader counts them (capped at
// kMaxEvalElements + 1), from its dims in order.
bool tensor_elements(const std::string& b, size_t begin, size_t end, int64_t& n) {
  n = 1;
  auto dim = [&](uint64_t v) {
    const int64_t d = int64_t(v);
    n = d <= 0 ? 0 : n > kMaxEvalElements || d > kMaxEvalElements ? kMaxEvalElements + 1 : n * d;
  };
  for (size_t i = begin; i < end;) {
    WireField f;
    if (!read_field(b, i, end, f)) return false;
    if (f.number != 1) continue;
    uint64_t v = 0;
    if (f.type == 0) {
      size_t k = f.p;
      if (!read_varint(b, k, f.q, v)) return false;
      dim(v);
    } else if (f.type == 2) {
      for (size_t k = f.p; k < f.q;) {
        if (!read_varint(b, k, f.q, v)) return false;
        dim(v);
      }
    }
  }
  return true;
}

// Copies b[begin, end), a message at `depth` (0 model, 1 graph, 2 initializer), to `out` (when
// not null) without the raw_data of large initializers; adds the bytes left out to `dropped`.
bool slim_message(const std::string& b, size_t begin, size_t end, int depth, std::string* out,
                  uint64_t& dropped) {
  bool drop_data = false;
  if (depth == 2) {
    int64_t n = 0;
    if (!tensor_elements(b, begin, end, n)) return false;
    drop_data = n > kMaxEvalElements;
  }
  for (size_t i = begin; i < end;) {
    const size_t start = i;
    WireField f;
    if (!read_field(b, i, end, f)) return false;
    if (drop_data && f.number == 9 && f.type == 2) {
      dropped += f.q - start;
      continue;
    }
    const bool inner =
        f.type == 2 && ((depth == 0 && f.number == 7) || (depth == 1 && f.number == 5));
    if (!inner) {
      if (out) out->append(b, start, f.q - start);
      continue;
    }
    std::string sub;
    if (!slim_message(b, f.p, f.q, depth + 1, out ? &sub : nullptr, dropped)) return false;
    if (out) {
      write_varint(*out, (f.number << 3) | 2);
      write_varint(*out, sub.size());
      *out += sub;
    }
  }
  return true;
}

}  // namespace

std::string onnx_detail::without_large_weights(const std::string& bytes) {
  uint64_t dropped = 0;
  if (!slim_message(bytes, 0, bytes.size(), 0, nullptr, dropped) || dropped == 0) return "";
  std::string out;
  out.reserve(bytes.size() - size_t(dropped));
  dropped = 0;
  if (!slim_message(bytes, 0, bytes.size(), 0, &out, dropped)) return "";
  return out;
}

// The walk: producers and consumers, topological order, the patterns, each node lowered.
Network onnx_detail::Lowering::run() {
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

Network parse_onnx_network(std::string bytes, const std::string& source, const OnnxOptions& opts) {
  Graph g;
  g.source = source;
  if (bytes.empty()) fail(source, "empty file; expected an ONNX model");
  if (std::string slim = without_large_weights(bytes); !slim.empty()) bytes.swap(slim);
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
