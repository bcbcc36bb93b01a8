// Tests of running lowered ops on the accelerator (sim/run/op_run.*): GEMM ops with a repeat count
// and vector ops on the vector unit, both through the DRAM channel and the scratchpads. Expected
// numbers come from the array harness without memory, from the cycle-accounting closed forms
// (docs/cycle-accounting.md), from the vector unit's closed forms re-derived here from
// docs/vector-unit.md (its default timing table typed in below), and from byte counts divided by
// the bandwidth. Every TEST that simulates runs in its own process (one SystemC design each).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "models/accelerator.hpp"
#include "models/array_harness.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/gemm_run.hpp"
#include "sim/run/op_run.hpp"
#include "tests/accel_test_util.hpp"
#include "tests/hw_test_util.hpp"
#include "workloads/lower.hpp"

namespace ssim {
namespace {

using test::ceil_div;
using test::make_hw;

GemmOp gemm_op(const std::string& name, GemmShape g, int64_t repeat) {
  GemmOp op;
  op.name = name;
  op.shape = g;
  op.repeat = repeat;
  return op;
}

// --- GEMM ops ---------------------------------------------------------------------------------

TEST(OpRun, GemmRepeatTotalsScaleWithTheCopies) {
  struct Case {
    int R, C;
    Dataflow df;
    bool overlap;
    GemmShape g;
    int64_t repeat, sram_kb;
    double bw;
  };
  const Case cases[] = {
      {8, 8, Dataflow::WS, false, {100, 70, 90}, 4, 4, 4},        // many tiles per copy
      {8, 8, Dataflow::OS, true, {64, 80, 120}, 3, 4, 2.5},       //
      {16, 16, Dataflow::IS, false, {128, 64, 128}, 12, 512, 8},  // one tile per copy
      {32, 32, Dataflow::WS, true, {128, 128, 64}, 12, 512, 10},  // a BERT head (qk)
  };
  for (const Case& c : cases) {
    HwSpec hw = make_hw(c.R, c.C, c.df, c.overlap);
    hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = c.sram_kb;
    hw.dram_bytes_per_cycle = c.bw;
    hw.dram_latency = 7;
    const GemmRunResult one = run_gemm_op(ValidHw(hw), gemm_op("one", c.g, 1));
    const GemmRunResult all = run_gemm_op(ValidHw(hw), gemm_op("attn.qk", c.g, c.repeat));
    const uint64_t r = uint64_t(c.repeat);
    SCOPED_TRACE(to_string(c.df) + (c.overlap ? " overlap" : "") + " repeat " +
                 std::to_string(c.repeat));
    EXPECT_EQ(all.name, "attn.qk");
    EXPECT_EQ(all.repeat, c.repeat);
    EXPECT_EQ(all.shape.M, c.g.M);
    EXPECT_EQ(all.macs, r * c.g.macs());
    EXPECT_EQ(one.macs, c.g.macs());
    EXPECT_EQ(all.folds, r * one.folds);
    EXPECT_EQ(all.tiles, r * one.tiles);
    // Every copy loads its own operands and writes its own outputs.
    EXPECT_EQ(all.dram_ifmap_bytes, r * one.dram_ifmap_bytes);
    EXPECT_EQ(all.dram_filter_bytes, r * one.dram_filter_bytes);
    EXPECT_EQ(all.dram_ofmap_bytes, r * one.dram_ofmap_bytes);
    // Finished outputs, plus int32 partial sums where small buffers spill them.
    const DramTraffic cf = gemm_traffic(hw, c.g);
    EXPECT_EQ(all.dram_ofmap_bytes, r * uint64_t(cf.ofmap));
    EXPECT_EQ(all.dram_psum_read_bytes, r * uint64_t(cf.psum));
    EXPECT_EQ(all.sram_ifmap_reads, r * one.sram_ifmap_reads);
    EXPECT_EQ(all.sram_ofmap_writes, r * one.sram_ofmap_writes);
    // Back to back, overlapping loads with compute: more than one copy, about r copies at
    // most. (A memory-bound copy gains nothing from the next one's early loads, and the in-order
    // channel serves its last write-back before the next copy's later reads: within 0.1 %.)
    EXPECT_GT(all.total_cycles, one.total_cycles);
    EXPECT_LE(double(all.total_cycles), 1.001 * double(int64_t(r) * one.total_cycles));
    EXPECT_EQ(all.total_cycles, all.compute_cycles + all.stall_cycles + all.writeback_cycles);
  }
}

TEST(OpRun, GemmRepeatUnlimitedBandwidthEqualsTheArrayOnAllFolds) {
  struct Case {
    int R, C;
    Dataflow df;
    bool overlap;
    GemmShape g;
    int64_t repeat, sram_kb;
  };
  const Case cases[] = {
      {8, 8, Dataflow::WS, false, {100, 70, 90}, 3, 4},
      {8, 8, Dataflow::OS, false, {64, 80, 120}, 2, 4},
      {8, 4, Dataflow::IS, true, {50, 33, 77}, 4, 2},
      {16, 16, Dataflow::WS, true, {40, 40, 40}, 8, 512},
      {8, 8, Dataflow::OS, true, {30, 20, 100}, 5, 512},
  };
  std::vector<std::pair<GemmRunResult, std::vector<TileArrival>>> runs;
  for (const Case& c : cases) {
    HwSpec hw = make_hw(c.R, c.C, c.df, c.overlap);
    hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = c.sram_kb;
    hw.unlimited_bandwidth = true;
    const GemmRunResult r = run_gemm_op(ValidHw(hw), gemm_op("op", c.g, c.repeat));
    // One copy's folds (the tiler's steps), repeat times: a tile per step, all at cycle 0.
    std::vector<TileArrival> tiles;
    for (int64_t i = 0; i < c.repeat; ++i)
      for (const TileStep& s : plan_gemm(hw, c.g).steps) {
        TileArrival t;
        t.tile.id = tiles.size();
        t.tile.folds = s.folds;
        tiles.push_back(t);
      }
    runs.emplace_back(r, tiles);
  }
  // The array harness may only be used after the accelerator has run in this process.
  for (size_t i = 0; i < runs.size(); ++i) {
    const Case& c = cases[i];
    const GemmRunResult& r = runs[i].first;
    const HarnessResult h =
        run_on_array(ArrayKind::Fast, ArrayConfig{c.R, c.C, c.df, c.overlap}, runs[i].second);
    SCOPED_TRACE("case " + std::to_string(i));
    EXPECT_EQ(r.total_cycles, h.total_cycles);
    EXPECT_EQ(r.stall_cycles, 0);
    EXPECT_EQ(r.macs, h.stats.macs);
    if (!c.overlap) {
      // No overlap: every fold costs rows + cols + T + R - 2 (docs/cycle-accounting.md), the
      // segments of a stream that spans blocks adding only their share of T.
      int64_t t = 0;
      for (const TileArrival& ta : runs[i].second)
        for (const Fold& f : ta.tile.folds) t += f.T + (f.cont ? 0 : f.rows + f.cols + c.R - 2);
      EXPECT_EQ(r.total_cycles, t);
    }
  }
}

// Plain int8 x int8 -> int32 reference of one copy: A is M x K (row stride K), B is K x N with
// row stride ldb.
std::vector<int32_t> ref_gemm(const GemmShape& g, const int8_t* A, const int8_t* B, int64_t ldb) {
  std::vector<int32_t> C(size_t(g.M * g.N), 0);
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t n = 0; n < g.N; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < g.K; ++k) acc += int32_t(A[m * g.K + k]) * B[k * ldb + n];
      C[size_t(m * g.N + n)] = acc;
    }
  return C;
}

