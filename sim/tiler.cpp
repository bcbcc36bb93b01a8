#include "sim/tiler.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
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

// --- Repeated GEMMs ------------------------------------------------------------------------------

Program repeat_program(const Program& one, int64_t repeat, int64_t m_stride, int64_t n_stride) {
  if (repeat < 1)
    throw InputError("gemm op: repeat = " + std::to_string(repeat) + ", allowed: >= 1");
  Program p = one;
  p.repeat = one.repeat * repeat;
  p.steps.clear();
  p.steps.reserve(one.steps.size() * size_t(repeat));
  for (int64_t i = 0; i < repeat; ++i) {
    const int64_t dm = i * m_stride, dn = i * n_stride;
    for (const TileStep& s : one.steps) {
      p.steps.push_back(s);
      TileStep& t = p.steps.back();
      t.copy = i;
      t.m0 += dm;
      t.n0 += dn;
      for (Fold& f : t.folds) {
        f.m0 += dm;
        f.n0 += dn;
      }
    }
  }
  return p;
}

Program plan_gemm_op(const HwSpec& hw, const GemmShape& g, int64_t repeat, int64_t m_stride,
                     int64_t n_stride) {
  if (repeat < 1)
    throw InputError("gemm op: repeat = " + std::to_string(repeat) + ", allowed: >= 1");
  return repeat_program(plan_gemm(hw, g), repeat, m_stride, n_stride);
}

// --- Vector ops
// -----------------------------------------------------------------------------------

VectorConfig vector_config(const HwSpec& hw) {
  VectorConfig c;
  c.lanes = hw.vector_lanes;
  c.timing = default_vector_timing();
  return c;
}

namespace {

// What a vector op's chunking works with, after checking the op.
struct VectorPlan {
  VectorShape shape = VectorShape::Elementwise;
  int64_t outputs = 0, inputs = 0;
  int64_t row = 0;        // row kinds: elements per row
  int64_t window = 1;     // window kinds
  int64_t granule = 1;    // chunks are multiples of it (a row; the lanes)
  int64_t max_chunk = 0;  // the most outputs a chunk may hold (a multiple of granule, or < lanes)
};

std::string op_label(const VectorOp& op) {
  return "vector op '" + op.name + "' (" + to_string(op.kind) + ")";
}

// Inputs of the chunk of outputs [s, s + n): the inputs spread evenly over the outputs.
int64_t chunk_inputs(const VectorPlan& v, int64_t s, int64_t n) {
  const __int128 I = v.inputs, O = v.outputs;
  return int64_t(I * (s + n) / O - I * s / O);
}
// The most inputs any chunk of n outputs reads: ceil(inputs * n / outputs).
int64_t max_chunk_inputs(const VectorPlan& v, int64_t n) {
  const __int128 I = v.inputs, O = v.outputs;
  return int64_t((I * n + O - 1) / O);
}

VectorPlan vector_plan(const HwSpec& hw, const VectorOp& op) {
  const std::string where = op_label(op) + ": ";
  if (op.outputs < 1)
    throw InputError(where + "outputs = " + std::to_string(op.outputs) + ", allowed: >= 1");
  if (op.inputs < 0)
    throw InputError(where + "inputs = " + std::to_string(op.inputs) + ", allowed: >= 0");
  if (op.elements < 1)
    throw InputError(where + "elements = " + std::to_string(op.elements) + ", allowed: >= 1");
  VectorPlan v;
  v.shape = vector_shape(op.kind);
  v.outputs = op.outputs;
  v.inputs = op.inputs;
  const int64_t lanes = std::max(1, hw.vector_lanes);
  switch (v.shape) {
    case VectorShape::Row:
      v.row = op.row > 0 ? op.row : op.outputs;
      if (op.row < 0 || op.outputs % v.row != 0)
        throw InputError(where + "row = " + std::to_string(op.row) +
                         " does not divide outputs = " + std::to_string(op.outputs));
      v.granule = v.row;
      break;
    case VectorShape::Window:
      v.window = op.elements / op.outputs;
      if (v.window < 1)
        throw InputError(where + "elements = " + std::to_string(op.elements) +
                         " is less than outputs = " + std::to_string(op.outputs) +
                         " (a window of at least one element per output)");
      v.granule = std::min(lanes, op.outputs);
      break;
    case VectorShape::Elementwise:
      v.granule = std::min(lanes, op.outputs);
      break;
  }

  // The smallest chunk: one row (row kinds) or one output; it must fit a half of each buffer.
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  const int64_t half_in = sram_half_bytes(hw, Operand::Ifmap);
  const int64_t half_out = sram_half_bytes(hw, Operand::Ofmap);
  const bool rows = v.shape == VectorShape::Row;
  const int64_t min_out = rows ? v.row : 1;
  const int64_t min_in = max_chunk_inputs(v, min_out);
  const struct {
    Operand op;
    int64_t elems, elem_bytes, half;
    const char* what;
  } needs[] = {{Operand::Ifmap, min_in, ib, half_in, "input"},
               {Operand::Ofmap, min_out, ob, half_out, "output"}};
  for (const auto& n : needs) {
    const int64_t bytes = n.elems * n.elem_bytes;
    if (bytes > n.half)
      throw InputError(std::string(sram_key(n.op)) + " " + std::to_string(sram_kb(hw, n.op)) +
                       ": too small for " + (rows ? "one row" : "one output") + " of " +
                       to_string(op.kind) + " '" + op.name + "' (" + std::to_string(n.elems) + " " +
                       n.what + " elements at " + std::to_string(n.elem_bytes) + " B = " +
                       kib_text(bytes) + " KiB per half, double buffered); needs at least " +
                       std::to_string(ceil_div(2 * bytes, 1024)) + " KiB");
  }

  // The largest chunk: ceil(inputs * n / outputs) * ib <= half_in and n * ob <= half_out.
  int64_t n = std::min(op.outputs, half_out / ob);
  if (op.inputs > 0) {
    const __int128 h = half_in / ib;
    n = int64_t(std::min<__int128>(n, h * op.outputs / op.inputs));
  }
  if (n < op.outputs && n >= v.granule) n -= n % v.granule;
  v.max_chunk = n;  // >= min_out: checked above
  return v;
}

VectorCmd chunk_cmd(const VectorOp& op, const VectorPlan& v, int64_t n) {
  VectorCmd c;
  c.kind = op.kind;
  c.elements = n;
  c.inputs = 0;
  c.row = v.shape == VectorShape::Row ? v.row : 0;
  c.window = v.window;
  return c;
}

}  // namespace

