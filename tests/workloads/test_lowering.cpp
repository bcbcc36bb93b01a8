// Lowered GEMM and vector-op shapes per layer type, against the formulas of docs/workloads.md
// worked out by hand for each case.
#include <gtest/gtest.h>

#include "tests/workloads/wl_test_util.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

using test::conv;

void expect_gemm(const Op& op, const std::string& name, int64_t M, int64_t N, int64_t K,
                 int64_t repeat) {
  const GemmOp* g = as_gemm(op);
  ASSERT_NE(g, nullptr) << op_name(op) << " is not a GEMM";
  EXPECT_EQ(g->name, name);
  EXPECT_EQ(g->shape.M, M) << name;
  EXPECT_EQ(g->shape.N, N) << name;
  EXPECT_EQ(g->shape.K, K) << name;
  EXPECT_EQ(g->repeat, repeat) << name;
}

void expect_vector(const Op& op, const std::string& name, VectorKind kind, int64_t elements,
                   int64_t inputs, int64_t outputs) {
  const VectorOp* v = as_vector(op);
  ASSERT_NE(v, nullptr) << op_name(op) << " is not a vector op";
  EXPECT_EQ(v->name, name);
  EXPECT_EQ(v->kind, kind) << name;
  EXPECT_EQ(v->elements, elements) << name;
  EXPECT_EQ(v->inputs, inputs) << name;
  EXPECT_EQ(v->outputs, outputs) << name;
}

TEST(WorkloadLowering, ConvSamePadding) {
  // 8x8x4 image, 3x3 pad 1: 8x8 outputs; K = 3*3*4.
  const auto ops = lower(make_layer("c", conv(8, 8, 4, 8, 3, 1, 1)));
  ASSERT_EQ(ops.size(), 1u);
  expect_gemm(ops[0], "c", 64, 8, 36, 1);
  EXPECT_EQ(total_macs(ops), 64u * 8 * 36);
}

TEST(WorkloadLowering, ConvStrideAndPadding) {
  // ResNet's stem: 224x224x3, 7x7 stride 2 pad 3 -> 112x112 (floor((224+6-7)/2)+1 = 112).
  const auto ops = lower(make_layer("stem", conv(224, 224, 3, 64, 7, 2, 3)));
  expect_gemm(ops[0], "stem", 112 * 112, 64, 7 * 7 * 3, 1);
  // No padding, stride 4, 11x11 on 227: (227-11)/4+1 = 55.
  expect_gemm(lower(make_layer("a", conv(227, 227, 3, 96, 11, 4)))[0], "a", 55 * 55, 96, 363, 1);
  // A stride that does not divide: (10 - 3)/3 + 1 = 3 (floor).
  expect_gemm(lower(make_layer("b", conv(10, 10, 1, 1, 3, 3)))[0], "b", 9, 1, 9, 1);
}

TEST(WorkloadLowering, ConvDilation) {
  // 3x3 with dilation 2 spans 5x5: 10x10 pad 2 -> (10+4-5)/1+1 = 10; no padding -> 6.
  expect_gemm(lower(make_layer("d", conv(10, 10, 2, 3, 3, 1, 2, 2)))[0], "d", 100, 3, 18, 1);
  expect_gemm(lower(make_layer("d", conv(10, 10, 2, 3, 3, 1, 0, 2)))[0], "d", 36, 3, 18, 1);
  // Dilation 3, stride 2: span 7, (15 - 7)/2 + 1 = 5.
  expect_gemm(lower(make_layer("d", conv(15, 15, 1, 1, 3, 2, 0, 3)))[0], "d", 25, 1, 9, 1);
}

TEST(WorkloadLowering, ConvRectangular) {
  Conv2dLayer p = conv(20, 30, 6, 12, 1);
  p.kernel_h = 3;
  p.kernel_w = 5;
  p.stride_h = 2;
  p.stride_w = 1;
  p.pad_h = 1;
  p.pad_w = 0;
  // Ho = (20+2-3)/2+1 = 10, Wo = (30-5)/1+1 = 26.
  expect_gemm(lower(make_layer("r", p))[0], "r", 260, 12, 3 * 5 * 6, 1);
}