// A small, slow accelerator: 4 x 5, buffers of 1 KiB, 1.5 bytes a cycle, latency 3 (every
// copy of a repeated GEMM streams through several blocks that arrive late).
HwSpec small_slow_hw() {
  HwSpec hw = make_hw(4, 5, Dataflow::WS);
  hw.ifmap_sram_kb = hw.filter_sram_kb = hw.ofmap_sram_kb = 1;
  hw.dram_bytes_per_cycle = 1.5;
  hw.dram_latency = 3;
  return hw;
}

// The C of `copies` copies of g (big = copies M x copies N): copy i's block (i, i) holds `times`
// the reference of its A rows and B columns, the other blocks zeros.
void expect_copy_blocks(const GemmShape& g, const GemmShape& big, int64_t copies, int32_t times,
                        const std::vector<int8_t>& A, const std::vector<int8_t>& B,
                        const std::vector<int32_t>& C) {
  for (int64_t i = 0; i < copies; ++i) {
    const std::vector<int32_t> ref =
        ref_gemm(g, A.data() + i * g.M * g.K, B.data() + i * g.N, big.N);
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < big.N; ++n) {
        const int64_t j = n - i * g.N;
        const int32_t want = (j < 0 || j >= g.N) ? 0 : times * ref[size_t(m * g.N + j)];
        ASSERT_EQ(C[size_t((i * g.M + m) * big.N + n)], want)
            << "copy " << i << " m " << m << " n " << n;
      }
  }
}

