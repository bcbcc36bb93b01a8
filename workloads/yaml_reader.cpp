// Our YAML network format (docs/workloads.md), read with yaml-cpp.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "models/types.hpp"
#include "workloads/network_table.hpp"
#include "workloads/read_util.hpp"
#include "workloads/readers.hpp"
#include "workloads/yaml_subset.hpp"

namespace ssim {

namespace {

// The network is read from a YAML::Node (yaml-cpp's tree, any YAML) or from a
// detail::YamlFlat (the subset reader's, detail/yaml_subset.hpp) through the same checks: the
// classes below are templates over the node type, which offers IsScalar, IsSequence, IsMap,
// IsNull, Scalar (a string or a string_view) and size (LiteNode wraps a YamlFlat node so), and
// the free functions line_of, for_each_entry, for_each_item (the items in order: a LiteNode's
// are found one after the other), plain_merge_key and decode_bool.

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

// A node of a detail::YamlFlat read like a YAML::Node (it has no nulls, tags or line marks).
class LiteNode {
 public:
  using Flat = detail::YamlFlat::Node;
  LiteNode(const Flat* nodes, const Flat* n) : nodes_(nodes), n_(n) {}
  bool IsScalar() const { return n_->kind == detail::YamlLite::Kind::Scalar; }
  bool IsSequence() const { return n_->kind == detail::YamlLite::Kind::Sequence; }
  bool IsMap() const { return n_->kind == detail::YamlLite::Kind::Map; }
  bool IsNull() const { return false; }
  std::string_view Scalar() const { return n_->scalar; }
  size_t size() const { return IsMap() ? n_->size / 2 : n_->size; }
  // Calls f(item) for each item of a sequence, in order.
  template <class F>
  void each_item(F f) const {
    const Flat* item = n_ + 1;
    for (uint32_t i = 0; i < n_->size; ++i, item = nodes_ + item->end) f(LiteNode(nodes_, item));
  }
  // Calls f(key, value) for each entry of a map, in order.
  template <class F>
  void each_entry(F f) const {
    const Flat* key = n_ + 1;
    for (uint32_t i = 0; i < n_->size; i += 2) {
      const Flat* value = nodes_ + key->end;
      f(LiteNode(nodes_, key), LiteNode(nodes_, value));
      key = nodes_ + value->end;
    }
  }

