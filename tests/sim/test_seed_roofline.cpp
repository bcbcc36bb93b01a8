// The roofline seed example, reproduced from simulated numbers: on a 100 TFLOP/s array with
// 1 TB/s of DRAM bandwidth (models/presets/seed-roofline.cfg) the ridge point is at 100 FLOPs per
// byte, vector add is memory-bound far below 1 % of peak, and a large matrix multiply is
// compute-bound near the roof.
#include <gtest/gtest.h>

#include "sim/report/run_outputs.hpp"
#include "sim/run/network_run.hpp"
#include "sim/spec/config.hpp"

namespace ssim {
namespace {

TEST(SeedRoofline, RidgeVectorAddAndMatrixMultiplyFromSimulation) {
  const HwSpec hw = parse_cfg_file(SSIM_SOURCE_DIR "/models/presets/seed-roofline.cfg", HwSpec{});
  // The preset's roofs, by hand: 2 * 256 * 256 * 0.762939453125 GHz and 1310.72 B/cycle at it.
  const double peak = 2.0 * 256 * 256 * 0.762939453125e9;
  const double bw = 1310.72 * 0.762939453125e9;
  EXPECT_DOUBLE_EQ(peak, 1e14);
  EXPECT_DOUBLE_EQ(bw, 1e12);
  EXPECT_DOUBLE_EQ(peak_flops_per_s(hw), peak);
  EXPECT_DOUBLE_EQ(dram_bytes_per_s(hw), bw);
  EXPECT_DOUBLE_EQ(peak / bw, 100.0);  // the ridge point, FLOPs per byte

  const CanonicalKernels k = run_canonical_kernels(ValidHw(hw));
  const double hz = hw.clock_ghz * 1e9;
  auto achieved = [&](const CanonicalKernel& c) { return double(c.flops) / (c.cycles / hz); };
  auto intensity = [](const CanonicalKernel& c) { return double(c.flops) / double(c.dram_bytes); };

  // Vector add: 2^24 int8 additions, 2 bytes read and 1 written per element.
  EXPECT_EQ(k.vector_add.flops, uint64_t(1) << 24);
  EXPECT_EQ(k.vector_add.dram_bytes, 3 * (uint64_t(1) << 24));
  EXPECT_LT(intensity(k.vector_add), 100.0);       // left of the ridge: memory-bound
  EXPECT_LT(achieved(k.vector_add), 0.01 * peak);  // ~0.33 % of peak
  EXPECT_GT(achieved(k.vector_add), 0.8 * bw * intensity(k.vector_add));  // near its roof
  EXPECT_LE(achieved(k.vector_add), bw * intensity(k.vector_add) * 1.0001);

  // Matrix multiply 4096^3: far right of the ridge and near the compute roof.
  EXPECT_EQ(k.matrix_multiply.flops, 2 * uint64_t(4096) * 4096 * 4096);
  EXPECT_GT(intensity(k.matrix_multiply), 100.0);
  EXPECT_GT(achieved(k.matrix_multiply), 0.8 * peak);
  EXPECT_LE(achieved(k.matrix_multiply), peak);
}

}  // namespace
}  // namespace ssim
