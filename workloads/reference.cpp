#include "workloads/reference.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "workloads/lower.hpp"

namespace ssim {

void reference_gemm(const GemmData& d) {
  const int64_t M = d.shape.M, N = d.shape.N, K = d.shape.K;
  for (int64_t m = 0; m < M; ++m) {
    int32_t* c = d.C + m * N;
    for (int64_t k = 0; k < K; ++k) {
      const int32_t a = d.A[m * K + k];
      const int8_t* b = d.B + k * N;
      for (int64_t n = 0; n < N; ++n) c[n] += a * int32_t(b[n]);
    }
  }
}

std::vector<int32_t> reference_gemm(const GemmShape& shape, const int8_t* A, const int8_t* B) {
  std::vector<int32_t> C(size_t(shape.M * shape.N), 0);
  reference_gemm(GemmData{shape, A, B, C.data()});
  return C;
}

namespace {

void run_gemm_fn(const GemmFunction& gemm, const GemmData& d) {
  if (gemm)
    gemm(d);
  else
    reference_gemm(d);
}

const Conv2dLayer& conv_of(const Layer& layer) {
  validate(layer);
  if (layer.type() != LayerType::Conv2d)
    throw std::invalid_argument("layer '" + layer.name + "' is not a conv2d layer");
  return std::get<Conv2dLayer>(layer.params);
}

const AttentionLayer& attention_of(const Layer& layer) {
  validate(layer);
  if (layer.type() != LayerType::Attention)
    throw std::invalid_argument("layer '" + layer.name + "' is not an attention layer");
  return std::get<AttentionLayer>(layer.params);
}

void check_size(const char* what, size_t got, int64_t want) {
  if (int64_t(got) != want)
    throw std::invalid_argument(std::string(what) + " has " + std::to_string(got) +
                                " elements, expected " + std::to_string(want));
}

const GemmOp& find_gemm(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& op : ops)
    if (const GemmOp* g = as_gemm(op); g && g->name == name) return *g;
  throw std::logic_error("lowering has no GEMM op '" + name + "'");
}

void expect_shape(const GemmOp& g, int64_t M, int64_t N, int64_t K, int64_t repeat) {
  if (g.shape.M != M || g.shape.N != N || g.shape.K != K || g.repeat != repeat)
    throw std::logic_error("lowered op '" + g.name + "' is " + std::to_string(g.repeat) + " x " +
                           std::to_string(g.shape.M) + "x" + std::to_string(g.shape.N) + "x" +
                           std::to_string(g.shape.K) + ", the computation needs " +
                           std::to_string(repeat) + " x " + std::to_string(M) + "x" +
                           std::to_string(N) + "x" + std::to_string(K));
}

}  // namespace

// ---- convolution ------------------------------------------------------------------------------

int64_t conv_input_elements(const Layer& layer) {
  const auto& p = conv_of(layer);
  return layer.batch * p.in_h * p.in_w * p.in_c;
}

int64_t conv_weight_elements(const Layer& layer) {
  const auto& p = conv_of(layer);
  return p.filters * p.kernel_h * p.kernel_w * (p.in_c / p.groups);
}

int64_t conv_output_elements(const Layer& layer) {
  const auto& p = conv_of(layer);
  return layer.batch * p.out_h() * p.out_w() * p.filters;
}

std::vector<int8_t> im2col(const Layer& layer, const int8_t* input, int64_t group) {
  const auto& p = conv_of(layer);
  const int64_t Ho = p.out_h(), Wo = p.out_w(), Cg = p.in_c / p.groups;
  const int64_t M = layer.batch * Ho * Wo, K = p.kernel_h * p.kernel_w * Cg;
  std::vector<int8_t> A(size_t(M * K), 0);
  for (int64_t n = 0; n < layer.batch; ++n)
    for (int64_t y = 0; y < Ho; ++y)
      for (int64_t x = 0; x < Wo; ++x) {
        int8_t* row = A.data() + ((n * Ho + y) * Wo + x) * K;
        for (int64_t r = 0; r < p.kernel_h; ++r) {
          const int64_t iy = y * p.stride_h - p.pad_h + r * p.dilation_h;
          if (iy < 0 || iy >= p.in_h) continue;
          for (int64_t s = 0; s < p.kernel_w; ++s) {
            const int64_t ix = x * p.stride_w - p.pad_w + s * p.dilation_w;
            if (ix < 0 || ix >= p.in_w) continue;
            const int8_t* px = input + ((n * p.in_h + iy) * p.in_w + ix) * p.in_c + group * Cg;
            std::copy(px, px + Cg, row + (r * p.kernel_w + s) * Cg);
          }
        }
      }
  return A;
}

