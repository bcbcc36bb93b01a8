#include "sim/run/gemm_run.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/spec/energy.hpp"

namespace ssim {
namespace {

// Plain reference GEMM: C = A * B, int8 x int8 -> int32.
std::vector<int32_t> reference_gemm(const GemmShape& g, const std::vector<int8_t>& A,
                                    const std::vector<int8_t>& B) {
  std::vector<int32_t> C(size_t(g.M) * size_t(g.N), 0);
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t k = 0; k < g.K; ++k) {
      const int32_t a = A[size_t(m * g.K + k)];
      for (int64_t n = 0; n < g.N; ++n) C[size_t(m * g.N + n)] += a * B[size_t(k * g.N + n)];
    }
  return C;
}

}  // namespace

AccelConfig accel_config(const HwSpec& hw) {
  AccelConfig cfg;
  cfg.array = hw.array();
  cfg.ifmap_sram_bytes = sram_bytes(hw, Operand::Ifmap);
  cfg.filter_sram_bytes = sram_bytes(hw, Operand::Filter);
  cfg.ofmap_sram_bytes = sram_bytes(hw, Operand::Ofmap);
  cfg.dram.unlimited = hw.dram_stall_free();  // UnlimitedBandwidth on or InterfaceBandwidth CALC
  cfg.dram.bytes_per_cycle = hw.dram_bw();
  cfg.dram.latency = hw.dram_latency;
  cfg.vector = vector_config(hw);
  cfg.load_ahead = hw.load_ahead;
  return cfg;
}

