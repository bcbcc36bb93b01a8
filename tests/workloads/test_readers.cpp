// SCALE-Sim topology CSVs and load_workload(): good files and every class of malformed input (the
// message names file:line, the layer and what is wrong). YAML: test_yaml_reader.cpp; ONNX:
// test_onnx_reader.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "tests/workloads/wl_test_util.hpp"
#include "workloads/lower.hpp"
#include "workloads/readers.hpp"
#include "workloads/yaml_subset.hpp"

namespace ssim {
namespace {

using test::data_dir;
using test::expect_shape;
using test::TempDir;
using test::throws_input_error;

// ---- SCALE-Sim CSV --------------------------------------------------------------------------

TEST(WorkloadCsv, ConvFormPaddedFields) {
  const Network net = read_scalesim_csv(data_dir() + "/conv_padded.csv");
  EXPECT_EQ(net.name, "conv_padded");
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.layers[0].name, "Conv1");
  const auto& c = std::get<Conv2dLayer>(net.layers[0].params);
  EXPECT_EQ(c.in_h, 227);
  EXPECT_EQ(c.kernel_w, 11);
  EXPECT_EQ(c.in_c, 3);
  EXPECT_EQ(c.filters, 96);
  EXPECT_EQ(c.stride_h, 4);
  EXPECT_EQ(c.stride_w, 4);
  EXPECT_EQ(c.pad_h, 0);  // SCALE-Sim's IFMAP already includes the padding
  // SCALE-Sim's GEMM view: M = Ho*Wo with Ho = (H - R)/stride + 1, K = R*S*C, N = filters.
  expect_shape(net.layers[0], 55 * 55, 96, 11 * 11 * 3);
  expect_shape(net.layers[1], 27 * 27, 256, 5 * 5 * 96);
  expect_shape(net.layers[2], 1, 4096, 9216);
}

TEST(WorkloadCsv, ExtraColumnsAndEmptyRows) {
  // As Resnet50.csv: extra columns after Strides (ignored), a row of commas (skipped), no
  // newline at the end.
  const Network net = read_scalesim_csv(data_dir() + "/conv_extra_columns.csv");
  ASSERT_EQ(net.layers.size(), 4u);
  expect_shape(net.layers[0], 112 * 112, 64, 7 * 7 * 3);
  expect_shape(net.layers[2], 28 * 28, 128, 256);
  EXPECT_EQ(net.layers[3].name, "FC6");
}

TEST(WorkloadCsv, WidthStrideColumn) {
  const Network net = read_scalesim_csv(data_dir() + "/conv_stride_w.csv");
  ASSERT_EQ(net.layers.size(), 2u);
  expect_shape(net.layers[0], 8 * 9, 1, 9);  // stride 1 x 2 on 10 x 20
  expect_shape(net.layers[1], 4 * 9, 1, 9);  // empty width stride: same as height (2)
}

TEST(WorkloadCsv, GemmForms) {
  const Network a = read_scalesim_csv(data_dir() + "/gemm_crlf.csv");
  ASSERT_EQ(a.layers.size(), 3u);
  EXPECT_EQ(a.layers[2].name, "Linear1");
  const auto& g = std::get<GemmLayer>(a.layers[2].params);
  EXPECT_EQ(g.M, 1024);
  EXPECT_EQ(g.N, 4800);
  EXPECT_EQ(g.K, 1600);
  const Network b = read_scalesim_csv(data_dir() + "/gemm_layer_name.csv");
  ASSERT_EQ(b.layers.size(), 1u);
  EXPECT_EQ(b.layers[0].name, "Test 1");
  expect_shape(b.layers[0], 128, 64, 256);
}

TEST(WorkloadCsv, LineEndingsAndMissingTrailingComma) {
  const Network a = parse_scalesim_csv("Layer, M, N, K,\r\nA, 1, 2, 3,\r\n\r\nB,4,5,6", "t.csv");
  ASSERT_EQ(a.layers.size(), 2u);
  expect_shape(a.layers[1], 4, 5, 6);
  const Network b = parse_scalesim_csv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides\nL1,8,8,3,3,2,4,1\n",
      "t.csv");
  expect_shape(b.layers[0], 36, 4, 18);
}