std::vector<int8_t> conv_weight_matrix(const Layer& layer, const int8_t* weights, int64_t group) {
  const auto& p = conv_of(layer);
  const int64_t Cg = p.in_c / p.groups, Ng = p.filters / p.groups;
  const int64_t K = p.kernel_h * p.kernel_w * Cg;
  std::vector<int8_t> B(size_t(K * Ng));
  for (int64_t j = 0; j < Ng; ++j) {
    const int8_t* w = weights + (group * Ng + j) * K;  // OHWI: one filter is K contiguous values
    for (int64_t k = 0; k < K; ++k) B[size_t(k * Ng + j)] = w[k];
  }
  return B;
}

std::vector<int32_t> conv2d_direct(const Layer& layer, const int8_t* input, const int8_t* weights) {
  const auto& p = conv_of(layer);
  const int64_t Ho = p.out_h(), Wo = p.out_w();
  const int64_t Cg = p.in_c / p.groups, Ng = p.filters / p.groups;
  std::vector<int32_t> out(size_t(layer.batch * Ho * Wo * p.filters), 0);
  for (int64_t n = 0; n < layer.batch; ++n)
    for (int64_t y = 0; y < Ho; ++y)
      for (int64_t x = 0; x < Wo; ++x)
        for (int64_t f = 0; f < p.filters; ++f) {
          const int64_t g = f / Ng;
          int32_t acc = 0;
          for (int64_t r = 0; r < p.kernel_h; ++r)
            for (int64_t s = 0; s < p.kernel_w; ++s)
              for (int64_t c = 0; c < Cg; ++c) {
                const int64_t iy = y * p.stride_h - p.pad_h + r * p.dilation_h;
                const int64_t ix = x * p.stride_w - p.pad_w + s * p.dilation_w;
                if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
                const int32_t a = input[((n * p.in_h + iy) * p.in_w + ix) * p.in_c + g * Cg + c];
                const int32_t w = weights[((f * p.kernel_h + r) * p.kernel_w + s) * Cg + c];
                acc += a * w;
              }
          out[size_t(((n * Ho + y) * Wo + x) * p.filters + f)] = acc;
        }
  return out;
}

std::vector<int32_t> conv2d_via_lowering(const Layer& layer, const int8_t* input,
                                         const int8_t* weights, const GemmFunction& gemm) {
  const auto& p = conv_of(layer);
  const std::vector<Op> ops = lower(layer);
  const GemmOp& op = find_gemm(ops, layer.name);
  const int64_t Ho = p.out_h(), Wo = p.out_w(), Ng = p.filters / p.groups;
  const int64_t M = layer.batch * Ho * Wo, K = p.kernel_h * p.kernel_w * (p.in_c / p.groups);
  expect_shape(op, M, Ng, K, p.groups);
  std::vector<int32_t> out(size_t(M * p.filters), 0);
  std::vector<int32_t> C;
  for (int64_t g = 0; g < op.repeat; ++g) {
    const std::vector<int8_t> A = im2col(layer, input, g);
    const std::vector<int8_t> B = conv_weight_matrix(layer, weights, g);
    C.assign(size_t(M * Ng), 0);
    run_gemm_fn(gemm, GemmData{op.shape, A.data(), B.data(), C.data()});
    for (int64_t m = 0; m < M; ++m)
      std::copy(C.begin() + m * Ng, C.begin() + (m + 1) * Ng, out.begin() + m * p.filters + g * Ng);
  }
  return out;
}

// ---- attention --------------------------------------------------------------------------------

