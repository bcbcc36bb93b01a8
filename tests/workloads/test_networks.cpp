// MAC counts of the built-in networks against closed forms written from each architecture's
// definition (not from the network files or the lowering).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "workloads/lower.hpp"
#include "workloads/readers.hpp"

namespace ssim {
namespace {

using u64 = uint64_t;

// MACs of a k x k convolution producing ho x ho x cout from cin channels (groups g).
u64 conv_macs(u64 ho, u64 k, u64 cin, u64 cout, u64 g = 1) {
  return ho * ho * k * k * cin / g * cout;
}

u64 macs_of(const std::string& name) {
  return total_macs(lower(load_workload(name)));
}

u64 softmax_elements(const std::vector<Op>& ops) {
  u64 s = 0;
  for (const Op& op : ops)
    if (const VectorOp* v = as_vector(op); v && v->kind == VectorKind::Softmax) s += v->elements;
  return s;
}

TEST(WorkloadNetworks, AllBuiltinsLoadAndLower) {
  const std::vector<std::string> want = {
      "alexnet",           "bert-base-128",   "bert-base-512", "gpt2-decode",
      "gpt2-prefill-1024", "matrix-multiply", "mlp",           "mobilenetv2",
      "resnet50",          "vector-add",      "vit-b16"};
  const auto names = builtin_network_names();
  for (const auto& w : want)
    EXPECT_NE(std::find(names.begin(), names.end(), w), names.end()) << w << " is missing";
  for (const auto& n : names) {
    const Network net = load_workload(n);
    EXPECT_EQ(net.name, n);
    EXPECT_FALSE(net.layers.empty());
    EXPECT_NO_THROW(lower(net)) << n;
  }
}

// torchvision ResNet-50 (v1.5: the stride sits in the 3x3 conv), 224x224, batch 1.
TEST(WorkloadNetworks, ResNet50Macs) {
  u64 total = conv_macs(112, 7, 3, 64);  // stem
  u64 h = 56, cin = 64;                  // after the 3x3/2 max pool
  const u64 blocks[] = {3, 4, 6, 3}, width[] = {64, 128, 256, 512}, stride[] = {1, 2, 2, 2};
  for (int s = 0; s < 4; ++s)
    for (u64 b = 0; b < blocks[s]; ++b) {
      const u64 w = width[s], ho = b == 0 ? h / stride[s] : h;
      total += conv_macs(h, 1, cin, w);                   // 1x1 reduce, at the input resolution
      total += conv_macs(ho, 3, w, w);                    // 3x3, strided in the first block
      total += conv_macs(ho, 1, w, 4 * w);                // 1x1 expand
      if (b == 0) total += conv_macs(ho, 1, cin, 4 * w);  // downsample shortcut
      h = ho;
      cin = 4 * w;
    }
  total += 2048 * 1000;  // fc
  EXPECT_EQ(macs_of("resnet50"), total);
  EXPECT_NEAR(double(total), 4.09e9, 0.01e9);  // the commonly quoted 4.09 GMACs
}

TEST(WorkloadNetworks, AlexNetMacs) {
  const u64 total = conv_macs(55, 11, 3, 64) + conv_macs(27, 5, 64, 192) +
                    conv_macs(13, 3, 192, 384) + conv_macs(13, 3, 384, 256) +
                    conv_macs(13, 3, 256, 256) + 6 * 6 * 256 * 4096 + 4096 * 4096 + 4096 * 1000;
  EXPECT_EQ(macs_of("alexnet"), total);
  EXPECT_NEAR(double(total), 0.714e9, 0.001e9);
}

TEST(WorkloadNetworks, MobileNetV2Macs) {
  u64 total = conv_macs(112, 3, 3, 32);
  u64 h = 112, cin = 32;
  const u64 cfg[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& c : cfg)
    for (u64 r = 0; r < c[2]; ++r) {
      const u64 t = c[0], cout = c[1], s = r == 0 ? c[3] : 1;
      const u64 hidden = cin * t, ho = (h + 2 - 3) / s + 1;
      if (t != 1) total += conv_macs(h, 1, cin, hidden);
      total += conv_macs(ho, 3, hidden, hidden, hidden);  // depthwise
      total += conv_macs(ho, 1, hidden, cout);
      h = ho;
      cin = cout;
    }
  total += conv_macs(7, 1, 320, 1280) + 1280 * 1000;
  EXPECT_EQ(h, 7u);
  EXPECT_EQ(macs_of("mobilenetv2"), total);
  EXPECT_NEAR(double(total), 300.8e6, 0.5e6);
}

// One transformer layer's GEMMs: 4 projections, 2 FFN matrices, Q K^T and P V.
u64 transformer_layer(u64 tokens, u64 kv, u64 d, u64 ffn) {
  return 4 * tokens * d * d + 2 * tokens * d * ffn + 2 * tokens * kv * d;
}

TEST(WorkloadNetworks, BertBaseMacs) {
  EXPECT_EQ(macs_of("bert-base-128"), 11173625856u);  // the number
  EXPECT_EQ(macs_of("bert-base-128"), 12 * transformer_layer(128, 128, 768, 3072));
  EXPECT_EQ(macs_of("bert-base-512"), 12 * transformer_layer(512, 512, 768, 3072));
  EXPECT_EQ(softmax_elements(lower(load_workload("bert-base-512"))), 12u * 12 * 512 * 512);
}

TEST(WorkloadNetworks, Gpt2Macs) {
  const u64 lm_head = 768 * 50257;  // on the last token only
  EXPECT_EQ(macs_of("gpt2-prefill-1024"), 12 * transformer_layer(1024, 1024, 768, 3072) + lm_head);
  // Decode: one token; K and V of the 1023 earlier positions come from the cache.
  EXPECT_EQ(macs_of("gpt2-decode"), 12 * transformer_layer(1, 1024, 768, 3072) + lm_head);
  EXPECT_EQ(softmax_elements(lower(load_workload("gpt2-decode"))), 12u * 12 * 1024);
  const Network prefill = load_workload("gpt2-prefill-1024");
  int causal = 0;
  for (const Layer& l : prefill.layers)
    if (l.type() == LayerType::Attention) causal += std::get<AttentionLayer>(l.params).causal;
  EXPECT_EQ(causal, 12);
}

TEST(WorkloadNetworks, VitB16Macs) {
  const u64 patches = 196 * (16 * 16 * 3) * 768;
  EXPECT_EQ(macs_of("vit-b16"), patches + 12 * transformer_layer(197, 197, 768, 3072) + 768 * 1000);
}

TEST(WorkloadNetworks, MlpAndKernels) {
  EXPECT_EQ(macs_of("mlp"), 256u * (784 * 1024 + 1024 * 1024 + 1024 * 10));
  EXPECT_EQ(macs_of("matrix-multiply"), u64(4096) * 4096 * 4096);
  const auto ops = lower(load_workload("vector-add"));
  ASSERT_EQ(ops.size(), 1u);
  const VectorOp* v = as_vector(ops[0]);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, VectorKind::Add);
  EXPECT_EQ(v->elements, int64_t(1) << 24);
  EXPECT_EQ(v->inputs, int64_t(2) << 24);
  EXPECT_EQ(total_macs(ops), 0u);
}

}  // namespace
}  // namespace ssim