TEST(WorkloadLowering, ConvGroupsAndDepthwise) {
  // Two groups of 4 channels -> 8 filters each.
  expect_gemm(lower(make_layer("g", conv(8, 8, 8, 16, 3, 1, 1, 1, 2)))[0], "g", 64, 8, 36, 2);
  // Depthwise: one 3x3 filter per channel, 32 GEMMs with N = 1.
  const auto dw = lower(make_layer("dw", conv(14, 14, 32, 32, 3, 2, 1, 1, 32)));
  expect_gemm(dw[0], "dw", 7 * 7, 1, 9, 32);
  EXPECT_EQ(total_macs(dw), 7u * 7 * 9 * 32);
  // Depthwise with channel multiplier 2.
  expect_gemm(lower(make_layer("dw2", conv(5, 5, 16, 32, 3, 1, 1, 1, 16)))[0], "dw2", 25, 2, 9, 16);
}

TEST(WorkloadLowering, ConvBatchActivationBias) {
  Conv2dLayer p = conv(7, 7, 16, 10, 3, 1, 1);
  p.activation = Activation::Relu6;
  p.bias = true;
  const auto ops = lower(make_layer("c", p, /*batch=*/4), 5);
  ASSERT_EQ(ops.size(), 2u);
  expect_gemm(ops[0], "c", 4 * 49, 10, 144, 1);
  EXPECT_TRUE(as_gemm(ops[0])->bias);
  EXPECT_TRUE(as_gemm(ops[0])->b_is_weight);
  expect_vector(ops[1], "c.relu6", VectorKind::Relu6, 4 * 49 * 10, 4 * 49 * 10, 4 * 49 * 10);
  for (const Op& op : ops) {
    EXPECT_EQ(op_layer(op), 5);
    EXPECT_EQ(std::visit([](const auto& o) { return o.layer_name; }, op), "c");
  }
}

TEST(WorkloadLowering, Linear) {
  LinearLayer l;
  l.tokens = 128;
  l.in = 768;
  l.out = 3072;
  l.activation = Activation::Gelu;
  const auto ops = lower(make_layer("ffn", l, 2));
  ASSERT_EQ(ops.size(), 2u);
  expect_gemm(ops[0], "ffn", 256, 3072, 768, 1);
  EXPECT_FALSE(as_gemm(ops[0])->bias);
  expect_vector(ops[1], "ffn.gelu", VectorKind::Gelu, 256 * 3072, 256 * 3072, 256 * 3072);
  l.activation = Activation::None;
  l.bias = true;
  const auto plain = lower(make_layer("fc", l));
  ASSERT_EQ(plain.size(), 1u);  // bias folded into the accumulator: no vector op
  EXPECT_TRUE(as_gemm(plain[0])->bias);
}

AttentionLayer attention(int64_t seq, int64_t kv, int64_t d, int64_t heads, bool causal) {
  AttentionLayer a;
  a.seq = seq;
  a.kv = kv;
  a.d_model = d;
  a.heads = heads;
  a.causal = causal;
  return a;
}

void expect_attention(const std::vector<Op>& ops, int64_t B, int64_t S, int64_t L, int64_t kv_rows,
                      int64_t D, int64_t H, int64_t dh) {
  ASSERT_EQ(ops.size(), 7u);
  expect_gemm(ops[0], "a.q", B * S, H * dh, D, 1);
  expect_gemm(ops[1], "a.k", B * kv_rows, H * dh, D, 1);
  expect_gemm(ops[2], "a.v", B * kv_rows, H * dh, D, 1);
  expect_gemm(ops[3], "a.qk", S, L, dh, H * B);
  const int64_t scores = B * H * S * L;
  expect_vector(ops[4], "a.softmax", VectorKind::Softmax, scores, scores, scores);
  EXPECT_EQ(std::get<VectorOp>(ops[4]).row, L);  // one softmax row per query, over the keys
  expect_gemm(ops[5], "a.av", S, dh, L, H * B);
  expect_gemm(ops[6], "a.out", B * S, D, H * dh, 1);
  EXPECT_FALSE(as_gemm(ops[3])->b_is_weight);
  EXPECT_FALSE(as_gemm(ops[5])->b_is_weight);
  EXPECT_TRUE(as_gemm(ops[0])->b_is_weight);
}

