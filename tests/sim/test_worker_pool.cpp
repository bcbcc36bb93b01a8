// Tests of the sweep's worker pool (sim/sweep/worker_pool.*) on tasks whose results are known in
// closed form: every task is done once with its own result, however many workers; a failed task
// retires its worker; a worker that dies is reported with how it died; large results cross the
// pipes whole; stop() and keep_assigning() end the pool with no process left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "sim/sweep/worker_pool.hpp"

namespace ssim {
namespace {

std::vector<int> iota_tasks(int n) {
  std::vector<int> t(size_t(n), 0);
  std::iota(t.begin(), t.end(), 0);
  return t;
}

// No child of this process is left (running or unreaped).
void expect_no_children() {
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(WorkerPool, EveryTaskIsDoneOnceWithItsOwnResult) {
  for (int jobs : {1, 3, 8}) {
    // task t -> {t*t, the worker's pid}
    WorkerPool pool([](int t) {
      return TaskOutput{true, {std::to_string(t * t), std::to_string(::getpid())}};
    });
    std::map<int, std::string> got;
    std::set<std::string> pids;
    WorkerPoolHooks hooks;
    hooks.on_done = [&](const TaskDone& d) {
      EXPECT_TRUE(d.ok);
      EXPECT_GE(d.ms, 0);
      ASSERT_EQ(d.parts.size(), 2u);
      EXPECT_EQ(got.count(d.task), 0u) << "task " << d.task << " done twice";
      got[d.task] = d.parts[0];
      pids.insert(d.parts[1]);
    };
    hooks.on_lost = [&](int t, const std::string& how) { ADD_FAILURE() << t << " lost: " << how; };
    EXPECT_FALSE(pool.run(iota_tasks(40), jobs, hooks));
    ASSERT_EQ(got.size(), 40u);
    for (int t = 0; t < 40; ++t) EXPECT_EQ(got[t], std::to_string(t * t));
    EXPECT_LE(pids.size(), size_t(jobs));
    EXPECT_EQ(pids.count(std::to_string(::getpid())), 0u) << "a task ran in the parent";
    expect_no_children();
  }
}

TEST(WorkerPool, TasksAreHandedOutFromTheBack) {
  WorkerPool pool([](int t) { return TaskOutput{true, {std::to_string(t)}}; });
  std::vector<int> order;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone& d) { order.push_back(d.task); };
  EXPECT_FALSE(pool.run({5, 9, 2, 7}, 1, hooks));  // one worker: one at a time, back first
  EXPECT_EQ(order, (std::vector<int>{7, 2, 9, 5}));
}

TEST(WorkerPool, AFailedTaskRetiresItsWorkerAndTheOthersRun) {
  // Task 3 fails; the worker that ran it must run nothing after it.
  WorkerPool pool([](int t) { return TaskOutput{t != 3, {std::to_string(::getpid())}}; });
  std::map<int, std::string> pid_of;
  std::vector<int> order;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone& d) {
    EXPECT_EQ(d.ok, d.task != 3);
    pid_of[d.task] = d.parts.at(0);
    order.push_back(d.task);
  };
  EXPECT_FALSE(pool.run(iota_tasks(12), 2, hooks));
  ASSERT_EQ(pid_of.size(), 12u);
  bool after = false;
  for (int t : order) {
    if (after) {
      EXPECT_NE(pid_of[t], pid_of[3]) << "task " << t << " ran on the failed worker";
    }
    after = after || t == 3;
  }
  expect_no_children();
}

TEST(WorkerPool, AWorkerThatDiesIsReportedWithHowItDied) {
  WorkerPool pool([](int t) {
    if (t == 2) ::_exit(7);
    if (t == 5) ::raise(SIGKILL);
    if (t == 8) throw std::runtime_error("run_task must not throw");
    return TaskOutput{true, {std::to_string(t)}};
  });
  std::set<int> done;
  std::map<int, std::string> lost;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone& d) { done.insert(d.task); };
  hooks.on_lost = [&](int t, const std::string& how) { lost[t] = how; };
  EXPECT_FALSE(pool.run(iota_tasks(10), 3, hooks));
  EXPECT_EQ(done, (std::set<int>{0, 1, 3, 4, 6, 7, 9}));
  EXPECT_EQ(lost.size(), 3u);
  EXPECT_EQ(lost[2], "exited with status 7");
  EXPECT_EQ(lost[5], "killed by signal 9 (" + std::string(::strsignal(SIGKILL)) + ")");
  EXPECT_EQ(lost[8], "exited with status 5");
  expect_no_children();
}

TEST(WorkerPool, LargeResultsArriveWhole) {
  // Results of several pipe buffers (64 KiB) each, of bytes that depend on the task and position.
  auto payload = [](int t, size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + size_t(t) * 7) % 251);
    return s;
  };
  WorkerPool pool([&](int t) {
    return TaskOutput{true, {payload(t, 300000 + size_t(t)), "", payload(t + 1, 70000)}};
  });
  int n = 0;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone& d) {
    ++n;
    ASSERT_EQ(d.parts.size(), 3u);
    EXPECT_TRUE(d.parts[0] == payload(d.task, 300000 + size_t(d.task)));
    EXPECT_TRUE(d.parts[1].empty());
    EXPECT_TRUE(d.parts[2] == payload(d.task + 1, 70000));
  };
  EXPECT_FALSE(pool.run(iota_tasks(6), 2, hooks));
  EXPECT_EQ(n, 6);
}

TEST(WorkerPool, StopEndsThePoolAndLeavesNoProcess) {
  WorkerPool pool([](int t) {
    if (t >= 16) ::pause();  // the four handed out first (19..16) never finish: killed
    return TaskOutput{true, {}};
  });
  int ticks = 0, done = 0;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone&) { ++done; };
  hooks.on_tick = [&] { ++ticks; };
  hooks.stop = [&] { return ticks >= 2; };  // after two waits (at most 500 ms each)
  EXPECT_TRUE(pool.run(iota_tasks(20), 4, hooks));
  EXPECT_EQ(done, 0);
  EXPECT_EQ(ticks, 2);
  expect_no_children();
}

TEST(WorkerPool, KeepAssigningFalseHandsOutNoMore) {
  WorkerPool pool([](int t) { return TaskOutput{true, {std::to_string(t)}}; });
  std::vector<int> done;
  WorkerPoolHooks hooks;
  hooks.on_done = [&](const TaskDone& d) { done.push_back(d.task); };
  hooks.keep_assigning = [&] { return done.size() < 3; };
  EXPECT_FALSE(pool.run(iota_tasks(10), 1, hooks));
  EXPECT_EQ(done, (std::vector<int>{9, 8, 7}));
  expect_no_children();
}

TEST(WorkerPool, ExitTextNamesTheStatus) {
  EXPECT_EQ(WorkerPool::exit_text(3 << 8), "exited with status 3");  // as waitpid() encodes it
  EXPECT_EQ(WorkerPool::exit_text(SIGTERM),
            "killed by signal 15 (" + std::string(::strsignal(SIGTERM)) + ")");
}

}  // namespace
}  // namespace ssim
