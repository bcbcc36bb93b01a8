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
#include "workloads/onnx_graph.hpp"
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

// A model near 2 GiB was held twice while parsed (its bytes and the parsed raw_data: std::bad_alloc
// under a 4 GB address space). The raw_data of the initializers the reader clears anyway (more
// than 4096 elements) is left out of the bytes before the parse: the parse gives the model the
// reader had after clearing them, and nothing else changes.
TEST(WorkloadOnnx, LargeWeightsAreLeftOutBeforeTheParse) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("g");
  g->add_node()->set_op_type("Relu");
  auto tensor = [&](const std::string& name, std::vector<int64_t> dims, size_t raw_bytes) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(raw_bytes, '\x5a'));
    return t;
  };
  tensor("big", {128, 64}, 128 * 64 * 4);  // 8192 elements: dropped
  tensor("small", {64, 64}, 64 * 64 * 4);  // 4096: kept (shape arithmetic may read it)
  tensor("huge_dims", {100000, 3}, 12);    // the reader counts the dims, not the bytes
  // The reader's count, dim by dim: a dim <= 0 makes it 0, a dim or count above 4096 makes it
  // 4097 (so a large dim after a 0 counts as large).
  tensor("zero_first", {0, 100000}, 40);               // 0, then 4097: dropped
  tensor("negative", {-1, 8192}, 40);                  // 0, then 4097: dropped
  tensor("zero_last", {5000, 0}, 40);                  // 4097, then 0: kept
  tensor("capped", {5000, 2}, 40);                     // 4097, 4097: dropped
  onnx::TensorProto* f = tensor("floats", {8192}, 0);  // float_data, not raw: kept as it is
  f->clear_raw_data();
  for (int i = 0; i < 8192; ++i) f->add_float_data(float(i));
  const std::string bytes = m.SerializeAsString();

  const std::string slim = onnx_detail::without_large_weights(bytes);
  ASSERT_FALSE(slim.empty());
  onnx::ModelProto got, want;
  ASSERT_TRUE(got.ParseFromString(slim));
  ASSERT_TRUE(want.ParseFromString(bytes));
  for (auto& t : *want.mutable_graph()->mutable_initializer())
    if (t.name() != "small" && t.name() != "zero_last") t.clear_raw_data();
  EXPECT_TRUE(got.SerializeAsString() == want.SerializeAsString());     // (binary: not printed)
  EXPECT_LT(slim.size(), bytes.size() - (128 * 64 * 4 + 12 + 3 * 40));  // the payloads are gone

  // Nothing to leave out, or bytes that are not a protobuf: parsed as they are.
  onnx::ModelProto plain = m;
  plain.mutable_graph()->clear_initializer();
  EXPECT_TRUE(onnx_detail::without_large_weights(plain.SerializeAsString()).empty());
  EXPECT_TRUE(onnx_detail::without_large_weights(bytes.substr(0, bytes.size() / 2)).empty());
  EXPECT_TRUE(onnx_detail::without_large_weights("not a model").empty());
}

}  // namespace
}  // namespace ssim
