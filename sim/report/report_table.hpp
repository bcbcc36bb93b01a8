// Plain-text report helpers: an aligned text table for the terminal, CSV field quoting, and
// writing a file so that a killed run never leaves it half-written.
#pragma once

#include <charconv>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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
// print it, by std::to_chars (about a tenth of snprintf's instructions, the same text:
// ReportTable.G9IsPrintfsPercentNineG).
std::string g9(double v);

// One CSV line appended to `out` field by field (csv_line's quoting and separators), without a
// string per field: the report files of a run hold thousands of fields. (libfmt would format the
// numbers no faster than std::to_chars and adds nothing to the quoting, so it is not used.)
//
//   CsvRow(out).text(name).integer(cycles).g9(util).end();
//
// `separator` and end()'s `tail` make SCALE-Sim's lines too (", " and ",\n").
class CsvRow {
 public:
  explicit CsvRow(std::string& out, std::string_view separator = ",")
      : out_(out), separator_(separator) {}
  CsvRow& text(std::string_view s);  // quoted as csv_field() quotes it
  template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
  CsvRow& integer(T v) {  // as std::to_string(v)
    char buf[24];
    return raw(std::string_view(buf, size_t(std::to_chars(buf, buf + sizeof buf, v).ptr - buf)));
  }
  CsvRow& g9(double v);        // as g9()
  CsvRow& shortest(double v);  // the shortest text that reads back as v (std::to_chars)
  CsvRow& empty() { return raw({}); }
  CsvRow& raw(std::string_view s) {  // a field as it is (one that needs no quotes)
    if (fields_++) out_.append(separator_.data(), separator_.size());
    out_.append(s.data(), s.size());
    return *this;
  }
  void end(std::string_view tail = "\n") { out_.append(tail.data(), tail.size()); }

 private:
  std::string& out_;
  std::string_view separator_;
  size_t fields_ = 0;
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
