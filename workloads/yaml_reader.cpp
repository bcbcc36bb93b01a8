// Our YAML network format (docs/workloads.md), read with yaml-cpp.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "models/types.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"
#include "workloads/yaml_subset.hpp"

namespace ssim {

namespace {

// The network is read from a YAML::Node (yaml-cpp's tree, any YAML) or from a
// detail::YamlLite (the subset reader's, detail/yaml_subset.hpp) through the same checks: the
// classes below are templates over the node type, which offers IsScalar, IsSequence, IsMap,
// IsNull, Scalar, size and operator[] (LiteNode wraps a YamlLite so), and the free functions
// line_of, for_each_entry, plain_merge_key and decode_bool.

int line_of(const YAML::Node& n, int fallback) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : fallback;
}

// Calls f(key, value) for each entry of a map, in order.
template <class F>
void for_each_entry(const YAML::Node& map, F f) {
  for (auto it = map.begin(); it != map.end(); ++it) f(it->first, it->second);
}

// Calls f(item) for each item of a sequence.
template <class F>
void for_each_item(const YAML::Node& seq, F f) {
  for (auto it = seq.begin(); it != seq.end(); ++it) f(*it);
}

// A key `<<` is YAML's merge key unless quoted.
bool plain_merge_key(const YAML::Node& key) {
  return key.Tag() != "!";
}

bool decode_bool(const YAML::Node& n, bool& b) {
  return YAML::convert<bool>::decode(n, b);
}

// A detail::YamlLite read like a YAML::Node (it has no nulls, tags or line marks).
class LiteNode {
 public:
  explicit LiteNode(const detail::YamlLite* n) : n_(n) {}
  bool IsScalar() const { return n_->kind == detail::YamlLite::Kind::Scalar; }
  bool IsSequence() const { return n_->kind == detail::YamlLite::Kind::Sequence; }
  bool IsMap() const { return n_->kind == detail::YamlLite::Kind::Map; }
  bool IsNull() const { return false; }
  const std::string& Scalar() const { return n_->scalar; }
  size_t size() const { return IsScalar() ? 0 : IsMap() ? n_->items.size() / 2 : n_->items.size(); }
  LiteNode operator[](size_t i) const { return LiteNode(&n_->items[i]); }
  const detail::YamlLite& node() const { return *n_; }

 private:
  const detail::YamlLite* n_;
};

int line_of(const LiteNode&, int fallback) {
  return fallback;
}

template <class F>
void for_each_entry(const LiteNode& map, F f) {
  const auto& items = map.node().items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) f(LiteNode(&items[i]), LiteNode(&items[i + 1]));
}

template <class F>
void for_each_item(const LiteNode& seq, F f) {
  for (const detail::YamlLite& item : seq.node().items) f(LiteNode(&item));
}

bool plain_merge_key(const LiteNode&) {
  return true;
}