 private:
  const Flat* nodes_;  // the tree's nodes
  const Flat* n_;      // this one
};

int line_of(const LiteNode&, int fallback) {
  return fallback;
}

template <class F>
void for_each_entry(const LiteNode& map, F f) {
  map.each_entry(f);
}

template <class F>
void for_each_item(const LiteNode& seq, F f) {
  seq.each_item(f);
}

bool plain_merge_key(const LiteNode&) {
  return true;
}

// yaml-cpp's own rules (true, yes, on, y and their capitalised forms), on a node made of the text.
bool decode_bool(const LiteNode& n, bool& b) {
  if (!n.IsScalar()) return false;
  if (n.Scalar() == "true" || n.Scalar() == "false") {  // the usual spelling, without a node
    b = n.Scalar() == "true";
    return true;
  }
  return YAML::convert<bool>::decode(YAML::Node(std::string(n.Scalar())), b);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

template <class N>
std::string scalar_text(const N& n) {
  if (n.IsScalar()) return std::string(n.Scalar());
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "empty";
}

// The keys of a YAML map, each checked once; reports problems as "SRC:LINE: [layer 'NAME': ]..".
// Keys and names are views of the tree's scalars (which outlive the reader).
template <class N>
class MapReader {
 public:
  MapReader(const N& map, const std::string& source, int fallback_line)
      : source_(source), line_(line_of(map, fallback_line)) {
    entries_.reserve(map.size());
    bool merge = false;     // a `<<` merge key seen
    std::vector<N> merged;  // the maps of a `<<` merge key, in order
    for_each_entry(map, [&](const N& k, const N& value) {
      const std::string_view key = k.IsScalar() ? std::string_view(k.Scalar()) : "";
      if (key.empty()) fail(k, "a key must be a non-empty name");
      if (key == "<<" && plain_merge_key(k)) {  // a quoted "<<" is a plain key
        // YAML's merge key (yaml.org/type/merge): the keys of a map, or of a list of maps,
        // that this map does not set itself; an earlier map in the list wins over a later one.
        if (merge || has(key)) fail(k, "duplicate key '<<'");
        merge = true;
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
      if ((key == "<<" && merge) || has(key)) fail(k, "duplicate key '" + std::string(key) + "'");
      add(key, value);
    });
    for (const N& m : merged)
      for_each_entry(m, [&](const N& k, const N& value) {
        const std::string_view key = k.IsScalar() ? std::string_view(k.Scalar()) : "";
        if (key.empty()) fail(k, "a key must be a non-empty name");
        if (key == "<<") fail(k, "a merged map may not merge again ('<<' inside '<<')");
        if (!has(key)) add(key, value);
      });
  }

  [[noreturn]] void fail(const N& at, const std::string& what) const {
    fail_line(line_of(at, line_), what);
  }
  [[noreturn]] void fail_line(int line, const std::string& what) const {
    throw InputError(source_ + ":" + std::to_string(line) + ": " +
                     (layer_.empty() ? "" : "layer '" + std::string(layer_) + "': ") + what);
  }
  int line() const { return line_; }
  void set_layer_name(std::string_view n) { layer_ = n; }

  // The value of `key`, or nullptr. The search starts at the last key found: the fields are
  // mostly read in the order a file gives them.
  const N* find(std::string_view key) {
    if (!(filter_ & key_bit(key))) return nullptr;  // the filter has every key
    const size_t n = entries_.size();
    for (size_t k = 0, i = next_; k < n; ++k, i = i + 1 == n ? 0 : i + 1)
      if (detail::same_text(entries_[i].key, key)) {
        entries_[i].used = true;
        next_ = i;
        return &entries_[i].value;
      }
    return nullptr;
  }
  const N& require(std::string_view key, const char* what) {
    const N* n = find(key);
    if (!n || n->IsNull())
      fail_line(line_, "missing field '" + std::string(key) + "' (" + what + ")");
    return *n;
  }

  // A non-empty text; a name (`is_name`) is UTF-8 without control characters too.
  std::string_view text(const N& n, std::string_view key, bool is_name = true) const {
    if (!n.IsScalar() || n.Scalar().empty())  // an empty scalar ('' or "") shows as ''
      fail(n, "'" + std::string(key) + "' is " + (n.IsScalar() ? "''" : scalar_text(n)) +
                  ", expected a name");
    if (const std::string why = is_name ? detail::name_problem(n.Scalar()) : std::string();
        !why.empty())
      fail(n, "'" + std::string(key) + "' '" + std::string(n.Scalar()) + "' " + why +
                  "; expected UTF-8 text without control characters");
    return n.Scalar();
  }
  std::string str(const N& n, std::string_view key, bool is_name = true) const {
    return std::string(text(n, key, is_name));
  }

  // An integer >= min in `n` (without building a message when there is none).
  static bool integer_at_least(const N& n, int64_t min, int64_t& v) {
    return n.IsScalar() && detail::parse_int64(detail::trim_view(n.Scalar()), v) && v >= min;
  }
  int64_t integer(const N& n, std::string_view key, int64_t min) const {
    int64_t v = 0;
    if (integer_at_least(n, min, v)) return v;
    if (!n.IsScalar() || !detail::parse_int64(detail::trim_view(n.Scalar()), v))
      fail(n, "'" + std::string(key) + "' is '" + scalar_text(n) + "', expected " +
                  (min > 0 ? "a positive integer" : "an integer >= 0"));
    if (v < min)
      fail(n, "'" + std::string(key) + "' is " + std::to_string(v) + ", must be " +
                  (min > 0 ? "a positive integer" : "0 or more"));
    return v;
  }
  int64_t positive(std::string_view key, const char* what) {
    return integer(require(key, what), key, 1);
  }
  int64_t integer_or(std::string_view key, int64_t def, int64_t min) {
    const N* n = find(key);
    return n ? integer(*n, key, min) : def;
  }
  // A list of exactly N integers >= min, named `names`.
  template <size_t Size>
  std::array<int64_t, Size> list(const N& n, std::string_view key,
                                 const std::vector<std::string>& names, int64_t min) const {
    if (!n.IsSequence() || n.size() != Size)
      fail(n, "'" + std::string(key) + "' must be a list [" + join(names) + "]");
    std::array<int64_t, Size> v{};
    size_t i = 0;
    for_each_item(n, [&](const N& item) {
      if (!integer_at_least(item, min, v[i]))
        integer(item, std::string(key) + "[" + std::to_string(i) + "] (" + names[i] + ")",
                min);  // throws
      ++i;
    });
    return v;
  }
  // A scalar (used for both) or a pair [h, w].
  std::pair<int64_t, int64_t> pair_or(std::string_view key, int64_t def, int64_t min) {
    const N* n = find(key);
    if (!n) return {def, def};
    if (n->IsSequence()) {
      static const std::vector<std::string> names = {"height", "width"};
      const auto v = list<2>(*n, key, names, min);
      return {v[0], v[1]};
    }
    const int64_t v = integer(*n, key, min);
    return {v, v};
  }
  bool boolean_or(std::string_view key, bool def) {
    const N* n = find(key);
    if (!n) return def;
    bool b = false;
    if (!n->IsScalar() || !decode_bool(*n, b))
      fail(*n, "'" + std::string(key) + "' is '" + scalar_text(*n) + "', expected true or false");
    return b;
  }
  // Parses an enum value with `parse` (which throws InputError naming the allowed values).
  template <class F>
  auto enum_value(const N& n, std::string_view key, F parse) const {
    const std::string_view s = text(n, key);
    try {
      return parse(s);
    } catch (const InputError& e) {
      fail(n, "'" + std::string(key) + "': " + e.what());
    }
  }
  template <class E, class F>
  E enum_or(std::string_view key, E def, F parse) {
    const N* n = find(key);
    return n ? enum_value(*n, key, parse) : def;
  }

  // Fails on the first key not read and not in `also_allowed`.
  void check_unknown(const std::vector<std::string>& allowed) const {
    for (const Entry& e : entries_)
      if (!e.used) {
        bool ok = false;
        for (const auto& a : allowed) ok = ok || a == e.key;
        if (!ok)
          fail(e.value, "unknown key '" + std::string(e.key) + "'; allowed: " + join(allowed));
      }
  }

 private:
  // Whether an entry has `key`: a scan behind a 64-bit filter while the map is small, a hash
  // set when it is large.
  bool has(std::string_view key) const {
    if (!many_.empty()) return many_.count(key) > 0;
    if (!(filter_ & key_bit(key))) return false;
    for (const Entry& e : entries_)
      if (detail::same_text(e.key, key)) return true;
    return false;
  }
  void add(std::string_view key, const N& value) {
    entries_.push_back(Entry{key, value, false});
    filter_ |= key_bit(key);
    if (!many_.empty())
      many_.insert(key);
    else if (entries_.size() > kScanned)
      for (const Entry& e : entries_) many_.insert(e.key);
  }
  static uint64_t key_bit(std::string_view k) {  // k is not empty
    return uint64_t(1) << ((k.size() * 5 + static_cast<unsigned char>(k.front()) +
                            static_cast<unsigned char>(k.back())) &
                           63);
  }
  static constexpr size_t kScanned = 32;  // keys checked by a scan

  struct Entry {
    std::string_view key;
    N value;
    bool used;  // read by find()
  };
  const std::string& source_;
  int line_;
  std::string_view layer_;
  std::vector<Entry> entries_;
  size_t next_ = 0;  // where find() starts
  uint64_t filter_ = 0;
  std::unordered_set<std::string_view> many_;
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
      const auto in = m.template list<3>(m.require("input", "[height, width, channels]"), "input",
                                         kHeightWidthChannels, 1);
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
        size_t i = 0;
        for_each_item(*shape, [&](const N& item) {
          int64_t d = 0;
          if (!m.integer_at_least(item, 1, d))
            m.integer(item, "shape[" + std::to_string(i) + "]", 1);  // throws
          product *= double(d);
          if (product > 4e18) m.fail(*shape, "'shape' has too many elements");
          e.elements *= d;
          e.row = d;  // the last dimension: a layernorm's row
          ++i;
        });
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
      const auto in = m.template list<3>(m.require("input", "[height, width, channels]"), "input",
                                         kHeightWidthChannels, 1);
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
  MapReader<N> top(root, source, 1);
  Network net;
  net.source = source;
  const N* name = top.find("name");
  net.name = name ? top.str(*name, "name") : detail::file_stem(source);
  net.batch = top.integer_or("batch", 1, 1);
  net.dtype = top.enum_or("dtype", DataType::Int8, parse_data_type);
  if (const N* d = top.find("description")) (void)top.text(*d, "description", false);
  const N& layers = top.require("layers", "the list of layers");
  top.check_unknown({"name", "description", "batch", "dtype", "layers"});
  if (!layers.IsSequence() || layers.size() == 0)
    top.fail(layers, "'layers' must be a non-empty list of layers");
  if (layers.size() > kMaxWorkloadOps)
    top.fail(layers, "'layers' holds " + std::to_string(layers.size()) +
                         " layers: " + workload_limit_text("layers"));

  net.layers.reserve(layers.size());
  // The names of the layers read so far: the last ones are scanned, the others looked up in a
  // hash set, filled when a name further back is looked for.
  std::vector<std::string_view> names;
  names.reserve(layers.size());
  std::unordered_set<std::string_view> older;  // names[0, in_older)
  size_t in_older = 0;
  auto earlier = [&](std::string_view name) {
    constexpr size_t kScanned = 32;
    const size_t n = names.size();
    for (size_t k = n; k > 0 && k + kScanned > n; --k)
      if (detail::same_text(names[k - 1], name)) return true;
    if (n <= kScanned) return false;
    for (; in_older < n - kScanned; ++in_older) older.insert(names[in_older]);
    return older.count(name) > 0;
  };
  size_t i = 0;
  for_each_item(layers, [&](const N& ln) {
    if (!ln.IsMap())
      top.fail(ln, "layer " + std::to_string(i) + " must be a map with 'name' and 'type'");
    ++i;
    MapReader<N> m(ln, source, top.line());
    Layer layer;
    const std::string_view name = m.text(m.require("name", "the layer's name"), "name");
    layer.name = std::string(name);
    m.set_layer_name(name);
    const N& type_node = m.require("type", "conv2d, linear, attention, ...");
    const LayerType type = m.enum_value(type_node, "type", parse_layer_type);
    layer.batch = m.integer_or("batch", net.batch, 1);
    layer.dtype = m.enum_or("dtype", net.dtype, parse_data_type);
    if (const N* f = m.find("from")) {
      // One name or a list of names of earlier layers.
      std::vector<N> from;
      if (f->IsSequence())
        for_each_item(*f, [&](const N& n) { from.push_back(n); });
      else
        from.push_back(*f);
      // An attention core (projections: false) reads Q, K and V: three names.
      const size_t most = type == LayerType::Attention ? 3 : 2;
      if (from.empty() || from.size() > most)
        m.fail(*f, type == LayerType::Attention
                       ? "'from' names one to three earlier layers (attention without "
                         "projections: the producers of Q, K and V)"
                       : "'from' names one or two earlier layers (the layers whose outputs it "
                         "reads)");
      for (const N& n : from) {
        const std::string_view src = m.text(n, "from");
        if (!earlier(src))
          m.fail(n, "'from': no earlier layer is named '" + std::string(src) + "'");
        layer.from.emplace_back(src);
      }
    }
    layer.params = read_params(type, m);
    const std::string problem = layer_problem(layer);
    if (!problem.empty()) m.fail_line(m.line(), problem);
    names.push_back(name);
    net.layers.push_back(std::move(layer));
  });
  return net;
}

// `subset`: read the text with detail::read_yaml_subset where it can (its tree has no line
// marks, so a caller that gets an InputError reads the text again without it).
Network parse_yaml(const std::string& text, const std::string& source, bool subset) {
  if (detail::trim_view(text).empty())
    throw InputError(source +
                     ":1: empty network file; expected a map with a 'layers' list (see "
                     "docs/workloads.md)");
  if (subset) {
    detail::YamlFlat tree;
    if (detail::read_yaml_subset(text, tree)) {
      const detail::YamlFlat::Node* nodes = tree.nodes.data();
      return read_network(LiteNode(nodes, nodes), source);
    }
  }
  return read_network(load_yaml(text, source), source);
}

}  // namespace

Network parse_yaml_network(const std::string& text, const std::string& source) {
  // A built-in network's file as the build read it: its table (workloads/network_table.hpp).
  if (const auto e = find_embedded_network(text)) return network_from_table(*e, source);
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
