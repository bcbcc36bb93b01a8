// Robustness of the systolic-sim binary, continued (test_robustness.cpp): the order of flags never
// changes the config; output you can trust (a run killed at any moment leaves each report either
// as it was or complete and new; two runs into one folder never mix; the same inputs give
// byte-identical reports); 64-bit counters on a 2^48-MAC GEMM and a 10,000-layer network,
// checked against closed forms.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/cli/cli.hpp"
#include "sim/spec/config.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/sim/robust_cases.hpp"
#include "tests/test_util.hpp"

namespace ssim {
namespace {

namespace fs = std::filesystem;
using namespace robust;

// ---------------------------------------------------------------------------------------------
// One meaning per command line: defaults < config file < flags, and among flags by meaning, not
// position (docs/config.md, "Precedence").

TEST(RobustFlags, OrderOfFlagsNeverChangesTheConfig) {
  TempDir t("ssim_order");
  const std::string cfg = (t.path / "calc.cfg").string();
  write_file(cfg,
             "[architecture_presets]\nBandwidth: 2\n[run_presets]\nInterfaceBandwidth: CALC\n");
  std::vector<std::vector<std::string>> flags = {
      {"--bandwidth", "5"},      {"--array", "8x8"},
      {"--dram-latency", "7"},   {"--unlimited-bandwidth", "off"},
      {"--dram-bandwidth", "0"}, {"--config", cfg}};
  std::sort(flags.begin(), flags.end());
  std::set<std::string> configs, sweeps;
  int perms = 0;
  do {
    std::vector<std::string> args = {"--gemm", "64,64,64", "--out", (t.path / "o").string()};
    for (const auto& f : flags) args.insert(args.end(), f.begin(), f.end());
    const CliOptions o = parse_cli(args);
    // The file says CALC, a bandwidth flag says a bandwidth to model: flags win, USER.
    EXPECT_EQ(o.hw->interface_bandwidth, "USER") << describe(args);
    EXPECT_EQ(o.hw->bandwidth_words, 5) << describe(args);
    configs.insert(format_cfg(o.hw));
    args[0] = "--arrays";  // the same flags for a sweep: its description must not change either
    args[1] = "4x4,8x8";
    std::replace(args.begin(), args.end(), std::string("--array"), std::string("--dataflows"));
    std::replace(args.begin(), args.end(), std::string("8x8"), std::string("ws"));
    args.insert(args.begin(), {"--gemm", "64,64,64"});
    sweeps.insert(sweep_description_json(parse_sweep_args(args)));
    ++perms;
  } while (std::next_permutation(flags.begin(), flags.end()));
  EXPECT_EQ(perms, 720);
  EXPECT_EQ(configs.size(), 1u);
  EXPECT_EQ(sweeps.size(), 1u);
  // Before: --interface-bandwidth calc --bandwidth 5 ran USER, the reverse order CALC; now either
  // order is refused naming both flags.
  for (const auto& args :
       {std::vector<std::string>{"--interface-bandwidth", "calc", "--bandwidth", "5"},
        std::vector<std::string>{"--bandwidth", "5", "--interface-bandwidth", "calc"}}) {
    HwSpec hw;
    std::vector<std::pair<std::string, std::string>> given = {{args[0].substr(2), args[1]},
                                                              {args[2].substr(2), args[3]}};
    try {
      apply_hw_flags(hw, given);
      ADD_FAILURE() << "accepted:" << describe(args);
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--interface-bandwidth 'calc' and --bandwidth '5' "
                                            "contradict each other",
                                            0),
                0u)
          << e.what();
    }
  }
  // --interface-bandwidth user says which: the file's CALC goes, and the bandwidth is modelled.
  const CliOptions u = parse_cli({"--gemm", "4,4,4", "--config", cfg, "--interface-bandwidth",
                                  "user", "--out", (t.path / "o").string()});
  EXPECT_EQ(u.hw->interface_bandwidth, "USER");
  EXPECT_EQ(u.hw->bandwidth_words, 2);
  // With no flag the file decides.
  const CliOptions f =
      parse_cli({"--gemm", "4,4,4", "--config", cfg, "--out", (t.path / "o").string()});
  EXPECT_EQ(f.hw->interface_bandwidth, "CALC");
}