// yaml-cpp's own rules (true, yes, on, y and their capitalised forms), on a node made of the text.
bool decode_bool(const LiteNode& n, bool& b) {
  return n.IsScalar() && YAML::convert<bool>::decode(YAML::Node(n.Scalar()), b);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

template <class N>
std::string scalar_text(const N& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "empty";
}

// The keys of a YAML map, each checked once; reports problems as "SRC:LINE: [layer 'NAME': ]..".
template <class N>
class MapReader {
 public:
  MapReader(const N& map, std::string source, int fallback_line, std::string layer_name)
      : source_(std::move(source)),
        line_(line_of(map, fallback_line)),
        layer_(std::move(layer_name)) {
    std::set<std::string> seen;
    std::vector<N> merged;  // the maps of a `<<` merge key, in order
    for_each_entry(map, [&](const N& k, const N& value) {
      const std::string key = k.IsScalar() ? k.Scalar() : "";
      if (key.empty()) fail(k, "a key must be a non-empty name");
      if (key == "<<" && plain_merge_key(k)) {  // a quoted "<<" is a plain key
        // YAML's merge key (yaml.org/type/merge): the keys of a map, or of a list of maps,
        // that this map does not set itself; an earlier map in the list wins over a later one.
        if (!seen.insert(key).second) fail(k, "duplicate key '<<'");
        const N v = value;  // a copy: the iterator yields a temporary
        if (v.IsMap()) {
          merged.push_back(v);
        } else if (v.IsSequence() && v.size() > 0) {
          for_each_item(v, [&](const N& m) {
            if (!m.IsMap()) fail(m, "'<<' (a merge key) takes a map or a list of maps");
            merged.push_back(m);
          });
        } else {
          fail(v, "'<<' (a merge key) takes a map or a list of maps, not " + scalar_text(v));
        }
        return;
      }
      if (!seen.insert(key).second) fail(k, "duplicate key '" + key + "'");
      entries_.emplace_back(key, value);
    });
    for (const N& m : merged)
      for_each_entry(m, [&](const N& k, const N& value) {
        const std::string key = k.IsScalar() ? k.Scalar() : "";
        if (key.empty()) fail(k, "a key must be a non-empty name");
        if (key == "<<") fail(k, "a merged map may not merge again ('<<' inside '<<')");
        if (seen.insert(key).second) entries_.emplace_back(key, value);
      });
    used_.assign(entries_.size(), false);
  }

  [[noreturn]] void fail(const N& at, const std::string& what) const {
    fail_line(line_of(at, line_), what);
  }
  [[noreturn]] void fail_line(int line, const std::string& what) const {
    throw InputError(source_ + ":" + std::to_string(line) + ": " +
                     (layer_.empty() ? "" : "layer '" + layer_ + "': ") + what);
  }
  int line() const { return line_; }
  void set_layer_name(const std::string& n) { layer_ = n; }

  // The value of `key`, or nullptr.
  const N* find(const std::string& key) {
    for (size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].first == key) {
        used_[i] = true;
        return &entries_[i].second;
      }
    return nullptr;
  }
  const N& require(const std::string& key, const std::string& what) {
    const N* n = find(key);
    if (!n || n->IsNull()) fail_line(line_, "missing field '" + key + "' (" + what + ")");
    return *n;
  }

  // A non-empty text; a name (`is_name`) is UTF-8 without control characters too.
  std::string str(const N& n, const std::string& key, bool is_name = true) const {
    if (!n.IsScalar() || n.Scalar().empty())  // an empty scalar ('' or "") shows as ''
      fail(n, "'" + key + "' is " + (n.IsScalar() ? "''" : scalar_text(n)) + ", expected a name");
    if (const std::string why = is_name ? detail::name_problem(n.Scalar()) : std::string();
        !why.empty())
      fail(n, "'" + key + "' '" + n.Scalar() + "' " + why +
                  "; expected UTF-8 text without control characters");
    return n.Scalar();
  }

  // An integer >= min in `n` (without building a message when there is none).
  static bool integer_at_least(const N& n, int64_t min, int64_t& v) {
    return n.IsScalar() && detail::parse_int64(detail::trim(n.Scalar()), v) && v >= min;
  }
  int64_t integer(const N& n, const std::string& key, int64_t min) const {
    int64_t v = 0;
    if (integer_at_least(n, min, v)) return v;
    if (!n.IsScalar() || !detail::parse_int64(detail::trim(n.Scalar()), v))
      fail(n, "'" + key + "' is '" + scalar_text(n) + "', expected " +
                  (min > 0 ? "a positive integer" : "an integer >= 0"));
    if (v < min)
      fail(n, "'" + key + "' is " + std::to_string(v) + ", must be " +
                  (min > 0 ? "a positive integer" : "0 or more"));
    return v;
  }
  int64_t positive(const std::string& key, const std::string& what) {
    return integer(require(key, what), key, 1);
  }
  int64_t integer_or(const std::string& key, int64_t def, int64_t min) {
    const N* n = find(key);
    return n ? integer(*n, key, min) : def;
  }
  // A list of exactly `names.size()` integers >= min.
  std::vector<int64_t> list(const N& n, const std::string& key,
                            const std::vector<std::string>& names, int64_t min) const {
    if (!n.IsSequence() || n.size() != names.size())
      fail(n, "'" + key + "' must be a list [" + join(names) + "]");
    std::vector<int64_t> v(names.size());
    for (size_t i = 0; i < names.size(); ++i)
      if (!integer_at_least(n[i], min, v[i]))
        integer(n[i], key + "[" + std::to_string(i) + "] (" + names[i] + ")", min);  // throws
    return v;
  }
  // A scalar (used for both) or a pair [h, w].
  std::pair<int64_t, int64_t> pair_or(const std::string& key, int64_t def, int64_t min) {
    const N* n = find(key);
    if (!n) return {def, def};
    if (n->IsSequence()) {
      static const std::vector<std::string> names = {"height", "width"};
      const auto v = list(*n, key, names, min);
      return {v[0], v[1]};
    }
    const int64_t v = integer(*n, key, min);
    return {v, v};
  }
  bool boolean_or(const std::string& key, bool def) {
    const N* n = find(key);
    if (!n) return def;
    bool b = false;
    if (!n->IsScalar() || !decode_bool(*n, b))
      fail(*n, "'" + key + "' is '" + scalar_text(*n) + "', expected true or false");
    return b;
  }
  // Parses an enum value with `parse` (which throws InputError naming the allowed values).
  template <class F>
  auto enum_value(const N& n, const std::string& key, F parse) const {
    const std::string s = str(n, key);
    try {
      return parse(s);
    } catch (const InputError& e) {
      fail(n, "'" + key + "': " + e.what());
    }
  }
  template <class E, class F>
  E enum_or(const std::string& key, E def, F parse) {
    const N* n = find(key);
    return n ? enum_value(*n, key, parse) : def;
  }

  // Fails on the first key not read and not in `also_allowed`.
  void check_unknown(const std::vector<std::string>& allowed) const {
    for (const auto& e : entries_)
      if (!used_[size_t(&e - entries_.data())]) {
        bool ok = false;
        for (const auto& a : allowed) ok = ok || a == e.first;
        if (!ok) fail(e.second, "unknown key '" + e.first + "'; allowed: " + join(allowed));
      }
  }

 private:
  std::string source_;
  int line_;
  std::string layer_;
  std::vector<std::pair<std::string, N>> entries_;
  std::vector<char> used_;  // per entry: read by find()
};

