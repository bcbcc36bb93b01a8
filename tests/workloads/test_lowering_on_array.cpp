// The lowering proven on the hardware model: a convolution's im2col GEMMs run through the
// cycle-by-cycle, value-carrying systolic array equal the direct convolution bit for bit, and
// attention with every GEMM on the array plus a float softmax equals a double-precision direct
// attention within the tolerance stated in docs/workloads.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "models/array_harness.hpp"
#include "tests/workloads/wl_test_util.hpp"
#include "workloads/layer.hpp"
#include "workloads/lower.hpp"
#include "workloads/reference.hpp"

namespace ssim {
namespace {

// A GemmFunction that runs each GEMM on the cycle-by-cycle array, cycling through array shapes
// and dataflows so every dataflow and partial folds are exercised.
struct ArrayGemm {
  std::vector<ArrayConfig> configs;
  size_t calls = 0;
  void operator()(const GemmData& d) {
    const ArrayConfig& cfg = configs[calls++ % configs.size()];
    run_gemm_on_array(ArrayKind::Cycle, cfg, d.shape, &d);
  }
};

std::vector<ArrayConfig> mixed_configs() {
  return {{4, 4, Dataflow::OS, false}, {3, 5, Dataflow::WS, true}, {5, 2, Dataflow::IS, false},
          {8, 8, Dataflow::WS, false}, {2, 7, Dataflow::OS, true}, {6, 3, Dataflow::IS, true}};
}

// A convolution layer of `batch` images (test::conv's parameters).
Layer conv(int64_t batch, int64_t h, int64_t w, int64_t c, int64_t f, int64_t k, int64_t stride,
           int64_t pad, int64_t dil, int64_t groups) {
  return make_layer("conv", test::conv(h, w, c, f, k, stride, pad, dil, groups), batch);
}

TEST(WorkloadOnArray, ConvIm2colThroughCycleArrayEqualsDirectConv) {
  const Layer layers[] = {
      conv(1, 6, 6, 3, 5, 3, 1, 1, 1, 1),  // padded 3x3
      conv(2, 7, 5, 4, 6, 3, 2, 0, 1, 1),  // batch, stride, non-square image
      conv(1, 8, 8, 2, 3, 3, 1, 2, 2, 1),  // dilation
      conv(1, 6, 6, 6, 6, 3, 1, 1, 1, 6),  // depthwise
      conv(1, 5, 5, 8, 4, 1, 1, 0, 1, 2),  // grouped 1x1
  };
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> dist(-128, 127);
  ArrayGemm engine{mixed_configs()};
  for (const Layer& layer : layers) {
    std::vector<int8_t> in(size_t(conv_input_elements(layer))),
        w(size_t(conv_weight_elements(layer)));
    for (auto& x : in) x = int8_t(dist(rng));
    for (auto& x : w) x = int8_t(dist(rng));
    const auto direct = conv2d_direct(layer, in.data(), w.data());
    const auto on_array =
        conv2d_via_lowering(layer, in.data(), w.data(), [&](const GemmData& d) { engine(d); });
    EXPECT_EQ(on_array, direct) << "after " << engine.calls << " array GEMMs";
  }
  EXPECT_EQ(engine.calls, 1u + 1u + 1u + 6u + 2u);  // one GEMM per group
}

TEST(WorkloadOnArray, AttentionThroughCycleArrayMatchesDirect) {
  struct Case {
    int64_t batch, seq, kv, d, heads;
    bool causal;
  };
  const Case cases[] = {{1, 8, 8, 32, 2, false}, {1, 6, 6, 24, 3, true}, {1, 1, 10, 32, 2, true}};
  ArrayGemm engine{mixed_configs()};
  for (const Case& c : cases) {
    AttentionLayer a;
    a.seq = c.seq;
    a.kv = c.kv;
    a.d_model = c.d;
    a.heads = c.heads;
    a.causal = c.causal;
    const Layer layer = make_layer("attn", a, c.batch);
    const AttentionInputs in = random_attention_inputs(layer, 5);
    const auto direct = attention_direct(layer, in);
    const auto on_array = attention_via_lowering(layer, in, [&](const GemmData& d) { engine(d); });
    // The array's int32 results are exact, so the array path equals the reference-GEMM path
    // exactly, and both are within the stated 5% of the double-precision attention.
    EXPECT_EQ(on_array, attention_via_lowering(layer, in));
    double err = 0, mx = 0;
    for (size_t i = 0; i < direct.size(); ++i) {
      err = std::max(err, std::fabs(on_array[i] - direct[i]));
      mx = std::max(mx, std::fabs(direct[i]));
    }
    EXPECT_LT(err / mx, 0.05) << "seq " << c.seq << " kv " << c.kv;
  }
}

}  // namespace
}  // namespace ssim