// ---------------------------------------------------------------------------------------------
// Output you can trust

// Every line of a CSV ends in '\n' and has the header's number of fields (RFC 4180 quoting; the
// SCALE-Sim files end every line with ", ", which counts as one more, empty, field).
::testing::AssertionResult csv_complete(const std::string& text) {
  if (text.empty() || text.back() != '\n') return ::testing::AssertionFailure() << "no final \\n";
  size_t header_fields = 0, lines = 0;
  size_t fields = 1;
  bool quoted = false;
  for (char c : text) {
    if (quoted) {
      if (c == '"') quoted = false;  // a doubled quote re-enters at once
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      ++fields;
    } else if (c == '\n') {
      if (lines == 0) header_fields = fields;
      if (fields != header_fields)
        return ::testing::AssertionFailure()
               << "line " << lines + 1 << " has " << fields << " fields, header " << header_fields;
      ++lines;
      fields = 1;
    }
  }
  if (lines < 2) return ::testing::AssertionFailure() << "no rows";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult json_complete(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.contains("totals") || !j.contains("canonical_kernels"))
      return ::testing::AssertionFailure() << "summary.json lacks totals or canonical_kernels";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
  return ::testing::AssertionSuccess();
}

std::map<std::string, std::string> read_folder(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const std::string& n : entries(dir)) files[n] = slurp(dir / n);
  return files;
}

// A network of `layers` GEMM layers of varied shapes (M, N, K from 1 to 200), fixed seed.
std::string gemm_network_yaml(int layers, uint64_t seed,
                              std::vector<std::array<int64_t, 3>>* shapes = nullptr) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dim(1, 200);
  std::ostringstream y;
  y << "name: generated\nlayers:\n";
  for (int i = 0; i < layers; ++i) {
    const int64_t M = dim(rng), N = dim(rng), K = dim(rng);
    if (shapes) shapes->push_back({M, N, K});
    y << "  - {name: g" << i << ", type: gemm, M: " << M << ", N: " << N << ", K: " << K << "}\n";
  }
  return y.str();
}

// Two runs into one --out: the second writes after the first has written all its files (the
// folder lock sweeps take), so the folder holds one run's files, never a mix. The first run
// waits 400 ms after each file; the second starts once the first's first file is there. Without
// the lock the second wrote all its files in that window and the first then overwrote the rest.
TEST(RobustOutput, TwoRunsIntoOneFolderNeverMix) {
  TempDir t("ssim_two");
  const std::vector<std::string> a = {"--gemm", "64,48,32", "--array", "8x8", "--quiet"};
  const std::vector<std::string> b = {"--gemm", "64,48,32", "--array", "16x16", "--quiet"};
  auto with_out = [](std::vector<std::string> args, const std::string& out) {
    args.insert(args.end(), {"--out", out});
    return args;
  };
  ASSERT_EQ(run_binary(with_out(a, "ref_a"), t.path, 120).code, 0);
  ASSERT_EQ(run_binary(with_out(b, "ref_b"), t.path, 120).code, 0);
  const auto ref_a = read_folder(t.path / "ref_a"), ref_b = read_folder(t.path / "ref_b");
  ASSERT_NE(ref_a.at("summary.json"), ref_b.at("summary.json"));

  setenv("SSIM_RUN_TEST_WRITE_DELAY_MS", "400", 1);
  const pid_t pa =
      testutil::spawn_binary(with_out(a, "run"), t.path, t.path / "a.out", t.path / "a.err");
  unsetenv("SSIM_RUN_TEST_WRITE_DELAY_MS");
  const auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(t.path / "run" / "COMPUTE_REPORT.csv") &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Outcome rb = run_binary(with_out(b, "run"), t.path, 120);
  const Outcome ra = testutil::wait_binary(pa, t.path / "a.out", t.path / "a.err", 120);
  EXPECT_EQ(ra.code, 0) << ra.err;
  EXPECT_EQ(rb.code, 0) << rb.err;
  const auto got = read_folder(t.path / "run");
  int from_a = 0, from_b = 0;
  for (const auto& [name, text] : got) {
    from_a += ref_a.count(name) && ref_a.at(name) == text;
    from_b += ref_b.count(name) && ref_b.at(name) == text;
  }
  EXPECT_TRUE(got == ref_b) << got.size() << " files: " << from_a << " from the first run, "
                            << from_b << " from the second";
}

