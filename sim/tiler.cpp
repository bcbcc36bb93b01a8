#include "sim/tiler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace ssim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t u) {
  return ceil_div(a, u) * u;
}

const char* sram_key(Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return "IfmapSramSzkB";
    case Operand::Filter:
      return "FilterSramSzkB";
    case Operand::Ofmap:
      return "OfmapSramSzkB";
  }
  return "?";
}

int64_t sram_kb(const HwSpec& hw, Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return hw.ifmap_sram_kb;
    case Operand::Filter:
      return hw.filter_sram_kb;
    case Operand::Ofmap:
      return hw.ofmap_sram_kb;
  }
  return 0;
}

// The array dimension a GEMM dimension is laid along (0: streamed, not spatial).
struct Units {
  int64_t m = 0, n = 0, k = 0;
};
Units spatial_units(const HwSpec& hw) {
  const int64_t R = hw.array_rows, C = hw.array_cols;
  switch (hw.dataflow) {
    case Dataflow::OS:  // Sr = M, Sc = N, T = K
      return {R, C, 0};
    case Dataflow::WS:  // Sr = K, Sc = N, T = M
      return {0, C, R};
    case Dataflow::IS:  // Sr = K, Sc = M, T = N
      return {C, 0, R};
  }
  return {};
}

std::string kib_text(int64_t bytes) {
  // Bytes as KiB with up to two decimals ("16", "0.5", "1.25").
  char buf[64];
  const double k = double(bytes) / 1024.0;
  if (bytes % 1024 == 0)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(bytes / 1024));
  else
    std::snprintf(buf, sizeof buf, "%.2f", k);
  return buf;
}

// Candidate tile sizes along a dimension of size D: the whole dimension, even splits into p
// tiles (rounded up to the array unit u), and powers of two times u, all within [min(u, D), D].
std::vector<int64_t> candidates(int64_t D, int64_t u) {
  u = std::max<int64_t>(1, std::min(u, D));
  std::vector<int64_t> c;
  for (int64_t p = 1; p <= 16 && p <= D; ++p) c.push_back(std::min(D, round_up(ceil_div(D, p), u)));
  for (int64_t t = u; t < D; t *= 2) c.push_back(t);
  c.push_back(u);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

// Estimated array cycles of one sub-GEMM (docs/cycle-accounting.md, in closed form).
double step_compute(const HwSpec& hw, int64_t m, int64_t n, int64_t k) {
  const SpatialMap sm = spatial_map(hw.dataflow, GemmShape{m, n, k});
  const int64_t R = hw.array_rows, C = hw.array_cols;
  const int64_t nr = ceil_div(sm.Sr, R), nc = ceil_div(sm.Sc, C);
  const double folds = double(nr * nc);
  const double sum_r = double(sm.Sr) * double(nc), sum_c = double(sm.Sc) * double(nr);
  const double T = double(sm.T);
  if (!hw.fold_overlap) return sum_r + sum_c + folds * (T + double(R) - 2);
  const double r = sum_r / folds, c = sum_c / folds;
  if (hw.dataflow == Dataflow::OS) return folds * std::max(T, r + c + double(R) - 1);
  return folds * std::max(T, (r + T + double(R) + c - 2) / 2);
}

}  // namespace

int64_t sram_bytes(const HwSpec& hw, Operand op) {
  return sram_kb(hw, op) * 1024;
}

DramTraffic closed_form_traffic(const GemmShape& g, const TileSizes& t, LoopOrder order,
                                int input_bytes, int output_bytes) {
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n), tk = ceil_div(g.K, t.k);
  DramTraffic d;
  const int64_t a = g.M * g.K * input_bytes, b = g.K * g.N * input_bytes;
  if (order == LoopOrder::MNK) {  // n inside m: A stays across n when K is one tile
    d.ifmap = a * (tk == 1 ? 1 : tn);
    d.filter = b * ((tk == 1 && tn == 1) ? 1 : tm);
  } else {  // m inside n: B stays across m when K is one tile
    d.filter = b * (tk == 1 ? 1 : tm);
    d.ifmap = a * ((tk == 1 && tm == 1) ? 1 : tn);
  }
  d.ofmap = g.M * g.N * output_bytes;
  return d;
}

