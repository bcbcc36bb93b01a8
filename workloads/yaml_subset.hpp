// A fast path for network files: the subset of YAML that scripts/gen_networks.py writes for the
// built-in networks (and that many hand-written files use), read without yaml-cpp, whose scanner
// and node tree cost about 10 M instructions per run for ResNet-50's 9 KB (docs/workloads.md,
// "Reading speed").
#pragma once

#include <string>
#include <vector>

namespace ssim::detail {

// A YAML tree without yaml-cpp's node memory: scalars, sequences and maps (no nulls, tags,
// anchors or line marks), which the network reader reads through the same checks as a
// YAML::Node.
struct YamlLite {
  enum class Kind : unsigned char { Scalar, Sequence, Map };
  Kind kind = Kind::Scalar;
  std::string scalar;           // Kind::Scalar: the text
  std::vector<YamlLite> items;  // Kind::Sequence: the items; Kind::Map: keys and values in turn
};

// The subset: blank lines, whole-line comments starting in column 0, top-level `key: value`
// lines (a plain scalar or a double-quoted string without escapes), `layers:` followed by one
// `  - {key: value, key: [v, v, ...], ...}` line per layer, values plain scalars of letters,
// digits and `_ . + - /`. On such text, builds into `root` the tree YAML::Load builds (same
// maps in the same order, same scalar strings) and returns true. On anything else (other YAML,
// duplicate keys, null-like scalars, tabs, CR, a document marker) returns false and leaves
// `root` unspecified: read the text with yaml-cpp then.
bool read_yaml_subset(const std::string& text, YamlLite& root);

}  // namespace ssim::detail