TEST(OpRun, GemmRepeatCycleFidelityValuesAndSameCyclesAsFast) {
  HwSpec hw = small_slow_hw();
  const GemmShape g{23, 19, 29};
  const int64_t rep = 3;
  for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS}) {
    for (bool overlap : {false, true}) {
      hw.dataflow = df;
      hw.fold_overlap = overlap;
      SCOPED_TRACE(to_string(df) + (overlap ? " overlap" : ""));
      hw.fidelity = Fidelity::Cycle;
      const GemmRunResult c = run_gemm_op(ValidHw(hw), gemm_op("c", g, rep), 11);
      hw.fidelity = Fidelity::Fast;
      const GemmRunResult f = run_gemm_op(ValidHw(hw), gemm_op("f", g, rep), 11);
      EXPECT_TRUE(c.values_checked);
      EXPECT_TRUE(c.values_ok);
      EXPECT_FALSE(f.values_checked);
      EXPECT_GT(c.tiles, uint64_t(rep));
      EXPECT_GT(c.stall_cycles, 0);
      EXPECT_EQ(c.total_cycles, f.total_cycles);
      EXPECT_EQ(c.stall_cycles, f.stall_cycles);
      EXPECT_EQ(c.compute_cycles, f.compute_cycles);
      EXPECT_EQ(c.dram_read_bytes, f.dram_read_bytes);
      EXPECT_EQ(c.sram_ofmap_reads, f.sram_ofmap_reads);
    }
  }

  // The same program shapes checked here against a reference of our own: each copy with its own
  // A and B (copy i: rows i*M.. of a tall A, columns i*N.. of a wide B, block (i, i) of C), and
  // all copies sharing one A, B and C (C = rep * reference).
  hw.dataflow = Dataflow::OS;
  std::mt19937_64 rng(3);
  for (bool own : {true, false}) {
    const int64_t copies = own ? rep : 1;
    const GemmShape big{copies * g.M, copies * g.N, g.K};
    std::vector<int8_t> A(size_t(big.M * big.K)), B(size_t(big.K * big.N));
    for (auto& v : A) v = int8_t(int(rng() % 256) - 128);
    for (auto& v : B) v = int8_t(int(rng() % 256) - 128);
    std::vector<int32_t> C(size_t(big.M * big.N), 0);
    GemmData data{big, A.data(), B.data(), C.data()};
    const Program p = plan_gemm_op(hw, g, rep, own ? g.M : 0, own ? g.N : 0);
    run_program(ArrayKind::Cycle, accel_config(hw), p, &data);
    SCOPED_TRACE(own ? "own" : "shared");
    expect_copy_blocks(g, big, copies, int32_t(own ? 1 : rep), A, B, C);
  }
}

