#include "workloads/yaml_subset.hpp"

#include <cstring>
#include <set>
#include <string>

namespace ssim::detail {
namespace {

bool key_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

bool plain_char(char c) {
  return key_char(c, false) || c == '.' || c == '+' || c == '-' || c == '/';
}

// A plain scalar yaml-cpp reads as this same string (not null, not a sequence entry).
bool plain_scalar(const std::string& s) {
  if (s.empty() || s == "-" || s == "null" || s == "Null" || s == "NULL") return false;
  for (char c : s)
    if (!plain_char(c)) return false;
  return true;
}

// Reads a key at s[i] followed by ": " (or ":" at the end of the text span); advances i.
bool read_key(const std::string& s, size_t& i, size_t end, std::string& key) {
  const size_t k = i;
  if (i >= end || !key_char(s[i], true)) return false;
  while (i < end && key_char(s[i], false)) ++i;
  key.assign(s, k, i - k);
  if (i >= end || s[i] != ':') return false;
  ++i;
  if (i < end) {
    if (s[i] != ' ') return false;
    ++i;
  }
  return true;
}

// A plain scalar ending at one of `stops` (or at `end`); advances i.
bool read_plain(const std::string& s, size_t& i, size_t end, const char* stops, std::string& out) {
  const size_t k = i;
  while (i < end && plain_char(s[i])) ++i;
  if (i < end && !std::strchr(stops, s[i])) return false;
  out.assign(s, k, i - k);
  return plain_scalar(out);
}

// One layer line's flow map, s[i] just after "{"; `end` is the position of the closing "}".
// (Nodes are added with force_insert and scalars given as strings, so that they are made in the
// map's own memory: operator[] compares every key and merging node memories is slow.)
bool read_flow_map(const std::string& s, size_t i, size_t end, YAML::Node& map) {
  map = YAML::Node(YAML::NodeType::Map);
  std::set<std::string> keys;
  std::string key, value;
  for (;;) {
    if (!read_key(s, i, end, key) || !keys.insert(key).second) return false;
    if (i < end && s[i] == '[') {
      ++i;
      YAML::Node list(YAML::NodeType::Sequence);
      for (;;) {
        if (!read_plain(s, i, end, ",]", value)) return false;
        list.push_back(value);
        if (i >= end) return false;
        if (s[i] == ']') break;
        if (s.compare(i, 2, ", ") != 0) return false;
        i += 2;
      }
      ++i;
      map.force_insert(key, list);
    } else if (read_plain(s, i, end, ",", value)) {
      map.force_insert(key, value);
    } else {
      return false;
    }
    if (i == end) return true;
    if (s.compare(i, 2, ", ") != 0) return false;
    i += 2;
  }
}

}  // namespace

bool read_yaml_subset(const std::string& text, YAML::Node& root) {
  if (text.find_first_of("\r\t\\") != std::string::npos) return false;
  root = YAML::Node(YAML::NodeType::Map);
  std::set<std::string> top_keys;
  YAML::Node layers;
  bool in_layers = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const size_t begin = pos, end = nl;
    pos = nl + 1;
    if (begin == end || text[begin] == '#') continue;
    if (text.compare(begin, 5, "  - {") == 0) {
      if (!in_layers || text[end - 1] != '}') return false;
      YAML::Node layer;
      if (!read_flow_map(text, begin + 5, end - 1, layer)) return false;
      layers.push_back(layer);
      continue;
    }
    in_layers = false;
    size_t i = begin;
    std::string key;
    if (!read_key(text, i, end, key) || !top_keys.insert(key).second) return false;
    if (i == end) {  // "key:" opens the layer list, nothing else
      if (key != "layers" || text[end - 1] != ':') return false;
      in_layers = true;
      layers = YAML::Node(YAML::NodeType::Sequence);
      root.force_insert(key, layers);  // the same node: the layers pushed below land in root
      continue;
    }
    std::string value;
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      if (close != end - 1) return false;
      value.assign(text, i + 1, close - i - 1);
    } else if (!read_plain(text, i, end, "", value)) {
      return false;
    }
    root.force_insert(key, value);
  }
  // An empty layer list is null to yaml-cpp; let it say so.
  return top_keys.count("layers") && layers.size() > 0;
}

}  // namespace ssim::detail