const std::vector<std::string> kCommonKeys = {"name", "type", "batch", "dtype", "from"};

const std::vector<std::string> kHeightWidthChannels = {"height", "width", "channels"};

std::vector<std::string> with_common(std::vector<std::string> keys) {
  keys.insert(keys.begin(), kCommonKeys.begin(), kCommonKeys.end());
  return keys;
}

template <class N>
LayerParams read_params(LayerType type, MapReader<N>& m) {
  switch (type) {
    case LayerType::Conv2d: {
      Conv2dLayer c;
      const auto in =
          m.list(m.require("input", "[height, width, channels]"), "input", kHeightWidthChannels, 1);
      c.in_h = in[0];
      c.in_w = in[1];
      c.in_c = in[2];
      c.filters = m.positive("filters", "number of output channels");
      m.require("kernel", "size or [height, width]");
      std::tie(c.kernel_h, c.kernel_w) = m.pair_or("kernel", 0, 1);
      std::tie(c.stride_h, c.stride_w) = m.pair_or("stride", 1, 1);
      std::tie(c.pad_h, c.pad_w) = m.pair_or("padding", 0, 0);
      std::tie(c.dilation_h, c.dilation_w) = m.pair_or("dilation", 1, 1);
      c.groups = m.integer_or("groups", 1, 1);
      c.bias = m.boolean_or("bias", false);
      c.activation = m.enum_or("activation", Activation::None, parse_activation);
      static const std::vector<std::string> allowed =
          with_common({"input", "filters", "kernel", "stride", "padding", "dilation", "groups",
                       "bias", "activation"});
      m.check_unknown(allowed);
      return c;
    }
    case LayerType::Linear: {
      LinearLayer l;
      l.tokens = m.integer_or("tokens", 1, 1);
      l.in = m.positive("in", "input features");
      l.out = m.positive("out", "output features");
      l.bias = m.boolean_or("bias", false);
      l.activation = m.enum_or("activation", Activation::None, parse_activation);
      static const std::vector<std::string> allowed =
          with_common({"tokens", "in", "out", "bias", "activation"});
      m.check_unknown(allowed);
      return l;
    }
    case LayerType::Attention: {
      AttentionLayer a;
      a.seq = m.positive("seq", "query tokens");
      a.kv = m.integer_or("kv", a.seq, 1);
      a.d_model = m.positive("d_model", "model width");
      a.heads = m.positive("heads", "number of heads");
      a.d_head = m.integer_or("d_head", 0, 1);
      a.causal = m.boolean_or("causal", false);
      a.cross = m.boolean_or("cross", false);
      a.bias = m.boolean_or("bias", false);
      a.projections = m.boolean_or("projections", true);
      static const std::vector<std::string> allowed = with_common(
          {"seq", "kv", "d_model", "heads", "d_head", "causal", "cross", "bias", "projections"});
      m.check_unknown(allowed);
      return a;
    }
    case LayerType::Elementwise: {
      ElementwiseLayer e;
      e.op = m.enum_value(m.require("op", "add, mul, relu, gelu, layernorm, ..."), "op",
                          parse_elementwise_op);
      const N* elements = m.find("elements");
      const N* shape = m.find("shape");
      if (elements && shape) m.fail(*shape, "give either 'elements' or 'shape', not both");
      if (elements) {
        e.elements = m.integer(*elements, "elements", 1);
      } else if (shape) {
        if (!shape->IsSequence() || shape->size() == 0)
          m.fail(*shape, "'shape' must be a non-empty list of positive integers");
        double product = 1;
        e.elements = 1;
        for (size_t i = 0; i < shape->size(); ++i) {
          const int64_t d = m.integer((*shape)[i], "shape[" + std::to_string(i) + "]", 1);
          product *= double(d);
          if (product > 4e18) m.fail(*shape, "'shape' has too many elements");
          e.elements *= d;
          e.row = d;  // the last dimension: a layernorm's row
        }
      } else {
        m.fail_line(m.line(), "missing field 'elements' (or 'shape')");
      }
      if (const N* row = m.find("row")) {
        e.row = m.integer(*row, "row", 1);
        if (e.elements % e.row != 0)
          m.fail(*row, "'row' (" + std::to_string(e.row) + ") must divide the " +
                           std::to_string(e.elements) + " elements");
      }
      if (e.op != ElementwiseOp::LayerNorm) e.row = 0;
      static const std::vector<std::string> allowed =
          with_common({"op", "elements", "shape", "row"});
      m.check_unknown(allowed);
      return e;
    }
    case LayerType::Pool: {
      PoolLayer p;
      p.op = m.enum_value(m.require("op", "max or avg"), "op", parse_pool_op);
      const auto in =
          m.list(m.require("input", "[height, width, channels]"), "input", kHeightWidthChannels, 1);
      p.in_h = in[0];
      p.in_w = in[1];
      p.channels = in[2];
      m.require("kernel", "size or [height, width]");
      std::tie(p.kernel_h, p.kernel_w) = m.pair_or("kernel", 0, 1);
      std::tie(p.stride_h, p.stride_w) = m.pair_or("stride", 0, 1);
      if (p.stride_h == 0) std::tie(p.stride_h, p.stride_w) = std::pair(p.kernel_h, p.kernel_w);
      std::tie(p.pad_h, p.pad_w) = m.pair_or("padding", 0, 0);
      static const std::vector<std::string> allowed =
          with_common({"op", "input", "kernel", "stride", "padding"});
      m.check_unknown(allowed);
      return p;
    }
    case LayerType::Softmax: {
      SoftmaxLayer s;
      s.rows = m.positive("rows", "number of rows");
      s.length = m.positive("length", "elements per row");
      static const std::vector<std::string> allowed = with_common({"rows", "length"});
      m.check_unknown(allowed);
      return s;
    }
    case LayerType::Gemm: {
      GemmLayer g;
      g.M = m.positive("M", "rows of A and C");
      g.N = m.positive("N", "columns of B and C");
      g.K = m.positive("K", "columns of A, rows of B");
      g.b_weight = m.boolean_or("b_weight", true);
      static const std::vector<std::string> allowed = with_common({"M", "N", "K", "b_weight"});
      m.check_unknown(allowed);
      return g;
    }
  }
  return GemmLayer{};
}