// docs/memory-system.md, "Repeated GEMMs": the copies of a repeated GEMM share copy 0's steps
// (Program::shared); the program runs as the one holding every copy's steps (repeat_program())
// does, to the cycle and, value-carrying, to the value; the totals over its steps are the same.
TEST(OpRun, SharedCopiesRunAsEveryCopyHeld) {
  HwSpec hw = small_slow_hw();
  const GemmShape g{23, 19, 29};
  const int64_t rep = 3;
  const GemmShape big{rep * g.M, rep * g.N, g.K};
  std::mt19937_64 rng(5);
  std::vector<int8_t> A(size_t(big.M * big.K)), B(size_t(big.K * big.N));
  for (auto& v : A) v = int8_t(int(rng() % 256) - 128);
  for (auto& v : B) v = int8_t(int(rng() % 256) - 128);
  int i = 0;
  for (Dataflow df : {Dataflow::OS, Dataflow::WS, Dataflow::IS})
    for (bool overlap : {false, true})
      for (ArrayKind kind : {ArrayKind::Fast, ArrayKind::Cycle})
        for (bool linked : {false, true}) {
          ++i;
          SCOPED_TRACE(to_string(df) + (overlap ? " overlap" : "") +
                       (kind == ArrayKind::Cycle ? " cycle" : " fast") + (linked ? " linked" : ""));
          hw.dataflow = df;
          hw.fold_overlap = overlap;
          const Program shared = plan_gemm_op(hw, g, rep, g.M, g.N);
          const Program held = repeat_program(plan_gemm(hw, g), rep, g.M, g.N);
          ASSERT_EQ(shared.shared, rep);
          ASSERT_EQ(held.shared, 1);
          ASSERT_EQ(shared.steps.size() * size_t(rep), held.steps.size());
          ASSERT_EQ(shared.size(), held.size());
          TileStep scratch;
          for (size_t j = 0; j < held.size(); ++j) {
            const TileStep &a = shared.step(j, scratch), &b = held.steps[j];
            ASSERT_EQ(a.copy, b.copy) << j;
            ASSERT_EQ(shared.copy_of(j), b.copy) << j;
            ASSERT_EQ(a.m0, b.m0) << j;
            ASSERT_EQ(a.n0, b.n0) << j;
            ASSERT_EQ(a.k0, b.k0) << j;
            ASSERT_EQ(a.folds.front().m0, b.folds.front().m0) << j;
            ASSERT_EQ(a.folds.front().n0, b.folds.front().n0) << j;
            ASSERT_EQ(a.ifmap_load_bytes, b.ifmap_load_bytes) << j;
            ASSERT_EQ(a.store_bytes, b.store_bytes) << j;
          }
          EXPECT_EQ(shared.folds(), held.folds());
          EXPECT_EQ(shared.macs(), held.macs());
          EXPECT_EQ(shared.macs(), uint64_t(rep * g.M * g.N * g.K));
          for (Operand op : {Operand::Ifmap, Operand::Filter, Operand::Ofmap})
            EXPECT_EQ(shared.load_bytes(op), held.load_bytes(op));
          EXPECT_EQ(shared.store_bytes(), held.store_bytes());
          const ProgramSums ss = program_sums(hw, shared), hs = program_sums(hw, held);
          EXPECT_EQ(ss.steps, hs.steps);
          EXPECT_EQ(ss.fold_pe, hs.fold_pe);
          EXPECT_EQ(ss.final_out, hs.final_out);
          EXPECT_EQ(ss.regs.read_bits, hs.regs.read_bits);
          EXPECT_EQ(ss.regs.write_bits, hs.regs.write_bits);
          EXPECT_EQ(ss.regs.transfer_bits, hs.regs.transfer_bits);
          EXPECT_EQ(ss.regs.macs, hs.regs.macs);
          EXPECT_EQ(first_filter_loads(shared, 4, held.size()),
                    first_filter_loads(held, 4, held.size()));

          // The next job's weights prefetched and the write-backs handed over, or not.
          JobLink link;
          link.next_filter = {96, 64};
          link.handoff = true;
          const JobLink* l = linked ? &link : nullptr;
          const bool values = kind == ArrayKind::Cycle;
          std::vector<int32_t> Cs(size_t(big.M * big.N), 0), Ch = Cs;
          GemmData ds{big, A.data(), B.data(), Cs.data()}, dh{big, A.data(), B.data(), Ch.data()};
          const AccelResult a =
              run_program(kind, accel_config(hw), shared, values ? &ds : nullptr, l);
          const AccelResult b =
              run_program(kind, accel_config(hw), held, values ? &dh : nullptr, l);
          expect_same_accel(a, b, i);
          EXPECT_EQ(a.array.segments, b.array.segments);
          EXPECT_EQ(a.dram.busy_cycles, b.dram.busy_cycles);
          ASSERT_EQ(a.prefetched.size(), b.prefetched.size());
          for (size_t p = 0; p < a.prefetched.size(); ++p) {
            EXPECT_EQ(a.prefetched[p].bytes, b.prefetched[p].bytes);
            EXPECT_EQ(a.prefetched[p].issued, b.prefetched[p].issued);
            EXPECT_EQ(a.prefetched[p].ready, b.prefetched[p].ready);
          }
          EXPECT_EQ(a.ofmap_free[0], b.ofmap_free[0]);
          EXPECT_EQ(a.ofmap_free[1], b.ofmap_free[1]);
          if (linked) {
            EXPECT_EQ(a.prefetched.size(), 2u);
          }
          if (!values) continue;
          // Each copy's block of C holds its own product (the reference of our own), the others
          // zeros.
          expect_copy_blocks(g, big, rep, 1, A, B, Cs);
          EXPECT_EQ(Cs, Ch);
        }
}