TilingChoice choose_tiling(const HwSpec& hw, const GemmShape& g) {
  if (g.M < 1 || g.N < 1 || g.K < 1) throw InputError("gemm: M, N and K must be positive integers");
  const int64_t ib = hw.input_bytes;
  const int64_t half_a = sram_half_bytes(hw, Operand::Ifmap);
  const int64_t half_b = sram_half_bytes(hw, Operand::Filter);
  const int64_t half_c = sram_half_bytes(hw, Operand::Ofmap);
  const Units u = spatial_units(hw);

  // The smallest tile: one array slice along each spatial dimension, one element along T.
  const int64_t mm = u.m ? std::min(u.m, g.M) : 1;
  const int64_t mn = u.n ? std::min(u.n, g.N) : 1;
  const int64_t mk = u.k ? std::min(u.k, g.K) : 1;
  struct Need {
    Operand op;
    const char* dims;
    int64_t d0, d1, elem;
    int64_t half;
  };
  const Need needs[] = {
      {Operand::Ifmap, "M x K", mm, mk, ib, half_a},
      {Operand::Filter, "K x N", mk, mn, ib, half_b},
      {Operand::Ofmap, "M x N", mm, mn, kAccumulatorBytes, half_c},
  };
  for (const Need& n : needs) {
    const int64_t bytes = n.d0 * n.d1 * n.elem;
    if (bytes > n.half) {
      const int64_t need_kb = ceil_div(2 * bytes, 1024);
      throw InputError(std::string(sram_key(n.op)) + " " + std::to_string(sram_kb(hw, n.op)) +
                       ": too small for the smallest " + to_string(n.op) + " tile (" + n.dims +
                       " = " + std::to_string(n.d0) + " x " + std::to_string(n.d1) + " at " +
                       std::to_string(n.elem) + " B = " + kib_text(bytes) +
                       " KiB per half, double buffered); needs at least " +
                       std::to_string(need_kb) + " KiB");
    }
  }

  const bool unlimited = hw.unlimited_bandwidth;
  const double bw = unlimited ? 0 : hw.dram_bw();
  const double lat = unlimited ? 0 : double(hw.dram_latency);
  auto mem = [&](double bytes) { return unlimited ? 0.0 : bytes / bw; };

  const std::vector<int64_t> cm = candidates(g.M, u.m ? u.m : 1);
  const std::vector<int64_t> cn = candidates(g.N, u.n ? u.n : 1);
  const std::vector<int64_t> ck = candidates(g.K, u.k ? u.k : 1);

  // The least traffic possible: every operand crosses the channel once. When some tiling
  // achieves it, only such tilings are considered (reuse first); the estimated time decides
  // among them.
  const int64_t read_once = g.M * g.K * ib + g.K * g.N * ib + g.M * g.N * hw.output_bytes;
  TilingChoice best, best_once;
  double best_cost = std::numeric_limits<double>::infinity();
  double best_once_cost = best_cost;
  for (LoopOrder order : {LoopOrder::MNK, LoopOrder::NMK}) {
    for (int64_t Mt : cm) {
      for (int64_t Nt : cn) {
        if (Mt * Nt * kAccumulatorBytes > half_c) continue;
        int64_t Kt = 0;
        for (auto it = ck.rbegin(); it != ck.rend(); ++it) {
          if (Mt * *it * ib <= half_a && *it * Nt * ib <= half_b) {
            Kt = *it;
            break;
          }
        }
        if (Kt == 0) continue;
        const TileSizes t{Mt, Nt, Kt};
        const int64_t tm = ceil_div(g.M, Mt), tn = ceil_div(g.N, Nt), tk = ceil_div(g.K, Kt);
        const int64_t lm = g.M - (tm - 1) * Mt, ln = g.N - (tn - 1) * Nt, lk = g.K - (tk - 1) * Kt;
        // Array cycles over the grid of step shapes (full or last along each dimension).
        double compute = 0;
        for (int im = 0; im < 2; ++im)
          for (int in = 0; in < 2; ++in)
            for (int ik = 0; ik < 2; ++ik) {
              const double cnt =
                  double(im ? 1 : tm - 1) * double(in ? 1 : tn - 1) * double(ik ? 1 : tk - 1);
              if (cnt > 0)
                compute += cnt * step_compute(hw, im ? lm : Mt, in ? ln : Nt, ik ? lk : Kt);
            }
        const DramTraffic tr = closed_form_traffic(g, t, order, int(ib), hw.output_bytes);
        const double steps = double(tm) * double(tn) * double(tk);
        const double first_load = double(Mt * Kt * ib + Kt * Nt * ib);
        const double last_store = double(lm * ln * hw.output_bytes);
        const double rest = std::max(0.0, double(tr.total()) - first_load - last_store);
        const double per_step = compute / steps;
        const double est = mem(first_load) + lat + std::max(compute - per_step, mem(rest)) +
                           per_step + mem(last_store) + lat;
        // Ties (within a few cycles) go to fewer tiles (a cycle per step) and then to less DRAM
        // traffic (a cycle per 100 KB).
        const double cost = est + steps + 1e-5 * double(tr.total());
        if (cost < best_cost) {
          best_cost = cost;
          best = TilingChoice{t, order, est};
        }
        if (tr.total() == read_once && cost < best_once_cost) {
          best_once_cost = cost;
          best_once = TilingChoice{t, order, est};
        }
      }
    }
  }
  if (!std::isfinite(best_cost))  // cannot happen once the smallest tile fits
    throw InputError("tiler: no tiling fits the SRAM buffers");
  return std::isfinite(best_once_cost) ? best_once : best;
}

