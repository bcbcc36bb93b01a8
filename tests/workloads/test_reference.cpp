// The lowering computes the right thing: a conv's im2col GEMMs equal the direct convolution bit
// for bit, and attention through its lowered int8 GEMMs equals a double-precision attention
// within a stated tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "workloads/layer.hpp"
#include "workloads/lower.hpp"
#include "workloads/reference.hpp"

namespace ssim {
namespace {

TEST(WorkloadReference, GemmHandExample) {
  // [1 2 3; -4 5 -6] * [7 8; 9 10; 11 -12] = [58 -8; -49 90]
  const int8_t A[] = {1, 2, 3, -4, 5, -6};
  const int8_t B[] = {7, 8, 9, 10, 11, -12};
  const auto C = reference_gemm(GemmShape{2, 2, 3}, A, B);
  EXPECT_EQ(C, (std::vector<int32_t>{58, -8, -49, 90}));
  // Extremes do not overflow int32 for K up to 2^17: -128 * -128 * 4 = 65536.
  const int8_t m[] = {-128, -128, -128, -128};
  EXPECT_EQ(reference_gemm(GemmShape{1, 1, 4}, m, m)[0], 65536);
}

TEST(WorkloadReference, DirectConvHandExample) {
  // 1 channel 3x3 image 1..9, a 2x2 filter of ones, stride 1, pad 0: sums of 2x2 windows.
  Conv2dLayer p;
  p.in_h = p.in_w = 3;
  p.in_c = 1;
  p.filters = 1;
  p.kernel_h = p.kernel_w = 2;
  const Layer l = make_layer("c", p);
  const int8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int8_t w[] = {1, 1, 1, 1};
  EXPECT_EQ(conv2d_direct(l, in, w), (std::vector<int32_t>{12, 16, 24, 28}));
  // With padding 1 the corner output sees only the pixel 1.
  p.pad_h = p.pad_w = 1;
  const auto padded = conv2d_direct(make_layer("c", p), in, w);
  ASSERT_EQ(padded.size(), 16u);
  EXPECT_EQ(padded[0], 1);
  EXPECT_EQ(padded[15], 9);
  EXPECT_EQ(padded[5], 12);
}

struct ConvCase {
  int64_t batch, h, w, c, f, kh, kw, sh, sw, ph, pw, dh, dw, groups;
};

TEST(WorkloadReference, Im2colGemmEqualsDirectConv) {
  const ConvCase cases[] = {
      {1, 5, 5, 3, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1},     // plain
      {2, 7, 6, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1},     // batch, stride, padding, non-square
      {1, 9, 9, 2, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1},     // dilation
      {1, 8, 8, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2},     // groups
      {2, 6, 6, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8},     // depthwise
      {1, 6, 7, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 4},     // depthwise, multiplier 2
      {1, 10, 8, 3, 2, 5, 3, 3, 2, 2, 0, 1, 2, 1},    // rectangular kernel, mixed everything
      {1, 4, 4, 16, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1},    // 1x1
      {3, 11, 11, 3, 6, 11, 11, 4, 4, 2, 2, 1, 1, 1}  // AlexNet-like stem
  };
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (const ConvCase& k : cases) {
    Conv2dLayer p;
    p.in_h = k.h;
    p.in_w = k.w;
    p.in_c = k.c;
    p.filters = k.f;
    p.kernel_h = k.kh;
    p.kernel_w = k.kw;
    p.stride_h = k.sh;
    p.stride_w = k.sw;
    p.pad_h = k.ph;
    p.pad_w = k.pw;
    p.dilation_h = k.dh;
    p.dilation_w = k.dw;
    p.groups = k.groups;
    const Layer layer = make_layer("conv", p, k.batch);
    std::vector<int8_t> in(size_t(conv_input_elements(layer))),
        w(size_t(conv_weight_elements(layer)));
    for (auto& x : in) x = int8_t(dist(rng));
    for (auto& x : w) x = int8_t(dist(rng));
    const auto direct = conv2d_direct(layer, in.data(), w.data());
    ASSERT_EQ(int64_t(direct.size()), conv_output_elements(layer));
    int gemm_calls = 0;
    const auto lowered = conv2d_via_lowering(layer, in.data(), w.data(), [&](const GemmData& d) {
      ++gemm_calls;
      reference_gemm(d);
    });
    EXPECT_EQ(lowered, direct) << "case h=" << k.h << " groups=" << k.groups;
    EXPECT_EQ(gemm_calls, k.groups);
  }
}

// Largest |a - b| relative to the largest |b|.
double max_rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  double err = 0, mx = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::fabs(a[i] - b[i]));
    mx = std::max(mx, std::fabs(b[i]));
  }
  return err / mx;
}

// The tolerance stated in docs/workloads.md: every output of the int8 lowering is within 5% of
// the largest output magnitude of the double-precision attention. Per-tensor int8 quantisation of
// Q, K, V and of the attention output adds up to half a step (1/254 of the tensor's range) to
// each; measured over 200 seeds of these shapes the worst case was 3.4%, the mean 1.2-2.2%.
constexpr double kAttentionTolerance = 0.05;

