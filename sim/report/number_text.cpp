#include "sim/report/number_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ssim {
namespace {

using u128 = unsigned __int128;

// base^0 .. base^(N - 1).
template <int N>
struct Powers {
  uint64_t v[N] = {};
  constexpr explicit Powers(uint64_t base) {
    uint64_t x = 1;
    for (uint64_t& p : v) {
      p = x;
      x *= base;  // (wraps after the last one stored)
    }
  }
  constexpr uint64_t operator[](int i) const { return v[i]; }
};
constexpr Powers<20> kPow10(10);  // 10^19 < 2^64
constexpr Powers<28> kPow5(5);    // 5^27 < 2^63

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The number of decimal digits of n >= 1: floor(log10(n)) + 1, from the bit length.
int decimal_length(uint64_t n) {
  const int guess = ((64 - __builtin_clzll(n)) * 1233) >> 12;  // floor(bits * log10(2))
  return guess + (n >= kPow10[guess]);
}

// Two digits of n < 100 at p.
void put_pair(char* p, uint32_t n) {
  std::memcpy(p, kDigitPairs + 2 * n, 2);
}

// A finite nonzero double, |v| = m2 * 2^(e2 + 2) with 2^52 <= m2 < 2^53 (Ryu's notation: the
// doubles next to v are at (4 m2 +- 2) * 2^e2, or (4 m2 - 1) * 2^e2 below a power of two).
struct Parts {
  uint64_t m2;
  int e2;
  bool negative;
  bool lower_closer;  // m2 = 2^52 above the smallest exponent: the next double down is closer
};

// False for zero, subnormals, infinities and NaN.
bool normal_parts(double v, Parts* p) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint64_t mantissa = bits & ((uint64_t(1) << 52) - 1);
  const int exponent = int((bits >> 52) & 0x7ff);
  if (exponent == 0 || exponent == 0x7ff) return false;
  p->m2 = mantissa | (uint64_t(1) << 52);
  p->e2 = exponent - 1023 - 52 - 2;
  p->negative = bits >> 63;
  p->lower_closer = mantissa == 0 && exponent > 1;
  return true;
}

// floor(log10(2^x)) for |x| < 1650 (GCC's >> on a negative int is arithmetic: a floor).
int floor_log10_pow2(int x) {
  return (x * 78913) >> 18;
}

// floor(x * 2^e2 / 10^e10) for x < 2^55, exactly, with the decimal exponent e10 chosen so that
// the double's last place, 2^(e2 + 2), is 100 to 1000 units of 10^e10: the result then has 18
// or 19 digits and fits 64 bits, and (x - 2) .. (x + 2) spans at least 75 units.
class Scaled {
 public:
  // False when 5^|e10| would not fit 64 bits (|v| below ~5e-10 or above ~1e44).
  bool set(int e2) {
    e10 = floor_log10_pow2(e2 + 2) - 2;
    if (e10 > 27 || e10 < -27) return false;
    shift_ = e2 - e10;  // x * 2^e2 / 10^e10 = x * 2^shift_ / 5^e10
    if (e10 >= 0) {     // a division (|v| above ~5e17), with shift_ <= 70
      divisor_ = kPow5[e10];
    } else {  // a product by 5^-e10 and a shift right by at most 58 (or left by at most 5)
      factor_ = kPow5[-e10];
      divisor_ = 0;
    }
    return true;
  }

  uint64_t floor(uint64_t x, bool* exact) const {
    if (divisor_) {
      const u128 n = u128(x) << shift_;
      const u128 q = n / divisor_;
      *exact = n == q * divisor_;
      return uint64_t(q);
    }
    const u128 n = u128(x) * factor_;
    if (shift_ >= 0) {
      *exact = true;
      return uint64_t(n) << shift_;
    }
    const int s = -shift_;  // 1 .. 58
    const uint64_t lo = uint64_t(n), hi = uint64_t(n >> 64);
    *exact = (lo << (64 - s)) == 0;
    return (hi << (64 - s)) | (lo >> s);
  }

  int e10 = 0;

 private:
  uint64_t divisor_ = 0, factor_ = 0;
  int shift_ = 0;
};

// Ryu's digit removal (below) on exact numbers: vr is the value, (vm, vp] the rounding interval
// in units of 10^removed; the flags say whether the digits removed so far were all zero.
struct Digits {
  uint64_t vr, vp, vm;
  bool vr_trailing_zeros, vm_trailing_zeros;
  unsigned last_removed = 0;
  int removed = 0;

  // K digits at once when the interval holds a multiple of 10^K: what K steps of Ryu's one-digit
  // loop (`while (vp / 10 > vm / 10)`) do.
  template <int K>
  bool remove() {
    constexpr uint64_t unit = kPow10[K], sub = kPow10[K - 1];
    if (vp / unit <= vm / unit) return false;
    vm_trailing_zeros &= vm % unit == 0;
    vr_trailing_zeros &= last_removed == 0 && vr % sub == 0;
    last_removed = unsigned(vr / sub % 10);
    vr /= unit;
    vp /= unit;
    vm /= unit;
    removed += K;
    return true;
  }
};