LayerType parse_layer_type(const std::string& s) {
  static const LayerType all[] = {LayerType::Conv2d,      LayerType::Linear, LayerType::Attention,
                                  LayerType::Elementwise, LayerType::Pool,   LayerType::Softmax,
                                  LayerType::Gemm};
  const std::string l = detail::to_lower(s);
  std::string allowed;
  for (LayerType t : all) {
    if (to_string(t) == l) return t;
    allowed += (allowed.empty() ? "" : ", ") + to_string(t);
  }
  throw InputError("unknown layer type '" + s + "'; allowed: " + allowed);
}

// The text as yaml-cpp reads it: one document, syntax errors as "SRC:LINE: ...".
YAML::Node load_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    // yaml-cpp 0.7's LoadAll loops for ever on some malformed text (a document that starts with
    // ',': jbeder/yaml-cpp#1040, fixed upstream in #1319): load the first document, then ask the
    // parser for at most one more, never in a loop.
    root = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    struct Ignore : YAML::EventHandler {
      void OnDocumentStart(const YAML::Mark&) override {}
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
      void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
      void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    const std::string&) override {}
      void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                           YAML::EmitterStyle::value) override {}
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                      YAML::EmitterStyle::value) override {}
      void OnMapEnd() override {}
    } ignore;
    const bool second = parser.HandleNextDocument(ignore) && parser.HandleNextDocument(ignore);
    if (second) {
      // The line of the second document's '---' (its content may start later, or be empty).
      int line = 0, markers = 0, at = 0;
      bool content = false;
      for (size_t pos = 0; pos < text.size() && !line;) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string l = text.substr(pos, nl - pos);
        ++at;
        const bool marker = l.rfind("---", 0) == 0 &&
                            (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
        if (marker && (content || markers > 0)) line = at;
        if (marker) ++markers;
        const std::string t = detail::trim(l);
        if (!marker && !t.empty() && t[0] != '#') content = true;
        pos = nl + 1;
      }
      if (!line) {
        // No '---': yaml-cpp stopped on a token it cannot place (its looping case, a ',' where
        // a value should start); name the first line that starts with one.
        int n = 0;
        for (size_t pos = 0; pos < text.size();) {
          size_t nl = text.find('\n', pos);
          if (nl == std::string::npos) nl = text.size();
          ++n;
          const std::string t = detail::trim(text.substr(pos, nl - pos));
          if (!t.empty() && t[0] == ',') {
            line = n;
            break;
          }
          pos = nl + 1;
        }
        throw InputError(
            source + ":" + std::to_string(line ? line : 1) + ": YAML syntax error: " +
            (line ? "a ',' outside a [list] or {map}" : "text the parser cannot read"));
      }
      throw InputError(source + ":" + std::to_string(line) +
                       ": a second YAML document (after '---'); a network file holds one document: "
                       "put every layer in one 'layers' list");
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks an unclosed flow or quote one line past the end of the text.
    const int lines = int(std::count(text.begin(), text.end(), '\n')) + (text.back() != '\n');
    const int line = e.mark.line + 1;
    if (line < 1 || line > lines)
      throw InputError(source + ":" + std::to_string(std::max(lines, 1)) +
                       ": YAML syntax error at the end of the file: " + e.msg);
    throw InputError(source + ":" + std::to_string(line) + ": YAML syntax error: " + e.msg);
  }
  return root;
}