// Kills the binary (SIGKILL) at random moments while it writes a large network's reports into a
// folder that holds a complete earlier run (a different array, so every file differs). After each
// kill every report must be complete and byte-equal to the old or to the new version; nothing but
// the reports and the killed run's temporaries (NAME.tmp.PID) may be there.
TEST(RobustOutput, KilledRunLeavesOldOrNewReports) {
  TempDir t("ssim_kill");
  write_file(t.path / "net.yaml", gemm_network_yaml(2000, 11));
  const std::vector<std::string> old_args = {"--workload", "../net.yaml", "--array", "16x16",
                                             "--out",      "run",         "--quiet"};
  const std::vector<std::string> new_args = {"--workload", "../net.yaml", "--array", "32x32",
                                             "--out",      "run",         "--quiet"};
  // The two versions, from complete runs.
  fs::create_directory(t.path / "old");
  fs::create_directory(t.path / "new");
  ASSERT_EQ(run_binary(old_args, t.path / "old").code, 0);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run_binary(new_args, t.path / "new").code, 0);
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto old_files = read_folder(t.path / "old" / "run");
  const auto new_files = read_folder(t.path / "new" / "run");
  ASSERT_EQ(old_files.size(), 6u);  // layers.csv, summary.json and SCALE-Sim's four
  for (const auto& [name, text] : new_files) {
    ASSERT_TRUE(old_files.count(name)) << name;
    ASSERT_NE(old_files.at(name), text) << name << " is the same in both versions";
    ASSERT_TRUE(name == "summary.json" ? json_complete(text) : csv_complete(text)) << name;
  }

  // A folder holding the old complete run, and a watch on it for files created or renamed in.
  auto prepare_work = [&](const fs::path& work) {
    fs::create_directories(work / "run");
    for (const auto& [name, text] : old_files) write_file(work / "run" / name, text);
    const int fd = inotify_init1(IN_CLOEXEC);
    if (fd >= 0) inotify_add_watch(fd, (work / "run").c_str(), IN_CREATE | IN_MOVED_TO);
    return fd;
  };
  // The names of the inotify events of `fd`, one at a time (a read may return several); waits
  // up to 30 s for the next, "" if none came.
  struct Events {
    int fd;
    std::deque<std::string> pending{};
    std::string next() {
      if (pending.empty()) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 30000) != 1) return "";
        alignas(inotify_event) char buf[8192];
        const ssize_t n = read(fd, buf, sizeof buf);
        for (ssize_t off = 0; off + ssize_t(sizeof(inotify_event)) <= n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
          pending.emplace_back(ev->len ? ev->name : "");
          off += ssize_t(sizeof(inotify_event) + ev->len);
        }
        if (pending.empty()) return "";
      }
      std::string name = pending.front();
      pending.pop_front();
      return name;
    }
  };
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };

  // How long the writes take here, from the first temporary to summary.json renamed into place,
  // and how many events they make until then (6 temporaries created, 6 moved into place, and
  // over old reports the old file moved to each temporary's name: 17 here).
  double window_ms = 0;
  int write_events = 0;
  {
    const fs::path work = t.path / "calibrate";
    const int fd = prepare_work(work);
    ASSERT_GE(fd, 0);
    const pid_t pid = testutil::spawn_binary(new_args, work, t.path / "stdout", t.path / "stderr");
    Events events{fd};
    ASSERT_FALSE(events.next().empty());
    const auto first = Clock::now();
    write_events = 1;
    for (std::string name; !(name = events.next()).empty();) {
      ++write_events;
      if (name == "summary.json") break;
    }
    window_ms = ms_since(first);
    close(fd);
    EXPECT_EQ(testutil::wait_binary(pid, t.path / "stdout", t.path / "stderr").code, 0);
    EXPECT_EQ(read_folder(work / "run"), new_files);
    fs::remove_all(work);
  }

  std::mt19937_64 rng(2024);
  int seen_old = 0, seen_new = 0, seen_mixed = 0, temporaries = 0;
  const int kKills = 24;
  for (int i = 0; i < kKills; ++i) {
    const fs::path work = t.path / ("w" + std::to_string(i));
    const int fd = prepare_work(work);
    ASSERT_GE(fd, 0);
    const pid_t pid = testutil::spawn_binary(new_args, work, t.path / "stdout", t.path / "stderr");
    ASSERT_GT(pid, 0);
    // Odd kills land anywhere in the run. Even ones land while the files are being written: at
    // once after the k-th of the writes' events, or a random part of the writes' duration after
    // the first.
    double delay_ms = 0;
    std::string when;
    if (i % 2) {
      delay_ms = std::uniform_real_distribution<double>(0, 1000 * run_s)(rng);
      when = "at " + std::to_string(delay_ms) + " ms";
    } else if (i % 4 == 0) {
      const int k = std::uniform_int_distribution<int>(1, write_events)(rng);
      Events events{fd};
      for (int e = 0; e < k; ++e) events.next();
      when = "after write event " + std::to_string(k);
    } else {
      Events{fd}.next();
      delay_ms = std::uniform_real_distribution<double>(0, window_ms)(rng);
      when = std::to_string(delay_ms) + " ms after the first write event";
    }
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms));
    kill(pid, SIGKILL);
    close(fd);
    testutil::wait_binary(pid, t.path / "stdout", t.path / "stderr");

    int olds = 0, news = 0;
    for (const std::string& name : entries(work / "run")) {
      if (name.find(".tmp.") != std::string::npos) {
        EXPECT_EQ(name.substr(name.find(".tmp.") + 5), std::to_string(pid)) << name;
        ++temporaries;
        continue;
      }
      ASSERT_TRUE(new_files.count(name)) << "unexpected file " << name;
      const std::string text = slurp(work / "run" / name);
      EXPECT_TRUE(name == "summary.json" ? json_complete(text) : csv_complete(text))
          << name << " after a kill " << when;
      const bool is_old = text == old_files.at(name), is_new = text == new_files.at(name);
      EXPECT_TRUE(is_old || is_new) << name << " is neither the old nor the new version";
      olds += is_old;
      news += is_new;
    }
    EXPECT_EQ(olds + news, int(old_files.size()));
    (news == 0 ? seen_old : olds == 0 ? seen_new : seen_mixed) += 1;
    if (std::getenv("SSIM_TEST_VERBOSE"))
      std::cout << "kill " << i << " " << when << ": " << olds << " old, " << news << " new\n";
    fs::remove_all(work);
  }
  std::cout << "kills: " << kKills << ", reports all old: " << seen_old << ", all new: " << seen_new
            << ", some of each: " << seen_mixed << ", temporaries left: " << temporaries
            << " (one run " << run_s << " s, writing " << window_ms << " ms, " << write_events
            << " file events)\n";
}

