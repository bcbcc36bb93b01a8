#include "sim/report/report_table.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "sim/report/number_text.hpp"

namespace ssim {

namespace {

// Display width of UTF-8 text: code points, not bytes (continuation bytes do not count).
size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::vector<Align> align)
    : header_(std::move(header)), align_(std::move(align)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  rows_.push_back(std::move(cells));
}

size_t TextTable::columns() const {
  size_t n = header_.size();
  for (const auto& r : rows_) n = std::max(n, r.size());
  return n;
}

void TextTable::print(std::ostream& out) const {
  const size_t ncol = columns();
  std::vector<size_t> width(ncol, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);

  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < ncol; ++i) {
      const std::string cell = i < row.size() ? row[i] : std::string();
      const size_t pad = width[i] - display_width(cell);
      const bool right = i < align_.size() && align_[i] == Align::Right;
      if (i > 0) line += "  ";
      if (right) line.append(pad, ' ');
      line += cell;
      if (!right) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  if (!header_.empty()) {
    print_row(header_);
    size_t total = 0;
    for (size_t i = 0; i < ncol; ++i) total += width[i] + (i > 0 ? 2 : 0);
    out << std::string(total, '-') << '\n';
  }
  for (const auto& r : rows_) print_row(r);
}

std::string TextTable::str() const {
  std::ostringstream s;
  print(s);
  return s.str();
}

bool csv_needs_quotes(std::string_view s) {
  // All four characters sort below '-' (0x2d): eight bytes at a time, a byte below it (and
  // below 0x80) sets its top bit in `low`; only then are the bytes looked at one by one.
  auto special = [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const uint64_t low = (x - 0x2d2d2d2d2d2d2d2dull) & ~x & 0x8080808080808080ull;
    if (low && std::any_of(s.data() + i, s.data() + i + 8, special)) return true;
  }
  return std::any_of(s.data() + i, s.data() + s.size(), special);
}

std::string csv_field(const std::string& s) {
  if (!csv_needs_quotes(s)) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string g9(double v) {
  char buf[kFloatTextMax];
  return std::string(buf, write_g9(buf, v));
}

CsvRow::CsvRow(std::string& out, std::string_view separator) : out_(out) {
  if (separator.empty() || separator.size() > 2)
    throw std::logic_error("CsvRow: a separator of one or two characters");
  sep_[0] = separator[0];
  sep_[1] = separator.size() > 1 ? separator[1] : '\0';
  sep_len_ = separator.size();
}

CsvRow& CsvRow::text(std::string_view s) {
  if (!csv_needs_quotes(s)) return raw(s);
  // Quoted: at most twice its length and two quotes; a field longer than the buffer goes to
  // `out` directly.
  const bool fits = 2 * s.size() + 2 + 2 <= sizeof buf_;
  char* p = field(fits ? 2 * s.size() + 2 : 0);
  if (!fits) {
    flush();
    out_ += csv_field(std::string(s));
    return *this;
  }
  *p++ = '"';
  for (char c : s) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  used_ = size_t(p - buf_);
  return *this;
}

CsvRow& CsvRow::raw(std::string_view s) {
  const bool fits = s.size() + 2 <= sizeof buf_;
  char* p = field(fits ? s.size() : 0);
  if (!fits) {
    flush();
    out_.append(s.data(), s.size());
    return *this;
  }
  std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return *this;
}

CsvRow& CsvRow::g9(double v) {
  used_ = size_t(write_g9(field(kFloatTextMax), v) - buf_);
  return *this;
}

CsvRow& CsvRow::shortest(double v) {
  used_ = size_t(write_shortest(field(kFloatTextMax), v) - buf_);
  return *this;
}

void CsvRow::end(std::string_view tail) {
  if (used_ + tail.size() > sizeof buf_) flush();
  if (tail.size() > sizeof buf_) {
    out_.append(tail.data(), tail.size());
  } else {
    std::memcpy(buf_ + used_, tail.data(), tail.size());
    used_ += tail.size();
  }
  flush();
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += csv_field(fields[i]);
  }
  line += '\n';
  return line;
}

void write_file_atomic(const std::string& path, const std::string& content, Sync sync) {
  // The temporary sits next to the target (same file system, so rename() is atomic) and carries
  // the process id, so two runs writing the same folder do not share one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp);
  auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), what);
  };
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + tmp);
    }
    done += size_t(n);
  }
  if (sync == Sync::ToDisk && ::fsync(fd) != 0) fail("cannot sync " + tmp);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot close " + tmp);
  }
  // Over an existing file, rename() on ext4 first starts writing the new file's data out
  // (auto_da_alloc) and frees the old file's blocks (with `discard`, a discard request): 0.3 to
  // 2 ms a file here, so a run into a folder it has written before took 1.5 to 2.5 ms longer. A
  // report (Sync::None) instead swaps names with the old file, as atomically as rename(), and
  // then removes the old one; elsewhere (no old regular file, a file system without
  // RENAME_EXCHANGE, Sync::ToDisk) it is a rename().
  struct stat old_file;
  if (sync == Sync::None && ::lstat(path.c_str(), &old_file) == 0 && S_ISREG(old_file.st_mode) &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    if (::unlink(tmp.c_str()) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot remove the old " + path + " (now " + tmp + ")");
    return;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot rename " + tmp + " to " + path);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor lets go of the lock
}

bool FolderLock::acquire(const std::string& dir, double wait_s) {
  if (fd_ < 0) fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) return false;
  for (double waited = 0;; waited += 0.05) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (waited >= wait_s) return false;
    ::usleep(50000);
  }
}

}  // namespace ssim