const char* kConvHead =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n";

TEST(WorkloadCsv, MalformedInputs) {
  const auto conv = [](const std::string& rows) {
    return [rows] { parse_scalesim_csv(std::string(kConvHead) + rows, "net.csv"); };
  };
  // Missing field (a short row).
  EXPECT_TRUE(throws_input_error(conv("c1,8,8,3,3,2,4,1,\nc2,8,8,3,3,\n"),
                                 {"net.csv:3:", "layer 'c2'", "missing field 'Channels'"}));
  // Non-numeric, negative and zero values.
  EXPECT_TRUE(throws_input_error(conv("c1,8,eight,3,3,2,4,1,\n"),
                                 {"net.csv:2:", "layer 'c1'", "'IFMAP Width' is 'eight'"}));
  EXPECT_TRUE(
      throws_input_error(conv("c1,8,8,3,3,2.5,4,1,\n"), {"net.csv:2:", "'Channels' is '2.5'"}));
  EXPECT_TRUE(throws_input_error(conv("c1,8,8,3,3,2,-4,1,\n"),
                                 {"net.csv:2:", "layer 'c1'", "'Num Filter' is -4", "positive"}));
  EXPECT_TRUE(throws_input_error(conv("\nc1,8,8,3,3,2,4,0,\n"),
                                 {"net.csv:3:", "layer 'c1'", "'Strides' is 0"}));
  // Output size not positive (the filter is larger than the padded input).
  EXPECT_TRUE(throws_input_error(conv("big,5,5,7,3,1,1,1,\n"),
                                 {"net.csv:2:", "layer 'big'", "output height is not positive",
                                  "Filter Height 7", "IFMAP Height 5"}));
  EXPECT_TRUE(throws_input_error(conv("wide,5,2,1,3,1,1,1,\n"),
                                 {"layer 'wide'", "output width is not positive"}));
  // No name, unknown header, no layers, empty file.
  EXPECT_TRUE(throws_input_error(conv(",8,8,3,3,2,4,1,\n"), {"net.csv:2:", "no name"}));
  EXPECT_TRUE(throws_input_error(
      [] { parse_scalesim_csv("Name, Height, Width,\nx,1,2,\n", "net.csv"); },
      {"net.csv:1:", "unrecognised topology header", "IFMAP Height", "Layer, M, N, K"}));
  EXPECT_TRUE(throws_input_error([] { parse_scalesim_csv(kConvHead, "net.csv"); },
                                 {"net.csv:1:", "no layers"}));
  EXPECT_TRUE(throws_input_error([] { parse_scalesim_csv("\n,,,\n", "net.csv"); },
                                 {"net.csv:1:", "empty topology"}));
  // GEMM form.
  EXPECT_TRUE(
      throws_input_error([] { parse_scalesim_csv("Layer, M, N, K,\nmm, 1, 2,\n", "g.csv"); },
                         {"g.csv:2:", "layer 'mm'", "missing field 'K'"}));
  EXPECT_TRUE(
      throws_input_error([] { parse_scalesim_csv("Layer, M, N, K,\nmm, 1, 0x10, 3,\n", "g.csv"); },
                         {"g.csv:2:", "layer 'mm'", "'N' is '0x10'"}));
  EXPECT_TRUE(throws_input_error(
      [] { parse_scalesim_csv("Layer, M, N, K,\nmm, 1, 99999999999999999999, 3,\n", "g.csv"); },
      {"g.csv:2:", "layer 'mm'", "'N'"}));
  // A file that does not exist.
  EXPECT_TRUE(throws_input_error([] { read_scalesim_csv("/nonexistent/x.csv"); },
                                 {"cannot open", "/nonexistent/x.csv"}));
}