// Every file of the run folder, summary.json and (when matplotlib is there) the figures and the
// HTML page included, is the same byte for byte when the same command runs again (in another
// folder, with the same --out).
TEST(RobustOutput, SameInputsGiveByteIdenticalReports) {
  const bool figures = std::system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0;
  const std::vector<std::vector<std::string>> commands = {
      {"--workload", "mlp", "--array", "16x16", "--dataflow", "is", "--out", "res"},
      {"--workload", "mobilenetv2", "--array", "16x16", "--dataflow", "os", "--out", "res"},
      {"--gemm", "40,30,20", "--array", "8x8", "--fidelity", "cycle", "--seed", "9", "--out",
       "res"},
  };
  for (std::vector<std::string> args : commands) {
    const bool report = figures && args[1] == "mlp";  // the figures of a small network
    if (report) args.push_back("--report");
    TempDir a("ssim_det_a"), b("ssim_det_b");
    const Outcome ra = run_binary(args, a.path), rb = run_binary(args, b.path);
    ASSERT_EQ(ra.code, 0) << ra.err;
    ASSERT_EQ(rb.code, 0) << rb.err;
    EXPECT_EQ(ra.out, rb.out);
    const auto fa = read_folder(a.path / "res"), fb = read_folder(b.path / "res");
    EXPECT_GE(fa.size(), 6u);
    if (report) {
      EXPECT_TRUE(fa.count("report.html") && fa.count("roofline.svg") && fa.count("roofline.png"));
    }
    ASSERT_EQ(fa.size(), fb.size()) << describe(args);
    for (const auto& [name, text] : fa) {
      ASSERT_TRUE(fb.count(name)) << name;
      EXPECT_TRUE(text == fb.at(name)) << name << " differs between two runs of" << describe(args);
    }
  }
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// CSV rows as maps, by header.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    if (header.empty()) {
      header = f;
      continue;
    }
    std::map<std::string, std::string> m;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i) m[header[i]] = f[i];
    rows.push_back(m);
  }
  return rows;
}

