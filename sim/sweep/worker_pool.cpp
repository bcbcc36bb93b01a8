#include "sim/sweep/worker_pool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace ssim {

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Closes every descriptor above 2 but `keep_a` and `keep_b` (in a freshly forked child).
void close_other_fds(int keep_a, int keep_b) {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      fds.push_back(std::atoi(e->d_name));
    }
    const int own = ::dirfd(d);
    ::closedir(d);
    fds.erase(std::remove(fds.begin(), fds.end(), own), fds.end());
  } else {
    for (int fd = 3; fd < 1024; ++fd) fds.push_back(fd);
  }
  for (int fd : fds) {
    if (fd > 2 && fd != keep_a && fd != keep_b) ::close(fd);
  }
}

}  // namespace

WorkerPool::WorkerPool(std::function<TaskOutput(int task)> run_task, int delay_after_ms)
    : run_task_(std::move(run_task)), delay_after_ms_(delay_after_ms) {}

std::string WorkerPool::exit_text(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped";
}

// Reads task numbers (one per line) from `in`, runs each and writes its message to `out`. Exits
// at end of input, and after a task that failed (SystemC cannot run again).
void WorkerPool::worker_main(int in, int out) {
  using Clock = std::chrono::steady_clock;
  std::string buf;
  char chunk[256];
  while (true) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      const ssize_t n = ::read(in, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);
      buf.append(chunk, size_t(n));
    }
    const int task = std::atoi(buf.substr(0, nl).c_str());
    buf.erase(0, nl + 1);
    if (task < 0) _exit(3);
    const auto t0 = Clock::now();
    TaskOutput o;
    try {
      o = run_task_(task);
    } catch (...) {
      _exit(5);  // run_task must report its failures in TaskOutput; the parent sees a lost task
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    std::string msg = "R " + std::to_string(task) + " " + (o.ok ? "1" : "0") + " " +
                      std::to_string(ms) + " " + std::to_string(o.parts.size());
    for (const std::string& p : o.parts) msg += " " + std::to_string(p.size());
    msg += "\n";
    for (const std::string& p : o.parts) msg += p;
    if (!write_all(out, msg)) _exit(4);
    if (!o.ok) _exit(0);
    if (delay_after_ms_ > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_after_ms_));
  }
}

WorkerPool::Worker WorkerPool::spawn() {
  int cmd[2], res[2];
  if (::pipe2(cmd, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (::pipe2(res, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(cmd[0]);
    ::close(cmd[1]);
    throw std::system_error(e, std::generic_category(), "pipe");
  }
  const pid_t parent = ::getpid();
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {cmd[0], cmd[1], res[0], res[1]}) ::close(fd);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    // The worker dies with the parent, even when the parent is killed with SIGKILL.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);
    // Its own process group: Ctrl-C reaches the parent, which stops the workers itself.
    ::setpgid(0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) ::signal(sig, SIG_DFL);
    close_other_fds(cmd[0], res[1]);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);  // SystemC's info messages would garble the parent's progress output
      ::close(null);
    }
    worker_main(cmd[0], res[1]);
  }
  ::close(cmd[0]);
  ::close(res[1]);
  Worker w;
  w.pid = pid;
  w.cmd_fd = cmd[1];
  w.res_fd = res[0];
  return w;
}

bool WorkerPool::run(std::vector<int> tasks, int jobs, const WorkerPoolHooks& hooks) {
  auto stopping = [&] { return hooks.stop && hooks.stop(); };
  auto may_assign = [&] { return !hooks.keep_assigning || hooks.keep_assigning(); };
  std::vector<Worker> workers;
  auto assign = [&](Worker& w) {
    if (tasks.empty() || !may_assign()) {
      close_fd(w.cmd_fd);  // the worker exits at end of input
      return;
    }
    w.task = tasks.back();
    tasks.pop_back();
    if (!write_all(w.cmd_fd, std::to_string(w.task) + "\n")) {
      close_fd(w.cmd_fd);  // its death shows up as end of file on its result pipe
    }
  };
  auto kill_all = [&] {
    for (Worker& w : workers) {
      ::kill(w.pid, SIGKILL);
      int status = 0;
      ::waitpid(w.pid, &status, 0);
      close_fd(w.cmd_fd);
      close_fd(w.res_fd);
    }
    workers.clear();
  };

  bool stopped = false;
  try {
    for (int i = 0; i < jobs; ++i) {
      workers.push_back(spawn());
      assign(workers.back());
    }
    while (!workers.empty()) {
      if (stopping()) {
        stopped = true;
        break;
      }
      std::vector<pollfd> pfds;
      for (const Worker& w : workers) pfds.push_back({w.res_fd, POLLIN, 0});
      const int n = ::poll(pfds.data(), nfds_t(pfds.size()), 500);
      if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
      if (hooks.on_tick) hooks.on_tick();
      if (n <= 0) continue;
      for (size_t i = 0; i < workers.size(); ++i) {
        if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Worker& w = workers[i];
        char chunk[65536];
        const ssize_t got = ::read(w.res_fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got > 0) {
          w.buf.append(chunk, size_t(got));
          // Whole messages: "R task ok ms parts len...\n" and the parts.
          while (true) {
            const size_t nl = w.buf.find('\n');
            if (nl == std::string::npos) break;
            std::istringstream h(w.buf.substr(0, nl));
            char tag = 0;
            long long task = -1, okv = 0, ms = 0, nparts = -1;
            h >> tag >> task >> okv >> ms >> nparts;
            std::vector<long long> lens(size_t(std::max(0LL, std::min(nparts, 1024LL))), -1);
            for (long long& len : lens) h >> len;
            const bool bad_len =
                std::any_of(lens.begin(), lens.end(), [](long long l) { return l < 0; });
            if (!h || tag != 'R' || task != w.task || nparts < 0 || nparts > 1024 || bad_len) {
              throw std::runtime_error("garbled message from worker " + std::to_string(w.pid));
            }
            size_t total = 0;
            for (long long len : lens) total += size_t(len);
            if (w.buf.size() < nl + 1 + total) break;
            TaskDone done;
            done.task = int(task);
            done.ok = okv == 1;
            done.ms = ms;
            size_t at = nl + 1;
            for (long long len : lens) {
              done.parts.push_back(w.buf.substr(at, size_t(len)));
              at += size_t(len);
            }
            w.buf.erase(0, at);
            w.task = -1;
            if (hooks.on_done) hooks.on_done(done);
            if (done.ok) {
              assign(w);
            } else {
              close_fd(w.cmd_fd);  // it exits: SystemC cannot run after an exception
            }
          }
          continue;
        }
        // End of file: the worker exited.
        int status = 0;
        ::waitpid(w.pid, &status, 0);
        close_fd(w.cmd_fd);
        close_fd(w.res_fd);
        const int lost = w.task;
        workers.erase(workers.begin() + long(i));
        pfds.erase(pfds.begin() + long(i));
        --i;
        if (lost >= 0) {
          if (stopping()) break;
          if (hooks.on_lost) hooks.on_lost(lost, exit_text(status));
        }
        if (!tasks.empty() && may_assign() && !stopping()) {
          workers.push_back(spawn());
          pfds.push_back({workers.back().res_fd, 0, 0});
          assign(workers.back());
        }
      }
    }
  } catch (...) {
    kill_all();
    throw;
  }
  kill_all();  // stopped: the workers still running are not waited for
  return stopped;
}

}  // namespace ssim
