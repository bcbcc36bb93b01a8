// Core types shared by the hardware models (models/), the driver (sim/) and the workloads.
// The cycle accounting these types carry is specified in docs/cycle-accounting.md.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssim {

inline int64_t ceil_div(int64_t a, int64_t b) {  // a, b > 0
  return (a + b - 1) / b;
}
inline int64_t round_up(int64_t a, int64_t u) {  // a, u > 0: the multiple of u at or above a
  return ceil_div(a, u) * u;
}

// Every error the library detects in user input is thrown as this; only main() turns it into a
// message and exit code 2. The message is one line: where (file:line or key), the value, what is
// allowed.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Dataflow { OS, WS, IS };

std::string to_string(Dataflow df);             // "os", "ws", "is"
Dataflow parse_dataflow(const std::string& s);  // case-insensitive; throws InputError

// A GEMM: C[M x N] = A[M x K] * B[K x N]. A is the input (ifmap), B the weights (filter).
struct GemmShape {
  int64_t M = 0, N = 0, K = 0;
  uint64_t macs() const { return uint64_t(M) * uint64_t(N) * uint64_t(K); }
};

// How a GEMM maps onto the array (SCALE-Sim v2's convention):
//   OS: Sr = M, Sc = N, T = K      WS: Sr = K, Sc = N, T = M      IS: Sr = K, Sc = M, T = N
struct SpatialMap {
  int64_t Sr = 0, Sc = 0, T = 0;
};
inline SpatialMap spatial_map(Dataflow df, const GemmShape& g) {
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

// One fold: the part of a GEMM that occupies the array at once. It covers the sub-GEMM
// C[m0 .. m0+mlen, n0 .. n0+nlen] += A[m0.., k0 .. k0+klen] * B[k0.., n0..].
// rows/cols are the PEs used (r <= R, c <= C, placed at the top-left corner of the array) and
// T the number of vectors streamed, as given by spatial_map() on (mlen, nlen, klen).
//
// A fold's stream may come from several SRAM blocks in turn (docs/cycle-accounting.md,
// "Streams that span blocks"): then the fold is a chain of segments, one Fold record each, in
// consecutive order. Every segment has the fold's stationary tile and rows/cols, and covers a
// consecutive part of its stream (WS: rows m0.. of A; IS: columns n0.. of B; OS: k0.. of K), so T
// is the segment's share. `cont`: the segment continues the previous record's fold (no new
// preload, no new accumulators). `more`: another segment of the same fold follows (the stationary
// bank stays in use; OS: no drain yet).
struct Fold {
  int64_t m0 = 0, n0 = 0, k0 = 0;
  int64_t mlen = 0, nlen = 0, klen = 0;
  int32_t rows = 0, cols = 0;
  int64_t T = 0;
  bool cont = false;
  bool more = false;
  uint64_t macs() const { return uint64_t(mlen) * uint64_t(nlen) * uint64_t(klen); }
};

// Makes the fold covering the given sub-GEMM under a dataflow (fills rows, cols, T).
Fold make_fold(Dataflow df, int64_t m0, int64_t mlen, int64_t n0, int64_t nlen, int64_t k0,
               int64_t klen);

// A fold's shape: the PEs it uses and the vectors it streams.
struct FoldShape {
  int32_t rows = 0, cols = 0;
  int64_t T = 0;
  bool operator==(const FoldShape& o) const { return rows == o.rows && cols == o.cols && T == o.T; }
  bool operator!=(const FoldShape& o) const { return !(*this == o); }
};

// The folds of a sub-GEMM on an R x C array under a dataflow, in canonical order (Sc-chunks
// outer, Sr-chunks inner, so for WS and IS the K-chunks that accumulate into the same outputs are
// consecutive), described rather than stored: fold i is computed on demand. Every fold has the
// uniform shape (min(R, Sr), min(C, Sc), T) except the last Sr-chunk of each Sc-chunk (edge_rows())
// and the folds of the last Sc-chunk (edge_cols()). A tile command or a program step carries one.
//
// Segment form: `cont` marks the first fold as a continuation segment of the fold before the grid
// (Fold::cont), `more` marks the last fold as followed by a further segment (Fold::more). A
// planned step is a grid of one fold segment: its sub-GEMM fits the array.
struct FoldGrid {
  int64_t m0 = 0, n0 = 0, k0 = 0;        // the sub-GEMM's origin
  int64_t mlen = 0, nlen = 0, klen = 0;  // and extents
  int32_t R = 0, C = 0;                  // the array the grid is cut for
  Dataflow df = Dataflow::WS;
  bool cont = false;
  bool more = false;

  // The grid of a sub-GEMM on an R x C array.
  static FoldGrid make(Dataflow df, int rows, int cols, int64_t m0, int64_t mlen, int64_t n0,
                       int64_t nlen, int64_t k0, int64_t klen, bool cont = false,
                       bool more = false);
  // The grid of one fold: the sub-GEMM cut for an array of exactly its size.
  static FoldGrid single(Dataflow df, int64_t m0, int64_t mlen, int64_t n0, int64_t nlen,
                         int64_t k0, int64_t klen, bool cont = false, bool more = false);

  SpatialMap map() const { return spatial_map(df, GemmShape{mlen, nlen, klen}); }
  int64_t sr_chunks() const;  // ceil(Sr / R)
  int64_t sc_chunks() const;  // ceil(Sc / C)
  // One fold, the whole sub-GEMM (every planned step's grid): its Sr and Sc fit R and C.
  bool one_fold() const {
    const int64_t sr = df == Dataflow::OS ? mlen : klen, sc = df == Dataflow::IS ? mlen : nlen;
    return sr > 0 && sc > 0 && sr <= R && sc <= C;
  }
  uint64_t size() const { return one_fold() ? 1 : uint64_t(sr_chunks()) * uint64_t(sc_chunks()); }
  bool empty() const { return size() == 0; }
  FoldShape shape() const {  // the uniform fold's
    const SpatialMap sm = map();
    return FoldShape{int32_t(std::min<int64_t>(R, sm.Sr)), int32_t(std::min<int64_t>(C, sm.Sc)),
                     sm.T};
  }
  int32_t edge_rows() const;  // rows of the last Sr-chunk (== shape().rows when R divides Sr)
  int32_t edge_cols() const;  // columns of the last Sc-chunk
  // The shape of the fold in Sc-chunk `sc`, Sr-chunk `sr`.
  FoldShape shape_at(int64_t sc, int64_t sr) const;
  uint64_t macs() const { return uint64_t(mlen) * uint64_t(nlen) * uint64_t(klen); }

  // Fold i in canonical order (i < size()), with cont on fold 0 and more on the last as set.
  Fold operator[](uint64_t i) const { return one_fold() ? whole_fold() : fold_at(i); }
  Fold front() const { return (*this)[0]; }
  Fold back() const { return (*this)[size() - 1]; }
  // The one fold (one_fold()): the sub-GEMM itself, rows, cols and T by spatial_map().
  Fold whole_fold() const {
    Fold f;
    f.m0 = m0, f.n0 = n0, f.k0 = k0, f.mlen = mlen, f.nlen = nlen, f.klen = klen;
    const bool os = df == Dataflow::OS, is = df == Dataflow::IS;
    f.rows = int32_t(os ? mlen : klen);
    f.cols = int32_t(is ? mlen : nlen);
    f.T = os ? klen : df == Dataflow::WS ? mlen : nlen;
    f.cont = cont, f.more = more;
    return f;
  }
  Fold fold_at(uint64_t i) const;  // fold i of any grid
  // Moves the sub-GEMM's origin.
  void shift(int64_t dm, int64_t dn, int64_t dk) {
    m0 += dm;
    n0 += dn;
    k0 += dk;
  }

  // Iteration over the folds (each computed when dereferenced).
  class iterator {
   public:
    iterator(const FoldGrid* g, uint64_t i) : g_(g), i_(i) {}
    Fold operator*() const { return (*g_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const FoldGrid* g_;
    uint64_t i_;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, size()); }
};

// Whether `next` may continue the fold of `prev` as its next segment: `prev` has `more` set,
// `next` has `cont` set, the same stationary tile and rows/cols, and its stream part follows
// prev's (WS: m0 = prev's m0 + mlen; IS: n0; OS: k0).
bool continues_fold(Dataflow df, const Fold& prev, const Fold& next);

// A command to the array: a grid of folds whose operands are all in the scratchpads.
struct TileCmd {
  uint64_t id = 0;
  FoldGrid folds;
};

struct ArrayConfig {
  int rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::WS;
  bool fold_overlap = false;
};

// Operand and result values for a value-carrying run. A is M x K, B is K x N (int8, row-major);
// the array accumulates into C (M x N, int32, row-major), which the caller zero-initialises.
struct GemmData {
  GemmShape shape;
  const int8_t* A = nullptr;
  const int8_t* B = nullptr;
  int32_t* C = nullptr;
};

// Completion of a tile command: the cycle in which the tile's last output left the array.
struct TileDone {
  uint64_t id = 0;
  int64_t end_cycle = 0;
  bool stationary = false;  // read notifications: the stationary tile's preload has ended
};

// What an array model counts over a job.
struct ArrayStats {
  uint64_t macs = 0;              // useful multiply-accumulates (sum of fold macs)
  uint64_t folds = 0;             // folds executed (a chain of segments counts once)
  uint64_t segments = 0;          // Fold records executed (segments of folds included)
  uint64_t mapped_pe_cycles = 0;  // sum over folds of rows * cols * T (for mapping efficiency)
  int64_t first_cycle = -1;       // first cycle any fold did work (preload or stream)
  int64_t last_cycle = -1;        // last cycle of the last fold (its E)
  // Cycles in [0, last_cycle] in which no fold was in flight (a fold is in flight from its first
  // preload cycle, or first stream cycle for OS, to its E): the array waited for data.
  int64_t idle_cycles = 0;
};

// The kinds of op the vector unit runs (a lowered network's vector ops, workloads/lower.hpp).
enum class VectorKind {
  Add,
  Mul,
  Relu,
  Relu6,
  Gelu,
  Silu,
  Sigmoid,
  Tanh,
  LayerNorm,
  Softmax,
  MaxPool,
  AvgPool
};
std::string to_string(VectorKind k);  // "add", "mul", ..., "softmax", "maxpool", "avgpool"

}  // namespace ssim
