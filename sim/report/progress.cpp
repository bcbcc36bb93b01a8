#include "sim/report/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>

namespace ssim {

std::string duration_text(double seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600),
                  (long long)(s / 60 % 60), (long long)(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  }
  return buf;
}

Progress::Progress(std::ostream& err, bool bar, bool quiet, size_t total, size_t done_before,
                   double cost_left, Style style)
    : err_(err),
      bar_(bar && !quiet),
      quiet_(quiet),
      total_(total),
      done_(done_before),
      cost_left_(cost_left),
      style_(std::move(style)),
      start_(Clock::now()) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string Progress::time_left() const {
  if (cost_done_ > 0 && cost_left_ > 0) {
    const double left = elapsed() * std::max(0.0, cost_left_ - cost_done_) / cost_done_;
    return "~" + duration_text(left) + " left";
  }
  return "estimating";
}

void Progress::item_done(double cost, const std::string& line) {
  ++done_;
  cost_done_ += cost;
  if (quiet_) return;
  if (bar_) {
    if (shown_yet()) draw();
    return;
  }
  if (!line.empty()) {
    err_ << style_.label << " [" << done_ << "/" << total_ << "] " << line << std::endl;
    return;
  }
  const double t = elapsed();
  if (!shown_yet() || done_ == total_) return;  // the last state is finish()'s line
  if (last_line_ >= 0 && t - last_line_ < style_.line_every_seconds) return;
  last_line_ = t;
  err_ << style_.label << ": " << done_ << "/" << total_ << " " << style_.unit << ", "
       << duration_text(t) << " elapsed, " << time_left() << std::endl;
}

void Progress::tick() {
  if (bar_ && !quiet_ && shown_yet()) draw();
}

void Progress::finish() {
  if (quiet_) return;
  if (bar_ && drawn_) {
    draw();
    err_ << std::endl;
  } else if (!bar_ && last_line_ >= 0) {
    err_ << style_.label << ": " << done_ << "/" << total_ << " " << style_.unit << ", done in "
         << duration_text(elapsed()) << std::endl;
  }
}

void Progress::draw() {
  int width = 80;
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width = ws.ws_col;
  const double t = elapsed();
  std::ostringstream tail;
  tail << " " << done_ << "/" << total_ << " " << style_.unit << "  " << duration_text(t)
       << " elapsed  " << (done_ == total_ ? std::string("done") : time_left());
  // A fixed width, so that the bar does not jump as the numbers grow.
  const int bar_w =
      std::max(10, std::min(40, width - 44 - int(style_.label.size() + style_.unit.size()) -
                                    2 * int(std::to_string(total_).size())));
  const int fill = total_ ? int(double(bar_w) * double(done_) / double(total_)) : bar_w;
  std::string line = style_.label + " [" + std::string(size_t(fill), '#') +
                     std::string(size_t(bar_w - fill), '.') + "]" + tail.str();
  if (int(line.size()) >= width) line.resize(size_t(width - 1));
  err_ << "\r" << line << "\033[K" << std::flush;
  drawn_ = true;
}

}  // namespace ssim