// A 65536^3 GEMM: 2^48 MACs, past 32 bits in every counter. Weight stationary, no fold overlap,
// all operands available (unlimited bandwidth): K and N are multiples of 256, so every fold is
// full (r = R, c = C) and costs T + 2R + C - 2 (docs/cycle-accounting.md); the folds stream
// sum(T) = M * (K / R) * (N / C) = 2^32 vectors in all, however the tiler cuts M. With 64 MiB
// buffers a tile holds whole rows of folds (with the default 512 KiB buffers the program has 2^24
// folds in 2^22 tiles and takes 8 s and 3.7 GB: bench/bench_counters.cpp).
TEST(RobustCounters, Gemm65536CubedOn256x256) {
  TempDir t("ssim_big");
  const Outcome r = run_binary({"--gemm",
                                "65536,65536,65536",
                                "--array",
                                "256x256",
                                "--dataflow",
                                "ws",
                                "--fidelity",
                                "fast",
                                "--ifmap-sram-kb",
                                "65536",
                                "--filter-sram-kb",
                                "65536",
                                "--ofmap-sram-kb",
                                "65536",
                                "--unlimited-bandwidth",
                                "on",
                                "--fold-overlap",
                                "off",
                                "--out",
                                "res",
                                "--quiet"},
                               t.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const uint64_t kMacs = uint64_t(1) << 48;
  const auto g = csv_rows(slurp(t.path / "res" / "gemm_results.csv"));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].at("macs"), "281474976710656");  // 2^48
  const int64_t folds = std::stoll(g[0].at("folds"));
  const int64_t cycles = std::stoll(g[0].at("total_cycles"));
  EXPECT_GE(folds, 256 * 256);
  EXPECT_EQ(folds % (256 * 256), 0);
  const int64_t sum_T = int64_t(1) << 32;
  EXPECT_EQ(cycles, sum_T + folds * (2 * 256 + 256 - 2));
  EXPECT_GE(cycles, sum_T + 65536 * (2 * 256 + 256 - 2));  // the fewest folds possible
  EXPECT_EQ(g[0].at("stall_cycles"), "0");

  const auto j = nlohmann::json::parse(slurp(t.path / "res" / "summary.json"));
  EXPECT_EQ(j["totals"]["macs"].get<uint64_t>(), kMacs);
  EXPECT_EQ(j["totals"]["flops"].get<uint64_t>(), 2 * kMacs);
  EXPECT_EQ(j["totals"]["cycles"].get<int64_t>(), cycles);
  EXPECT_LE(j["totals"]["utilization"].get<double>(), 1.0);
  const auto layers = csv_rows(slurp(t.path / "res" / "layers.csv"));
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].at("macs"), "281474976710656");
  EXPECT_EQ(layers[0].at("flops"), "562949953421312");
  EXPECT_EQ(layers[0].at("total_cycles"), std::to_string(cycles));
}

