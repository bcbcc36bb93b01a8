// The value parsers of the .cfg keys and the hardware flags: each throws BadValue naming what is
// allowed (the caller adds where: file:line and key, or the flag).
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "sim/spec/cfg_keys.hpp"

namespace ssim::cfg_detail {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// --- value parsers: each throws BadValue naming what is allowed ---------------------------------

int64_t parse_int(const std::string& v, int64_t lo, int64_t hi) {
  const std::string allowed =
      "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  int64_t x = 0;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  // Plain decimal only: no sign but '-', no hex, no exponent, no trailing characters.
  if (v.empty()) throw BadValue{allowed};
  const auto r = std::from_chars(b, e, x, 10);
  if (r.ec != std::errc() || r.ptr != e || x < lo || x > hi) throw BadValue{allowed};
  return x;
}

// Shortest text that reads back as the same double ("1", "0.5", "12.75").
std::string fmt_double(double x) {
  char buf[64];
  if (x == std::floor(x) && std::fabs(x) < 1e15) {  // whole numbers without an exponent
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// A finite decimal number in [lo, hi] (or (lo, hi] when lo_open).
double parse_number(const std::string& v, double lo, bool lo_open, double hi) {
  const std::string allowed =
      lo_open
          ? "expected a number greater than " + fmt_double(lo) + " and at most " + fmt_double(hi)
          : "expected a number from " + fmt_double(lo) + " to " + fmt_double(hi);
  double x = 0;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  if (v.empty()) throw BadValue{allowed};
  const auto r = std::from_chars(b, e, x, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != e || !std::isfinite(x)) throw BadValue{allowed};
  if (x > hi || x < lo || (lo_open && x == lo)) throw BadValue{allowed};
  return x;
}

bool parse_bool(const std::string& v) {
  const std::string l = lower(v);
  if (l == "on" || l == "true" || l == "1") return true;
  if (l == "off" || l == "false" || l == "0") return false;
  throw BadValue{"expected on, off, true, false, 1 or 0"};
}

std::string fmt_bool(bool b) {
  return b ? "on" : "off";
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80                 ? 1
                     : c >= 0xC2 && c <= 0xDF ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    if (n >= 3) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 > 0x8F))
        return false;
    }
    i += n;
  }
  return true;
}

std::string parse_run_name(const std::string& raw) {
  const std::string allowed =
      "expected 1 to 128 characters (UTF-8) without / \\ # or control characters, not . or .. "
      "(it names the output folder)";
  const std::string v = trim(raw);
  if (v.empty() || v == "." || v == ".." || !valid_utf8(v)) throw BadValue{allowed};
  size_t characters = 0;  // UTF-8: continuation bytes are not characters of their own
  for (unsigned char c : v) characters += (c & 0xC0) != 0x80;
  if (characters > 128) throw BadValue{allowed};
  for (unsigned char c : v) {
    if (c == '/' || c == '\\' || c == '#' || c < 0x20 || c == 0x7f) throw BadValue{allowed};
  }
  return v;
}

Dataflow parse_df(const std::string& v) {
  const std::string l = lower(v);
  if (l == "os") return Dataflow::OS;
  if (l == "ws") return Dataflow::WS;
  if (l == "is") return Dataflow::IS;
  throw BadValue{"expected os, ws or is"};
}

Fidelity parse_fidelity(const std::string& v) {
  const std::string l = lower(v);
  if (l == "cycle") return Fidelity::Cycle;
  if (l == "fast") return Fidelity::Fast;
  throw BadValue{"expected cycle or fast"};
}

std::string quote_for_message(const std::string& s) {
  // Messages are one line: show control characters as \xNN.
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace ssim::cfg_detail