// The real SCALE-Sim topologies, when this machine has them (they are not part of the repo).
TEST(WorkloadCsv, RealScaleSimTopologiesIfPresent) {
  const std::string dir = "/work/shared/scalesim-inputs";
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) GTEST_SKIP() << dir << " is not on this machine";
  for (const char* f :
       {"Resnet50.csv", "Resnet18.csv", "alexnet.csv", "gpt2.csv", "test_mnk_input.csv"}) {
    const std::string path = dir + "/" + f;
    // Expected layers: rows after the header whose first field is not empty.
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    size_t rows = 0;
    while (std::getline(in, line)) {
      const size_t comma = line.find(',');
      const std::string first = line.substr(0, comma);
      if (first.find_first_not_of(" \t\r") != std::string::npos) ++rows;
    }
    Network net;
    ASSERT_NO_THROW(net = read_scalesim_csv(path)) << f;
    EXPECT_EQ(net.layers.size(), rows) << f;
    EXPECT_GT(total_macs(lower(net)), 0u) << f;
  }
}

// ---- load_workload ----------------------------------------------------------------------------

TEST(WorkloadLoad, ByNameAndByPath) {
  EXPECT_EQ(load_workload("resnet50").name, "resnet50");
  EXPECT_EQ(load_workload("ResNet50").name, "resnet50");  // names match case-insensitively
  EXPECT_EQ(load_workload(data_dir() + "/all_layers.yaml").name, "all-layers");
  EXPECT_EQ(load_workload(data_dir() + "/conv_padded.csv").layers.size(), 3u);
  TempDir t;
  const std::string yml =
      t.write("n.yml", "layers:\n  - {name: g, type: gemm, M: 1, N: 1, K: 1}\n");
  EXPECT_EQ(load_workload(yml).name, "n");
}

TEST(WorkloadLoad, UnknownNamesAndFiles) {
  EXPECT_TRUE(throws_input_error(
      [] { load_workload("resnet51"); },
      {"unknown workload 'resnet51'", "resnet50", "bert-base-128", "vector-add", ".csv", ".yaml"}));
  EXPECT_TRUE(throws_input_error([] { load_workload("/nonexistent/net.yaml"); },
                                 {"cannot open", "/nonexistent/net.yaml"}));
  TempDir t;
  const std::string txt = t.write("net.txt", "Layer, M, N, K,\n");
  EXPECT_TRUE(throws_input_error([&] { load_workload(txt); }, {"net.txt", ".csv", ".yaml"}));
}

TEST(WorkloadLoad, NetworksDirFromEnvironment) {
  TempDir t;
  t.write("tiny.yaml", "layers:\n  - {name: g, type: gemm, M: 2, N: 3, K: 4}\n");
  setenv("SSIM_NETWORKS_DIR", t.path().c_str(), 1);
  const auto dirs = builtin_network_dirs();
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs.front(), t.path());
  const auto names = builtin_network_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "tiny"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "resnet50"), names.end());
  EXPECT_EQ(total_macs(lower(load_workload("tiny"))), 24u);
  unsetenv("SSIM_NETWORKS_DIR");
}

// 'from' names any earlier layer, however far back (the reader scans the last 32 names and keeps
// the others in a set), and no later one.
TEST(WorkloadLoad, FromFindsLayersFarBack) {
  std::string text = "layers:\n";
  for (int i = 0; i < 40; ++i)
    text += "  - {name: l" + std::to_string(i) + ", type: gemm, M: 2, N: 3, K: 4}\n";
  const Network n = parse_yaml_network(
      text + "  - {name: a, type: elementwise, op: add, elements: 6, from: [l0, l39]}\n", "t.yaml");
  ASSERT_EQ(n.layers.size(), 41u);
  EXPECT_EQ(n.layers[40].from, (std::vector<std::string>{"l0", "l39"}));
  EXPECT_TRUE(throws_input_error(
      [&] {
        parse_yaml_network(
            text + "  - {name: a, type: elementwise, op: add, elements: 6, from: l40}\n", "t.yaml");
      },
      {"t.yaml:42:", "no earlier layer is named 'l40'"}));
}

