// A fast path for network files: the subset of YAML that scripts/gen_networks.py writes for the
// built-in networks (and that many hand-written files use), read without yaml-cpp, whose scanner
// and node tree cost about 10 M instructions per run for ResNet-50's 9 KB (docs/workloads.md,
// "Reading speed").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ssim::detail {

// A YAML tree without yaml-cpp's node memory: scalars, sequences and maps (no nulls, tags,
// anchors or line marks).
struct YamlLite {
  enum class Kind : unsigned char { Scalar, Sequence, Map };
  Kind kind = Kind::Scalar;
  std::string scalar;           // Kind::Scalar: the text
  std::vector<YamlLite> items;  // Kind::Sequence: the items; Kind::Map: keys and values in turn
};

// The same tree in one array, as the network reader reads it (through the same checks as a
// YAML::Node): the nodes in document order, each container followed by its items (a map's keys
// and values in turn) and their items; scalars are views of the text that was read.
struct YamlFlat {
  struct Node {
    YamlLite::Kind kind = YamlLite::Kind::Scalar;
    uint32_t size = 0;        // a container's items (a map: keys and values)
    uint32_t end = 0;         // the index just past this node and its items
    std::string_view scalar;  // Kind::Scalar: the text
  };
  std::vector<Node> nodes;  // nodes[0] is the root
};

// The subset: blank lines, whole-line comments starting in column 0, top-level `key: value`
// lines (a plain scalar or a double-quoted string without escapes), `layers:` followed by one
// `  - {key: value, key: [v, v, ...], ...}` line per layer, values plain scalars of letters,
// digits and `_ . + - /`. On such text, builds into `root` the tree YAML::Load builds (same
// maps in the same order, same scalar strings) and returns true. On anything else (other YAML,
// duplicate keys, null-like scalars, tabs, CR, a document marker) returns false and leaves
// `root` unspecified: read the text with yaml-cpp then.
bool read_yaml_subset(const std::string& text, YamlFlat& root);
// The same, into a YamlLite tree.
bool read_yaml_subset(const std::string& text, YamlLite& root);

}  // namespace ssim::detail
