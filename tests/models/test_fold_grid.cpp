// Tests of FoldGrid (models/types.*) and of the fast array model's closed form for runs of
// identical folds (models/systolic_array_fast.*, docs/cycle-accounting.md "Runs of identical
// folds"). The reference folds are expanded here by the canonical-order loops, written out
// independently; the closed form is checked against fold-by-fold stepping, against the
// cycle-by-cycle array and against the doc's closed forms for identical folds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "models/array_harness.hpp"
#include "models/systolic_array_fast.hpp"
#include "models/types.hpp"
#include "tests/array_test_util.hpp"

namespace ssim {
namespace {

const Dataflow kAll[] = {Dataflow::OS, Dataflow::WS, Dataflow::IS};

// The folds of a sub-GEMM on an R x C array, Sc-chunks outer and Sr-chunks inner
// (OS: Sr = M, Sc = N, T = K; WS: Sr = K, Sc = N, T = M; IS: Sr = K, Sc = M, T = N).
std::vector<Fold> expand(Dataflow df, int64_t R, int64_t C, int64_t m0, int64_t mlen, int64_t n0,
                         int64_t nlen, int64_t k0, int64_t klen, bool cont, bool more) {
  const int64_t Sr = df == Dataflow::OS ? mlen : klen;
  const int64_t Sc = df == Dataflow::IS ? mlen : nlen;
  std::vector<Fold> out;
  for (int64_t sc = 0; sc < Sc; sc += C)
    for (int64_t sr = 0; sr < Sr; sr += R) {
      const int64_t rl = std::min(R, Sr - sr), cl = std::min(C, Sc - sc);
      Fold f;
      f.rows = int32_t(rl);
      f.cols = int32_t(cl);
      f.m0 = m0, f.mlen = mlen, f.n0 = n0, f.nlen = nlen, f.k0 = k0, f.klen = klen;
      if (df == Dataflow::OS) {
        f.m0 = m0 + sr, f.mlen = rl, f.n0 = n0 + sc, f.nlen = cl, f.T = klen;
      } else if (df == Dataflow::WS) {
        f.k0 = k0 + sr, f.klen = rl, f.n0 = n0 + sc, f.nlen = cl, f.T = mlen;
      } else {
        f.k0 = k0 + sr, f.klen = rl, f.m0 = m0 + sc, f.mlen = cl, f.T = nlen;
      }
      out.push_back(f);
    }
  if (!out.empty()) {
    out.front().cont = cont;
    out.back().more = more;
  }
  return out;
}

bool same(const Fold& a, const Fold& b) {
  return std::tie(a.m0, a.n0, a.k0, a.mlen, a.nlen, a.klen, a.rows, a.cols, a.T, a.cont, a.more) ==
         std::tie(b.m0, b.n0, b.k0, b.mlen, b.nlen, b.klen, b.rows, b.cols, b.T, b.cont, b.more);
}

std::string show(const Fold& f) {
  return "m" + std::to_string(f.m0) + "+" + std::to_string(f.mlen) + " n" + std::to_string(f.n0) +
         "+" + std::to_string(f.nlen) + " k" + std::to_string(f.k0) + "+" + std::to_string(f.klen) +
         " " + std::to_string(f.rows) + "x" + std::to_string(f.cols) + " T" + std::to_string(f.T) +
         (f.cont ? " cont" : "") + (f.more ? " more" : "");
}

// A dimension that is often a multiple of the array side (long runs of identical folds) and
// otherwise leaves an edge.
int64_t dim(std::mt19937_64& rng, int64_t side, int64_t max_chunks) {
  const int64_t chunks = 1 + int64_t(rng() % uint64_t(max_chunks));
  return rng() % 2 ? chunks * side : (chunks - 1) * side + 1 + int64_t(rng() % uint64_t(side));
}

TEST(FoldGrid, FoldsEqualTheCanonicalExpansion) {
  std::mt19937_64 rng(1);
  for (int it = 0; it < 600; ++it) {
    const int R = 1 + int(rng() % 16), C = 1 + int(rng() % 16);
    const Dataflow df = kAll[rng() % 3];
    const int64_t m0 = int64_t(rng() % 100), n0 = int64_t(rng() % 100), k0 = int64_t(rng() % 100);
    const int64_t mlen = 1 + int64_t(rng() % 70), nlen = 1 + int64_t(rng() % 70),
                  klen = 1 + int64_t(rng() % 70);
    const bool cont = rng() % 2, more = rng() % 2;
    const FoldGrid g = FoldGrid::make(df, R, C, m0, mlen, n0, nlen, k0, klen, cont, more);
    const std::vector<Fold> x = expand(df, R, C, m0, mlen, n0, nlen, k0, klen, cont, more);
    const std::string what = "it " + std::to_string(it) + " " + to_string(df) + " " +
                             std::to_string(R) + "x" + std::to_string(C);
    ASSERT_EQ(g.size(), x.size()) << what;
    ASSERT_FALSE(g.empty());
    // Chunk counts: x is Sc-chunks of Sr-chunks.
    int64_t nsr = 0;
    while (nsr < int64_t(x.size()) && x[size_t(nsr)].cols == x[0].cols &&
           (nsr == 0 ||
            !(df == Dataflow::OS ? x[size_t(nsr)].m0 == x[0].m0 : x[size_t(nsr)].k0 == x[0].k0)))
      ++nsr;
    EXPECT_EQ(g.sr_chunks(), nsr) << what;
    EXPECT_EQ(g.sc_chunks() * nsr, int64_t(x.size())) << what;
    EXPECT_EQ(g.shape(), (FoldShape{x[0].rows, x[0].cols, x[0].T})) << what;
    EXPECT_EQ(g.edge_rows(), x[size_t(nsr - 1)].rows) << what;
    EXPECT_EQ(g.edge_cols(), x.back().cols) << what;
    uint64_t macs = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const Fold f = g[i];
      ASSERT_TRUE(same(f, x[i])) << what << " fold " << i << ": " << show(f) << " vs "
                                 << show(x[i]);
      const FoldShape s = g.shape_at(int64_t(i) / nsr, int64_t(i) % nsr);
      EXPECT_EQ(s, (FoldShape{x[i].rows, x[i].cols, x[i].T})) << what << " fold " << i;
      macs += x[i].macs();
    }
    EXPECT_EQ(g.macs(), macs) << what;
    EXPECT_TRUE(same(g.front(), x.front())) << what;
    EXPECT_TRUE(same(g.back(), x.back())) << what;
    size_t i = 0;
    for (const Fold& f : g) EXPECT_TRUE(same(f, x[i++])) << what;
    EXPECT_EQ(i, x.size());
    // shift() moves the origin only.
    FoldGrid h = g;
    h.shift(3, 5, 7);
    const Fold a = h[x.size() - 1], b = x.back();
    EXPECT_EQ(a.m0, b.m0 + 3);
    EXPECT_EQ(a.n0, b.n0 + 5);
    EXPECT_EQ(a.k0, b.k0 + 7);
  }
  // One fold: the sub-GEMM cut for an array of its own size.
  const FoldGrid one = FoldGrid::single(Dataflow::WS, 4, 9, 8, 5, 12, 3, true, false);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(same(one[0], expand(Dataflow::WS, 3, 5, 4, 9, 8, 5, 12, 3, true, false)[0]));
}

// A random command sequence: grids of random sub-GEMMs (long runs and edges), now and then a
// grid whose last fold goes on in continuation segments (single-fold grids), arriving at random
// gaps (back to back, small, large).
std::vector<TileArrival> random_commands(std::mt19937_64& rng, const ArrayConfig& cfg) {
  const Dataflow df = cfg.dataflow;
  const int64_t R = cfg.rows, C = cfg.cols;
  const int n = 1 + int(rng() % 6);
  std::vector<TileArrival> out;
  int64_t at = int64_t(rng() % 30);
  bool open = false;
  Fold last;
  for (int i = 0; i < n || open; ++i) {
    TileArrival t;
    t.cycle = at;
    t.tile.id = uint64_t(100 + i);
    const bool more = i + 1 < n && rng() % 4 == 0;
    if (open) {  // the next segment of the last fold
      const int64_t len = 1 + int64_t(rng() % 12);
      Fold s = last;
      if (df == Dataflow::WS) s.m0 += s.mlen, s.mlen = len;
      if (df == Dataflow::IS) s.n0 += s.nlen, s.nlen = len;
      if (df == Dataflow::OS) s.k0 += s.klen, s.klen = len;
      t.tile.folds =
          FoldGrid::make(df, int(R), int(C), s.m0, s.mlen, s.n0, s.nlen, s.k0, s.klen, true, more);
    } else {
      const int64_t Sr = dim(rng, R, rng() % 3 ? 6 : 24), Sc = dim(rng, C, 5);
      const int64_t T = rng() % 3 ? 1 + int64_t(rng() % 40) : 1 + int64_t(rng() % 4);
      int64_t m = 0, nn = 0, k = 0;
      if (df == Dataflow::OS) m = Sr, nn = Sc, k = T;
      if (df == Dataflow::WS) k = Sr, nn = Sc, m = T;
      if (df == Dataflow::IS) k = Sr, m = Sc, nn = T;
      t.tile.folds = FoldGrid::make(df, int(R), int(C), int64_t(rng() % 50), m, int64_t(rng() % 50),
                                    nn, int64_t(rng() % 50), k, false, more);
    }
    last = t.tile.folds.back();
    open = last.more;
    out.push_back(t);
    const int kind = int(rng() % 3);
    at += kind == 0 ? 0 : kind == 1 ? int64_t(rng() % 20) : int64_t(rng() % 400);
  }
  return out;
}

HarnessResult fold_by_fold(const ArrayConfig& cfg, const std::vector<TileArrival>& tiles) {
  SystolicArrayFast::set_fold_by_fold_for_tests(true);
  HarnessResult r = run_on_array(ArrayKind::Fast, cfg, tiles);
  SystolicArrayFast::set_fold_by_fold_for_tests(false);
  return r;
}

TEST(FoldGrid, ClosedFormEqualsFoldByFoldAndTheCycleModel) {
  std::mt19937_64 rng(7);
  uint64_t folds = 0, stepped = 0;
  for (int it = 0; it < 900; ++it) {
    const ArrayConfig cfg{1 + int(rng() % 16), 1 + int(rng() % 16), kAll[it % 3],
                          (it / 3) % 2 == 0};
    const std::vector<TileArrival> tiles = random_commands(rng, cfg);
    const std::string what = "it " + std::to_string(it) + " " + to_string(cfg.dataflow) + " " +
                             std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) +
                             (cfg.fold_overlap ? " overlap" : "") + " tiles " +
                             std::to_string(tiles.size());
    const HarnessResult closed = run_on_array(ArrayKind::Fast, cfg, tiles);
    const HarnessResult step = fold_by_fold(cfg, tiles);
    const HarnessResult cycle = run_on_array(ArrayKind::Cycle, cfg, tiles);
    expect_same_run(closed, step, what + " (closed form vs fold by fold)");
    expect_same_run(closed, cycle, what + " (closed form vs cycle model)");
    ASSERT_EQ(step.stepped_folds, step.stats.segments) << what;
    folds += closed.stats.segments;
    stepped += closed.stepped_folds;
  }
  // The closed form did its part: most folds were jumped over.
  EXPECT_LT(stepped * 2, folds) << stepped << " of " << folds << " folds stepped";
}

