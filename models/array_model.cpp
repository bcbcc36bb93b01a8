#include "models/array_model.hpp"

#include "models/sim_time.hpp"

namespace ssim {

ArrayModel::ArrayModel(sc_core::sc_module_name name)
    : sc_core::sc_module(name), done_events("done_events"), read_events("read_events") {}

void ArrayModel::configure(const ArrayConfig& cfg, int64_t origin) {
  if (cfg.rows < 1 || cfg.cols < 1) throw InputError("array: rows and columns must be >= 1");
  cfg_ = cfg;
  clock_ = JobClock{origin, -1};
  stats_ = ArrayStats{};
  done_.clear();
  reads_.clear();
  submitted_ = finished_ = 0;
}

bool ArrayModel::pop_done(TileDone& out) {
  if (done_.empty() || !clock_.reached(done_.front().end_cycle)) return false;
  out = done_.front();
  done_.pop_front();
  return true;
}

bool ArrayModel::pop_read(TileDone& out) {
  if (reads_.empty()) return false;
  out = reads_.front();
  reads_.pop_front();
  return true;
}

void ArrayModel::reads_done(uint64_t id, int64_t read_cycle, bool stationary, bool notify) {
  reads_.push_back(TileDone{id, read_cycle, stationary});
  if (notify) clock_.notify_at(read_events, read_cycle);
}

void ArrayModel::finish_tile(uint64_t id, int64_t end_cycle) {
  ++finished_;
  done_.push_back(TileDone{id, end_cycle});
  clock_.notify_at(done_events, end_cycle);
}

}  // namespace ssim
