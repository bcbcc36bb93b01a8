#include "workloads/yaml_subset.hpp"

#include <cstring>
#include <string>

namespace ssim::detail {
namespace {

// Maps with more keys than this are left to yaml-cpp (no network layer has that many; the
// duplicate check below is a scan of the keys so far).
constexpr size_t kMostKeys = 64;

bool key_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

bool plain_char(char c) {
  return key_char(c, false) || c == '.' || c == '+' || c == '-' || c == '/';
}

// A plain scalar yaml-cpp reads as this same string (not null, not a sequence entry).
bool plain_scalar(const char* s, size_t n) {
  if (n == 0 || (n == 1 && s[0] == '-')) return false;
  if (n == 4 &&
      (!std::memcmp(s, "null", 4) || !std::memcmp(s, "Null", 4) || !std::memcmp(s, "NULL", 4)))
    return false;
  for (size_t i = 0; i < n; ++i)
    if (!plain_char(s[i])) return false;
  return true;
}

YamlLite scalar(const std::string& s, size_t at, size_t n) {
  YamlLite x;
  x.scalar.assign(s, at, n);
  return x;
}

// A key not among the keys of `map` so far.
bool new_key(const YamlLite& map, const std::string& s, size_t at, size_t n) {
  if (map.items.size() >= 2 * kMostKeys) return false;
  for (size_t i = 0; i < map.items.size(); i += 2) {
    const std::string& k = map.items[i].scalar;
    if (k.size() == n && s.compare(at, n, k) == 0) return false;
  }
  return true;
}

// Reads a key at s[i] followed by ": " (or ":" at the end of the text span) into `map` (when it
// is new there); advances i.
bool read_key(const std::string& s, size_t& i, size_t end, YamlLite& map) {
  const size_t k = i;
  if (i >= end || !key_char(s[i], true)) return false;
  while (i < end && key_char(s[i], false)) ++i;
  if (!new_key(map, s, k, i - k)) return false;
  map.items.push_back(scalar(s, k, i - k));
  if (i >= end || s[i] != ':') return false;
  ++i;
  if (i < end) {
    if (s[i] != ' ') return false;
    ++i;
  }
  return true;
}

// A plain scalar ending at one of `stops` (or at `end`), appended to `to`; advances i.
bool read_plain(const std::string& s, size_t& i, size_t end, const char* stops, YamlLite& to) {
  const size_t k = i;
  while (i < end && plain_char(s[i])) ++i;
  if (i < end && !std::strchr(stops, s[i])) return false;
  if (!plain_scalar(s.data() + k, i - k)) return false;
  to.items.push_back(scalar(s, k, i - k));
  return true;
}

// One layer line's flow map, s[i] just after "{"; `end` is the position of the closing "}".
bool read_flow_map(const std::string& s, size_t i, size_t end, YamlLite& map) {
  map.kind = YamlLite::Kind::Map;
  map.items.reserve(24);
  for (;;) {
    if (!read_key(s, i, end, map)) return false;
    if (i < end && s[i] == '[') {
      ++i;
      YamlLite list;
      list.kind = YamlLite::Kind::Sequence;
      for (;;) {
        if (!read_plain(s, i, end, ",]", list)) return false;
        if (i >= end) return false;
        if (s[i] == ']') break;
        if (s.compare(i, 2, ", ") != 0) return false;
        i += 2;
      }
      ++i;
      map.items.push_back(std::move(list));
    } else if (!read_plain(s, i, end, ",", map)) {
      return false;
    }
    if (i == end) return true;
    if (s.compare(i, 2, ", ") != 0) return false;
    i += 2;
  }
}

}  // namespace

bool read_yaml_subset(const std::string& text, YamlLite& root) {
  if (text.find_first_of("\r\t\\") != std::string::npos) return false;
  root = YamlLite();
  root.kind = YamlLite::Kind::Map;
  size_t layers = 0;  // the index of the layer list in root.items, 0 before 'layers:'
  bool in_layers = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const size_t begin = pos, end = nl;
    pos = nl + 1;
    if (begin == end || text[begin] == '#') continue;
    if (text.compare(begin, 5, "  - {") == 0) {
      if (!in_layers || text[end - 1] != '}') return false;
      YamlLite& list = root.items[layers];
      list.items.emplace_back();
      if (!read_flow_map(text, begin + 5, end - 1, list.items.back())) return false;
      continue;
    }
    in_layers = false;
    size_t i = begin;
    if (!read_key(text, i, end, root)) return false;
    if (i == end) {  // "key:" opens the layer list, nothing else
      if (root.items.back().scalar != "layers" || text[end - 1] != ':') return false;
      in_layers = true;
      layers = root.items.size();
      root.items.emplace_back();
      root.items.back().kind = YamlLite::Kind::Sequence;
      continue;
    }
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      if (close != end - 1) return false;
      root.items.push_back(scalar(text, i + 1, close - i - 1));
    } else if (!read_plain(text, i, end, "", root)) {
      return false;
    }
  }
  // An empty layer list is null to yaml-cpp; let it say so.
  return layers > 0 && !root.items[layers].items.empty();
}

}  // namespace ssim::detail