// WS with overlap, full 8 x 8 folds streaming one vector: the preload path and the bank reuse
// alternate (cycle mean (r + T + R + c - 2) / 2 = 11.5 per fold), so the state repeats every two
// folds, not every fold.
TEST(FoldGrid, PeriodTwoRuns) {
  for (Dataflow df : {Dataflow::WS, Dataflow::IS}) {
    const ArrayConfig cfg{8, 8, df, true};
    TileArrival t;
    t.tile.folds = df == Dataflow::WS ? FoldGrid::make(df, 8, 8, 0, 1, 0, 8 * 50, 0, 8 * 50)
                                      : FoldGrid::make(df, 8, 8, 0, 8 * 50, 0, 1, 0, 8 * 50);
    const HarnessResult closed = run_on_array(ArrayKind::Fast, cfg, {t});
    const HarnessResult step = fold_by_fold(cfg, {t});
    expect_same_run(closed, step, to_string(df));
    EXPECT_EQ(closed.stats.folds, 2500u);
    EXPECT_LT(closed.stepped_folds, 100u);
    // 2500 folds, two every 23 cycles after the first: from the recurrences by hand,
    // p_f = 23 * (f / 2) + 8 * (f % 2), s_f = p_f + 8, E_f = s_f + 1 + 8 + 8 - 3.
    const int64_t f = 2499;
    EXPECT_EQ(closed.total_cycles, 23 * (f / 2) + 8 * (f % 2) + 8 + 14 + 1) << to_string(df);
  }
}