// The shortest decimal digits * 10^exponent that reads back as the double: Ryu's d2d (the one
// libstdc++'s std::to_chars runs), whose search this repeats on exact bounds: the fewest digits
// inside the rounding interval, of those the nearest to the value, a tie to the even one.
bool shortest_decimal(const Parts& p, uint64_t* digits, int* exponent) {
  Scaled s;
  if (!s.set(p.e2)) return false;
  const uint64_t mv = 4 * p.m2;
  const bool accept_bounds = p.m2 % 2 == 0;  // round-to-even reads the bounds back as v
  bool vr_exact, vp_exact, vm_exact;
  Digits d;
  d.vr = s.floor(mv, &vr_exact);
  d.vp = s.floor(mv + 2, &vp_exact);
  d.vm = s.floor(mv - (p.lower_closer ? 1 : 2), &vm_exact);
  if (vp_exact && !accept_bounds) --d.vp;
  d.vm_trailing_zeros = accept_bounds && vm_exact;
  d.vr_trailing_zeros = vr_exact;
  // At most 19 digits go: eights while they can, then at most one four, two and one.
  while (d.remove<8>()) {
  }
  d.remove<4>();
  d.remove<2>();
  d.remove<1>();
  if (d.vm_trailing_zeros) {  // the lower bound is in the interval: it may end in more zeros
    while (d.vm % 10 == 0) {
      d.vr_trailing_zeros &= d.last_removed == 0;
      d.last_removed = unsigned(d.vr % 10);
      d.vr /= 10;
      d.vp /= 10;
      d.vm /= 10;
      ++d.removed;
    }
  }
  if (d.vr_trailing_zeros && d.last_removed == 5 && d.vr % 2 == 0) d.last_removed = 4;  // even
  *digits =
      d.vr + ((d.vr == d.vm && (!accept_bounds || !d.vm_trailing_zeros)) || d.last_removed >= 5);
  *exponent = s.e10 + d.removed;
  return true;
}

// A whole |v| below 2^53 (exactly m2 * 2^(e2 + 2)), else 0.
uint64_t small_integer(const Parts& p) {
  const int shift = -(p.e2 + 2);
  if (shift < 0 || shift > 52 || (p.m2 & ((uint64_t(1) << shift) - 1)) != 0) return 0;
  return p.m2 >> shift;
}

char* exponent_text(char* p, int e) {
  *p++ = 'e';
  *p++ = e < 0 ? '-' : '+';
  unsigned a = unsigned(e < 0 ? -e : e);
  if (a >= 100) {
    *p++ = char('0' + a / 100);
    a %= 100;
  }
  *p++ = char('0' + a / 10);
  *p++ = char('0' + a % 10);
  return p;
}

// The eight digits of x < 10^8, leading zeros included, at p: x / 10^6 in 2^50 fixed point, its
// fraction times 100 three times (2^50 / 10^6 rounded up: the error stays below a hundredth of
// the last digit's unit).
void put_eight(char* p, uint32_t x) {
  constexpr uint64_t kFraction = (uint64_t(1) << 50) - 1;
  uint64_t t = uint64_t(x) * 1125899907;  // ceil(2^50 / 10^6)
  put_pair(p, uint32_t(t >> 50));
  t = (t & kFraction) * 100;
  put_pair(p + 2, uint32_t(t >> 50));
  t = (t & kFraction) * 100;
  put_pair(p + 4, uint32_t(t >> 50));
  t = (t & kFraction) * 100;
  put_pair(p + 6, uint32_t(t >> 50));
}

// The digits of x < 10^8 at p (up to eight bytes written); returns the end. Below 10^4 (most
// of the reports' integers) by pairs, else by put_eight().
char* put_short(char* p, uint32_t x) {
  if (x < 100) {
    if (x < 10) {
      *p = char('0' + x);
      return p + 1;
    }
    put_pair(p, x);
    return p + 2;
  }
  if (x < 10000) {
    const uint32_t high = x / 100, low = x % 100;
    if (high < 10) {
      *p = char('0' + high);
      put_pair(p + 1, low);
      return p + 3;
    }
    put_pair(p, high);
    put_pair(p + 2, low);
    return p + 4;
  }
  const int len = decimal_length(x);
  char eight[16];
  put_eight(eight, x);
  std::memcpy(p, eight + 8 - len, 8);
  return p + len;
}

}  // namespace

char* write_decimal(char* p, uint64_t n) {
  if (n < kPow10[8]) return put_short(p, uint32_t(n));
  if (n < kPow10[16]) {
    const uint64_t high = n / kPow10[8];
    p = put_short(p, uint32_t(high));
    put_eight(p, uint32_t(n - high * kPow10[8]));
    return p + 8;
  }
  const uint64_t top = n / kPow10[16], rest = n - top * kPow10[16], high = rest / kPow10[8];
  p = put_short(p, uint32_t(top));
  put_eight(p, uint32_t(high));
  put_eight(p + 8, uint32_t(rest - high * kPow10[8]));
  return p + 16;
}

