// ONNX models read in-process (tests/scripts/test_onnx.py covers the ops one by one with PyTorch).
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

// ---- ONNX (tests/scripts/test_onnx.py covers the ops one by one; these need no Python) -------

std::string onnx_seed(const std::string& name) {
  return std::string(SSIM_SOURCE_DIR) + "/tests/fuzz/onnx/" + name;
}

TEST(WorkloadOnnx, SymbolicBatchCnn) {
  // x [N, 3, 8, 8] -> Conv 4x3x3x3 stride 2 pad 1 (+bias) -> Relu -> MaxPool 2 -> Shape/Gather/
  // Concat/Reshape to [N, 16] -> Gemm 16 -> 5 (transB). Batch 2 from OnnxOptions.
  OnnxOptions opts;
  opts.batch = 2;
  const Network net = load_workload(onnx_seed("cnn_symbolic_batch.onnx"), {}, opts);
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.batch, 2);
  EXPECT_EQ(net.layers[0].name, "conv");
  const auto& c = std::get<Conv2dLayer>(net.layers[0].params);
  EXPECT_EQ(c.activation, Activation::Relu);  // the Relu node fused
  EXPECT_EQ(c.out_h(), 4);                    // (8 + 2 - 3) / 2 + 1
  EXPECT_EQ(net.layers[1].type(), LayerType::Pool);
  EXPECT_EQ(net.layers[2].name, "fc");
  EXPECT_EQ(net.layers[2].from, (std::vector<std::string>{"pool"}));
  // conv: 2 images x 4x4 outputs x 4 filters x 27; fc: 2 x 16 x 5.
  EXPECT_EQ(total_macs(lower(net)), 2u * 16 * 4 * 27 + 2u * 16 * 5);
  // Without --batch the symbolic batch is 1.
  EXPECT_EQ(total_macs(lower(load_workload(onnx_seed("cnn_symbolic_batch.onnx")))),
            16u * 4 * 27 + 16u * 5);
}

TEST(WorkloadOnnx, AttentionPatternIsOneLayer) {
  const Network net = read_onnx_network(onnx_seed("attention.onnx"));
  std::vector<std::string> names;
  for (const Layer& l : net.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"q", "k", "v", "attn", "out"}));
  const auto& a = std::get<AttentionLayer>(net.layers[3].params);
  EXPECT_FALSE(a.projections);
  EXPECT_EQ(a.heads, 2);
  EXPECT_EQ(a.head_dim(), 8);
  EXPECT_EQ(net.layers[3].from, (std::vector<std::string>{"q", "k", "v"}));
}

TEST(WorkloadOnnx, BadFilesAreOneLineErrors) {
  for (const char* f : {"truncated.onnx", "cycle.onnx", "conv_shape_inference_null_input.onnx"}) {
    try {
      read_onnx_network(std::string(SSIM_SOURCE_DIR) + "/tests/fuzz/regressions/onnx/" + f);
      ADD_FAILURE() << f << " was accepted";
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_NE(m.find(f), std::string::npos) << m;
    }
  }
}

}  // namespace
}  // namespace ssim
