#include "models/array_model.hpp"

#include "models/sim_time.hpp"

namespace ssim {

ArrayModel::ArrayModel(sc_core::sc_module_name name)
    : sc_core::sc_module(name), done_events("done_events"), read_events("read_events") {}

void ArrayModel::configure(const ArrayConfig& cfg, int64_t origin) {
  if (cfg.rows < 1 || cfg.cols < 1) throw InputError("array: rows and columns must be >= 1");
  cfg_ = cfg;
  origin_ = origin;
  stats_ = ArrayStats{};
  done_.clear();
  reads_.clear();
  submitted_ = finished_ = 0;
  local_ = -1;
}

bool ArrayModel::pop_done(TileDone& out) {
  if (done_.empty()) return false;
  // A tile ending in cycle E is seen from E + 0.5: by the local clock, from cycle E + 1.
  if (local_ >= 0 ? done_.front().end_cycle >= local_
                  : eval_time(done_.front().end_cycle) > sc_core::sc_time_stamp())
    return false;
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
  if (!notify) return;
  const sc_core::sc_time at = eval_time(read_cycle);
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  read_events.notify(at > now ? at - now : sc_core::SC_ZERO_TIME);
}

int64_t ArrayModel::job_cycle() const {
  return local_ >= 0 ? local_ : now_cycle() - origin_;
}

sc_core::sc_time ArrayModel::eval_time(int64_t job_cycle) const {
  return cycle_start(origin_ + job_cycle) + half_cycle();
}

void ArrayModel::finish_tile(uint64_t id, int64_t end_cycle) {
  ++finished_;
  done_.push_back(TileDone{id, end_cycle});
  if (local_ >= 0) return;  // the controller's local clock takes it (next_done_cycle)
  const sc_core::sc_time at = eval_time(end_cycle);
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  done_events.notify(at > now ? at - now : sc_core::SC_ZERO_TIME);
}

}  // namespace ssim