// The network in a tree (a YAML::Node or a LiteNode).
template <class N>
Network read_network(const N& root, const std::string& source) {
  if (!root.IsMap())
    throw InputError(source +
                     ":1: a network file must be a map with a 'layers' list (see "
                     "docs/workloads.md)");
  MapReader<N> top(root, source, 1, "");
  Network net;
  net.source = source;
  const N* name = top.find("name");
  net.name = name ? top.str(*name, "name") : detail::file_stem(source);
  net.batch = top.integer_or("batch", 1, 1);
  net.dtype = top.enum_or("dtype", DataType::Int8, parse_data_type);
  if (const N* d = top.find("description")) (void)top.str(*d, "description", false);
  const N& layers = top.require("layers", "the list of layers");
  top.check_unknown({"name", "description", "batch", "dtype", "layers"});
  if (!layers.IsSequence() || layers.size() == 0)
    top.fail(layers, "'layers' must be a non-empty list of layers");
  if (layers.size() > kMaxWorkloadOps)
    top.fail(layers, "'layers' holds " + std::to_string(layers.size()) +
                         " layers: " + workload_limit_text("layers"));

  std::set<std::string> seen;  // names of the layers read so far
  for (size_t i = 0; i < layers.size(); ++i) {
    const N ln = layers[i];
    if (!ln.IsMap())
      top.fail(ln, "layer " + std::to_string(i) + " must be a map with 'name' and 'type'");
    MapReader<N> m(ln, source, top.line(), "");
    Layer layer;
    layer.name = m.str(m.require("name", "the layer's name"), "name");
    m.set_layer_name(layer.name);
    const N& type_node = m.require("type", "conv2d, linear, attention, ...");
    const LayerType type = m.enum_value(type_node, "type", parse_layer_type);
    layer.batch = m.integer_or("batch", net.batch, 1);
    layer.dtype = m.enum_or("dtype", net.dtype, parse_data_type);
    if (const N* f = m.find("from")) {
      // One name or a list of names of earlier layers.
      std::vector<N> names;
      if (f->IsSequence()) {
        for (size_t j = 0; j < f->size(); ++j) names.push_back((*f)[j]);
      } else {
        names.push_back(*f);
      }
      // An attention core (projections: false) reads Q, K and V: three names.
      const size_t most = type == LayerType::Attention ? 3 : 2;
      if (names.empty() || names.size() > most)
        m.fail(*f, type == LayerType::Attention
                       ? "'from' names one to three earlier layers (attention without "
                         "projections: the producers of Q, K and V)"
                       : "'from' names one or two earlier layers (the layers whose outputs it "
                         "reads)");
      for (const N& n : names) {
        const std::string src = m.str(n, "from");
        if (!seen.count(src)) m.fail(n, "'from': no earlier layer is named '" + src + "'");
        layer.from.push_back(src);
      }
    }
    layer.params = read_params(type, m);
    const std::string problem = layer_problem(layer);
    if (!problem.empty()) m.fail_line(m.line(), problem);
    seen.insert(layer.name);
    net.layers.push_back(std::move(layer));
  }
  return net;
}

