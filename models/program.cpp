#include "models/program.hpp"

#include <algorithm>

namespace ssim {

const char* to_string(Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return "ifmap";
    case Operand::Filter:
      return "filter";
    case Operand::Ofmap:
      return "ofmap";
  }
  return "?";
}

uint64_t Program::folds() const {
  uint64_t n = 0;
  for_each_base([&n](const TileStep& s) {
    if (!s.folds.empty()) n += s.folds.size() - (s.folds.cont ? 1 : 0);
  });
  return n * uint64_t(shared);
}

uint64_t Program::macs() const {
  uint64_t n = 0;
  for_each_base([&n](const TileStep& s) { n += s.folds.macs(); });
  return n * uint64_t(shared);
}

uint64_t Program::vector_steps() const {
  uint64_t n = 0;
  for_each_base([&n](const TileStep& s) { n += s.kind == StepKind::Vector; });
  return n * uint64_t(shared);
}

int64_t Program::load_bytes(Operand op) const {
  int64_t n = 0;
  for_each_base([&n, op](const TileStep& s) {
    if (op == Operand::Ifmap) n += s.ifmap_load_bytes;
    if (op == Operand::Filter) n += s.filter_load_bytes;
    if (op == Operand::Ofmap) n += s.psum_load_bytes;
  });
  return n * shared;
}

int64_t Program::side_bytes() const {
  int64_t n = 0;
  for_each_base([&n](const TileStep& s) { n += s.side_load_bytes; });
  return n * shared;
}

int64_t Program::store_bytes() const {
  int64_t n = 0;
  for_each_base([&n](const TileStep& s) { n += s.store_bytes; });
  return n * shared;
}

namespace {

class HeldSteps : public StepPlan {
 public:
  explicit HeldSteps(std::vector<TileStep> steps) : steps_(std::move(steps)) {
    for (const TileStep& s : steps_) back_ = std::max(back_, s.psum_back);
  }
  size_t size() const override { return steps_.size(); }
  int64_t max_psum_back() const override { return back_; }
  std::unique_ptr<StepSource> begin() const override {
    return std::make_unique<Cursor>(&steps_, 0);
  }

 private:
  class Cursor : public StepSource {
   public:
    Cursor(const std::vector<TileStep>* steps, size_t at) : steps_(steps), at_(at) {}
    bool next(TileStep& s) override {
      if (at_ >= steps_->size()) return false;
      s = (*steps_)[at_++];
      return true;
    }
    std::unique_ptr<StepSource> clone() const override {
      return std::make_unique<Cursor>(steps_, at_);
    }

   private:
    const std::vector<TileStep>* steps_;
    size_t at_;
  };
  std::vector<TileStep> steps_;
  int64_t back_ = 0;
};

}  // namespace

Program as_lazy(Program p) {
  if (p.lazy) return p;
  p.lazy = std::make_shared<HeldSteps>(std::move(p.steps));
  p.steps.clear();
  return p;
}

Program materialized(Program p) {
  if (!p.lazy) return p;
  std::vector<TileStep> steps;
  steps.reserve(p.base_size());
  p.for_each_base([&steps](const TileStep& s) { steps.push_back(s); });
  p.steps = std::move(steps);
  p.lazy.reset();
  return p;
}

}  // namespace ssim