// A built-in name finds its file in the first folder that has one, in any case; of two spellings
// in one folder, the first in byte order ('R' before 'r'); a folder named like a network is none.
TEST(WorkloadLoad, BuiltInNameFindsTheFirstFolderAndTheFirstSpelling) {
  TempDir t;
  t.write("ResNet50.yaml", "layers:\n  - {name: g, type: gemm, M: 2, N: 3, K: 4}\n");
  t.write("resnet50.yaml", "layers:\n  - {name: g, type: gemm, M: 5, N: 6, K: 7}\n");
  const std::string folder = t.path() + "/folder.yaml";
  ASSERT_EQ(mkdir(folder.c_str(), 0700), 0);
  setenv("SSIM_NETWORKS_DIR", t.path().c_str(), 1);
  EXPECT_EQ(total_macs(lower(load_workload("RESNET50"))), 2u * 3 * 4);  // not the built-in
  EXPECT_EQ(total_macs(lower(load_workload("resnet50"))), 2u * 3 * 4);
  EXPECT_TRUE(throws_input_error([] { load_workload("folder"); }, {"unknown workload 'folder'"}));
  unsetenv("SSIM_NETWORKS_DIR");
  rmdir(folder.c_str());
}
}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

TEST(CsvReader, UnicodeSpacesAndCrOnlyLineEnds) {
  // SCALE-Sim's translation topologies put U+00A0 after the commas; old Mac files end lines in CR.
  const Network n = parse_scalesim_csv(
      "Layer,\xC2\xA0M,\xC2\xA0N,\xC2\xA0K,\rQKT,\xC2\xA0"
      "1024,\xC2\xA0"
      "1024,"
      "\xC2\xA0"
      "64,\r",
      "gpt2.csv");
  ASSERT_EQ(n.layers.size(), 1u);
  EXPECT_EQ(n.layers[0].name, "QKT");
  const auto& g = std::get<GemmLayer>(n.layers[0].params);
  EXPECT_EQ(g.M, 1024);
  EXPECT_EQ(g.N, 1024);
  EXPECT_EQ(g.K, 64);
}

TEST(CsvReader, DpInTheNameIsDepthwiseAsInScaleSim) {
  // MobileNet-style rows: "Conv DP" with Num Filter 1 (one filter per channel) and a channel
  // multiplier 2; a plain conv beside them stays dense.
  std::vector<std::string> notes;
  CsvOptions opts;
  opts.notes = &notes;
  const Network n = parse_scalesim_csv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n"
      "Conv1 DP, 114, 114, 3, 3, 32, 1, 1,\n"
      "Conv2 DP, 57, 57, 3, 3, 16, 32, 2,\n"
      "Conv3, 56, 56, 1, 1, 64, 128, 1,\n",
      "mobilenet.csv", opts);
  ASSERT_EQ(n.layers.size(), 3u);
  const auto& a = std::get<Conv2dLayer>(n.layers[0].params);
  EXPECT_EQ(a.groups, 32);
  EXPECT_EQ(a.filters, 32);
  // Depthwise MACs: Ho * Wo * R * S per channel, 112 * 112 * 9 * 32.
  EXPECT_EQ(layer_macs(n.layers[0]), uint64_t(112) * 112 * 9 * 32);
  const auto& b = std::get<Conv2dLayer>(n.layers[1].params);
  EXPECT_EQ(b.groups, 16);
  EXPECT_EQ(b.filters, 32);
  EXPECT_EQ(layer_macs(n.layers[1]), uint64_t(28) * 28 * 9 * 32);
  EXPECT_EQ(std::get<Conv2dLayer>(n.layers[2].params).groups, 1);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("Conv1 DP, Conv2 DP"), std::string::npos) << notes[0];

  try {
    parse_scalesim_csv(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
        "Strides,\nBad DP, 10, 10, 3, 3, 16, 24, 1,\n",
        "bad.csv");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.csv:2"), std::string::npos) << m;
    EXPECT_NE(m.find("multiple of Channels 16; got 24"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace ssim
