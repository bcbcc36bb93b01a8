// Numbers as text for the report files: the same bytes as the library's formatting at a fraction
// of its instructions (a run writes thousands of numbers; libstdc++'s std::to_chars took about
// 470 instructions a double and 50 to 80 an integer of a few digits).
//
// The doubles are formatted from their exact value m * 2^e with 128-bit integers when their
// decimal exponent lies between about -9 and +44 (every number the reports hold); any other
// double (0 aside: subnormals, huge values, infinities, NaN) goes to std::to_chars, so every
// double prints as the reference prints it: CliReportTableTest.NumberTextIsPrintfAndToChars
// compares them over millions of doubles.
//
// Why not a library: {fmt} 9.1 (Debian's libfmt-dev, header-only) gives %.9g's exact bytes and
// std::to_chars the shortest form's, but at 870 and 610 instructions a number that is not a whole
// one; with them write_run_folder on MobileNetV2 128x128 took 2.67 M instructions (1.94 M with
// whole numbers through write_decimal), against 1.31 M with the code here (session 11).
// {fmt}'s own shortest form ("{}") is no cheaper (~500) and picks fixed or scientific notation by
// the exponent, not by length as std::to_chars does ("1e+05" against "100000").
#pragma once

#include <cstdint>

namespace ssim {

// Room write_g9() and write_shortest() need at `p`: they may write past the text they return
// the end of, within these bytes.
constexpr int kFloatTextMax = 48;

// As snprintf(p, n, "%.9g", v) writes it (without the terminating NUL); returns the end.
char* write_g9(char* p, double v);

// As std::to_chars(p, p + kFloatTextMax, v) writes it: the shortest text that reads back as v,
// fixed or scientific notation, whichever is shorter. Returns the end.
char* write_shortest(char* p, double v);

// The decimal digits of n as std::to_chars writes them (at most 20); returns the end. Needs 20
// bytes of room at p: it may write past the end it returns within them.
char* write_decimal(char* p, uint64_t n);

}  // namespace ssim
