// systolic_sim._core: the C++ side of the Python module (python/systolic_sim/__init__.py).
// run() runs a systolic-sim command line in a forked child process through the very code the
// binary runs (sc_elab_and_sim -> sc_main -> run_command), since SystemC elaborates one design
// per process; the Python side reads the run folder the child wrote.
#include <fcntl.h>
#include <poll.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <system_error>
#include <systemc>
#include <tuple>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/entry.hpp"
#include "sim/spec/config.hpp"
#include "workloads/data_dir.hpp"
#include "workloads/readers.hpp"

namespace py = pybind11;

namespace {

std::vector<std::string> g_args;  // the child's command line, for sc_main

// Runs in the child only: never returns.
[[noreturn]] void child_main(const std::vector<std::string>& args, int out_fd, int err_fd) {
  // The child dies with the Python process; signals get their default actions back (Python's
  // handlers only set a flag the interpreter would read, and the child never returns to it).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::close(out_fd);
  ::close(err_fd);
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  g_args = args;
  char name[] = "systolic-sim";
  char* argv[] = {name, nullptr};
  int rc = 1;
  try {
    rc = sc_core::sc_elab_and_sim(1, argv);
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << std::endl;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit(rc);
}

void drain(int& fd, std::string& into) {
  char buf[65536];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, size_t(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    ::close(fd);
    fd = -1;
  }
}

// `systolic-sim ARGS...` in a child process: (exit code, stdout, stderr). A child killed by a
// signal gives -signal. Ctrl-C (KeyboardInterrupt) interrupts the child and raises.
std::tuple<int, std::string, std::string> run(const std::vector<std::string>& args) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    throw std::system_error(e, std::generic_category(), "pipe");
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    ::close(out[0]);
    ::close(err[0]);
    child_main(args, out[1], err[1]);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string out_text, err_text;
  int fds[2] = {out[0], err[0]};
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    while (fds[0] >= 0 || fds[1] >= 0) {
      pollfd p[2];
      int n = 0;
      for (int i = 0; i < 2; ++i)
        if (fds[i] >= 0) p[n++] = {fds[i], POLLIN, 0};
      const int r = ::poll(p, nfds_t(n), -1);
      if (r < 0) {
        if (errno != EINTR) break;
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {
          interrupted = true;
          ::kill(pid, SIGINT);  // a sweep stops its workers on SIGINT
          break;
        }
        continue;
      }
      for (int i = 0; i < n; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int& fd = p[i].fd == fds[0] ? fds[0] : fds[1];
        drain(fd, &fd == &fds[0] ? out_text : err_text);
      }
    }
    for (int& fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int status = 0;
  {
    py::gil_scoped_release release;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (interrupted) throw py::error_already_set();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return {code, out_text, err_text};
}

}  // namespace

// libsystemc.so's sc_elab_and_sim() calls sc_main(); in the child it runs the command line, as
// the binary's sc_main (sim/main.cpp) does.
extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) {
  ssim::set_one_command_process();
  return ssim::run_command(g_args, std::cout, std::cerr);
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "systolic-sim's C++ core; use the systolic_sim package, not this module";
  m.def("run", &run, py::arg("args"),
        "Runs `systolic-sim ARGS...` in a child process; returns (exit code, stdout, stderr).");
  m.def("set_data_dir", &ssim::set_data_dir_hint, py::arg("dir"),
        "The data folder (presets/, networks/, scripts/) found beside the package.");
  m.def("data_dirs", &ssim::data_dirs, "The data folders in search order (docs/install.md).");
  m.def("networks", &ssim::builtin_network_names, "The built-in workload names.");
  m.def("version", &ssim::cli_version, "systolic-sim VERSION");
  m.def(
      "hardware_flags",
      [] {
        std::vector<std::tuple<std::string, std::string, std::string, std::string>> v;
        for (const ssim::HwFlagInfo& f : ssim::hw_flags())
          v.emplace_back(f.name, f.value_name, f.help, f.default_value);
        return v;
      },
      "The hardware flags: (name, value name, help, default).");
}