namespace {

struct AttnDims {
  int64_t B, S, L, D, H, dh, E;  // E = H * dh
  int64_t ctx_rows;              // context rows per batch
};

AttnDims attn_dims(const Layer& layer, const AttentionLayer& p) {
  AttnDims d;
  d.B = layer.batch;
  d.S = p.seq;
  d.L = p.kv_len();
  d.D = p.d_model;
  d.H = p.heads;
  d.dh = p.head_dim();
  d.E = d.H * d.dh;
  d.ctx_rows = p.cross ? d.L : d.L - d.S;
  return d;
}

void check_inputs(const AttnDims& d, const AttentionInputs& in) {
  check_size("x", in.x.size(), d.B * d.S * d.D);
  check_size("context", in.context.size(), d.B * d.ctx_rows * d.D);
  check_size("wq", in.wq.size(), d.D * d.E);
  check_size("wk", in.wk.size(), d.D * d.E);
  check_size("wv", in.wv.size(), d.D * d.E);
  check_size("wo", in.wo.size(), d.E * d.D);
}

// Row `t` (0 .. L-1) of the key/value source of batch b, as an int8 pointer.
const int8_t* kv_source_row(const AttnDims& d, const AttentionInputs& in, bool cross, int64_t b,
                            int64_t t) {
  if (cross) return in.context.data() + (b * d.L + t) * d.D;
  if (t < d.ctx_rows) return in.context.data() + (b * d.ctx_rows + t) * d.D;
  return in.x.data() + (b * d.S + (t - d.ctx_rows)) * d.D;
}

// True if query i may attend to key j.
bool visible(const AttnDims& d, bool causal, int64_t i, int64_t j) {
  return !causal || j <= d.L - d.S + i;
}

// [rows][cols] real matrix product of int8 data with scales.
std::vector<double> project(const std::vector<const int8_t*>& rows, const std::vector<int8_t>& w,
                            int64_t D, int64_t E, double scale) {
  std::vector<double> out(rows.size() * size_t(E), 0.0);
  for (size_t r = 0; r < rows.size(); ++r)
    for (int64_t k = 0; k < D; ++k) {
      const double a = rows[r][k];
      for (int64_t e = 0; e < E; ++e) out[r * E + e] += a * w[size_t(k * E + e)];
    }
  for (double& v : out) v *= scale;
  return out;
}

struct Quant {
  std::vector<int8_t> q;
  double scale = 1;  // real value = q * scale
};

Quant quantize(const std::vector<double>& v) {
  double mx = 0;
  for (double x : v) mx = std::max(mx, std::fabs(x));
  Quant out;
  out.scale = mx > 0 ? mx / 127.0 : 1.0;
  out.q.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out.q[i] = int8_t(std::clamp(std::lround(v[i] / out.scale), -127L, 127L));
  return out;
}

}  // namespace

AttentionInputs random_attention_inputs(const Layer& layer, uint64_t seed) {
  const auto& p = attention_of(layer);
  const AttnDims d = attn_dims(layer, p);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-127, 127);
  const auto fill = [&](std::vector<int8_t>& v, int64_t n) {
    v.resize(size_t(n));
    for (int8_t& x : v) x = int8_t(dist(rng));
  };
  AttentionInputs in;
  fill(in.x, d.B * d.S * d.D);
  fill(in.context, d.B * d.ctx_rows * d.D);
  fill(in.wq, d.D * d.E);
  fill(in.wk, d.D * d.E);
  fill(in.wv, d.D * d.E);
  fill(in.wo, d.E * d.D);
  // x uniform in [-1, 1] (variance 1/3); weights uniform in [-a, a]. A projection then has
  // variance D a^2 / 9 and a score q.k / sqrt(dh) has standard deviation about D a^2 / 9;
  // a = 3 / sqrt(D) makes it about 1.
  in.x_scale = 1.0 / 127;
  in.w_scale = 3.0 / std::sqrt(double(d.D)) / 127;
  return in;
}

