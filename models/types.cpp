#include "models/types.hpp"

#include <algorithm>
#include <cctype>

namespace ssim {

std::string to_string(Dataflow df) {
  switch (df) {
    case Dataflow::OS:
      return "os";
    case Dataflow::WS:
      return "ws";
    case Dataflow::IS:
      return "is";
  }
  return "?";
}

Dataflow parse_dataflow(const std::string& s) {
  std::string l;
  for (char ch : s) l += char(std::tolower(static_cast<unsigned char>(ch)));
  if (l == "os") return Dataflow::OS;
  if (l == "ws") return Dataflow::WS;
  if (l == "is") return Dataflow::IS;
  throw InputError("dataflow '" + s + "': expected os, ws or is");
}

SpatialMap spatial_map(Dataflow df, const GemmShape& g) {
  switch (df) {
    case Dataflow::OS:
      return {g.M, g.N, g.K};
    case Dataflow::WS:
      return {g.K, g.N, g.M};
    case Dataflow::IS:
      return {g.K, g.M, g.N};
  }
  return {};
}

Fold make_fold(Dataflow df, int64_t m0, int64_t mlen, int64_t n0, int64_t nlen, int64_t k0,
               int64_t klen) {
  Fold f;
  f.m0 = m0;
  f.n0 = n0;
  f.k0 = k0;
  f.mlen = mlen;
  f.nlen = nlen;
  f.klen = klen;
  const SpatialMap sm = spatial_map(df, GemmShape{mlen, nlen, klen});
  f.rows = static_cast<int32_t>(sm.Sr);
  f.cols = static_cast<int32_t>(sm.Sc);
  f.T = sm.T;
  return f;
}

FoldList fold_gemm(Dataflow df, int rows, int cols, int64_t m0, int64_t mlen, int64_t n0,
                   int64_t nlen, int64_t k0, int64_t klen) {
  FoldList out;
  const SpatialMap sm = spatial_map(df, GemmShape{mlen, nlen, klen});
  for (int64_t sc = 0; sc < sm.Sc; sc += cols) {
    const int64_t cl = std::min<int64_t>(cols, sm.Sc - sc);
    for (int64_t sr = 0; sr < sm.Sr; sr += rows) {
      const int64_t rl = std::min<int64_t>(rows, sm.Sr - sr);
      switch (df) {
        case Dataflow::OS:  // rows = M, cols = N
          out.push_back(make_fold(df, m0 + sr, rl, n0 + sc, cl, k0, klen));
          break;
        case Dataflow::WS:  // rows = K, cols = N
          out.push_back(make_fold(df, m0, mlen, n0 + sc, cl, k0 + sr, rl));
          break;
        case Dataflow::IS:  // rows = K, cols = M
          out.push_back(make_fold(df, m0 + sc, cl, n0, nlen, k0 + sr, rl));
          break;
      }
    }
  }
  return out;
}

bool continues_fold(Dataflow df, const Fold& prev, const Fold& next) {
  if (!prev.more || !next.cont || prev.rows != next.rows || prev.cols != next.cols) return false;
  switch (df) {
    case Dataflow::WS:
      return next.k0 == prev.k0 && next.klen == prev.klen && next.n0 == prev.n0 &&
             next.nlen == prev.nlen && next.m0 == prev.m0 + prev.mlen;
    case Dataflow::IS:
      return next.k0 == prev.k0 && next.klen == prev.klen && next.m0 == prev.m0 &&
             next.mlen == prev.mlen && next.n0 == prev.n0 + prev.nlen;
    case Dataflow::OS:
      return next.m0 == prev.m0 && next.mlen == prev.mlen && next.n0 == prev.n0 &&
             next.nlen == prev.nlen && next.k0 == prev.k0 + prev.klen;
  }
  return false;
}

std::string to_string(VectorKind k) {
  switch (k) {
    case VectorKind::Add:
      return "add";
    case VectorKind::Mul:
      return "mul";
    case VectorKind::Relu:
      return "relu";
    case VectorKind::Relu6:
      return "relu6";
    case VectorKind::Gelu:
      return "gelu";
    case VectorKind::Silu:
      return "silu";
    case VectorKind::Sigmoid:
      return "sigmoid";
    case VectorKind::Tanh:
      return "tanh";
    case VectorKind::LayerNorm:
      return "layernorm";
    case VectorKind::Softmax:
      return "softmax";
    case VectorKind::MaxPool:
      return "maxpool";
    case VectorKind::AvgPool:
      return "avgpool";
  }
  return "?";
}

}  // namespace ssim
