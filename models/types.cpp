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

FoldGrid FoldGrid::make(Dataflow df, int rows, int cols, int64_t m0, int64_t mlen, int64_t n0,
                        int64_t nlen, int64_t k0, int64_t klen, bool cont, bool more) {
  FoldGrid g;
  g.m0 = m0, g.n0 = n0, g.k0 = k0;
  g.mlen = mlen, g.nlen = nlen, g.klen = klen;
  g.R = rows, g.C = cols;
  g.df = df;
  g.cont = cont, g.more = more;
  return g;
}

FoldGrid FoldGrid::single(Dataflow df, int64_t m0, int64_t mlen, int64_t n0, int64_t nlen,
                          int64_t k0, int64_t klen, bool cont, bool more) {
  const SpatialMap sm = spatial_map(df, GemmShape{mlen, nlen, klen});
  return make(df, int(std::max<int64_t>(1, sm.Sr)), int(std::max<int64_t>(1, sm.Sc)), m0, mlen, n0,
              nlen, k0, klen, cont, more);
}

int64_t FoldGrid::sr_chunks() const {
  const int64_t sr = map().Sr;
  return sr > 0 && R > 0 ? (sr <= R ? 1 : ceil_div(sr, R)) : 0;
}

int64_t FoldGrid::sc_chunks() const {
  const int64_t sc = map().Sc;
  return sc > 0 && C > 0 ? (sc <= C ? 1 : ceil_div(sc, C)) : 0;
}

int32_t FoldGrid::edge_rows() const {
  const int64_t sr = map().Sr;
  return int32_t(sr - (sr_chunks() - 1) * R);
}

int32_t FoldGrid::edge_cols() const {
  const int64_t sc = map().Sc;
  return int32_t(sc - (sc_chunks() - 1) * C);
}

FoldShape FoldGrid::shape_at(int64_t sc, int64_t sr) const {
  const SpatialMap sm = map();
  return FoldShape{int32_t(std::min<int64_t>(R, sm.Sr - sr * R)),
                   int32_t(std::min<int64_t>(C, sm.Sc - sc * C)), sm.T};
}

Fold FoldGrid::fold_at(uint64_t i) const {
  const int64_t nsr = sr_chunks();
  const int64_t sc = int64_t(i) / nsr, sr = int64_t(i) % nsr;
  const FoldShape s = shape_at(sc, sr);
  Fold f;
  switch (df) {
    case Dataflow::OS:  // rows = M, cols = N
      f = make_fold(df, m0 + sr * R, s.rows, n0 + sc * C, s.cols, k0, klen);
      break;
    case Dataflow::WS:  // rows = K, cols = N
      f = make_fold(df, m0, mlen, n0 + sc * C, s.cols, k0 + sr * R, s.rows);
      break;
    case Dataflow::IS:  // rows = K, cols = M
      f = make_fold(df, m0 + sc * C, s.cols, n0, nlen, k0 + sr * R, s.rows);
      break;
  }
  f.cont = cont && i == 0;
  f.more = more && i + 1 == size();
  return f;
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
