#include "workloads/yaml_subset.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace ssim::detail {
namespace {

using Kind = YamlLite::Kind;
using Node = YamlFlat::Node;

// Maps with more keys than this are left to yaml-cpp (no network layer has that many; the
// duplicate check below is a scan of the keys so far).
constexpr size_t kMostKeys = 64;

// Character classes, one table lookup per byte.
enum : unsigned char { kKeyFirst = 1, kKey = 2, kPlain = 4 };
struct CharClasses {
  unsigned char of[256] = {};
  constexpr CharClasses() {
    for (int c = 0; c < 256; ++c) {
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      const bool key = letter || (c >= '0' && c <= '9');
      const bool plain = key || c == '.' || c == '+' || c == '-' || c == '/';
      of[c] = static_cast<unsigned char>((letter ? kKeyFirst : 0) | (key ? kKey : 0) |
                                         (plain ? kPlain : 0));
    }
  }
};
constexpr CharClasses kClasses;

bool is(char c, unsigned char cls) {
  return kClasses.of[static_cast<unsigned char>(c)] & cls;
}

// Whether yaml-cpp reads the plain characters `s` as this same string: not null, not a sequence
// entry.
bool plain_scalar(std::string_view s) {
  if (s.empty() || (s.size() == 1 && s[0] == '-')) return false;
  if (s.size() == 4 && ((s[0] == 'n' && s[1] == 'u' && s[2] == 'l' && s[3] == 'l') ||
                        (s[0] == 'N' && s[1] == 'u' && s[2] == 'l' && s[3] == 'l') ||
                        (s[0] == 'N' && s[1] == 'U' && s[2] == 'L' && s[3] == 'L')))
    return false;
  return true;
}

// ", " at s[i] (before `end`).
bool comma_space(const char* s, size_t i, size_t end) {
  return i + 1 < end && s[i] == ',' && s[i + 1] == ' ';
}

// One bit of 64 per key: the duplicate check scans a map's keys only when a key's bit is taken.
uint64_t key_bit(std::string_view k) {
  const size_t h =
      k.size() * 5 + static_cast<unsigned char>(k.front()) + static_cast<unsigned char>(k.back());
  return uint64_t(1) << (h & 63);
}

// Appends nodes for the text `s` to `nodes`; each function takes the index of the container
// it adds to, and a position `end` where the text or a line ends ('\0' or '\n') or a layer's
// flow map does ('}'): no key or plain scalar goes on past `end`, which the scans rely on.
class Builder {
 public:
  Builder(const std::string& s, std::vector<Node>& nodes) : c_(s.c_str()), nodes_(nodes) {}

  size_t open(size_t parent, Kind kind) {
    ++nodes_[parent].size;
    nodes_.push_back(Node{kind, 0, 0, {}});
    return nodes_.size() - 1;
  }
  void close(size_t container) { nodes_[container].end = static_cast<uint32_t>(nodes_.size()); }
  void add_scalar(size_t parent, size_t at, size_t n) {
    ++nodes_[parent].size;
    nodes_.push_back(Node{Kind::Scalar, 0, static_cast<uint32_t>(nodes_.size() + 1),
                          std::string_view(c_ + at, n)});
  }

  // Reads a key at s[i] followed by ": " (or ":" at `end`) into `map` (when it is new there;
  // `keys` holds the bits of its keys so far); advances i.
  bool read_key(size_t& i, size_t end, size_t map, uint64_t& keys) {
    const size_t k = i;
    if (!is(c_[i], kKeyFirst)) return false;
    while (is(c_[i], kKey)) ++i;
    if (!new_key(map, keys, std::string_view(c_ + k, i - k))) return false;
    add_scalar(map, k, i - k);
    if (i >= end || c_[i] != ':') return false;
    ++i;
    if (i < end) {
      if (c_[i] != ' ') return false;
      ++i;
    }
    return true;
  }

  // A plain scalar ending at `stop1`, `stop2` or `end`, added to `parent`; advances i.
  bool read_plain(size_t& i, size_t end, char stop1, char stop2, size_t parent) {
    const size_t k = i;
    while (is(c_[i], kPlain)) ++i;
    if (i < end && c_[i] != stop1 && c_[i] != stop2) return false;
    if (!plain_scalar(std::string_view(c_ + k, i - k))) return false;
    add_scalar(parent, k, i - k);
    return true;
  }

