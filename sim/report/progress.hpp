// Progress of a long job on stderr, shared by `systolic-sim sweep` (points) and a single run
// (ops): a bar redrawn in place on a terminal, plain lines otherwise, nothing when quiet.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace ssim {

// "m:ss" or "h:mm:ss", rounded to the second.
std::string duration_text(double seconds);

class Progress {
 public:
  struct Style {
    std::string label = "sweep";  // the line's first word
    std::string unit = "points";  // what is counted
    // Nothing is shown before this many seconds (a short job stays silent).
    double delay_seconds = 0;
    // Without a terminal and without a line per item: a status line at most this often.
    double line_every_seconds = 1;
  };

  // `total` items, `done_before` of them already done (a resumed sweep); `cost_left` is the
  // estimated cost of the items still to run (any unit), for the time left.
  Progress(std::ostream& err, bool bar, bool quiet, size_t total, size_t done_before,
           double cost_left, Style style);
  Progress(std::ostream& err, bool bar, bool quiet, size_t total, size_t done_before,
           double cost_left)
      : Progress(err, bar, quiet, total, done_before, cost_left, Style{}) {}

  // One item finished, of estimated cost `cost`. With a bar it is redrawn; otherwise `line`,
  // when given, is printed as "LABEL [done/total] LINE", and without one a status line
  // (done/total, elapsed, time left) at most every line_every_seconds.
  void item_done(double cost, const std::string& line = "");
  // Redraws the bar (the elapsed time moves) without finishing an item.
  void tick();
  // The bar's last state stays on the screen; plain lines end with a "done" line.
  void finish();
  double elapsed() const;

 private:
  using Clock = std::chrono::steady_clock;
  bool shown_yet() const { return elapsed() >= style_.delay_seconds; }
  std::string time_left() const;
  void draw();

  std::ostream& err_;
  bool bar_, quiet_;
  size_t total_, done_;
  double cost_left_, cost_done_ = 0;
  Style style_;
  Clock::time_point start_;
  bool drawn_ = false;
  double last_line_ = -1;  // elapsed seconds at the last status line (-1: none yet)
};

}  // namespace ssim
