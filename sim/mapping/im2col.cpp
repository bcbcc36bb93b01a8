#include "sim/mapping/im2col.hpp"

#include <algorithm>
#include <vector>

namespace ssim {

// Distinct input rows oh * sh - ph + kh * dh in [0, H) for oh in [oh0, oh1], kh in [kh0, kh1].
int64_t rows_touched(const ConvGeom& c, int64_t oh0, int64_t oh1, int64_t kh0, int64_t kh1) {
  const int64_t H = c.in_h, sh = c.stride_h, dh = c.dilation_h;
  const int64_t lo = oh0 * sh - c.pad_h + kh0 * dh, hi = oh1 * sh - c.pad_h + kh1 * dh;
  if (dh == 1 && sh <= kh1 - kh0 + 1)  // the windows' rows touch or overlap: one interval
    return std::max<int64_t>(0, std::min(hi, H - 1) - std::max<int64_t>(lo, 0) + 1);
  thread_local std::vector<char> seen;
  seen.assign(size_t(H), 0);
  int64_t n = 0;
  for (int64_t oh = oh0; oh <= oh1; ++oh)
    for (int64_t kh = kh0; kh <= kh1; ++kh) {
      const int64_t ih = oh * sh - c.pad_h + kh * dh;
      if (ih >= 0 && ih < H && !seen[size_t(ih)]) seen[size_t(ih)] = 1, ++n;
    }
  return n;
}

// DRAM bytes of the A block [m0, m1) x [k0, k1): the expanded block, or for a conv the smaller
// of that and its raw input rows.
int64_t a_bytes(const ConvGeom* c, int64_t m0, int64_t m1, int64_t k0, int64_t k1, int64_t ib) {
  const int64_t expanded = (m1 - m0) * (k1 - k0) * ib;
  if (!c || m1 <= m0 || k1 <= k0) return expanded;
  const int64_t P = c->out_h * c->out_w, tap_row = c->kernel_w * c->channels;
  const int64_t kh0 = k0 / tap_row, kh1 = (k1 - 1) / tap_row;
  const int64_t ch = std::min(c->channels, k1 - k0);
  const int64_t a = c->m_base + m0, b = c->m_base + m1;  // absolute pixels [a, b)
  int64_t rows = 0, full = -1;
  for (int64_t img = a / P; img * P < b; ++img) {
    const int64_t p0 = std::max(a, img * P) - img * P, p1 = std::min(b, (img + 1) * P) - img * P;
    if (p0 == 0 && p1 == P) {
      if (full < 0) full = rows_touched(*c, 0, c->out_h - 1, kh0, kh1);
      rows += full;
    } else {
      rows += rows_touched(*c, p0 / c->out_w, (p1 - 1) / c->out_w, kh0, kh1);
    }
  }
  return std::min(expanded, rows * c->in_w * ch * ib);
}

// An upper bound of a_bytes() over every block of `len` consecutive stream vectors (WS: pixels
// of a K-chunk `width` taps wide; OS: taps of an M-chunk `width` pixels wide), for sizing blocks.
int64_t a_bytes_bound(const ConvGeom* c, Dataflow df, int64_t len, int64_t width, int64_t ib) {
  const int64_t expanded = len * width * ib;
  if (!c) return expanded;
  const int64_t pixels = df == Dataflow::WS ? len : width, taps = df == Dataflow::WS ? width : len;
  const int64_t P = c->out_h * c->out_w, tap_row = c->kernel_w * c->channels;
  const int64_t imgs = std::min(c->batch, (pixels - 1) / P + 2);
  const int64_t orows = std::min(c->out_h, (pixels - 1) / c->out_w + 2);
  const int64_t krows = std::min(c->kernel_h, (taps - 1) / tap_row + 2);
  const int64_t rows =
      std::min(c->in_h, (orows - 1) * c->stride_h + (krows - 1) * c->dilation_h + 1);
  return std::min(expanded, imgs * rows * c->in_w * std::min(c->channels, taps) * ib);
}

}  // namespace ssim