// `subset`: read the text with detail::read_yaml_subset where it can (its tree has no line
// marks, so a caller that gets an InputError reads the text again without it).
Network parse_yaml(const std::string& text, const std::string& source, bool subset) {
  if (detail::trim(text).empty())
    throw InputError(source +
                     ":1: empty network file; expected a map with a 'layers' list (see "
                     "docs/workloads.md)");
  if (subset) {
    detail::YamlLite root;
    if (detail::read_yaml_subset(text, root)) return read_network(LiteNode(&root), source);
  }
  return read_network(load_yaml(text, source), source);
}

}  // namespace

Network parse_yaml_network(const std::string& text, const std::string& source) {
  detail::check_text(text, source, "a YAML network file");
  try {
    return parse_yaml(text, source, true);
  } catch (const InputError&) {
    // Said again below with yaml-cpp's line numbers.
  }
  try {
    return parse_yaml(text, source, false);
  } catch (const InputError& e) {
    // Names and values are quoted from the file (YAML escapes can put any byte in them):
    // messages show control characters and bytes that are not UTF-8 as \xNN.
    throw InputError(detail::printable(e.what()));
  }
}

Network read_yaml_network(const std::string& path) {
  return parse_yaml_network(detail::read_workload_file(path, "network file", "a YAML network file",
                                                       detail::kMaxNetworkFileBytes),
                            path);
}

}  // namespace ssim
