// The workload readers' file and text helpers declared in read_util.hpp and the readers: reading an
// input file safely (size limit, no FIFO waits), printable names, UTF-8 checks. Shared by the CSV,
// YAML and ONNX readers (the ONNX plugin links this file too: CMakeLists.txt, "ONNX reader").
#include "workloads/read_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/types.hpp"
#include "workloads/readers.hpp"

namespace ssim {

namespace detail {

size_t utf8_length_at(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  const size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  if (n >= 3) {  // no overlong forms, surrogates or code points above U+10FFFF
    const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
      return 0;
  }
  return n;
}

std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        hex(c);
      else
        out += char(c);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is kept; any other byte is shown as \xNN.
    const size_t n = utf8_length_at(s, i);
    if (n == 0) {
      hex(c);
      ++i;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  return out;
}

std::string name_problem(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= 0x20 && s[i] < 0x7f) ++i;  // printable ASCII
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    char buf[64];
    if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "holds the control character 0x%02x at byte %zu", c, i + 1);
      return buf;
    }
    const size_t n = utf8_length_at(s, i);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "is not UTF-8 (byte 0x%02x at byte %zu)", c, i + 1);
      return buf;
    }
    i += n;
  }
  return "";
}

void check_text(const std::string& text, const std::string& source, const char* expected) {
  // Eight bytes at a time: a word with no byte below 0x20 and none 0x7f is skipped whole (the
  // usual SWAR tests: a byte below n sets its top bit in (x - n*ones) & ~x, as does a zero one),
  // the bytes of any other word are checked one by one.
  constexpr uint64_t ones = ~uint64_t(0) / 255, tops = ones * 0x80;
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    for (; i + 8 <= n; i += 8) {
      uint64_t x;
      std::memcpy(&x, text.data() + i, 8);
      const uint64_t del = x ^ (ones * 0x7f);
      if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del)) & tops) break;
    }
    for (const size_t stop = std::min(i + 8, n); i < stop; ++i) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') ||
          c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", c);
        throw InputError(printable(source) + ": not a text file (byte " + buf + " at offset " +
                         std::to_string(i) + "); expected " + expected);
      }
    }
  }
}

std::string read_input_file(const std::string& path, uintmax_t max_bytes) {
  // O_NONBLOCK: opening a FIFO with no writer (or a device that waits) returns at once.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw InputFileError{InputFileError::Open, std::strerror(errno)};
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputFileError{InputFileError::Open, std::strerror(errno)};
  if (S_ISDIR(st.st_mode)) throw InputFileError{InputFileError::Open, "is a directory"};
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
    const char* type = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                                              : "of an unknown type";
    throw InputFileError{InputFileError::Open, std::string("not a regular file (") + type +
                                                   "); expected a file (or a character device)"};
  }
  if (S_ISREG(st.st_mode) && uintmax_t(st.st_size) > max_bytes)
    throw InputFileError{InputFileError::TooLarge, "", uintmax_t(st.st_size)};
  // Regular files and character devices read as usual (a terminal waits for its input).
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputFileError{InputFileError::Read, std::strerror(errno)};
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > max_bytes)  // a device that does not end, or a file that grew
      throw InputFileError{InputFileError::TooLarge, "", 0, text.substr(0, 4096)};
  }
  return text;
}

std::string read_workload_file(const std::string& path, const char* what, const char* expected,
                               uintmax_t max_bytes) {
  const std::string where = "'" + printable(path) + "'";
  try {
    return read_input_file(path, max_bytes);
  } catch (const InputFileError& e) {
    switch (e.kind) {
      case InputFileError::Open:
        throw InputError(std::string("cannot open ") + what + " " + where + ": " + e.reason);
      case InputFileError::Read:
        throw InputError(std::string("cannot read ") + what + " " + where + ": " + e.reason);
      case InputFileError::TooLarge:
        check_text(e.head, path, expected);  // /dev/urandom is binary, not "too large"
        break;
    }
    throw InputError(std::string(what) + " " + where + " is too large (more than " +
                     std::to_string(max_bytes >> 20) + " MiB)");
  }
}

}  // namespace detail

}  // namespace ssim