GemmRunResult run_gemm(const ValidHw& valid, const GemmShape& shape, uint64_t seed) {
  const HwSpec& hw = valid;
  if (shape.M < 1 || shape.N < 1 || shape.K < 1)
    throw InputError("gemm: M, N and K must be positive integers");
  const Program prog = plan_gemm(hw, shape);

  const AccelConfig cfg = accel_config(hw);

  if (hw.fidelity != Fidelity::Cycle) {
    GemmRunResult res = gemm_run_result(hw, prog, run_program(ArrayKind::Fast, cfg, prog));
    res.name = "gemm";
    return res;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> A(size_t(shape.M * shape.K)), B(size_t(shape.K * shape.N));
  for (auto& v : A) v = static_cast<int8_t>(dist(rng));
  for (auto& v : B) v = static_cast<int8_t>(dist(rng));
  std::vector<int32_t> C(size_t(shape.M * shape.N), 0);
  GemmData data{shape, A.data(), B.data(), C.data()};
  GemmRunResult res = gemm_run_result(hw, prog, run_program(ArrayKind::Cycle, cfg, prog, &data));
  res.name = "gemm";
  res.values_checked = true;
  res.values_ok = C == reference_gemm(shape, A, B);
  return res;
}

OpLinkStats link_stats(const AccelResult& ar) {
  OpLinkStats l;
  l.stage_cycles = ar.stage_tail;
  l.carried_bytes = ar.carried_bytes;
  l.overlap_cycles = -ar.carried_from;
  l.prefetched = ar.prefetched;
  l.ofmap_free[0] = ar.ofmap_free[0];
  l.ofmap_free[1] = ar.ofmap_free[1];
  return l;
}

ProgramSums program_sums(const HwSpec& hw, const Program& prog) {
  ProgramSums p;
  p.steps = prog.size();
  // One pass over the steps (a lazy program's are made for it), one copy's if the copies share
  // them.
  prog.for_each_base([&](const TileStep& s) {
    for (const Fold& f : s.folds)
      if (!f.cont) p.fold_pe += uint64_t(f.rows) * uint64_t(f.cols);
    if (s.stage) p.final_out += uint64_t(s.store_bytes);
    p.side += uint64_t(s.side_load_bytes);
    add_register_traffic(p.regs, prog, s, hw.array_rows);
  });
  const uint64_t copies = uint64_t(prog.shared);
  p.fold_pe *= copies, p.final_out *= copies, p.side *= copies;
  p.regs.times(copies);
  return p;
}

GemmRunResult gemm_run_result(const HwSpec& hw, const Program& prog, const AccelResult& ar) {
  return gemm_run_result(hw, prog, program_sums(hw, prog), ar);
}

GemmRunResult gemm_run_result(const HwSpec& hw, const Program& prog, const ProgramSums& sums,
                              const AccelResult& ar) {
  GemmRunResult res;
  res.link = link_stats(ar);
  res.name = "gemm";
  res.shape = prog.shape;
  res.repeat = prog.repeat;
  const AccelConfig cfg = accel_config(hw);
  const ArrayStats& as = ar.array;
  res.total_cycles = ar.total_cycles;
  res.stall_cycles = as.idle_cycles;
  res.compute_cycles = as.last_cycle + 1 - as.idle_cycles;
  res.writeback_cycles = ar.total_cycles - (as.last_cycle + 1);
  res.array_first_cycle = as.first_cycle;
  res.array_last_cycle = as.last_cycle;
  res.macs = as.macs;
  res.folds = as.folds;
  const double pes = double(cfg.array.rows) * double(cfg.array.cols);
  res.compute_util = res.total_cycles ? double(res.macs) / (pes * double(res.total_cycles)) : 0;
  res.array_util = res.compute_cycles ? double(res.macs) / (pes * double(res.compute_cycles)) : 0;
  res.mapping_eff = as.mapped_pe_cycles ? double(res.macs) / double(as.mapped_pe_cycles) : 0;
  res.stream_cycles =
      int64_t(as.mapped_pe_cycles / (uint64_t(cfg.array.rows) * uint64_t(cfg.array.cols)));
  res.fold_pe_eff = as.folds ? double(sums.fold_pe) / (pes * double(as.folds)) : 0;

  res.tile_m = prog.tile.m;
  res.tile_n = prog.tile.n;
  res.tile_k = prog.tile.k;
  res.plan = prog.plan;
  res.tiles = sums.steps;

  const DramStats& ds = ar.dram;
  const DramTrafficStats& ri = ds.of(Operand::Ifmap, DramDir::Read);
  const DramTrafficStats& rf = ds.of(Operand::Filter, DramDir::Read);
  const DramTrafficStats& wo = ds.of(Operand::Ofmap, DramDir::Write);
  res.dram_ifmap_bytes = ri.bytes;
  res.dram_filter_bytes = rf.bytes;
  res.dram_ofmap_bytes = wo.bytes;
  // The channel counts a tile's partial sums and a fused add's operand as one ofmap read.
  res.dram_side_bytes = sums.side;
  res.dram_psum_read_bytes = ds.of(Operand::Ofmap, DramDir::Read).bytes - res.dram_side_bytes;
  res.dram_output_bytes = prog.ofmap_on_chip ? 0 : sums.final_out;
  res.dram_spill_bytes = wo.bytes - res.dram_output_bytes + res.dram_psum_read_bytes;
  res.dram_read_bytes = ds.bytes_read;
  res.dram_write_bytes = ds.bytes_written;
  res.dram_ifmap_first = ri.first_cycle;
  res.dram_ifmap_last = ri.last_cycle;
  res.dram_filter_first = rf.first_cycle;
  res.dram_filter_last = rf.last_cycle;
  res.dram_ofmap_first = wo.first_cycle;
  res.dram_ofmap_last = wo.last_cycle;
  res.dram_avg_bw = ds.avg_bytes_per_cycle(res.total_cycles);
  res.dram_peak_bw = ds.peak_bytes_per_cycle(res.total_cycles);
  res.dram_peak_window = std::min<int64_t>(ds.peak_window, std::max<int64_t>(1, res.total_cycles));
  res.dram_busy_cycles = ds.busy_cycles;

  res.sram_ifmap_reads = ar.ifmap.reads;
  res.sram_ifmap_writes = ar.ifmap.writes;
  res.sram_filter_reads = ar.filter.reads;
  res.sram_filter_writes = ar.filter.writes;
  res.sram_ofmap_reads = ar.ofmap.reads;
  res.sram_ofmap_writes = ar.ofmap.writes;
  res.register_read_bits = sums.regs.read_bits;
  res.register_write_bits = sums.regs.write_bits;
  res.transfer_bits = sums.regs.transfer_bits;
  res.input_bytes = hw.input_bytes;
  res.output_bytes = hw.output_bytes;
  return res;
}

}  // namespace ssim