TEST(OpRun, GemmOpRejectsBadShapesAndRepeats) {
  HwSpec hw = make_hw(8, 8, Dataflow::WS);
  EXPECT_THROW(run_gemm_op(ValidHw(hw), gemm_op("x", {0, 4, 4}, 1)), InputError);
  try {
    run_gemm_op(ValidHw(hw), gemm_op("attn.qk", {4, 4, 4}, 0));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("attn.qk"), std::string::npos) << m;
    EXPECT_NE(m.find("repeat = 0"), std::string::npos) << m;
  }
}

// --- Vector ops -------------------------------------------------------------------------------

// docs/vector-unit.md, "Default timing": passes p, latency L, reductions q, row latency F.
struct DocTiming {
  int64_t p, L, q, F;
};
DocTiming doc_timing(VectorKind k) {
  switch (k) {
    case VectorKind::Add:
    case VectorKind::Mul:
    case VectorKind::Relu:
    case VectorKind::Relu6:
    case VectorKind::MaxPool:
      return {1, 2, 0, 0};
    case VectorKind::Sigmoid:
    case VectorKind::Tanh:
      return {1, 6, 0, 0};
    case VectorKind::Silu:
      return {1, 7, 0, 0};
    case VectorKind::Gelu:
      return {2, 8, 0, 0};
    case VectorKind::Softmax:
      return {3, 2, 2, 9};
    case VectorKind::LayerNorm:
      return {2, 3, 1, 6};
    case VectorKind::AvgPool:
      return {1, 3, 0, 0};
  }
  return {};
}

int64_t depth(int64_t P) {
  int64_t d = 0;
  while ((int64_t(1) << d) < P) ++d;
  return d;
}

// Issue cycles I of docs/vector-unit.md for n outputs (rows of `row`, windows of `w`).
int64_t doc_issue(VectorKind k, int64_t n, int64_t row, int64_t w, int64_t P) {
  const DocTiming t = doc_timing(k);
  switch (k) {
    case VectorKind::Softmax:
    case VectorKind::LayerNorm:
      return (n / row) * (t.p * ceil_div(row, P) + t.q * depth(P) + t.F);
    case VectorKind::MaxPool:
    case VectorKind::AvgPool:
      return t.p * w * ceil_div(n, P);
    default:
      return t.p * ceil_div(n, P);
  }
}

VectorOp vec_op(const std::string& name, VectorKind k, int64_t outputs, int64_t inputs,
                int64_t window = 1, int64_t row = 0) {
  VectorOp op;
  op.name = name;
  op.kind = k;
  op.outputs = outputs;
  op.inputs = inputs;
  op.elements = outputs * window;
  op.row = row;
  return op;
}

// Lanes' SRAM reads per docs/vector-unit.md: elementwise the inputs, rows p * elements, windows
// w * outputs.
uint64_t doc_lane_reads(const VectorOp& op) {
  switch (op.kind) {
    case VectorKind::Softmax:
    case VectorKind::LayerNorm:
      return uint64_t(doc_timing(op.kind).p * op.outputs);
    case VectorKind::MaxPool:
    case VectorKind::AvgPool:
      return uint64_t(op.elements);
    default:
      return uint64_t(op.inputs);
  }
}

struct VecCase {
  VectorOp op;
  int64_t sram_kb;      // ifmap and ofmap buffers
  int64_t want_chunks;  // derived by hand below
};

