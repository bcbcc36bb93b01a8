#include "sim/cli/out_folder.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "models/types.hpp"

namespace ssim {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// " (/proc is a proc file system, which holds no files of ours)" for the pseudo file systems
// whose refusals read oddly ("No such file or directory" for a folder that is there).
std::string pseudo_fs_hint(const fs::path& p) {
  struct statfs sf {};
  if (::statfs(p.c_str(), &sf) != 0) return "";
  const char* kind = sf.f_type == PROC_SUPER_MAGIC ? "proc"
                     : sf.f_type == SYSFS_MAGIC    ? "sysfs"
                                                   : nullptr;
  return kind ? " ('" + p.string() + "' is on " + kind + ", which holds no results)" : "";
}

}  // namespace

void check_out_dir(const std::string& dir) {
  if (dir.empty()) throw InputError("--out '': expected a folder name");
  const std::string head = "--out '" + dir + "': ";
  // The folder itself, or the nearest ancestor that exists: stat() gives the real reason for a
  // symlink loop, a name or path too long, or a component that is not a folder.
  auto tidy_path = [](fs::path q) {  // "res/" -> "res", "a/./b" -> "a/b"
    q = q.lexically_normal();
    while (q.has_relative_path() && q.filename().empty()) q = q.parent_path();
    return q;
  };
  fs::path p = tidy_path(dir);
  std::vector<fs::path> missing;  // to create, outermost first
  while (true) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        if (missing.empty()) throw InputError(head + "exists and is not a folder");
        throw InputError(head + "'" + p.string() + "' is not a folder");
      }
      break;
    }
    const int err = errno;
    if (err != ENOENT) {
      if (err == ENOTDIR) {  // a component is a file: name it
        fs::path a = p.parent_path();
        while (!a.empty() && ::stat(a.c_str(), &st) != 0) a = a.parent_path();
        if (!a.empty() && !S_ISDIR(st.st_mode))
          throw InputError(head + "'" + a.string() + "' is not a folder");
      }
      throw InputError(head + errno_text(err));
    }
    struct stat lst {};
    if (::lstat(p.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(p, ec);
      throw InputError(head + "'" + p.string() + "' is a symbolic link to '" + target.string() +
                       "', which does not exist");
    }
    missing.insert(missing.begin(), p);
    const fs::path parent = tidy_path(p.parent_path());
    if (parent.empty() || parent == p) {
      p = ".";
      continue;
    }
    p = parent;
  }
  // Probe: create the missing folders and a file in the innermost, as the run will, then remove
  // them again. Permission checks with access() say yes to root, and only trying shows what
  // /proc, /sys or a read-only mount refuse.
  std::vector<fs::path> made;
  auto undo = [&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
  };
  for (const fs::path& m : missing) {
    if (::mkdir(m.c_str(), 0777) != 0) {
      const int err = errno;
      undo();
      throw InputError(head + "cannot create the folder '" + m.string() + "': " + errno_text(err) +
                       pseudo_fs_hint(m.parent_path().empty() ? fs::path(".") : m.parent_path()));
    }
    made.push_back(m);
  }
  const fs::path in = missing.empty() ? p : missing.back();
  // An unnamed file first (O_TMPFILE): a run killed here leaves nothing behind. File systems
  // without it get a named one, NAME.tmp.PID like the reports' temporaries.
  int fd = ::open(in.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    undo();
    return;
  }
  const fs::path probe = in / (".ssim-probe.tmp." + std::to_string(::getpid()));
  fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    undo();
    throw InputError(head + "cannot write in '" + in.string() + "': " + errno_text(err) +
                     pseudo_fs_hint(in));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  undo();
}

std::string one_line(const std::string& msg) {
  std::string out;
  bool pending_break = false;
  for (char c : msg) {
    if (c == '\n' || c == '\r') {
      pending_break = !out.empty();
      continue;
    }
    if (pending_break) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += "; ";
      pending_break = false;
    }
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

// The first `n` bytes of `s`, or fewer so as not to split a UTF-8 character.
size_t utf8_floor(const std::string& s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// `s` cut to about `max` bytes: its head, "...", its tail.
std::string cut_middle(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  const size_t head = utf8_floor(s, max * 2 / 3);
  size_t tail = s.size() - (max - max * 2 / 3);
  while (tail < s.size() && (static_cast<unsigned char>(s[tail]) & 0xC0) == 0x80) ++tail;
  return s.substr(0, head) + "..." + s.substr(tail);
}

}  // namespace

std::string message_line(const std::string& msg) {
  const std::string line = one_line(msg);
  std::string out;
  size_t pos = 0;
  while (pos < line.size()) {
    const size_t open = line.find('\'', pos);
    const size_t close = open == std::string::npos ? open : line.find('\'', open + 1);
    if (close == std::string::npos) {
      out.append(line, pos, std::string::npos);
      break;
    }
    out.append(line, pos, open + 1 - pos);
    out += cut_middle(line.substr(open + 1, close - open - 1), kMaxQuotedValue);
    out += '\'';
    pos = close + 1;
  }
  return cut_middle(out, kMaxMessage);
}

}  // namespace ssim