  // One layer line's flow map, s[i] just after "{", `end` the position of the closing "}",
  // added to the layer list `list`.
  bool read_flow_map(size_t i, size_t end, size_t list) {
    const size_t map = open(list, Kind::Map);
    uint64_t keys = 0;
    for (;;) {
      if (!read_key(i, end, map, keys)) return false;
      if (i < end && c_[i] == '[') {
        ++i;
        const size_t seq = open(map, Kind::Sequence);
        for (;;) {
          if (!read_plain(i, end, ',', ']', seq)) return false;
          if (i >= end) return false;
          if (c_[i] == ']') break;
          if (!comma_space(c_, i, end)) return false;
          i += 2;
        }
        ++i;
        close(seq);
      } else if (!read_plain(i, end, ',', ',', map)) {
        return false;
      }
      if (i == end) break;
      if (!comma_space(c_, i, end)) return false;
      i += 2;
    }
    close(map);
    return true;
  }

 private:
  // A key not among the keys of `map` so far (its items are the nodes after it, all complete).
  bool new_key(size_t map, uint64_t& keys, std::string_view k) {
    if (nodes_[map].size >= 2 * kMostKeys) return false;
    const uint64_t bit = key_bit(k);
    if (keys & bit)
      for (size_t j = map + 1; j < nodes_.size(); j = nodes_[j + 1].end)
        if (nodes_[j].scalar == k) return false;
    keys |= bit;
    return true;
  }

  const char* c_;  // the text, '\0' after its end
  std::vector<Node>& nodes_;
};

void to_lite(const std::vector<Node>& nodes, size_t at, YamlLite& out) {
  const Node& n = nodes[at];
  out.kind = n.kind;
  if (n.kind == Kind::Scalar) {
    out.scalar.assign(n.scalar);
    return;
  }
  out.items.resize(n.size);
  size_t j = at + 1;
  for (YamlLite& item : out.items) {
    to_lite(nodes, j, item);
    j = nodes[j].end;
  }
}

}  // namespace

bool read_yaml_subset(const std::string& text, YamlFlat& root) {
  constexpr size_t npos = std::string::npos;
  if (text.find('\r') != npos || text.find('\t') != npos || text.find('\\') != npos) return false;
  std::vector<Node>& nodes = root.nodes;
  nodes.clear();
  nodes.reserve(text.size() / 4 + 8);  // the built-in networks have a node per 4.5 bytes or more
  nodes.push_back(Node{Kind::Map, 0, 0, {}});
  Builder b(text, nodes);
  uint64_t root_keys = 0;
  size_t layers = 0;  // the index of the layer list, 0 before 'layers:'
  bool in_layers = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == npos) nl = text.size();
    const size_t begin = pos, end = nl;
    pos = nl + 1;
    if (begin == end || text[begin] == '#') continue;
    if (end - begin >= 5 && text[begin] == ' ' && text[begin + 1] == ' ' &&
        text[begin + 2] == '-' && text[begin + 3] == ' ' && text[begin + 4] == '{') {  // "  - {"
      if (!in_layers || text[end - 1] != '}') return false;
      if (!b.read_flow_map(begin + 5, end - 1, layers)) return false;
      continue;
    }
    if (in_layers) b.close(layers);
    in_layers = false;
    size_t i = begin;
    if (!b.read_key(i, end, 0, root_keys)) return false;
    if (i == end) {  // "key:" opens the layer list, nothing else
      if (nodes.back().scalar != "layers" || text[end - 1] != ':') return false;
      in_layers = true;
      layers = b.open(0, Kind::Sequence);
      continue;
    }
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      if (close != end - 1) return false;
      b.add_scalar(0, i + 1, close - i - 1);
    } else if (!b.read_plain(i, end, '\n', '\n', 0)) {  // the rest of the line
      return false;
    }
  }
  if (in_layers) b.close(layers);
  b.close(0);
  // An empty layer list is null to yaml-cpp; let it say so.
  return layers > 0 && nodes[layers].size > 0;
}

bool read_yaml_subset(const std::string& text, YamlLite& root) {
  YamlFlat flat;
  if (!read_yaml_subset(text, flat)) return false;
  root = YamlLite();
  to_lite(flat.nodes, 0, root);
  return true;
}

}  // namespace ssim::detail
