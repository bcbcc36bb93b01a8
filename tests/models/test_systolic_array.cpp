// Tests of the cycle-by-cycle, value-carrying systolic array (models/systolic_array_cycle.*).
// Every expected number is derived here, independently of the model: C from a plain reference
// matrix multiply, cycle counts from docs/cycle-accounting.md (its closed forms and its
// recurrences, re-implemented below). Each TEST reuses the harness's one SystemC design.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <systemc>
#include <vector>

#include "models/array_harness.hpp"
#include "models/systolic_array_cycle.hpp"
#include "models/types.hpp"
#include "tests/array_test_util.hpp"

namespace ssim {
namespace {

// ---------------------------------------------------------------------------------------------
// Reference values.

struct Matrices {
  GemmShape g;
  std::vector<int8_t> A, B;
  std::vector<int32_t> C;
  GemmData data;

  Matrices(const GemmShape& shape, std::mt19937_64& rng) : g(shape) {
    std::uniform_int_distribution<int> v(-128, 127);
    A.resize(size_t(g.M * g.K));
    B.resize(size_t(g.K * g.N));
    for (auto& x : A) x = int8_t(v(rng));
    for (auto& x : B) x = int8_t(v(rng));
    C.assign(size_t(g.M * g.N), 0);
    data.shape = g;
    data.A = A.data();
    data.B = B.data();
    data.C = C.data();
  }