// The same GEMM with the DRAM channel modelled (10 words per cycle): the closed-form bounds.
// Lower: the array's own cycles (as above, with the fewest folds) and the DRAM time of reading A
// and B and writing C once. Upper: the compute of the folds it ran plus all its DRAM traffic,
// one after the other.
TEST(RobustCounters, Gemm65536CubedWithDramWithinBounds) {
  TempDir t("ssim_big");
  const Outcome r =
      run_binary({"--gemm", "65536,65536,65536", "--array", "256x256", "--dataflow", "ws",
                  "--fidelity", "fast", "--ifmap-sram-kb", "65536", "--filter-sram-kb", "65536",
                  "--ofmap-sram-kb", "65536", "--bandwidth", "10", "--out", "res", "--quiet"},
                 t.path);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto g = csv_rows(slurp(t.path / "res" / "gemm_results.csv"));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].at("macs"), "281474976710656");
  const int64_t folds = std::stoll(g[0].at("folds"));
  const int64_t cycles = std::stoll(g[0].at("total_cycles"));
  const auto layers = csv_rows(slurp(t.path / "res" / "layers.csv"));
  const double bytes = std::stod(layers.at(0).at("dram_read_bytes")) +
                       std::stod(layers.at(0).at("dram_write_bytes"));
  const double once = 3.0 * double(int64_t(1) << 32);  // A, B read and C written once, 1 B each
  EXPECT_GE(bytes, once);
  const double sum_T = double(int64_t(1) << 32);
  EXPECT_GE(double(cycles), sum_T + 65536.0 * 766);
  EXPECT_GE(double(cycles), once / 10);
  EXPECT_LE(double(cycles), sum_T + double(folds) * 766 + bytes / 10 + 1);
}

// 10,000 GEMM layers of random shapes on a 32 x 32 array, weight stationary, no fold overlap,
// unlimited bandwidth: every layer's cycles in closed form. A layer M x N x K has
// ceil(K/32) * ceil(N/32) folds, each streaming T = M vectors and costing r + T + R + c - 2 (r the
// K-rows and c the N-columns it uses), so its total is
//   ceil(N/32) * K + ceil(K/32) * N + ceil(K/32) * ceil(N/32) * (M + 30).
TEST(RobustCounters, TenThousandLayerNetwork) {
  TempDir t("ssim_10k");
  std::vector<std::array<int64_t, 3>> shapes;
  write_file(t.path / "net.yaml", gemm_network_yaml(10000, 7, &shapes));
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome r = run_binary(
      {"--workload", "net.yaml", "--array", "32x32", "--dataflow", "ws", "--fidelity", "fast",
       "--fold-overlap", "off", "--unlimited-bandwidth", "on", "--out", "res", "--quiet"},
      t.path);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.code, 0) << r.err;
  std::cout << "10,000 layers in " << s << " s\n";
  const auto rows = csv_rows(slurp(t.path / "res" / "layers.csv"));
  ASSERT_EQ(rows.size(), 10000u);
  uint64_t macs = 0;
  int64_t cycles = 0;
  int wrong = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto [M, N, K] = shapes[i];
    const int64_t nk = ceil_div(K, 32), nn = ceil_div(N, 32);
    const int64_t expect = nn * K + nk * N + nk * nn * (M + 30);
    macs += uint64_t(M * N * K);
    cycles += expect;
    if (rows[i].at("total_cycles") != std::to_string(expect) && ++wrong <= 5)
      ADD_FAILURE() << "layer " << i << " (" << M << "," << N << "," << K
                    << "): " << rows[i].at("total_cycles") << " cycles, closed form " << expect;
    if (rows[i].at("macs") != std::to_string(M * N * K) && ++wrong <= 5)
      ADD_FAILURE() << "layer " << i << " macs " << rows[i].at("macs");
  }
  EXPECT_EQ(wrong, 0);
  const auto j = nlohmann::json::parse(slurp(t.path / "res" / "summary.json"));
  EXPECT_EQ(j["workload"]["layers"].get<int64_t>(), 10000);
  EXPECT_EQ(j["workload"]["ops"].get<int64_t>(), 10000);
  EXPECT_EQ(j["totals"]["macs"].get<uint64_t>(), macs);
  EXPECT_EQ(j["totals"]["flops"].get<uint64_t>(), 2 * macs);
  EXPECT_EQ(j["totals"]["cycles"].get<int64_t>(), cycles);
}

}  // namespace
}  // namespace ssim
