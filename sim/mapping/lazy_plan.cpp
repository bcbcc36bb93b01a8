#include "sim/mapping/lazy_plan.hpp"

#include <algorithm>

#include "sim/mapping/im2col.hpp"

namespace ssim {

SubGemmOrder::SubGemmOrder(const GemmShape& g, const SubGemms& t, const ConvGeom* conv,
                           int64_t head, bool blocks)
    : g_(g), t_(t), conv_(conv) {
  tm_ = ceil_div(g.M, t.m);
  tn_ = ceil_div(g.N, t.n);
  skip_from_ = head < 0 ? tm_ * tn_ : blocks ? head : head * tn_;
  skip_to_ = blocks ? tail_block(g, t) : (tm_ - 1) * tn_;
  start_block();
}

void SubGemmOrder::start_block() {
  if (b_ >= skip_from_ && b_ < skip_to_) b_ = skip_to_;
  k0_ = 0;
  if (done()) return;
  const int64_t m = m0();
  bm_ = std::min(t_.m, g_.M - m);
  bn_ = std::min(t_.n, g_.N - n0());
  if (conv_ && m != shifted_m0_) {  // a new block row
    shifted_ = shift_rows(*conv_, m);
    shifted_m0_ = m;
  }
}

void SubGemmOrder::next() {
  k0_ += t_.k;
  if (k0_ < g_.K) return;
  ++b_;
  start_block();
}

}  // namespace ssim