std::vector<double> attention_direct(const Layer& layer, const AttentionInputs& in) {
  const auto& p = attention_of(layer);
  const AttnDims d = attn_dims(layer, p);
  check_inputs(d, in);
  const double s = in.x_scale * in.w_scale;
  std::vector<double> out(size_t(d.B * d.S * d.D), 0.0);
  for (int64_t b = 0; b < d.B; ++b) {
    std::vector<const int8_t*> qrows, kvrows;
    for (int64_t i = 0; i < d.S; ++i) qrows.push_back(in.x.data() + (b * d.S + i) * d.D);
    for (int64_t t = 0; t < d.L; ++t) kvrows.push_back(kv_source_row(d, in, p.cross, b, t));
    const std::vector<double> Q = project(qrows, in.wq, d.D, d.E, s);
    const std::vector<double> K = project(kvrows, in.wk, d.D, d.E, s);
    const std::vector<double> V = project(kvrows, in.wv, d.D, d.E, s);
    std::vector<double> O(size_t(d.S * d.E), 0.0);
    std::vector<double> score(size_t(d.L));
    for (int64_t h = 0; h < d.H; ++h)
      for (int64_t i = 0; i < d.S; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < d.L; ++j) {
          double acc = 0;
          for (int64_t e = 0; e < d.dh; ++e)
            acc += Q[size_t(i * d.E + h * d.dh + e)] * K[size_t(j * d.E + h * d.dh + e)];
          score[j] = visible(d, p.causal, i, j) ? acc / std::sqrt(double(d.dh)) : -INFINITY;
          mx = std::max(mx, score[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < d.L; ++j) sum += score[j] = std::exp(score[j] - mx);
        for (int64_t j = 0; j < d.L; ++j)
          for (int64_t e = 0; e < d.dh; ++e)
            O[size_t(i * d.E + h * d.dh + e)] += score[j] / sum * V[size_t(j * d.E + h * d.dh + e)];
      }
    for (int64_t i = 0; i < d.S; ++i)
      for (int64_t e = 0; e < d.E; ++e) {
        const double o = O[size_t(i * d.E + e)];
        for (int64_t c = 0; c < d.D; ++c)
          out[size_t((b * d.S + i) * d.D + c)] += o * in.wo[size_t(e * d.D + c)] * in.w_scale;
      }
  }
  return out;
}

std::vector<double> attention_via_lowering(const Layer& layer, const AttentionInputs& in,
                                           const GemmFunction& gemm) {
  const auto& p = attention_of(layer);
  const AttnDims d = attn_dims(layer, p);
  check_inputs(d, in);
  const std::vector<Op> ops = lower(layer);
  const std::string& n = layer.name;
  const GemmOp& q_op = find_gemm(ops, n + ".q");
  const GemmOp& k_op = find_gemm(ops, n + ".k");
  const GemmOp& v_op = find_gemm(ops, n + ".v");
  const GemmOp& qk_op = find_gemm(ops, n + ".qk");
  const GemmOp& av_op = find_gemm(ops, n + ".av");
  const GemmOp& out_op = find_gemm(ops, n + ".out");
  const int64_t kv_new = p.cross ? d.L : d.S;  // rows whose K, V this layer computes per batch
  expect_shape(q_op, d.B * d.S, d.E, d.D, 1);
  expect_shape(k_op, d.B * kv_new, d.E, d.D, 1);
  expect_shape(v_op, d.B * kv_new, d.E, d.D, 1);
  expect_shape(qk_op, d.S, d.L, d.dh, d.B * d.H);
  expect_shape(av_op, d.S, d.dh, d.L, d.B * d.H);
  expect_shape(out_op, d.B * d.S, d.D, d.E, 1);

  const double s = in.x_scale * in.w_scale;
  const auto run = [&](const GemmShape& shape, const int8_t* A, const int8_t* B) {
    std::vector<int32_t> C(size_t(shape.M * shape.N), 0);
    run_gemm_fn(gemm, GemmData{shape, A, B, C.data()});
    return C;
  };
  const auto to_real = [](const std::vector<int32_t>& C, double scale) {
    std::vector<double> r(C.size());
    for (size_t i = 0; i < C.size(); ++i) r[i] = C[i] * scale;
    return r;
  };

  // Projections. Q from x; K and V of the new rows from x (self) or context (cross); the KV-cache
  // rows (self-attention, kv > seq) from context, outside the layer's ops.
  const int8_t* kv_in = p.cross ? in.context.data() : in.x.data();
  const std::vector<double> Q = to_real(run(q_op.shape, in.x.data(), in.wq.data()), s);
  const std::vector<double> Knew = to_real(run(k_op.shape, kv_in, in.wk.data()), s);
  const std::vector<double> Vnew = to_real(run(v_op.shape, kv_in, in.wv.data()), s);
  std::vector<double> Kc, Vc;
  if (!p.cross && d.ctx_rows > 0) {
    const GemmShape cache{d.B * d.ctx_rows, d.E, d.D};
    Kc = to_real(run(cache, in.context.data(), in.wk.data()), s);
    Vc = to_real(run(cache, in.context.data(), in.wv.data()), s);
  }
  // K and V over all L positions: [B][L][E].
  std::vector<double> K(size_t(d.B * d.L * d.E)), V(K.size());
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t t = 0; t < d.L; ++t) {
      const bool cached = !p.cross && t < d.ctx_rows;
      const std::vector<double>& ks = cached ? Kc : Knew;
      const std::vector<double>& vs = cached ? Vc : Vnew;
      const int64_t row =
          cached ? b * d.ctx_rows + t : b * kv_new + (t - (p.cross ? 0 : d.ctx_rows));
      std::copy(ks.begin() + row * d.E, ks.begin() + (row + 1) * d.E,
                K.begin() + (b * d.L + t) * d.E);
      std::copy(vs.begin() + row * d.E, vs.begin() + (row + 1) * d.E,
                V.begin() + (b * d.L + t) * d.E);
    }
  const Quant q8 = quantize(Q), k8 = quantize(K), v8 = quantize(V);

  // Per batch and head: scores = Q_h K_h^T, softmax, O_h = P V_h.
  std::vector<double> O(size_t(d.B * d.S * d.E), 0.0);
  std::vector<int8_t> A(size_t(d.S * std::max(d.dh, d.L))), Bm(size_t(d.L * d.dh));
  std::vector<float> row_sum(size_t(d.S));
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.H; ++h) {
      for (int64_t i = 0; i < d.S; ++i)
        for (int64_t e = 0; e < d.dh; ++e)
          A[size_t(i * d.dh + e)] = q8.q[size_t((b * d.S + i) * d.E + h * d.dh + e)];
      for (int64_t e = 0; e < d.dh; ++e)  // K_h^T: [dh][L]
        for (int64_t j = 0; j < d.L; ++j)
          Bm[size_t(e * d.L + j)] = k8.q[size_t((b * d.L + j) * d.E + h * d.dh + e)];
      const std::vector<int32_t> scores = run(qk_op.shape, A.data(), Bm.data());
      // Softmax in float on the vector unit. The numerators e = exp(score - row max) lie in
      // (0, 1] with a 1 in every row; they are quantised as round(127 e) and the division by the
      // row sum is applied to the P V product (a per-row scale, exact after the GEMM).
      const float score_scale = float(q8.scale * k8.scale / std::sqrt(double(d.dh)));
      for (int64_t i = 0; i < d.S; ++i) {
        float mx = -INFINITY;
        for (int64_t j = 0; j < d.L; ++j)
          if (visible(d, p.causal, i, j))
            mx = std::max(mx, scores[size_t(i * d.L + j)] * score_scale);
        float sum = 0;
        for (int64_t j = 0; j < d.L; ++j) {
          const float e = visible(d, p.causal, i, j)
                              ? std::exp(scores[size_t(i * d.L + j)] * score_scale - mx)
                              : 0.0f;
          A[size_t(i * d.L + j)] = int8_t(std::lround(127.0f * e));
          sum += e;
        }
        row_sum[size_t(i)] = sum;
      }
      for (int64_t j = 0; j < d.L; ++j)  // V_h: [L][dh]
        for (int64_t e = 0; e < d.dh; ++e)
          Bm[size_t(j * d.dh + e)] = v8.q[size_t((b * d.L + j) * d.E + h * d.dh + e)];
      const std::vector<int32_t> o = run(av_op.shape, A.data(), Bm.data());
      for (int64_t i = 0; i < d.S; ++i)
        for (int64_t e = 0; e < d.dh; ++e)
          O[size_t((b * d.S + i) * d.E + h * d.dh + e)] =
              o[size_t(i * d.dh + e)] * v8.scale / (127.0 * row_sum[size_t(i)]);
    }

  const Quant o8 = quantize(O);
  return to_real(run(out_op.shape, o8.q.data(), in.wo.data()), o8.scale * in.w_scale);
}

}  // namespace ssim