  std::vector<int32_t> reference() const {
    std::vector<int32_t> ref(size_t(g.M * g.N), 0);
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < g.N; ++n) {
        int32_t s = 0;
        for (int64_t k = 0; k < g.K; ++k) s += int32_t(A[m * g.K + k]) * int32_t(B[k * g.N + n]);
        ref[m * g.N + n] = s;
      }
    return ref;
  }
};

// ---------------------------------------------------------------------------------------------
// The contract's recurrences (docs/cycle-accounting.md), written out fold by fold.

struct Expected {
  std::map<uint64_t, int64_t> tile_end;  // tile id -> cycle of its last output
  int64_t first = -1, last = -1, idle = 0;
  uint64_t macs = 0, folds = 0, mapped = 0;
  int64_t total() const { return last + 1; }
};

// Folds may be chains of segments (Fold::cont / more; "Streams that span blocks"): a segment
// continues its fold's stream with no preload (WS, IS) and no new accumulators (OS).
Expected expected_schedule(const ArrayConfig& cfg, std::vector<TileArrival> tiles) {
  std::stable_sort(tiles.begin(), tiles.end(),
                   [](const TileArrival& a, const TileArrival& b) { return a.cycle < b.cycle; });
  const int64_t R = cfg.rows, C = cfg.cols;
  const bool os = cfg.dataflow == Dataflow::OS, ov = cfg.fold_overlap;
  std::vector<int64_t> start, E;   // per segment, in execution order
  std::vector<int64_t> chain_end;  // per fold: the end of its last segment so far
  int64_t pr1 = 0;                 // previous fold's preload start + rows (preload path free)
  int64_t st1 = 0;                 // previous segment's stream start + T (left edge free)
  Expected x;
  for (const TileArrival& ta : tiles) {
    int64_t tile_end = -1;
    for (const Fold& fo : ta.tile.folds) {
      const int64_t a = ta.cycle, r = fo.rows, c = fo.cols, T = fo.T;
      if (!fo.cont) chain_end.push_back(-1);
      const size_t k = chain_end.size() - 1;  // this fold
      // Ends of the folds before this one (-1: none).
      const int64_t E1 = k >= 1 ? chain_end[k - 1] : -1, E2 = k >= 2 ? chain_end[k - 2] : -1;
      int64_t act = 0, s = 0, e = 0;
      if (os) {
        s = std::max(a, st1);
        if (!fo.cont && !ov) s = std::max(a, E1 + 1);
        if (!fo.more && ov) s = std::max(s, E1 - T + 2);
        if (fo.more)
          e = s + T + r + c - 3;
        else
          e = std::max(s + T + r + c - 2, E1 + 1) + R - 1;
        act = s;
      } else if (fo.cont) {
        s = std::max(a, st1);
        e = s + T + R + c - 3;
        act = s;
      } else {
        const int64_t p = ov ? std::max({a, pr1, E2 + 1}) : std::max(a, E1 + 1);
        s = ov ? std::max(p + r, st1) : p + r;
        e = s + T + R + c - 3;
        act = p;
        pr1 = p + r;
      }
      st1 = s + T;
      chain_end[k] = e;
      start.push_back(act);
      E.push_back(e);
      tile_end = std::max(tile_end, e);
      x.macs += fo.macs();
      x.folds += fo.cont ? 0 : 1;
      x.mapped += uint64_t(R * C * T);
    }
    x.tile_end[ta.tile.id] = tile_end;
  }
  // Idle cycles: the cycles of [0, last] that no interval [start_f, E_f] covers.
  int64_t covered_to = -1;
  for (size_t f = 0; f < E.size(); ++f) {
    if (start[f] > covered_to + 1) x.idle += start[f] - (covered_to + 1);
    covered_to = std::max(covered_to, E[f]);
  }
  x.first = start.empty() ? -1 : start.front();
  x.last = covered_to;
  return x;
}

// Cuts every fold's stream into segments at random points (WS: rows of A, IS: columns of B, OS:
// the K range), each segment its own tile, arriving `gap` cycles apart with a random gap.
std::vector<TileArrival> segmented(const ArrayConfig& cfg, const GemmShape& g, std::mt19937_64& rng,
                                   int64_t max_gap) {
  std::vector<TileArrival> out;
  int64_t at = 0;
  uint64_t id = 500;
  for (const Fold& f : FoldGrid::make(cfg.dataflow, cfg.rows, cfg.cols, 0, g.M, 0, g.N, 0, g.K)) {
    int64_t t0 = 0;
    while (t0 < f.T) {
      const int64_t len =
          std::min(f.T - t0, int64_t(1 + rng() % uint64_t(std::max<int64_t>(1, f.T / 2))));
      Fold s = f;
      switch (cfg.dataflow) {
        case Dataflow::WS:
          s = make_fold(cfg.dataflow, f.m0 + t0, len, f.n0, f.nlen, f.k0, f.klen);
          break;
        case Dataflow::IS:
          s = make_fold(cfg.dataflow, f.m0, f.mlen, f.n0 + t0, len, f.k0, f.klen);
          break;
        case Dataflow::OS:
          s = make_fold(cfg.dataflow, f.m0, f.mlen, f.n0, f.nlen, f.k0 + t0, len);
          break;
      }
      s.cont = t0 > 0;
      s.more = t0 + len < f.T;
      TileArrival ta;
      ta.cycle = at;
      ta.tile.id = id++;
      ta.tile.folds =
          FoldGrid::single(cfg.dataflow, s.m0, s.mlen, s.n0, s.nlen, s.k0, s.klen, s.cont, s.more);
      out.push_back(ta);
      at += max_gap ? int64_t(rng() % uint64_t(max_gap + 1)) : 0;
      t0 += len;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

std::vector<TileArrival> one_tile(const ArrayConfig& cfg, const GemmShape& g) {
  TileArrival t;
  t.tile.folds = FoldGrid::make(cfg.dataflow, cfg.rows, cfg.cols, 0, g.M, 0, g.N, 0, g.K);
  return {t};
}

// Cuts the GEMM into tiles of at most tm x tn x tk (each folded canonically), arriving with the
// given gaps after one another (a gap of 0 is back to back).
std::vector<TileArrival> tiled(const ArrayConfig& cfg, const GemmShape& g, int64_t tm, int64_t tn,
                               int64_t tk, const std::vector<int64_t>& gaps) {
  std::vector<TileArrival> out;
  int64_t at = 0;
  uint64_t id = 100;
  for (int64_t n0 = 0; n0 < g.N; n0 += tn)
    for (int64_t m0 = 0; m0 < g.M; m0 += tm)
      for (int64_t k0 = 0; k0 < g.K; k0 += tk) {
        TileArrival t;
        t.cycle = at;
        t.tile.id = id++;
        t.tile.folds = FoldGrid::make(cfg.dataflow, cfg.rows, cfg.cols, m0, std::min(tm, g.M - m0),
                                      n0, std::min(tn, g.N - n0), k0, std::min(tk, g.K - k0));
        out.push_back(t);
        at += gaps.empty() ? 0 : gaps[out.size() % gaps.size()];
      }
  return out;
}

std::string describe(const ArrayConfig& cfg, const GemmShape& g) {
  return std::to_string(cfg.rows) + "x" + std::to_string(cfg.cols) + " " + to_string(cfg.dataflow) +
         (cfg.fold_overlap ? " overlap" : " no-overlap") + " gemm M" + std::to_string(g.M) + " N" +
         std::to_string(g.N) + " K" + std::to_string(g.K);
}

void expect_matches(const HarnessResult& r, const Expected& x, const std::string& what) {
  EXPECT_EQ(r.total_cycles, x.total()) << what;
  EXPECT_EQ(r.stats.last_cycle + 1, x.total()) << what;
  EXPECT_EQ(r.stats.first_cycle, x.first) << what;
  EXPECT_EQ(r.stats.idle_cycles, x.idle) << what;
  EXPECT_EQ(r.stats.macs, x.macs) << what;
  EXPECT_EQ(r.stats.folds, x.folds) << what;
  EXPECT_EQ(r.stats.mapped_pe_cycles, x.mapped) << what;
  ASSERT_EQ(r.done.size(), x.tile_end.size()) << what;
  for (const TileDone& d : r.done) {
    ASSERT_TRUE(x.tile_end.count(d.id)) << what;
    EXPECT_EQ(d.end_cycle, x.tile_end.at(d.id)) << what << " tile " << d.id;
  }
}

const Dataflow kAll[] = {Dataflow::OS, Dataflow::WS, Dataflow::IS};

// A random GEMM dimension for an array side s: often 1, often a multiple of s, often not.
int64_t random_dim(std::mt19937_64& rng, int s) {
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:
      return 1;
    case 1:
      return s * std::uniform_int_distribution<int>(1, 3)(rng);
    default:
      return std::uniform_int_distribution<int>(1, 3 * s + 3)(rng);
  }
}

// ---------------------------------------------------------------------------------------------
// Values.

// Random GEMMs on random array shapes (1x1, 1xN, Nx1, non-square), every dataflow, overlap on and
// off: C equals the reference bit for bit and the cycles equal the contract's recurrences.
TEST(ArrayValues, RandomGemmsOnRandomArrays) {
  std::mt19937_64 rng(2024);
  const int sides[] = {1, 1, 2, 3, 4, 5, 7, 8, 16, 32};
  int cases = 0;
  for (int it = 0; it < 150; ++it) {
    const int R = sides[rng() % 10], C = sides[rng() % 10];
    const GemmShape g{random_dim(rng, R), random_dim(rng, C), random_dim(rng, R)};
    for (Dataflow df : kAll)
      for (bool ov : {false, true}) {
        const ArrayConfig cfg{R, C, df, ov};
        Matrices m(g, rng);
        const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
        ASSERT_EQ(m.C, m.reference()) << describe(cfg, g);
        expect_matches(r, expected_schedule(cfg, one_tile(cfg, g)), describe(cfg, g));
        ++cases;
      }
  }
  EXPECT_EQ(cases, 900);
}

// The edge shapes named in the issue, each on every dataflow with and without overlap.
TEST(ArrayValues, EdgeShapes) {
  std::mt19937_64 rng(7);
  struct Case {
    int R, C;
    GemmShape g;
  };
  const Case cases[] = {
      {1, 1, {5, 4, 3}},  {1, 1, {1, 1, 1}},  {1, 6, {4, 13, 5}},   {6, 1, {13, 4, 5}},
      {4, 4, {1, 9, 9}},  {4, 4, {9, 1, 9}},  {4, 4, {9, 9, 1}},    {4, 4, {1, 1, 1}},
      {3, 5, {6, 10, 9}}, {5, 3, {10, 6, 9}}, {8, 8, {16, 16, 16}}, {8, 8, {17, 15, 9}},
      {2, 7, {1, 30, 2}}, {7, 2, {30, 1, 2}}, {3, 3, {2, 2, 2}},    {16, 4, {3, 40, 33}},
  };
  for (const Case& c : cases)
    for (Dataflow df : kAll)
      for (bool ov : {false, true}) {
        const ArrayConfig cfg{c.R, c.C, df, ov};
        Matrices m(c.g, rng);
        const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, c.g, &m.data);
        ASSERT_EQ(m.C, m.reference()) << describe(cfg, c.g);
        expect_matches(r, expected_schedule(cfg, one_tile(cfg, c.g)), describe(cfg, c.g));
      }
}

// Several tiles of one GEMM arriving at different cycles: back to back, at the same cycle, and
// with gaps long enough for the array to go idle.
TEST(ArrayValues, TilesArrivingAtDifferentCycles) {
  std::mt19937_64 rng(99);
  const std::vector<std::vector<int64_t>> gap_sets = {
      {0}, {1}, {0, 0, 37}, {3, 250, 0, 11}, {400}, {2, 5, 0, 90, 1000}};
  for (int it = 0; it < 40; ++it) {
    const int R = 1 + int(rng() % 9), C = 1 + int(rng() % 9);
    const GemmShape g{random_dim(rng, R) + 3, random_dim(rng, C) + 3, random_dim(rng, R) + 3};
    const int64_t tm = 1 + int64_t(rng() % uint64_t(g.M)), tn = 1 + int64_t(rng() % uint64_t(g.N)),
                  tk = 1 + int64_t(rng() % uint64_t(g.K));
    for (Dataflow df : kAll)
      for (bool ov : {false, true}) {
        const ArrayConfig cfg{R, C, df, ov};
        const auto tiles = tiled(cfg, g, tm, tn, tk, gap_sets[size_t(it) % gap_sets.size()]);
        Matrices m(g, rng);
        const HarnessResult r = run_on_array(ArrayKind::Cycle, cfg, tiles, &m.data);
        const std::string what = describe(cfg, g) + " tiles " + std::to_string(tiles.size());
        ASSERT_EQ(m.C, m.reference()) << what;
        expect_matches(r, expected_schedule(cfg, tiles), what);
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Cycles.

// Without overlap and with everything available at cycle 0 the total is the doc's per-fold sum;
// for WS and IS with full folds that is SCALE-Sim's 2R + C + T - 2 per fold.
TEST(ArrayCycles, NoOverlapPerFoldSums) {
  std::mt19937_64 rng(5);
  for (int it = 0; it < 30; ++it) {
    const int R = 1 + int(rng() % 12), C = 1 + int(rng() % 12);
    const GemmShape g{random_dim(rng, R), random_dim(rng, C), random_dim(rng, R)};
    for (Dataflow df : kAll) {
      const ArrayConfig cfg{R, C, df, false};
      int64_t sum = 0;
      for (const Fold& f : FoldGrid::make(df, R, C, 0, g.M, 0, g.N, 0, g.K))
        sum += df == Dataflow::OS ? f.T + f.rows + f.cols + R - 2 : f.rows + f.T + R + f.cols - 2;
      const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, g);
      EXPECT_EQ(r.total_cycles, sum) << describe(cfg, g);
      EXPECT_EQ(r.stats.idle_cycles, 0) << describe(cfg, g);
    }
  }
  // Full folds: SCALE-Sim's analytical count per fold (WS, IS) and ours coincide.
  for (Dataflow df : {Dataflow::WS, Dataflow::IS}) {
    const int R = 8, C = 4;
    const GemmShape g = df == Dataflow::WS ? GemmShape{50, 12, 24} : GemmShape{12, 50, 24};
    const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, {R, C, df, false}, g);
    EXPECT_EQ(r.stats.folds, 9u);
    EXPECT_EQ(r.total_cycles, 9 * (2 * R + C + 50 - 2));
  }
  // OS: SCALE-Sim's R + C + T - 2 per fold plus the R-cycle drain.
  {
    const int R = 4, C = 8;
    const HarnessResult r =
        run_gemm_on_array(ArrayKind::Cycle, {R, C, Dataflow::OS, false}, GemmShape{12, 16, 30});
    EXPECT_EQ(r.total_cycles, 6 * (R + C + 30 - 2 + R));
  }
}

// With overlap and uniform folds that stream long enough, the preloads (WS, IS) and drains (OS)
// hide completely: the doc's closed forms.
TEST(ArrayCycles, OverlapUniformLongFoldsClosedForms) {
  std::mt19937_64 rng(11);
  for (int it = 0; it < 25; ++it) {
    const int R = 1 + int(rng() % 10), C = 1 + int(rng() % 10);
    const int64_t fr = 1 + int64_t(rng() % 3), fc = 1 + int64_t(rng() % 3);  // folds per side
    for (Dataflow df : kAll) {
      // T long enough: WS/IS T >= r + R + c - 2, OS T >= r + c + R - 1.
      const int64_t T = R + R + C + int64_t(rng() % 20);
      GemmShape g;
      if (df == Dataflow::OS) g = {R * fr, C * fc, T};
      if (df == Dataflow::WS) g = {T, C * fc, R * fr};
      if (df == Dataflow::IS) g = {C * fc, T, R * fr};
      const ArrayConfig cfg{R, C, df, true};
      const int64_t F = fr * fc;
      const int64_t want = df == Dataflow::OS ? F * T + R + C + R - 2 : R + F * T + R + C - 2;
      std::mt19937_64 vr(rng());
      Matrices m(g, vr);
      const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
      EXPECT_EQ(r.total_cycles, want) << describe(cfg, g);
      EXPECT_EQ(m.C, m.reference()) << describe(cfg, g);
    }
  }
}

// The general case: tiles of random shapes arriving at random cycles; totals, per-tile ends,
// first and last cycles, idle cycles and the mapping-efficiency inputs against the recurrences.
TEST(ArrayCycles, RecurrencesWithArrivalCycles) {
  std::mt19937_64 rng(31);
  for (int it = 0; it < 300; ++it) {
    const int R = 1 + int(rng() % 9), C = 1 + int(rng() % 9);
    const Dataflow df = kAll[rng() % 3];
    const ArrayConfig cfg{R, C, df, bool(rng() % 2)};
    std::vector<TileArrival> tiles;
    int64_t at = int64_t(rng() % 50);
    const int n = 1 + int(rng() % 5);
    for (int i = 0; i < n; ++i) {
      const GemmShape g{random_dim(rng, R), random_dim(rng, C), random_dim(rng, R)};
      TileArrival t;
      t.cycle = at;
      t.tile.id = uint64_t(i);
      t.tile.folds = FoldGrid::make(df, R, C, 0, g.M, 0, g.N, 0, g.K);
      tiles.push_back(t);
      const int kind = int(rng() % 3);
      at += kind == 0 ? 0 : kind == 1 ? int64_t(rng() % 20) : int64_t(rng() % 400);
    }
    const Expected x = expected_schedule(cfg, tiles);
    const HarnessResult r = run_on_array(ArrayKind::Cycle, cfg, tiles);
    expect_matches(r, x, describe(cfg, {}) + " it " + std::to_string(it));
    // Mapping efficiency = MACs / sum over folds of R * C * T.
    uint64_t mapped = 0, macs = 0;
    for (const TileArrival& t : tiles)
      for (const Fold& f : t.tile.folds) {
        mapped += uint64_t(R) * uint64_t(C) * uint64_t(f.T);
        macs += uint64_t(f.rows) * uint64_t(f.cols) * uint64_t(f.T);
      }
    EXPECT_EQ(r.stats.mapped_pe_cycles, mapped);
    EXPECT_EQ(r.stats.macs, macs);
  }
}

// With overlap in WS/IS a narrow fold can end before the wide fold ahead of it. 8 x 8 IS array,
// folds (r, c, T) = (1, 8, 1) then (1, 1, 1) (C = A * B with K = 1, M = 9, N = 1):
//   p0 = 0, s0 = 1, E0 = s0 + T + R + c - 3 = 1 + 1 + 8 + 8 - 3 = 15
//   p1 = max(0, p0 + r0, E_{-1} + 1) = 1, s1 = max(p1 + r1, s0 + T0) = 2, E1 = 2 + 1 + 8 + 1 - 3 =
//   9
// so the tile ends at 15 (its last output), not at its last fold's 9; as two tiles submitted at
// cycle 0 the second ends first, and the run still takes 16 cycles.
TEST(ArrayCycles, NarrowFoldEndsBeforeTheWideOneAhead) {
  std::mt19937_64 rng(21);
  const ArrayConfig cfg{8, 8, Dataflow::IS, true};
  const GemmShape g{9, 1, 1};
  {
    Matrices m(g, rng);
    const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
    EXPECT_EQ(m.C, m.reference());
    ASSERT_EQ(r.stats.folds, 2u);
    ASSERT_EQ(r.done.size(), 1u);
    EXPECT_EQ(r.done[0].end_cycle, 15);
    EXPECT_EQ(r.total_cycles, 16);
  }
  {
    TileArrival wide, narrow;
    wide.tile.id = 1;
    wide.tile.folds = FoldGrid::make(cfg.dataflow, 8, 8, 0, 8, 0, 1, 0, 1);
    narrow.tile.id = 2;
    narrow.tile.folds = FoldGrid::make(cfg.dataflow, 8, 8, 8, 1, 0, 1, 0, 1);
    Matrices m(g, rng);
    const HarnessResult r = run_on_array(ArrayKind::Cycle, cfg, {wide, narrow}, &m.data);
    EXPECT_EQ(m.C, m.reference());
    ASSERT_EQ(r.done.size(), 2u);
    std::map<uint64_t, int64_t> end;
    for (const TileDone& d : r.done) end[d.id] = d.end_cycle;
    EXPECT_EQ(end[1], 15);
    EXPECT_EQ(end[2], 9);
    EXPECT_EQ(r.stats.last_cycle, 15);
    EXPECT_EQ(r.total_cycles, 16);
  }
}

// With nothing in flight the array sleeps until the next submit() instead of advancing empty
// cycles: a tile arriving 10^12 cycles later costs nothing (advancing them one by one would take
// days, far beyond the test timeout), and the gap counts as idle.
TEST(ArrayCycles, LongGapsAreSleptThrough) {
  std::mt19937_64 rng(17);
  for (Dataflow df : kAll)
    for (bool ov : {false, true}) {
      const ArrayConfig cfg{4, 4, df, ov};
      const GemmShape g{9, 6, 7};
      auto tiles = tiled(cfg, g, 5, 6, 7, {1000000000000});
      ASSERT_EQ(tiles.size(), 2u);
      Matrices m(g, rng);
      const HarnessResult r = run_on_array(ArrayKind::Cycle, cfg, tiles, &m.data);
      EXPECT_EQ(m.C, m.reference());
      const Expected x = expected_schedule(cfg, tiles);
      expect_matches(r, x, describe(cfg, g));
      EXPECT_GT(r.stats.idle_cycles, 999999999000) << describe(cfg, g);
      EXPECT_GT(r.total_cycles, 1000000000000) << describe(cfg, g);
    }
}

// A timing-only run (no data) takes exactly the cycles of the value-carrying run.
TEST(ArrayCycles, TimingOnlyEqualsValueRun) {
  std::mt19937_64 rng(8);
  for (int it = 0; it < 20; ++it) {
    const int R = 1 + int(rng() % 8), C = 1 + int(rng() % 8);
    const GemmShape g{random_dim(rng, R), random_dim(rng, C), random_dim(rng, R)};
    for (Dataflow df : kAll)
      for (bool ov : {false, true}) {
        const ArrayConfig cfg{R, C, df, ov};
        const auto tiles = tiled(cfg, g, 1 + g.M / 2, g.N, 1 + g.K / 2, {0, 7, 60});
        Matrices m(g, rng);
        const HarnessResult v = run_on_array(ArrayKind::Cycle, cfg, tiles, &m.data);
        const HarnessResult t = run_on_array(ArrayKind::Cycle, cfg, tiles);
        EXPECT_EQ(v.stats.last_cycle, t.stats.last_cycle) << describe(cfg, g);
        EXPECT_EQ(v.stats.idle_cycles, t.stats.idle_cycles) << describe(cfg, g);
        ASSERT_EQ(v.done.size(), t.done.size());
        for (size_t i = 0; i < v.done.size(); ++i) {
          EXPECT_EQ(v.done[i].id, t.done[i].id);
          EXPECT_EQ(v.done[i].end_cycle, t.done[i].end_cycle);
        }
      }
  }
}

// ---------------------------------------------------------------------------------------------
// The cycle model against the fast model.

TEST(ArrayVsFast, IdenticalOnRandomCases) {
  std::mt19937_64 rng(4242);
  int cases = 0;
  for (int it = 0; it < 600; ++it) {
    const int R = 1 + int(rng() % 12), C = 1 + int(rng() % 12);
    const Dataflow df = kAll[rng() % 3];
    const ArrayConfig cfg{R, C, df, bool(rng() % 2)};
    std::vector<TileArrival> tiles;
    int64_t at = int64_t(rng() % 30);
    const int n = 1 + int(rng() % 4);
    for (int i = 0; i < n; ++i) {
      const GemmShape g{random_dim(rng, R), random_dim(rng, C), random_dim(rng, R)};
      TileArrival t;
      t.cycle = at;
      t.tile.id = uint64_t(1000 + i);
      t.tile.folds = FoldGrid::make(df, R, C, 0, g.M, 0, g.N, 0, g.K);
      tiles.push_back(t);
      const int kind = int(rng() % 3);
      at += kind == 0 ? 0 : kind == 1 ? int64_t(rng() % 20) : int64_t(rng() % 300);
    }
    const HarnessResult c = run_on_array(ArrayKind::Cycle, cfg, tiles);
    const HarnessResult f = run_on_array(ArrayKind::Fast, cfg, tiles);
    const std::string what = describe(cfg, {}) + " case " + std::to_string(it);
    expect_same_run(c, f, what);
    ++cases;
  }
  EXPECT_GE(cases, 200);
}

TEST(ArrayValues, SmokeOneFoldEachDataflow) {
  std::mt19937_64 rng(1);
  for (Dataflow df : kAll)
    for (bool ov : {false, true}) {
      ArrayConfig cfg{4, 3, df, ov};
      const GemmShape g{5, 3, 4};
      Matrices m(g, rng);
      const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
      EXPECT_EQ(m.C, m.reference()) << describe(cfg, g);
      expect_matches(r, expected_schedule(cfg, one_tile(cfg, g)), describe(cfg, g));
    }
}

// ---------------------------------------------------------------------------------------------
// Hazards: a schedule one cycle earlier than the contract allows is caught by the registers
// (std::logic_error, which SystemC rethrows from sc_start), and with the checks off it corrupts
// the values. Each throwing run is its own TEST: an error ends the process's simulation.

// OS with overlap, short folds: fold 1's stream waits for fold 0's drain (s_1 = E_0 - T + 2).
const ArrayConfig kOsCfg{4, 4, Dataflow::OS, true};
const GemmShape kOsGemm{8, 4, 3};  // two folds, T = 3 < r + c + R - 1

// WS/IS with overlap, long folds: fold 2's preload waits for fold 0 to free bank 0.
const ArrayConfig kWsCfg{4, 4, Dataflow::WS, true};
const GemmShape kWsGemm{20, 4, 12};  // three folds along K, T = 20

// An exception thrown inside a SystemC thread crosses the coroutine stacks, which
// AddressSanitizer cannot follow (google/sanitizers#189): those tests skip under ASan.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_ASAN() GTEST_SKIP() << "exception out of a SystemC thread: ASan false positive"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

std::string run_expecting_error(const ArrayConfig& cfg, const GemmShape& g) {
  std::mt19937_64 rng(3);
  Matrices m(g, rng);
  try {
    run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(ArrayHazards, ContractScheduleIsClean) {
  // The cases below, on time: no hazard, right values, the contract's cycles.
  std::mt19937_64 rng(3);
  for (const auto& c : {std::make_pair(kOsCfg, kOsGemm), std::make_pair(kWsCfg, kWsGemm)}) {
    Matrices m(c.second, rng);
    const HarnessResult r = run_gemm_on_array(ArrayKind::Cycle, c.first, c.second, &m.data);
    EXPECT_EQ(m.C, m.reference());
    expect_matches(r, expected_schedule(c.first, one_tile(c.first, c.second)), "on time");
  }
  // The blocking conditions do bind in these cases (so starting earlier means a hazard):
  // OS: s_1 = E_0 - T + 2 = (T + r + c - 2 + R - 1) - T + 2 = 11 > s_0 + T = 3.
  EXPECT_EQ(expected_schedule(kOsCfg, one_tile(kOsCfg, kOsGemm)).total(), 11 + 3 + 4 + 4 - 2 + 4);
}

TEST(ArrayHazards, OsEarlyStreamIsDetected) {
  SKIP_UNDER_ASAN();
  SystolicArrayCycle::inject_fault_for_tests(1, false);
  const std::string err = run_expecting_error(kOsCfg, kOsGemm);
  SystolicArrayCycle::inject_fault_for_tests(0, false);
  EXPECT_NE(err.find("hazard"), std::string::npos) << err;
  EXPECT_NE(err.find("accumulator"), std::string::npos) << err;
}

TEST(ArrayHazards, OsEarlyStreamCorruptsValuesWithoutChecks) {
  SystolicArrayCycle::inject_fault_for_tests(1, true);
  std::mt19937_64 rng(3);
  Matrices m(kOsGemm, rng);
  run_gemm_on_array(ArrayKind::Cycle, kOsCfg, kOsGemm, &m.data);
  SystolicArrayCycle::inject_fault_for_tests(0, false);
  EXPECT_NE(m.C, m.reference());
}

TEST(ArrayHazards, WsEarlyPreloadIsDetected) {
  SKIP_UNDER_ASAN();
  SystolicArrayCycle::inject_fault_for_tests(1, false);
  const std::string err = run_expecting_error(kWsCfg, kWsGemm);
  SystolicArrayCycle::inject_fault_for_tests(0, false);
  EXPECT_NE(err.find("hazard: preload overwrites bank 0"), std::string::npos) << err;
}

TEST(ArrayHazards, WsEarlyPreloadCorruptsValuesWithoutChecks) {
  for (Dataflow df : {Dataflow::WS, Dataflow::IS}) {
    ArrayConfig cfg = kWsCfg;
    cfg.dataflow = df;
    const GemmShape g = df == Dataflow::WS ? kWsGemm : GemmShape{4, 20, 12};
    SystolicArrayCycle::inject_fault_for_tests(1, true);
    std::mt19937_64 rng(3);
    Matrices m(g, rng);
    run_gemm_on_array(ArrayKind::Cycle, cfg, g, &m.data);
    SystolicArrayCycle::inject_fault_for_tests(0, false);
    EXPECT_NE(m.C, m.reference()) << to_string(df);
  }
}

}  // namespace
}  // namespace ssim

namespace ssim {
namespace {

// Streams that span blocks: every fold's stream cut into segments, each arriving on its own
// (back to back, or with random gaps that insert bubbles). The values equal the reference, both
// models follow the contract's recurrences, and without gaps the cycles equal the same GEMM's
// unsegmented folds (a segment adds no preload, fill or drain).
TEST(ArraySegments, StreamsSpanningBlocksKeepTheirFold) {
  std::mt19937_64 rng(4242);
  int cases = 0;
  for (int it = 0; it < 60; ++it) {
    const int R = 1 + int(rng() % 8), C = 1 + int(rng() % 8);
    const GemmShape g{random_dim(rng, R) + 2, random_dim(rng, C) + 2, random_dim(rng, R) + 2};
    for (Dataflow df : kAll)
      for (bool ov : {false, true})
        for (int64_t gap : {int64_t(0), int64_t(40)}) {
          const ArrayConfig cfg{R, C, df, ov};
          std::mt19937_64 split(rng());
          const std::vector<TileArrival> tiles = segmented(cfg, g, split, gap);
          const std::string what = describe(cfg, g) + " gap " + std::to_string(gap);
          Matrices m(g, rng);
          const HarnessResult cyc = run_on_array(ArrayKind::Cycle, cfg, tiles, &m.data);
          ASSERT_EQ(m.C, m.reference()) << what;
          const Expected x = expected_schedule(cfg, tiles);
          expect_matches(cyc, x, what);
          expect_matches(run_on_array(ArrayKind::Fast, cfg, tiles), x, what);
          if (gap == 0) {
            const HarnessResult whole = run_gemm_on_array(ArrayKind::Fast, cfg, g);
            EXPECT_EQ(cyc.total_cycles, whole.total_cycles) << what;
            EXPECT_EQ(cyc.stats.idle_cycles, 0) << what;
          }
          ++cases;
        }
  }
  EXPECT_EQ(cases, 720);
}

}  // namespace
}  // namespace ssim
