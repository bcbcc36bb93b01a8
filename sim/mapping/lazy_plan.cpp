#include "sim/mapping/lazy_plan.hpp"

#include <algorithm>
#include <memory>

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

namespace {

// A cut's steps, made by cursors over CutSteps. Immutable; held by a shared_ptr, which its
// cursors share (the hw and conv they point to live here).
class LazyCutPlan final : public StepPlan, public std::enable_shared_from_this<LazyCutPlan> {
 public:
  LazyCutPlan(const HwSpec& hw, const GemmShape& g, const SubGemms& t, const GemmContext& ctx)
      : hw_(hw), g_(g), t_(t), ctx_(ctx) {
    if (ctx.conv) {
      conv_ = *ctx.conv;
      ctx_.conv = &conv_;
    }
    // The steps and the largest extents, sub-GEMM by sub-GEMM in closed form.
    steps().for_each_sub([&](const FoldSteps& f) {
      size_ += size_t(f.size());
      // (A spilled output tile's partial sums come back out_tiles tiles later.)
      if (f.plan().ofmap == OutputPolicy::Spill) back_ = std::max(back_, f.plan().out_tiles);
      const TileSizes t = f.tile();
      tile_.m = std::max(tile_.m, t.m);
      tile_.n = std::max(tile_.n, t.n);
      tile_.k = std::max(tile_.k, t.k);
    });
  }
  LazyCutPlan(const LazyCutPlan&) = delete;
  LazyCutPlan& operator=(const LazyCutPlan&) = delete;

  size_t size() const override { return size_; }
  std::unique_ptr<StepSource> begin() const override;
  int64_t max_psum_back() const override { return back_; }
  CutSteps steps() const { return CutSteps(hw_, g_, t_, ctx_); }
  const TileSizes& tile() const { return tile_; }

 private:
  HwSpec hw_;
  GemmShape g_;
  SubGemms t_;
  GemmContext ctx_;
  ConvGeom conv_;
  size_t size_ = 0;
  int64_t back_ = 0;
  TileSizes tile_;
};

class LazyCutCursor final : public StepSource {
 public:
  explicit LazyCutCursor(std::shared_ptr<const LazyCutPlan> plan)
      : plan_(std::move(plan)), steps_(plan_->steps()) {}
  bool next(TileStep& s) override {
    if (steps_.done()) return false;
    s = TileStep{};
    steps_.make(s);
    return true;
  }
  std::unique_ptr<StepSource> clone() const override {
    return std::make_unique<LazyCutCursor>(*this);
  }

 private:
  std::shared_ptr<const LazyCutPlan> plan_;
  CutSteps steps_;
};

std::unique_ptr<StepSource> LazyCutPlan::begin() const {
  return std::make_unique<LazyCutCursor>(shared_from_this());
}

}  // namespace

std::shared_ptr<const StepPlan> lazy_cut_plan(const HwSpec& hw, const GemmShape& g,
                                              const SubGemms& t, const GemmContext& ctx,
                                              TileSizes& tile) {
  auto plan = std::make_shared<const LazyCutPlan>(hw, g, t, ctx);
  tile = plan->tile();
  return plan;
}

}  // namespace ssim
