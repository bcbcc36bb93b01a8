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

}  // namespace

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
