// A pool of forked worker processes that run numbered tasks: the sweep's engine on one machine.
//
// Why processes, not threads: a process can elaborate one SystemC design, and a process whose
// simulation threw cannot simulate again. So the pool forks its workers before any task runs
// (each inherits what the parent has built, e.g. the parsed sweep, and elaborates its own
// accelerator once); each runs many tasks one after another, handed out one at a time from the
// back of the list so the workers stay busy. A worker whose task failed (TaskOutput::ok false)
// exits after reporting it, and a fresh worker takes its place; a worker that dies (crash, kill)
// while running a task is reported through on_lost. The parent process never runs a task.
//
// Why hand-written (fork, pipes, poll) rather than Boost.Process: the workers are forks of this
// process running a function, not programs to exec, and the parent must multiplex many result
// pipes with a timeout (the progress bar ticks) and react to signals; Boost.Process starts
// executables and would need a command-line protocol for the points instead.
//
// The protocol on the pipes: parent -> worker one task number per line; worker -> parent
//   "R <task> <ok 0|1> <milliseconds> <parts> <len 1> ... <len n>\n" <part 1> ... <part n>.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ssim {

// What a task gives back: any number of byte strings (the sweep sends a CSV row and its per-op
// rows), and whether it succeeded (a worker exits after a task that did not).
struct TaskOutput {
  bool ok = true;
  std::vector<std::string> parts;
};

// A finished task as the parent sees it.
struct TaskDone {
  int task = -1;
  bool ok = true;
  int64_t ms = 0;  // the task's wall time in the worker
  std::vector<std::string> parts;
};

struct WorkerPoolHooks {
  // A task finished (in the worker's order of completion).
  std::function<void(const TaskDone&)> on_done;
  // The worker running `task` died before reporting it; `how` is e.g. "exited with status 3" or
  // "killed by signal 9 (Killed)".
  std::function<void(int task, const std::string& how)> on_lost;
  // Called after every wait for results (at least every 500 ms): e.g. a progress bar's tick.
  std::function<void()> on_tick;
  // Checked before each wait: true stops the pool (e.g. a signal arrived).
  std::function<bool()> stop;
  // Checked before a task is handed out: false hands out no more (e.g. results cannot be written);
  // the tasks running finish.
  std::function<bool()> keep_assigning;
};

// Writes all of `s` to `fd` (retrying after EINTR and short writes); false on an error (errno set).
bool write_all(int fd, const std::string& s);

class WorkerPool {
 public:
  // `run_task` runs in the workers, never in the parent. `delay_after_ms`: a worker sleeps this
  // long after reporting a successful task (a test hook that slows a sweep down; 0 normally).
  explicit WorkerPool(std::function<TaskOutput(int task)> run_task, int delay_after_ms = 0);

  // Runs `tasks` (handed out from the back) on at most `jobs` workers at a time, calling the hooks
  // in this process. Returns true when `stop` stopped it, false when every task was handed out
  // and the workers have exited (or keep_assigning said no more). On return no worker is left:
  // those still running are killed (SIGKILL) and reaped, their tasks neither done nor lost.
  // Throws std::system_error when a pipe or a process cannot be made, std::runtime_error on a
  // garbled message; the workers are killed first.
  bool run(std::vector<int> tasks, int jobs, const WorkerPoolHooks& hooks);

  // "exited with status N", "killed by signal N (NAME)" or "stopped", for a waitpid() status.
  static std::string exit_text(int status);

 private:
  struct Worker {
    pid_t pid = -1;
    int cmd_fd = -1;  // parent -> worker: task numbers
    int res_fd = -1;  // worker -> parent: results
    int task = -1;    // the task it runs, -1 when idle
    std::string buf;  // bytes read and not yet a whole message
  };
  Worker spawn();
  [[noreturn]] void worker_main(int in, int out);

  std::function<TaskOutput(int)> run_task_;
  int delay_after_ms_ = 0;
};

}  // namespace ssim
