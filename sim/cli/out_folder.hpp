// The output folder a run or sweep writes, checked before anything runs, and the one-line
// messages every user-facing error and note goes through (docs/bad-input.md).
#pragma once

#include <cstddef>
#include <string>

namespace ssim {

// Fails early (before a possibly long run) when `dir` cannot become a writable folder: throws
// InputError "--out 'DIR': ...".
void check_out_dir(const std::string& dir);

// A message as one line: line breaks become "; ", other control characters spaces (SystemC's
// reports, for one, span several lines).
std::string one_line(const std::string& msg);

// Every message the user reads (error and note lines) goes through this one helper: one_line(),
// with each quoted value longer than kMaxQuotedValue bytes cut in the middle with "..." (a 900 KB
// value in a file or a flag is not echoed whole), and the line cut at kMaxMessage bytes.
constexpr size_t kMaxQuotedValue = 160;
constexpr size_t kMaxMessage = 2000;
std::string message_line(const std::string& msg);

}  // namespace ssim