// Chunks derived by hand (KiB / 2 = bytes per half at 1 B per element, lanes 16):
//  relu 10000, 4 KiB: 2048 outputs per chunk -> 5 chunks
//  add 5000 (10000 inputs), 4 KiB: 2048 inputs = 1024 outputs per chunk -> 5 chunks
//  gelu 777, 512 KiB: one chunk
//  softmax 300 rows of 100, 8 KiB: 40 rows (4000) per chunk -> 8 chunks
//  layernorm 64 rows of 768, 16 KiB: 10 rows per chunk -> 7 chunks
//  maxpool 2048 outputs, 3x3 windows, 8192 inputs, 4 KiB: 512 outputs per chunk -> 4 chunks
//  avgpool 500 outputs, 2x2, 2000 inputs, 2 KiB: floor(1024 * 500 / 2000) = 256 -> 2 chunks
std::vector<VecCase> vec_cases() {
  return {
      {vec_op("fc.relu", VectorKind::Relu, 10000, 10000), 4, 5},
      {vec_op("res.add", VectorKind::Add, 5000, 10000), 4, 5},
      {vec_op("mlp.gelu", VectorKind::Gelu, 777, 777), 512, 1},
      {vec_op("attn.softmax", VectorKind::Softmax, 30000, 30000, 1, 100), 8, 8},
      {vec_op("ln", VectorKind::LayerNorm, 64 * 768, 64 * 768, 1, 768), 16, 7},
      {vec_op("pool", VectorKind::MaxPool, 2048, 8192, 9), 4, 4},
      {vec_op("avg", VectorKind::AvgPool, 500, 2000, 4), 2, 2},
  };
}

TEST(OpRun, VectorUnlimitedBandwidthEqualsTheUnitsClosedForm) {
  for (const VecCase& c : vec_cases()) {
    HwSpec hw;
    hw.ifmap_sram_kb = hw.ofmap_sram_kb = c.sram_kb;
    hw.unlimited_bandwidth = true;
    hw.vector_lanes = 16;
    const VectorRunResult r = run_vector_op(ValidHw(hw), c.op);
    SCOPED_TRACE(c.op.name);
    // Chunks are whole rows or multiples of the lanes, independent and pipelined, so the op
    // costs its issue cycles as one command plus the latency once.
    const int64_t w = c.op.elements / c.op.outputs;
    const int64_t want =
        doc_issue(c.op.kind, c.op.outputs, c.op.row, w, 16) + doc_timing(c.op.kind).L;
    EXPECT_EQ(r.chunks, c.want_chunks);
    EXPECT_EQ(r.total_cycles, want);
    EXPECT_EQ(r.vector_cycles, want);
    EXPECT_EQ(r.stall_cycles, 0);
    EXPECT_EQ(r.writeback_cycles, 0);
    EXPECT_EQ(r.name, c.op.name);
    EXPECT_EQ(r.dram_read_bytes, uint64_t(c.op.inputs));
    EXPECT_EQ(r.dram_write_bytes, uint64_t(c.op.outputs));
  }
  // More lanes: the same op in fewer cycles, by the closed form.
  HwSpec hw;
  hw.unlimited_bandwidth = true;
  hw.vector_lanes = 64;
  const VectorOp sm = vec_op("s", VectorKind::Softmax, 12 * 128 * 128, 12 * 128 * 128, 1, 128);
  EXPECT_EQ(run_vector_op(ValidHw(hw), sm).total_cycles,
            12 * 128 * (3 * 2 + 2 * 6 + 9) + 2);  // rows * (p ceil(128/64) + q depth(64) + F) + L
}

TEST(OpRun, VectorMemoryBoundFollowsBytesOverBandwidth) {
  for (const VecCase& c : vec_cases()) {
    for (double bw : {0.25, 1.0}) {
      HwSpec hw;
      hw.ifmap_sram_kb = hw.ofmap_sram_kb = c.sram_kb;
      hw.dram_bytes_per_cycle = bw;
      hw.dram_latency = 10;
      const VectorRunResult r = run_vector_op(ValidHw(hw), c.op);
      SCOPED_TRACE(c.op.name + " at " + std::to_string(bw));
      const double bytes = double(c.op.inputs + c.op.outputs);
      const double want = bytes / bw;
      if (c.op.outputs < 1000) continue;        // too short to hide the first load and last store
      EXPECT_GE(double(r.total_cycles), want);  // cannot beat the channel
      EXPECT_NEAR(double(r.total_cycles), want, 0.02 * want);
      EXPECT_GT(r.stall_cycles, r.vector_cycles);
      EXPECT_EQ(r.total_cycles, r.vector_cycles + r.stall_cycles + r.writeback_cycles);
      EXPECT_NEAR(r.dram_avg_bw, bw, 0.02 * bw);
    }
  }
}