VectorChunking choose_vector_chunks(const HwSpec& hw, const VectorOp& op) {
  const VectorPlan v = vector_plan(hw, op);
  const VectorConfig cfg = vector_config(hw);
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  const bool unlimited = hw.unlimited_bandwidth;
  const double bw = unlimited ? 0 : hw.dram_bw();
  const double lat = unlimited ? 0 : double(hw.dram_latency);
  auto mem = [&](double bytes) { return unlimited ? 0.0 : bytes / bw; };
  const double L = double(cfg[op.kind].latency);
  const double total_bytes = double(v.inputs * ib + v.outputs * ob);

  // Candidates (in granules): the largest chunk, even splits into p chunks, powers of two.
  const int64_t g = v.max_chunk >= v.granule ? v.granule : 1;
  const int64_t units = ceil_div(v.outputs, g);
  const int64_t max_units = v.max_chunk == v.outputs ? units : v.max_chunk / g;
  std::vector<int64_t> cand;
  for (int64_t p = 1; p <= 64 && p <= units; ++p)
    cand.push_back(std::min(max_units, ceil_div(units, p)));
  for (int64_t u = 1; u < max_units; u *= 2) cand.push_back(u);
  cand.push_back(max_units);
  std::sort(cand.begin(), cand.end(), std::greater<int64_t>());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());

  VectorChunking best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int64_t u : cand) {
    const int64_t n = std::min(v.outputs, u * g);
    const int64_t k = ceil_div(v.outputs, n);
    const int64_t last = v.outputs - (k - 1) * n;
    const double In = double(vector_issue_cycles(cfg, chunk_cmd(op, v, n)));
    const double Il = double(vector_issue_cycles(cfg, chunk_cmd(op, v, last)));
    const double V = double(k - 1) * In + Il;
    const double first = double(max_chunk_inputs(v, n) * ib);
    const double store = double(last * ob);
    const double rest = std::max(0.0, total_bytes - first - store);
    const double est = mem(first) + lat + std::max(V - In, mem(rest)) + In + L + mem(store) + lat;
    const double cost = est + double(k);  // ties go to fewer chunks
    if (cost < best_cost) {
      best_cost = cost;
      best = VectorChunking{n, k, est};
    }
  }
  return best;
}

Program build_vector_program(const HwSpec& hw, const VectorOp& op, int64_t chunk_outputs) {
  const VectorPlan v = vector_plan(hw, op);
  if (chunk_outputs < 1 || chunk_outputs > v.max_chunk ||
      (v.shape == VectorShape::Row && chunk_outputs % v.row != 0))
    throw InputError(op_label(op) + ": a chunk of " + std::to_string(chunk_outputs) +
                     " outputs does not fit the buffers (at most " + std::to_string(v.max_chunk) +
                     (v.shape == VectorShape::Row ? ", whole rows)" : ")"));
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  Program p;
  p.dataflow = hw.dataflow;
  p.tile = TileSizes{chunk_outputs, 1, 1};
  p.input_bytes = hw.input_bytes;
  p.output_bytes = hw.output_bytes;
  p.acc_bytes = hw.output_bytes;  // results are stored at OutputBytes
  const int64_t k = ceil_div(v.outputs, chunk_outputs);
  p.steps.reserve(size_t(k));
  for (int64_t c = 0; c < k; ++c) {
    TileStep s;
    s.kind = StepKind::Vector;
    s.m0 = c * chunk_outputs;
    s.mlen = std::min(chunk_outputs, v.outputs - s.m0);
    s.vector.kind = op.kind;
    s.vector.elements = s.mlen;
    s.vector.inputs = chunk_inputs(v, s.m0, s.mlen);
    s.vector.row = v.shape == VectorShape::Row ? v.row : 0;
    s.vector.window = v.window;
    s.ifmap_load_bytes = s.vector.inputs * ib;
    s.new_output = true;
    s.ofmap_tile_bytes = s.mlen * ob;
    s.store_bytes = s.mlen * ob;
    p.steps.push_back(std::move(s));
  }
  return p;
}

Program plan_vector(const HwSpec& hw, const VectorOp& op) {
  return build_vector_program(hw, op, choose_vector_chunks(hw, op).outputs);
}

}  // namespace ssim
