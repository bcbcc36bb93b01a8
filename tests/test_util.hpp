// Helpers for tests that run the systolic-sim binary (SSIM_BINARY) as a user would: a scratch
// folder, running the binary in a folder with its output captured, reading files back.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace ssim::testutil {

namespace fs = std::filesystem;

// A scratch folder, removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const char* prefix = "ssim_test") {
    std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "_XXXXXX")).string();
    const char* made = mkdtemp(tmpl.data());
    path = made ? made : fs::temp_directory_path();
  }
  ~TempDir() {
    std::error_code ec;
    // Give back permissions a test took away, so that the folder can be removed.
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, ec);
    }
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// The names in a folder, sorted.
inline std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

struct Outcome {
  int code = -1;   // exit code, or -1 if the process did not exit normally
  int signal = 0;  // the signal that ended it, if one did
  std::string out, err;
};

// Starts the binary with `args` in the folder `cwd`, stdout and stderr going to the given files
// (outside `cwd`, so that `cwd` shows exactly what the binary created), with its address space
// limited to `address_space_bytes` when that is > 0 (RLIMIT_AS). Returns its pid.
inline pid_t spawn_binary(const std::vector<std::string>& args, const fs::path& cwd,
                          const fs::path& out_path, const fs::path& err_path,
                          uint64_t address_space_bytes = 0) {
  std::vector<std::string> argv_s = {SSIM_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0 || e < 0 || chdir(cwd.c_str()) != 0) _exit(126);
    if (address_space_bytes > 0) {
      const rlimit lim{address_space_bytes, address_space_bytes};
      if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(126);
    }
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for the binary; with `timeout_s` > 0 kills it (SIGKILL) when it runs longer, so that a
// hang fails the test (r.signal == SIGKILL) instead of blocking it.
inline Outcome wait_binary(pid_t pid, const fs::path& out_path, const fs::path& err_path,
                           double timeout_s = 0) {
  Outcome r;
  int status = 0;
  bool done = false;
  if (pid > 0 && timeout_s > 0) {
    for (int waited_ms = 0;; waited_ms += 10) {
      const pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) done = true;
      if (w != 0) break;
      if (waited_ms >= timeout_s * 1000) {
        kill(pid, SIGKILL);
        break;
      }
      usleep(10000);
    }
  }
  if (pid > 0 && (done || waitpid(pid, &status, 0) == pid)) {
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  }
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

// Runs the binary with `args` in the folder `cwd` and waits for it (at most `timeout_s` seconds
// when it is > 0: see wait_binary; its address space limited as spawn_binary says).
inline Outcome run_binary(const std::vector<std::string>& args, const fs::path& cwd,
                          double timeout_s = 0, uint64_t address_space_bytes = 0) {
  TempDir capture("ssim_capture");
  const fs::path out = capture.path / "stdout", err = capture.path / "stderr";
  return wait_binary(spawn_binary(args, cwd, out, err, address_space_bytes), out, err, timeout_s);
}

inline std::string describe(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " " + a;
  return s;
}

}  // namespace ssim::testutil
