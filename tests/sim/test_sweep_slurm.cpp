// Tests of the Slurm engine's flags and rules that need no cluster (sim/sweep/sweep_slurm.*): bad
// engine flags (exit 2, one line, nothing written), the node-local folder rule, --engine local
// being the default. The runs through a real Slurm are tests/scripts/test_slurm_sweep.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sim/spec/config.hpp"
#include "sim/sweep/sweep.hpp"
#include "sim/sweep/sweep_slurm.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;

struct Result {
  int code = -1;
  std::string out, err;
};

Result sweep(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Result r;
  r.code = run_sweep_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(SweepSlurm, BadEngineFlagsSayOneLineAndWriteNothing) {
  TempDir tmp;
  const std::string out = (tmp.path / "s").string();
  const std::vector<std::string> what = {"--gemm", "16,16,16", "--arrays", "4x4,8x8", "--out", out};
  struct Case {
    std::vector<std::string> extra;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"--engine", "cloud"}, "error: --engine 'cloud': expected local or slurm\n"},
      {{"--slurm-partition", "short"}, "error: --slurm-partition: only with --engine slurm\n"},
      {{"--engine", "local", "--points-per-task", "5"},
       "error: --points-per-task: only with --engine slurm\n"},
      {{"--wait"}, "error: --wait: only with --engine slurm\n"},
      {{"--engine=slurm", "--points-per-task", "0"},
       "error: --points-per-task '0': expected an integer from 1 to 1000000\n"},
      {{"--engine", "slurm", "--slurm-max-running", "x"},
       "error: --slurm-max-running 'x': expected an integer from 1 to 1000000\n"},
      {{"--engine", "slurm", "--slurm-extra", "--qos='short"},
       "error: --slurm-extra '--qos='short': a quote is not closed\n"},
      {{"--engine", "slurm", "--slurm-partition="},
       "error: --slurm-partition '': expected a value\n"},
      {{"--engine", "slurm", "--engine", "local"},
       "error: option '--engine' given more than once\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = what;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const Result r = sweep(args);
    EXPECT_EQ(r.code, 2) << c.err;
    EXPECT_EQ(r.err, c.err);
    EXPECT_FALSE(fs::exists(out)) << c.err;
  }
}

TEST(SweepSlurm, StatusAndMergeTakeOnlyAFolderWithAPlan) {
  TempDir tmp;
  Result r = sweep({"--status", tmp.path.string(), "--arrays", "4x4"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: --status DIR takes no other arguments\n");
  r = sweep({"--merge", tmp.path.string(), "--status", tmp.path.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: --status and --merge both given: give one\n");
  for (const char* flag : {"--status", "--merge"}) {
    r = sweep({flag, tmp.path.string()});
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_EQ(r.err, std::string("error: ") + flag + ": '" + tmp.path.string() +
                         "': no Slurm submission in this folder (no slurm/plan.json); submit "
                         "with systolic-sim sweep ... --engine slurm --out " +
                         tmp.path.string() + "\n");
    EXPECT_TRUE(testutil::entries(tmp.path).empty()) << flag;
  }
}

TEST(SweepSlurm, NodeLocalFoldersAreRefused) {
  for (const char* p :
       {"/tmp", "/tmp/a/b", "/var/tmp/x", "/dev/shm/s", "/run/user/0/s", "/tmp/../tmp/x"}) {
    EXPECT_THROW(check_shared_path("--out", p), InputError) << p;
  }
  for (const char* p : {"/tmpfs/x", "/home/me/sweep", "/scratch/tmp/x", "/var/tmpx"}) {
    EXPECT_NO_THROW(check_shared_path("--out", p)) << p;
  }
  try {
    check_shared_path("--out", "/tmp/s");
    FAIL() << "no throw";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--out '/tmp/s': under /tmp, which is local to each node on a cluster; the Slurm "
              "engine needs a folder every node sees (a shared filesystem: home, project or "
              "scratch)");
  }
  // A symbolic link that leads into /tmp counts as /tmp.
  const fs::path link = fs::current_path() / ("ssim_slurm_link_" + std::to_string(::getpid()));
  fs::create_directory_symlink("/tmp", link);
  EXPECT_THROW(check_shared_path("--out", (link / "s").string()), InputError);
  fs::remove(link);
}

TEST(SweepSlurm, EngineLocalIsTheDefault) {
  TempDir tmp;
  const std::vector<std::string> what = {"--gemm", "16,16,16", "--arrays", "4x4,8x8", "--quiet"};
  std::vector<std::string> a = what, b = what;
  a.insert(a.end(), {"--out", (tmp.path / "a").string()});
  b.insert(b.end(), {"--out", (tmp.path / "b").string(), "--engine", "local"});
  const Result ra = sweep(a), rb = sweep(b);
  ASSERT_EQ(ra.code, 0) << ra.err;
  ASSERT_EQ(rb.code, 0) << rb.err;
  for (const char* f : {"sweep.json", "sweep.csv", "sweep_layers.csv"}) {
    EXPECT_EQ(testutil::slurp(tmp.path / "a" / f), testutil::slurp(tmp.path / "b" / f)) << f;
  }
  const std::string csv = testutil::slurp(tmp.path / "a" / "sweep.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);  // the header and 2 points
  EXPECT_FALSE(fs::exists(tmp.path / "b" / "slurm"));
}

}  // namespace
}  // namespace ssim