struct AttnCase {
  const char* what;
  int64_t batch, seq, kv, d, heads;
  bool causal, cross;
};

TEST(WorkloadReference, AttentionViaLoweringMatchesDirect) {
  const AttnCase cases[] = {
      {"self", 1, 16, 16, 64, 4, false, false},
      {"causal", 2, 12, 12, 48, 3, true, false},
      {"decode step with a KV cache", 2, 1, 24, 64, 4, true, false},
      {"causal chunk with a KV cache", 1, 5, 20, 32, 2, true, false},
      {"cross", 1, 6, 15, 32, 4, false, true},
  };
  for (const AttnCase& c : cases) {
    AttentionLayer a;
    a.seq = c.seq;
    a.kv = c.kv;
    a.d_model = c.d;
    a.heads = c.heads;
    a.causal = c.causal;
    a.cross = c.cross;
    const Layer layer = make_layer("attn", a, c.batch);
    const AttentionInputs in = random_attention_inputs(layer, 42);
    const auto direct = attention_direct(layer, in);
    int gemm_calls = 0;
    const auto lowered = attention_via_lowering(layer, in, [&](const GemmData& d) {
      ++gemm_calls;
      reference_gemm(d);
    });
    ASSERT_EQ(direct.size(), size_t(c.batch * c.seq * c.d));
    ASSERT_EQ(lowered.size(), direct.size());
    const double err = max_rel_error(lowered, direct);
    EXPECT_LT(err, kAttentionTolerance) << c.what;
    // q, k, v, out + 2 per (batch, head) + the KV-cache projections (k and v) if any.
    const int cache = (!c.cross && c.kv > c.seq) ? 2 : 0;
    EXPECT_EQ(gemm_calls, 4 + 2 * c.batch * c.heads + cache) << c.what;
    std::cout << c.what << ": max error " << err * 100 << "% of the largest output\n";
  }
}

TEST(WorkloadReference, AttentionToleranceCatchesAMissingMask) {
  // The tolerance is tight enough to see a real mistake: the lowering of the same layer without
  // the causal mask is far outside it.
  AttentionLayer a;
  a.seq = a.kv = 12;
  a.d_model = 48;
  a.heads = 3;
  a.causal = true;
  const Layer causal = make_layer("attn", a);
  a.causal = false;
  const Layer full = make_layer("attn", a);
  const AttentionInputs in = random_attention_inputs(causal, 42);
  const auto direct = attention_direct(causal, in);
  EXPECT_LT(max_rel_error(attention_via_lowering(causal, in), direct), kAttentionTolerance);
  EXPECT_GT(max_rel_error(attention_via_lowering(full, in), direct), 4 * kAttentionTolerance);
}

TEST(WorkloadReference, CausalFirstTokenSeesOnlyItself) {
  // Independent check of the mask: with causal self-attention and no cache, token 0 attends only
  // to itself, so its output is (x0 Wv) Wo whatever the queries and keys are.
  AttentionLayer a;
  a.seq = a.kv = 6;
  a.d_model = 8;
  a.heads = 2;
  a.causal = true;
  const Layer layer = make_layer("attn", a);
  const AttentionInputs in = random_attention_inputs(layer, 7);
  const auto out = attention_direct(layer, in);
  for (int64_t c = 0; c < 8; ++c) {
    double expect = 0;
    for (int64_t e = 0; e < 8; ++e) {
      double v = 0;
      for (int64_t k = 0; k < 8; ++k) v += in.x[size_t(k)] * in.wv[size_t(k * 8 + e)];
      expect += v * in.wo[size_t(e * 8 + c)];
    }
    expect *= in.x_scale * in.w_scale * in.w_scale;
    EXPECT_NEAR(out[size_t(c)], expect, 1e-9 * std::max(1.0, std::fabs(expect)));
  }
  // And the non-causal version differs (the mask matters).
  a.causal = false;
  const auto full = attention_direct(make_layer("attn", a), in);
  EXPECT_GT(std::fabs(full[0] - out[0]) + std::fabs(full[1] - out[1]), 1e-6);
}

TEST(WorkloadReference, DecodeStepEqualsLastRowOfPrefill) {
  // A decode step over a KV cache computes the same as the last row of a causal prefill.
  const int64_t L = 9, D = 16, H = 2;
  AttentionLayer pre;
  pre.seq = pre.kv = L;
  pre.d_model = D;
  pre.heads = H;
  pre.causal = true;
  const Layer prefill = make_layer("p", pre);
  const AttentionInputs in = random_attention_inputs(prefill, 3);
  AttentionLayer dec = pre;
  dec.seq = 1;
  const Layer decode = make_layer("d", dec);
  AttentionInputs din = in;
  din.context.assign(in.x.begin(), in.x.begin() + (L - 1) * D);
  din.x.assign(in.x.begin() + (L - 1) * D, in.x.end());
  const auto full = attention_direct(prefill, in);
  const auto one = attention_direct(decode, din);
  ASSERT_EQ(one.size(), size_t(D));
  for (int64_t c = 0; c < D; ++c) EXPECT_NEAR(one[size_t(c)], full[size_t((L - 1) * D + c)], 1e-12);
}

}  // namespace
}  // namespace ssim
