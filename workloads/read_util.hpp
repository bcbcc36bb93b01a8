// Small helpers shared by the workload readers (not a public interface).
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "models/types.hpp"

namespace ssim::detail {

// One of " \t\n\v\f\r".
inline bool ascii_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// `s` without the ASCII white space at its ends.
inline std::string_view trim_view(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && ascii_space(s[b])) ++b;
  while (e > b && ascii_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

inline std::string trim(const std::string& s) {
  return std::string(trim_view(s));
}

// Length of a Unicode space (UTF-8) at s[i], 0 if there is none: U+00A0 NO-BREAK SPACE (SCALE-Sim's
// translation topologies have it after the commas), U+2000..U+200A, U+202F, U+3000, U+FEFF.
inline size_t unicode_space_at(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  if (b(0) == 0xC2 && b(1) == 0xA0) return 2;
  if (b(0) == 0xE2 && b(1) == 0x80 && ((b(2) >= 0x80 && b(2) <= 0x8A) || b(2) == 0xAF)) return 3;
  if (b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  if (b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) return 3;
  return 0;
}

// trim_view() that also strips Unicode spaces.
inline std::string_view trim_unicode(std::string_view s) {
  size_t b = 0, e = s.size();
  for (bool more = true; more;) {
    more = false;
    while (b < e && ascii_space(s[b])) ++b, more = true;
    if (const size_t n = unicode_space_at(s, b); n && b + n <= e) b += n, more = true;
  }
  for (bool more = true; more;) {
    more = false;
    while (e > b && ascii_space(s[e - 1])) --e, more = true;
    for (size_t n : {size_t(2), size_t(3)})
      if (e >= b + n && unicode_space_at(s, e - n) == n) {
        e -= n;
        more = true;
        break;
      }
  }
  return s.substr(b, e - b);
}

inline std::string to_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// a == b; for short texts, faster than the memcmp() call of std::string_view's ==.
inline bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// to_lower(s) == lower, without building the string.
inline bool equals_lowered(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != lower[i]) return false;
  }
  return true;
}

// Parses a whole string as a decimal integer (optional sign). False if it is not one or does not
// fit in int64_t.
inline bool parse_int64(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t d = uint64_t(s[i] - '0');
    if (v > (uint64_t(INT64_MAX) - d) / 10) return false;
    v = v * 10 + d;
  }
  out = neg ? -int64_t(v) : int64_t(v);
  return true;
}

// Defined in load.cpp. `s` with control and non-UTF-8 bytes shown as \xNN, for messages.
std::string printable(const std::string& s);
// The length of the well-formed UTF-8 sequence at s[i] (1 for ASCII), 0 if there is none there.
size_t utf8_length_at(std::string_view s, size_t i);
// "" when a name is well-formed UTF-8 without control characters; else what is wrong with it,
// e.g. "is not UTF-8 (byte 0xe9 at byte 4)" or "holds the control character 0x09 at byte 2".
// Names reach CSV files, tables on the console and the HTML report: they are checked when read.
std::string name_problem(std::string_view s);
// Throws InputError "<source>: not a text file (expected <expected>)" for binary content.
void check_text(const std::string& text, const std::string& source, const char* expected);
// Why read_input_file() failed: the path could not be opened (or is not a file that can be read:
// a folder, a FIFO, a socket, a block device), a read failed, or the file holds more than allowed.
struct InputFileError {
  enum Kind { Open, Read, TooLarge } kind;
  std::string reason;  // strerror() text, "is a directory", "not a regular file (a FIFO) ..."
  uintmax_t size = 0;  // TooLarge: the size of a regular file, 0 when it is not known
  std::string head{};  // TooLarge from a device: its first bytes, to tell a binary stream
};
// The one way every input file (config, topology, network; sweep workloads too) is read: opened
// without blocking (a FIFO with no writer never hangs the run), checked with fstat, and read to
// the end with a size cap that also stops endless devices such as /dev/zero. Regular files and
// character devices are read; anything else is refused. Throws InputFileError; the callers turn
// it into their InputError wording.
std::string read_input_file(const std::string& path, uintmax_t max_bytes);
// The file's contents; InputError with the real reason for a missing, unreadable or folder path,
// and a size cap that also stops endless devices.
// `expected` names the format for "not a text file" ("a SCALE-Sim topology .csv").
// At most `max_bytes`: topology CSVs 64 MiB, YAML network files 8 MiB (yaml-cpp's node tree takes
// about a hundred times the text: a 63 MB file of 1.24 M layers needed 6.9 GB).
constexpr uintmax_t kMaxTopologyFileBytes = uintmax_t(64) << 20;
constexpr uintmax_t kMaxNetworkFileBytes = uintmax_t(8) << 20;
std::string read_workload_file(const std::string& path, const char* what, const char* expected,
                               uintmax_t max_bytes);

// "dir/Resnet50.csv" -> "Resnet50"
inline std::string file_stem(const std::string& path) {
  size_t b = path.find_last_of('/');
  b = b == std::string::npos ? 0 : b + 1;
  size_t e = path.find_last_of('.');
  if (e == std::string::npos || e < b) e = path.size();
  return path.substr(b, e - b);
}

}  // namespace ssim::detail