TEST(WorkloadLowering, AttentionSelf) {
  const auto ops = lower(make_layer("a", attention(128, 0, 768, 12, false), 2));
  expect_attention(ops, 2, 128, 128, 128, 768, 12, 64);
  // 4 projections + 2 per-head products.
  EXPECT_EQ(total_macs(ops), 2u * (4u * 128 * 768 * 768 + 2u * 128 * 128 * 768));
}

TEST(WorkloadLowering, AttentionCausalHasTheSameShapes) {
  const auto plain = lower(make_layer("a", attention(64, 64, 256, 4, false)));
  const auto causal = lower(make_layer("a", attention(64, 64, 256, 4, true)));
  expect_attention(causal, 1, 64, 64, 64, 256, 4, 64);
  EXPECT_EQ(total_macs(plain), total_macs(causal));
}

TEST(WorkloadLowering, AttentionDecodeStep) {
  // One new token attending to a KV cache of 1024 positions: the K and V projections run on the
  // new token only.
  const auto ops = lower(make_layer("a", attention(1, 1024, 768, 12, true)));
  expect_attention(ops, 1, 1, 1024, 1, 768, 12, 64);
  EXPECT_EQ(total_macs(ops), 4u * 768 * 768 + 2u * 1024 * 768);
}

TEST(WorkloadLowering, AttentionCrossAndExplicitHeadDim) {
  AttentionLayer a = attention(10, 50, 512, 8, false);
  a.cross = true;
  a.d_head = 32;  // heads * d_head = 256 != d_model
  expect_attention(lower(make_layer("a", a, 3)), 3, 10, 50, 50, 512, 8, 32);
}

TEST(WorkloadLowering, AttentionCoreWithoutProjections) {
  // An ONNX attention pattern: Q K^T, softmax and P V only (the projections are other layers).
  AttentionLayer a = attention(197, 197, 768, 12, false);
  a.projections = false;
  const auto ops = lower(make_layer("a", a, 2));
  ASSERT_EQ(ops.size(), 3u);
  expect_gemm(ops[0], "a.qk", 197, 197, 64, 24);
  expect_vector(ops[1], "a.softmax", VectorKind::Softmax, 24 * 197 * 197, 24 * 197 * 197,
                24 * 197 * 197);
  expect_gemm(ops[2], "a.av", 197, 64, 197, 24);
  EXPECT_FALSE(as_gemm(ops[0])->b_is_weight);
  EXPECT_EQ(total_macs(ops), 2u * 24 * 197 * 197 * 64);
}

TEST(WorkloadLowering, VectorLayers) {
  ElementwiseLayer add{ElementwiseOp::Add, 1000};
  expect_vector(lower(make_layer("add", add, 2))[0], "add", VectorKind::Add, 2000, 4000, 2000);
  ElementwiseLayer ln{ElementwiseOp::LayerNorm, 768};
  expect_vector(lower(make_layer("ln", ln))[0], "ln", VectorKind::LayerNorm, 768, 768, 768);
  ElementwiseLayer mul{ElementwiseOp::Mul, 7};
  expect_vector(lower(make_layer("m", mul))[0], "m", VectorKind::Mul, 7, 14, 7);

  PoolLayer pool;
  pool.op = PoolOp::Max;
  pool.in_h = pool.in_w = 112;
  pool.channels = 64;
  pool.kernel_h = pool.kernel_w = 3;
  pool.stride_h = pool.stride_w = 2;
  pool.pad_h = pool.pad_w = 1;
  // (112 + 2 - 3)/2 + 1 = 56 -> 56*56*64 outputs, 9 comparisons each.
  expect_vector(lower(make_layer("p", pool))[0], "p", VectorKind::MaxPool, 56 * 56 * 64 * 9,
                112 * 112 * 64, 56 * 56 * 64);
  PoolLayer gap = pool;
  gap.op = PoolOp::Avg;
  gap.in_h = gap.in_w = gap.kernel_h = gap.kernel_w = gap.stride_h = gap.stride_w = 7;
  gap.pad_h = gap.pad_w = 0;
  gap.channels = 2048;
  expect_vector(lower(make_layer("g", gap, 2))[0], "g", VectorKind::AvgPool, 2 * 2048 * 49,
                2 * 49 * 2048, 2 * 2048);

  SoftmaxLayer sm{12, 128};
  expect_vector(lower(make_layer("s", sm, 3))[0], "s", VectorKind::Softmax, 3 * 12 * 128,
                3 * 12 * 128, 3 * 12 * 128);
  EXPECT_EQ(std::get<VectorOp>(lower(make_layer("s", sm, 3))[0]).row, 128);

  // LayerNorm rows: given, or the whole tensor; other kinds have none.
  ElementwiseLayer ln_rows{ElementwiseOp::LayerNorm, 128 * 768, 768};
  EXPECT_EQ(std::get<VectorOp>(lower(make_layer("ln", ln_rows))[0]).row, 768);
  EXPECT_EQ(std::get<VectorOp>(lower(make_layer("ln", ln))[0]).row, 768);
  EXPECT_EQ(std::get<VectorOp>(lower(make_layer("add", add))[0]).row, 0);
  ElementwiseLayer bad_row{ElementwiseOp::LayerNorm, 1000, 768};
  EXPECT_THROW(lower(make_layer("ln", bad_row)), InputError);
}