TEST(OpRun, VectorTrafficIsExactInBytesAndElements) {
  for (const VecCase& c : vec_cases()) {
    HwSpec hw;
    hw.input_bytes = 2;
    hw.output_bytes = 4;
    hw.ifmap_sram_kb = hw.ofmap_sram_kb = 4 * c.sram_kb;  // wider elements, same chunks
    hw.dram_bytes_per_cycle = 3;
    const VectorRunResult r = run_vector_op(ValidHw(hw), c.op);
    SCOPED_TRACE(c.op.name);
    EXPECT_EQ(r.dram_read_bytes, uint64_t(2 * c.op.inputs));
    EXPECT_EQ(r.dram_write_bytes, uint64_t(4 * c.op.outputs));
    EXPECT_EQ(r.sram_ifmap_writes, uint64_t(c.op.inputs));
    EXPECT_EQ(r.sram_ifmap_reads, doc_lane_reads(c.op));
    EXPECT_EQ(r.sram_ofmap_writes, uint64_t(c.op.outputs));
    EXPECT_EQ(r.sram_ofmap_reads, uint64_t(c.op.outputs));
    EXPECT_EQ(r.sram_reads, r.sram_ifmap_reads + r.sram_ofmap_reads);
    EXPECT_EQ(r.sram_writes, r.sram_ifmap_writes + r.sram_ofmap_writes);
    EXPECT_EQ(r.total_cycles, r.vector_cycles + r.stall_cycles + r.writeback_cycles);
    EXPECT_GT(r.stall_cycles, 0);  // at least the first load
  }
  // An uneven split: 7 outputs from 1000 inputs (global pooling); an ifmap half holds 512
  // inputs, so a chunk holds at most floor(512 * 7 / 1000) = 3 outputs (429 inputs): chunks of
  // 3, 3 and 1 outputs. The inputs are spread over the chunks, none lost or read twice.
  HwSpec hw;
  hw.ifmap_sram_kb = 1;
  hw.dram_bytes_per_cycle = 4;
  const VectorOp gp = vec_op("gap", VectorKind::AvgPool, 7, 1000, 143);
  const VectorRunResult r = run_vector_op(ValidHw(hw), gp);
  EXPECT_EQ(r.dram_read_bytes, 1000u);
  EXPECT_EQ(r.dram_write_bytes, 7u);
  EXPECT_EQ(r.chunks, 3);
  EXPECT_EQ(r.chunk_outputs, 3);
}

TEST(OpRun, VectorChunkThatCannotFitIsAnInputError) {
  HwSpec hw;
  hw.ifmap_sram_kb = 4;  // halves of 2 KiB; a softmax row of 4096 int8 needs 4 KiB per half
  const VectorOp sm = vec_op("attn.softmax", VectorKind::Softmax, 8 * 4096, 8 * 4096, 1, 4096);
  try {
    run_vector_op(ValidHw(hw), sm);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("IfmapSramSzkB 4"), std::string::npos) << m;
    EXPECT_NE(m.find("needs at least 8 KiB"), std::string::npos) << m;
    EXPECT_NE(m.find("attn.softmax"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  // The results of a layernorm row of 1024 at 4 B need 4 KiB per ofmap half.
  hw = HwSpec{};
  hw.output_bytes = 4;
  hw.ofmap_sram_kb = 6;
  const VectorOp ln = vec_op("ln", VectorKind::LayerNorm, 4 * 1024, 4 * 1024, 1, 1024);
  try {
    run_vector_op(ValidHw(hw), ln);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("OfmapSramSzkB 6"), std::string::npos) << m;
    EXPECT_NE(m.find("needs at least 8 KiB"), std::string::npos) << m;
  }
  // A row that does not divide the op.
  EXPECT_THROW(
      run_vector_op(ValidHw(HwSpec{}), vec_op("s", VectorKind::Softmax, 1000, 1000, 1, 300)),
      InputError);
}

}  // namespace
}  // namespace ssim
