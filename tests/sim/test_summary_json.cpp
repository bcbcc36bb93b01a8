// summary.json (sim/report/run_outputs.cpp) is written member by member, not through an
// nlohmann::json tree, yet must be the text nlohmann's dump(2, ' ', false, replace) writes:
// parsed back and dumped again by nlohmann it is the same text, byte for byte. With names that
// need escaping (quotes, backslashes, control characters, bytes that are not UTF-8, non-ASCII
// text), values that are not finite, 64-bit integers, the canonical kernels and values_ok.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/report/run_outputs.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"

namespace ssim {
namespace {

TEST(SummaryJson, IsNlohmannsDumpOfItsOwnParse) {
  HwSpec hw;
  hw.run_name = "run \"q\" \\ back\ttab \x01 caf\xc3\xa9 \xff\xfe end";
  NetworkRunResult r;
  r.workload = "net,\n\"x\"";
  r.layers = 3;
  r.total_cycles = 123456789;
  r.macs = 18446744073709551615ull;
  r.flops = 2;
  r.overlap_cycles = -5;
  r.values_checked = true;
  r.values_ok = false;
  r.energy.mac = std::nan("");  // the total and what divides it: null
  r.energy.dram = 1e-300;
  CanonicalKernels canonical;
  canonical.computed = true;
  canonical.vector_add = {"vector add", uint64_t(1) << 24, 3 * (uint64_t(1) << 24), 4321};
  canonical.matrix_multiply = {"4096^3", 2 * uint64_t(4096) * 4096 * 4096, 50331648, 0};
  const RunRecord record{42, "0123456789abcdef"};

  const std::string text = summary_json(hw, r, canonical, record);
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  EXPECT_EQ(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", text);

  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"schema_version", "tool", "tool_version", "run_name", "seed",
                                      "workload", "hardware", "totals", "values_ok", "energy",
                                      "area", "canonical_kernels", "canonical", "config"}));
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["workload"]["name"], r.workload);
  EXPECT_EQ(j["workload"]["fingerprint"], "0123456789abcdef");
  EXPECT_EQ(j["totals"]["macs"].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(j["totals"]["overlap_cycles"], -5);
  EXPECT_EQ(j["values_ok"], false);
  EXPECT_TRUE(j["energy"]["total_pj"].is_null());
  EXPECT_EQ(j["energy"]["by_component_pj"]["dram"].get<double>(), 1e-300);
  EXPECT_EQ(j["canonical_kernels"], "simulated");
  EXPECT_EQ(j["canonical"]["vector_add"]["cycles"], 4321);
  EXPECT_EQ(j["canonical"]["matrix_multiply"]["achieved_ops_per_s"].get<double>(), 0.0);
  EXPECT_EQ(j["canonical"]["matrix_multiply"]["achieved_ops_per_s"].dump(), "0.0");
  // The run name's text: escapes undone, the two stray bytes replaced (U+FFFD each).
  const std::string name = j["run_name"];
  const std::string head = "run \"q\" \\ back\ttab \x01 caf\xc3\xa9 ";
  EXPECT_EQ(name.substr(0, head.size()), head);
  EXPECT_EQ(name.substr(name.size() - 4), " end");
  EXPECT_NE(name.find("\xef\xbf\xbd"), std::string::npos);
  // Every configuration key under its section, as cfg_entries() lists them.
  size_t entries = 0;
  for (const CfgEntry& e : cfg_entries(hw)) {
    ++entries;
    if (e.value == hw.run_name)  // not UTF-8: as in "run_name" above
      EXPECT_EQ(j["config"][e.section][e.key], name);
    else
      EXPECT_EQ(j["config"][e.section][e.key], e.value) << e.section << "." << e.key;
  }
  size_t written = 0;
  for (const auto& [section, members] : j["config"].items()) written += members.size();
  EXPECT_EQ(written, entries);
}

}  // namespace
}  // namespace ssim