TEST(WorkloadLowering, RawGemmBatchIsRepeat) {
  const auto ops = lower(make_layer("g", GemmLayer{100, 200, 300}, 4));
  expect_gemm(ops[0], "g", 100, 200, 300, 4);
  EXPECT_EQ(total_macs(ops), 4u * 100 * 200 * 300);
}

TEST(WorkloadLowering, RawGemmOfTwoActivations) {
  GemmLayer g{5, 4, 7};
  g.b_weight = false;  // an ONNX batched MatMul of two activations
  const auto ops = lower(make_layer("bmm", g, 6));
  expect_gemm(ops[0], "bmm", 5, 4, 7, 6);
  EXPECT_FALSE(as_gemm(ops[0])->b_is_weight);
}

TEST(WorkloadLowering, NetworkKeepsLayerIndices) {
  Network net;
  net.name = "n";
  LinearLayer l;
  l.in = 4;
  l.out = 8;
  l.activation = Activation::Relu;
  net.layers.push_back(make_layer("fc1", l));
  net.layers.push_back(make_layer("add", ElementwiseLayer{ElementwiseOp::Add, 8}));
  net.layers.push_back(make_layer("mm", GemmLayer{2, 3, 4}));
  const auto ops = lower(net);
  ASSERT_EQ(ops.size(), 4u);
  const char* names[] = {"fc1", "fc1.relu", "add", "mm"};
  const int layers[] = {0, 0, 1, 2};
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(op_name(ops[i]), names[i]);
    EXPECT_EQ(op_layer(ops[i]), layers[i]);
  }
  EXPECT_EQ(total_macs(ops), 4u * 8 + 2u * 3 * 4);
  EXPECT_EQ(total_vector_elements(ops), 8u + 8u);
}

TEST(WorkloadLowering, InvalidLayersAreRejected) {
  using test::throws_input_error;
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("c", conv(8, 8, 6, 8, 3, 1, 1, 1, 4))); },
                                 {"layer 'c'", "groups 4 does not divide in_c 6"}));
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("c", conv(8, 8, 8, 6, 3, 1, 1, 1, 4))); },
                                 {"groups 4 does not divide filters 6"}));
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("c", conv(4, 4, 1, 1, 7))); },
                                 {"layer 'c'", "output height is not positive"}));
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("c", conv(5, 5, 1, 1, 3, 1, 0, 3))); },
                                 {"output height is not positive", "dilated kernel 7"}));
  EXPECT_TRUE(
      throws_input_error([] { lower(make_layer("c", conv(0, 5, 1, 1, 1))); }, {"in_h is 0"}));
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("a", attention(8, 8, 100, 3, false))); },
                                 {"heads 3 does not divide d_model 100"}));
  EXPECT_TRUE(throws_input_error([] { lower(make_layer("a", attention(8, 4, 64, 4, false))); },
                                 {"kv 4 is smaller than seq 8"}));
  EXPECT_TRUE(throws_input_error(
      [] {
        lower(make_layer("g", GemmLayer{1, -2, 3}));
      },
      {"layer 'g'", "N is -2"}));
  EXPECT_TRUE(throws_input_error(
      [] {
        lower(make_layer("g", GemmLayer{1, 2, 3}, 0));
      },
      {"batch is 0"}));
}

}  // namespace
}  // namespace ssim
