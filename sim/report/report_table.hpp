// Plain-text report helpers: an aligned text table for the terminal, CSV field quoting, and
// writing a file so that a killed run never leaves it half-written.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sim/report/number_text.hpp"

namespace ssim {

// A table of strings printed with aligned columns:
//
//   TextTable t({"metric", "value"}, {TextTable::Align::Left, TextTable::Align::Right});
//   t.add_row({"total cycles", "1234"});
//   t.print(std::cout);
//
// With a header, a rule of '-' separates it from the rows; with an empty header, only rows are
// printed. Columns are separated by two spaces; lines carry no trailing spaces.
class TextTable {
 public:
  enum class Align { Left, Right };

  // `align` may be shorter than the number of columns: the rest are left-aligned.
  explicit TextTable(std::vector<std::string> header = {}, std::vector<Align> align = {});

  // Rows may have fewer cells than the widest row; missing cells print empty.
  void add_row(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }
  size_t columns() const;

  void print(std::ostream& out) const;
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// One CSV field (RFC 4180): quoted when it contains a comma, quote, CR or LF; quotes doubled.
std::string csv_field(const std::string& s);

// One CSV line (fields joined with ',' and a trailing '\n').
std::string csv_line(const std::vector<std::string>& fields);

// A double with 9 significant digits, as printf's "%.9g" (and `ostream << setprecision(9)`)
// print it (write_g9() in number_text.hpp).
std::string g9(double v);

// True when csv_field() quotes `s` (a comma, quote, CR or LF in it).
bool csv_needs_quotes(std::string_view s);

// One CSV line appended to `out` field by field (csv_line's quoting and separators), without a
// string per field: the report files of a run hold thousands of fields. The fields go to a
// buffer of the row's own and into `out` at end() (or when the buffer is full), one append a
// row. (libfmt would not format the numbers faster than number_text.hpp and adds nothing to the
// quoting, so it is not used.)
//
//   CsvRow(out).text(name).integer(cycles).g9(util).end();
//
// `separator` (one or two characters) and end()'s `tail` make SCALE-Sim's lines too (", " and
// ",\n"). A row not ended is appended when the CsvRow goes, without a tail.
class CsvRow {
 public:
  explicit CsvRow(std::string& out, std::string_view separator = ",");
  CsvRow(const CsvRow&) = delete;
  CsvRow& operator=(const CsvRow&) = delete;
  ~CsvRow() { flush(); }

  CsvRow& text(std::string_view s);  // quoted as csv_field() quotes it
  template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
  CsvRow& integer(T v) {  // as std::to_string(v)
    static_assert(sizeof(T) <= sizeof(uint64_t));
    char* p = field(21);
    uint64_t magnitude = uint64_t(v);
    if constexpr (std::is_signed_v<T>) {
      if (v < 0) {
        *p++ = '-';
        magnitude = 0 - magnitude;
      }
    }
    used_ = size_t(write_decimal(p, magnitude) - buf_);
    return *this;
  }
  CsvRow& g9(double v);        // as g9()
  CsvRow& shortest(double v);  // the shortest text that reads back as v (as std::to_chars)
  CsvRow& empty() {
    field(0);
    return *this;
  }
  CsvRow& raw(std::string_view s);  // a field as it is (one that needs no quotes)
  // A field `write(p)` writes at p, in at most `room` bytes (at most 512), returning its end.
  template <class Write>
  CsvRow& put(size_t room, Write&& write) {
    char* p = field(room);
    used_ = size_t(write(p) - buf_);
    return *this;
  }
  void end(std::string_view tail = "\n");

 private:
  // Starts a field (its separator) with room for `room` more bytes in buf_; returns where the
  // field goes. `room` must leave space for the separator in an empty buffer.
  char* field(size_t room) {
    if (used_ + 2 + room > sizeof buf_) flush();
    if (fields_++) {
      buf_[used_] = sep_[0];
      buf_[used_ + 1] = sep_[1];
      used_ += sep_len_;
    }
    return buf_ + used_;
  }
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }

  std::string& out_;
  char sep_[2];
  size_t sep_len_;
  size_t fields_ = 0;
  size_t used_ = 0;
  char buf_[1024];
};

// Writes `content` to `path` through a temporary file in the same directory, then renames it,
// so that readers see either the old file or the whole new one, whenever the process is killed.
// Sync::ToDisk also fsyncs the temporary before the rename, so the file survives a crash of the
// machine too (a sweep's stores: hours of work); Sync::None leaves that to the kernel (a run's
// reports: rerun in milliseconds; seven fsyncs were 4.5 ms of a 15 ms run). The directory must
// exist. Throws std::system_error (with the path in the message) on failure and removes the
// temporary.
enum class Sync { ToDisk, None };
void write_file_atomic(const std::string& path, const std::string& content,
                       Sync sync = Sync::ToDisk);

// An exclusive flock() on a folder, held until the object is destroyed. A run takes it while it
// writes its files and a sweep for as long as it runs, so that two writers never mix their files
// in one folder (docs/bad-input.md, "Output you can trust").
class FolderLock {
 public:
  FolderLock() = default;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();
  // Takes the lock on the folder `dir` (which must exist), waiting up to `wait_s` seconds for
  // another holder to let go. False if it could not be taken.
  bool acquire(const std::string& dir, double wait_s);

 private:
  int fd_ = -1;
};

}  // namespace ssim