Program build_program(const HwSpec& hw, const GemmShape& g, const TileSizes& t, LoopOrder order) {
  if (t.m < 1 || t.n < 1 || t.k < 1) throw InputError("tiler: tile sizes must be positive");
  const int64_t ib = hw.input_bytes;
  const struct {
    Operand op;
    int64_t bytes;
  } fits[] = {{Operand::Ifmap, std::min(t.m, g.M) * std::min(t.k, g.K) * ib},
              {Operand::Filter, std::min(t.k, g.K) * std::min(t.n, g.N) * ib},
              {Operand::Ofmap, std::min(t.m, g.M) * std::min(t.n, g.N) * kAccumulatorBytes}};
  for (const auto& f : fits)
    if (f.bytes > sram_half_bytes(hw, f.op))
      throw InputError(std::string(sram_key(f.op)) + " " + std::to_string(sram_kb(hw, f.op)) +
                       ": a " + to_string(f.op) + " tile of " + std::to_string(f.bytes) +
                       " B does not fit a half of " + std::to_string(sram_half_bytes(hw, f.op)) +
                       " B");

  Program p;
  p.shape = g;
  p.dataflow = hw.dataflow;
  p.tile = t;
  p.order = order;
  p.input_bytes = hw.input_bytes;
  p.output_bytes = hw.output_bytes;
  p.acc_bytes = kAccumulatorBytes;
  const int64_t tm = ceil_div(g.M, t.m), tn = ceil_div(g.N, t.n), tk = ceil_div(g.K, t.k);
  p.steps.reserve(size_t(tm * tn * tk));
  int64_t prev_a[2] = {-1, -1}, prev_b[2] = {-1, -1};  // (row, col) block ids of the last load
  const int64_t outer = order == LoopOrder::MNK ? tm : tn;
  const int64_t middle = order == LoopOrder::MNK ? tn : tm;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t mid = 0; mid < middle; ++mid) {
      const int64_t mi = order == LoopOrder::MNK ? o : mid;
      const int64_t ni = order == LoopOrder::MNK ? mid : o;
      for (int64_t ki = 0; ki < tk; ++ki) {
        TileStep s;
        s.m0 = mi * t.m;
        s.mlen = std::min(t.m, g.M - s.m0);
        s.n0 = ni * t.n;
        s.nlen = std::min(t.n, g.N - s.n0);
        s.k0 = ki * t.k;
        s.klen = std::min(t.k, g.K - s.k0);
        if (prev_a[0] != mi || prev_a[1] != ki) {
          s.ifmap_load_bytes = s.mlen * s.klen * ib;
          prev_a[0] = mi;
          prev_a[1] = ki;
        }
        if (prev_b[0] != ki || prev_b[1] != ni) {
          s.filter_load_bytes = s.klen * s.nlen * ib;
          prev_b[0] = ki;
          prev_b[1] = ni;
        }
        s.new_output = ki == 0;
        if (s.new_output) s.ofmap_tile_bytes = s.mlen * s.nlen * kAccumulatorBytes;
        if (ki == tk - 1) s.store_bytes = s.mlen * s.nlen * hw.output_bytes;
        s.folds = fold_gemm(hw.dataflow, hw.array_rows, hw.array_cols, s.m0, s.mlen, s.n0, s.nlen,
                            s.k0, s.klen);
        p.steps.push_back(std::move(s));
      }
    }
  }
  return p;
}

Program plan_gemm(const HwSpec& hw, const GemmShape& g) {
  const TilingChoice c = choose_tiling(hw, g);
  return build_program(hw, g, c.tile, c.order);
}

}  // namespace ssim