// The copies below are of fixed sizes (a few moves, where a call to memcpy costs more than the
// number): they copy digits past the last one, from buffers that are large enough, to the room
// of kFloatTextMax bytes the caller gives.

char* write_g9(char* p, double v) {
  Parts parts;
  Scaled s;
  if (!normal_parts(v, &parts) || !s.set(parts.e2)) {
    if (v == 0) {  // std::to_chars with a precision is slow on 0 too
      if (std::signbit(v)) *p++ = '-';
      *p++ = '0';
      return p;
    }
    return std::to_chars(p, p + kFloatTextMax, v, std::chars_format::general, 9).ptr;
  }
  if (parts.negative) *p++ = '-';
  // A whole number of at most 9 digits prints as it is.
  if (const uint64_t n = small_integer(parts); n != 0 && n < kPow10[9]) return write_decimal(p, n);
  // The value in units of 10^e10 (18 or 19 digits), rounded to 9 digits, a tie to even.
  bool exact;
  const uint64_t vr = s.floor(4 * parts.m2, &exact);
  const int removed = vr >= kPow10[18] ? 10 : 9;
  const uint64_t unit = kPow10[removed];
  uint64_t q = vr / unit;
  const uint64_t r = vr - q * unit, half = unit / 2;
  if (r > half || (r == half && (!exact || q % 2 == 1))) ++q;
  int x = s.e10 + removed + 8;  // the decimal exponent of the first digit
  if (q == kPow10[9]) {
    q = kPow10[8];
    ++x;
  }
  char d[32];
  write_decimal(d, q);
  int n = 9;  // significant digits: %g drops trailing zeros
  while (d[n - 1] == '0') --n;
  if (x < -4 || x >= 9) {
    *p++ = d[0];
    if (n > 1) {
      *p++ = '.';
      std::memcpy(p, d + 1, 8);
      p += n - 1;
    }
    return exponent_text(p, x);
  }
  if (x >= 0) {
    const int whole = x + 1;
    std::memcpy(p, d, 9);
    p += whole;
    if (n > whole) {
      *p++ = '.';
      std::memcpy(p, d + whole, 8);
      p += n - whole;
    }
    return p;
  }
  std::memcpy(p, "0.0000", 6);  // "0." and the zeros after the point (x >= -4)
  p += 1 - x;
  std::memcpy(p, d, 9);
  return p + n;
}

char* write_shortest(char* p, double v) {
  Parts parts;
  uint64_t digits;
  int exponent = 0;
  if (!normal_parts(v, &parts)) {
    if (v == 0) {
      if (std::signbit(v)) *p++ = '-';
      *p++ = '0';
      return p;
    }
    return std::to_chars(p, p + kFloatTextMax, v).ptr;
  }
  if ((digits = small_integer(parts)) != 0) {
    // A whole number below 2^53: no shorter text reads back as it than its own digits.
    while (digits % 10 == 0) {
      digits /= 10;
      ++exponent;
    }
  } else if (!shortest_decimal(parts, &digits, &exponent)) {
    return std::to_chars(p, p + kFloatTextMax, v).ptr;
  }
  char d[48];
  const int len = int(write_decimal(d, digits) - d);  // at most 17
  // libstdc++'s choice between fixed and scientific notation: the shorter, fixed on a tie.
  int lower = -(len + 3), upper = 5;
  if (len == 1) ++lower, --upper;
  char* const start = p;
  if (parts.negative) *p++ = '-';
  if (exponent < lower || exponent > upper) {
    *p++ = d[0];
    if (len > 1) {
      *p++ = '.';
      std::memcpy(p, d + 1, 16);
      p += len - 1;
    }
    return exponent_text(p, exponent + len - 1);
  }
  if (exponent >= 0) {
    // A whole number: digits and zeros when they are the exact value (libstdc++'s test), else
    // the exact value's digits from the library.
    const int log2_digits = 63 - __builtin_clzll(digits);
    if (log2_digits + (exponent * 10 + 2) / 3 >= 52 - 2)
      return std::to_chars(start, start + kFloatTextMax, v).ptr;
    std::memcpy(p, d, 24);
    p += len;
    std::memcpy(p, "00000", 5);  // exponent <= 5
    return p + exponent;
  }
  if (len <= -exponent) {  // below 1: "0.", at most 3 zeros, the digits
    std::memcpy(p, "0.000", 5);
    p += 2 - exponent - len;
    std::memcpy(p, d, 24);
    return p + len;
  }
  const int whole = len + exponent;
  std::memcpy(p, d, 24);
  p += whole;
  *p++ = '.';
  std::memcpy(p, d + whole, 16);
  return p - exponent;
}

}  // namespace ssim