// A million identical folds, everything available at cycle 0: the totals of
// docs/cycle-accounting.md for identical folds, with and without overlap.
TEST(FoldGrid, MillionFoldsMatchTheDocsClosedForms) {
  const int64_t R = 4, C = 4, n = 1024 * 1024;
  for (Dataflow df : kAll)
    for (bool ov : {false, true}) {
      const ArrayConfig cfg{int(R), int(C), df, ov};
      const int64_t T = 16;  // >= r + R + c - 2 (WS, IS) and r + c + R - 1 (OS): preloads hidden
      const int64_t side = 1024;
      TileArrival t;
      if (df == Dataflow::OS)
        t.tile.folds = FoldGrid::make(df, 4, 4, 0, R * side, 0, C * side, 0, T);
      if (df == Dataflow::WS)
        t.tile.folds = FoldGrid::make(df, 4, 4, 0, T, 0, C * side, 0, R * side);
      if (df == Dataflow::IS)
        t.tile.folds = FoldGrid::make(df, 4, 4, 0, C * side, 0, T, 0, R * side);
      const HarnessResult r = run_on_array(ArrayKind::Fast, cfg, {t});
      const std::string what = to_string(df) + (ov ? " overlap" : "");
      const int64_t r0 = R, c0 = C;
      int64_t total = 0;
      if (!ov)  // per fold r + T + R + c - 2 (WS, IS), T + r + c + R - 2 (OS): the same sum
        total = n * (r0 + T + R + c0 - 2);
      else if (df == Dataflow::OS)
        total = n * T + r0 + c0 + R - 2;
      else
        total = r0 + n * T + R + c0 - 2;
      EXPECT_EQ(r.total_cycles, total) << what;
      EXPECT_EQ(r.stats.folds, uint64_t(n)) << what;
      EXPECT_EQ(r.stats.macs, uint64_t(n * R * C * T)) << what;
      EXPECT_EQ(r.stats.mapped_pe_cycles, uint64_t(n * R * C * T)) << what;
      EXPECT_EQ(r.stats.idle_cycles, 0) << what;
      EXPECT_LT(r.stepped_folds, 1000u) << what;
    }
}

}  // namespace
}  // namespace ssim
