// A fast path for network files: the subset of YAML that scripts/gen_networks.py writes for the
// built-in networks (and that many hand-written files use), read without yaml-cpp's scanner,
// which costs about 3 ms per run for ResNet-50's 9 KB (docs/workloads.md, "Reading speed").
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace ssim::detail {

// The subset: blank lines, whole-line comments starting in column 0, top-level `key: value`
// lines (a plain scalar or a double-quoted string without escapes), `layers:` followed by one
// `  - {key: value, key: [v, v, ...], ...}` line per layer, values plain scalars of letters,
// digits and `_ . + - /`. On such text, builds into `root` the tree YAML::Load builds (same
// maps in the same order, same scalar strings) and returns true. On anything else (other YAML,
// duplicate keys, null-like scalars, tabs, CR, a document marker) returns false and leaves
// `root` unspecified: read the text with yaml-cpp then. The nodes carry no line marks.
bool read_yaml_subset(const std::string& text, YAML::Node& root);

}  // namespace ssim::detail
