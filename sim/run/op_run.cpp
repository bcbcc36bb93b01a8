#include "sim/run/op_run.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"

namespace ssim {
namespace {

// A plain int8 x int8 -> int32 reference of one copy: A is M x K (row stride K), B is K x N with
// row stride ldb.
std::vector<int32_t> reference(const GemmShape& g, const int8_t* A, const int8_t* B, int64_t ldb) {
  std::vector<int32_t> C(size_t(g.M * g.N), 0);
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t k = 0; k < g.K; ++k) {
      const int32_t a = A[m * g.K + k];
      for (int64_t n = 0; n < g.N; ++n) C[size_t(m * g.N + n)] += a * B[k * ldb + n];
    }
  return C;
}

constexpr double kMaxOwnDataBytes = 256.0 * 1024 * 1024;

}  // namespace

namespace {

// Rescales the bytes `get` selects over the steps `pick` selects to a total of `total`, each
// step its proportional share (Shares).
template <class Pick, class Get>
void rescale(Program& p, int64_t total, int64_t floor_bytes, Pick pick, Get get) {
  Shares sh{0, 0, total, floor_bytes};
  for (TileStep& s : p.steps)
    if (pick(s)) sh.all += get(s);
  if (sh.all <= 0) return;
  for (TileStep& s : p.steps)
    if (pick(s)) get(s) = sh.next(get(s));
}

// A lazy program's every copy (moved to it), its final tiles' store bytes rescaled to `total` as
// rescale() rescales a held program's: a pooling stage's stored outputs, as the steps are made.
class StoresRescaled final : public StepPlan {
 public:
  StoresRescaled(const Program& base, int64_t total) : base_(base) {
    shares_.total = total;
    shares_.floor_bytes = 1;
    base_.for_each_base([this](const TileStep& s) {
      if (s.stage) shares_.all += s.store_bytes;
    });
    shares_.all *= base_.shared;
  }
  bool rescales() const { return shares_.all > 0; }
  size_t size() const override { return base_.size(); }
  int64_t max_psum_back() const override { return base_.lazy->max_psum_back(); }
  std::unique_ptr<StepSource> begin() const override { return std::make_unique<Cursor>(this); }

 private:
  class Cursor final : public StepSource {
   public:
    explicit Cursor(const StoresRescaled* p) : p_(p), shares_(p->shares_) {}
    bool next(TileStep& s) override {
      const Program& b = p_->base_;
      if (j_ == b.base_size()) {  // the next copy
        if (++copy_ >= b.shared) return false;
        j_ = 0;
        src_.reset();
      }
      if (!src_) src_ = b.lazy->begin();
      if (!src_->next(s)) throw std::logic_error("lazy plan: fewer steps than its size");
      ++j_;
      if (copy_ > 0) b.move_to_copy(s, copy_);
      if (s.stage) s.store_bytes = shares_.next(s.store_bytes);
      return true;
    }
    std::unique_ptr<StepSource> clone() const override {
      auto c = std::make_unique<Cursor>(p_);
      c->shares_ = shares_;
      c->copy_ = copy_;
      c->j_ = j_;
      if (src_) c->src_ = src_->clone();
      return c;
    }

   private:
    const StoresRescaled* p_;
    Shares shares_;
    int64_t copy_ = 0;
    size_t j_ = 0;
    std::unique_ptr<StepSource> src_;
  };
  Program base_;  // (its steps made by its own lazy plan, held by the shared_ptr)
  Shares shares_;
};

}  // namespace

void place_program(Program& prog, const OpPlacement& pl, int output_bytes) {
  prog.ofmap_on_chip = pl.output_on_chip;
  prog.stage = pl.stage;
  prog.ifmap_on_chip = pl.input_on_chip;
  if (pl.stored_outputs >= 0) {
    // The store bytes spread over every copy's steps: the copies no longer alike.
    const int64_t total = pl.stored_outputs * output_bytes;
    if (prog.lazy) {  // rescaled as the steps are made
      auto plan = std::make_shared<const StoresRescaled>(prog, total);
      if (plan->rescales()) {
        prog.lazy = std::move(plan);
        prog.shared = 1;
        prog.copy_m = prog.copy_n = 0;
      }
      return;
    }
    prog = unshared(std::move(prog));
    rescale(
        prog, total, 1, [](const TileStep& s) { return s.stage; },
        [](TileStep& s) -> int64_t& { return s.store_bytes; });
  }
}

namespace {

// Whether each copy of a repeated GEMM gets its own data (run_gemm_op).
bool own_data(const GemmOp& op) {
  const GemmShape& g = op.shape;
  const int64_t r = op.repeat;
  const double own_bytes =
      4.0 * double(r * g.M) * double(r * g.N) + double(r) * double(g.M * g.K + g.K * g.N);
  return own_bytes <= kMaxOwnDataBytes;
}

}  // namespace

GemmContext gemm_context(const HwSpec& hw, const GemmOp& op, const OpPlacement* place) {
  // A fused add's second operand from DRAM, into each final output tile.
  const bool side = place && place->side_op != -2 && !place->side_on_chip;
  return GemmContext{op.has_conv ? &op.conv : nullptr, side ? int64_t(hw.output_bytes) : 0,
                     place && place->input_on_chip, place && place->output_on_chip};
}

Program plan_gemm_program(const ValidHw& valid, const GemmOp& op, const OpPlacement* place) {
  const HwSpec& hw = valid;
  const GemmShape& g = op.shape;
  const std::string where = "gemm op '" + op.name + "': ";
  if (g.M < 1 || g.N < 1 || g.K < 1)
    throw InputError(where + "M, N and K must be positive integers (got " + std::to_string(g.M) +
                     ", " + std::to_string(g.N) + ", " + std::to_string(g.K) + ")");
  if (op.repeat < 1)
    throw InputError(where + "repeat = " + std::to_string(op.repeat) + ", allowed: >= 1");
  // Each copy its own data (copy i: A rows i*M.., B columns i*N.., C block (i, i)) unless the
  // (r*M) x (r*N) C would be too large; the layout only shifts the folds, never the timing.
  const bool own = own_data(op);
  Program prog =
      plan_gemm_op(hw, g, op.repeat, own ? g.M : 0, own ? g.N : 0, gemm_context(hw, op, place));
  if (place) place_program(prog, *place, hw.output_bytes);
  return prog;
}

GemmRunResult run_gemm_op(const ValidHw& valid, const GemmOp& op, uint64_t seed,
                          const OpPlacement* place, const JobLink* link, const Program* planned) {
  const HwSpec& hw = valid;
  const GemmShape& g = op.shape;
  Program own_prog;
  if (!planned) own_prog = plan_gemm_program(valid, op, place);
  const Program& prog = planned ? *planned : own_prog;
  const int64_t r = op.repeat;
  const bool own = own_data(op);
  const AccelConfig cfg = accel_config(hw);

  if (hw.fidelity != Fidelity::Cycle) {
    GemmRunResult res =
        gemm_run_result(hw, prog, run_program(ArrayKind::Fast, cfg, prog, nullptr, link));
    res.name = op.name;
    return res;
  }

  const int64_t copies = own ? r : 1;
  const GemmShape big{copies * g.M, copies * g.N, g.K};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> A(size_t(big.M * big.K)), B(size_t(big.K * big.N));
  for (auto& v : A) v = static_cast<int8_t>(dist(rng));
  for (auto& v : B) v = static_cast<int8_t>(dist(rng));
  std::vector<int32_t> C(size_t(big.M) * size_t(big.N), 0);
  GemmData data{big, A.data(), B.data(), C.data()};
  GemmRunResult res =
      gemm_run_result(hw, prog, run_program(ArrayKind::Cycle, cfg, prog, &data, link));
  res.name = op.name;
  res.values_checked = true;

  bool ok = true;
  for (int64_t i = 0; i < copies && ok; ++i) {
    const std::vector<int32_t> ref =
        reference(g, A.data() + i * g.M * g.K, B.data() + i * g.N, big.N);
    for (int64_t m = 0; m < g.M && ok; ++m) {
      const int32_t* row = C.data() + (i * g.M + m) * big.N;
      for (int64_t n = 0; n < big.N && ok; ++n) {
        const int64_t j = n - i * g.N;  // column within copy i's block
        if (j < 0 || j >= g.N) {
          ok = row[n] == 0;  // another copy's block: untouched
        } else if (own) {
          ok = row[n] == ref[size_t(m * g.N + j)];
        } else {  // every copy added its product into the one C (wrapping int32 arithmetic)
          ok = uint32_t(row[n]) == uint32_t(r) * uint32_t(ref[size_t(m * g.N + j)]);
        }
      }
    }
  }
  res.values_ok = ok;
  return res;
}

Program plan_vector_program(const ValidHw& valid, const VectorOp& op, const OpPlacement* place) {
  const HwSpec& hw = valid;
  // In a network every vector step stores its final results (TileStep::stage), and a part of its
  // inputs already on chip is not loaded (its DRAM bytes shared among the chunks), as its steps
  // are made (held or lazily).
  VectorStepPlace sp;
  if (place) {
    sp.stage = true;
    if (place->input_dram_elements > 0)
      sp.input_dram_bytes = place->input_dram_elements * hw.input_bytes;
  }
  Program prog = plan_vector(hw, op, sp);
  if (place) {
    prog.ofmap_on_chip = place->output_on_chip;
    prog.stage = place->stage;
    prog.ifmap_on_chip = place->input_dram_elements == 0;
  }
  return prog;
}

VectorRunResult run_vector_op(const ValidHw& valid, const VectorOp& op, const OpPlacement* place,
                              const JobLink* link, const Program* planned) {
  const HwSpec& hw = valid;
  Program own_prog;
  if (!planned) own_prog = plan_vector_program(valid, op, place);
  const Program& prog = planned ? *planned : own_prog;
  const AccelConfig cfg = accel_config(hw);
  const AccelResult ar = run_program(ArrayKind::Fast, cfg, prog, nullptr, link);

  VectorRunResult res;
  res.link = link_stats(ar);
  res.name = op.name;
  res.kind = op.kind;
  res.elements = op.elements;
  res.inputs = op.inputs;
  res.outputs = op.outputs;
  TileStep first;  // every chunk's row is the first one's (held, or made)
  if (prog.lazy)
    prog.lazy->begin()->next(first);
  else if (!prog.steps.empty())
    first = prog.steps.front();
  res.row = first.vector.row;
  const VectorStats& vs = ar.vector;
  res.total_cycles = ar.total_cycles;
  res.stall_cycles = vs.idle_cycles;
  res.vector_cycles = vs.last_cycle + 1 - vs.idle_cycles;
  res.writeback_cycles = ar.total_cycles - (vs.last_cycle + 1);
  res.lanes = cfg.vector.lanes;
  res.chunks = int64_t(prog.size());
  res.chunk_outputs = prog.tile.m;
  res.issue_cycles = vs.issue_cycles;
  res.vector_first_cycle = vs.first_cycle;
  res.vector_last_cycle = vs.last_cycle;
  res.lane_ops = vs.lane_ops;
  res.lane_util = res.vector_cycles > 0
                      ? double(vs.lane_ops) / (double(res.lanes) * double(res.vector_cycles))
                      : 0;

  const DramStats& ds = ar.dram;
  const DramTrafficStats& rd = ds.of(Operand::Ifmap, DramDir::Read);
  const DramTrafficStats& wr = ds.of(Operand::Ofmap, DramDir::Write);
  res.dram_read_bytes = ds.bytes_read;
  res.dram_write_bytes = ds.bytes_written;
  res.dram_read_first = rd.first_cycle;
  res.dram_read_last = rd.last_cycle;
  res.dram_write_first = wr.first_cycle;
  res.dram_write_last = wr.last_cycle;
  res.dram_avg_bw = ds.avg_bytes_per_cycle(res.total_cycles);
  res.dram_peak_bw = ds.peak_bytes_per_cycle(res.total_cycles);
  res.dram_busy_cycles = ds.busy_cycles;

  res.sram_ifmap_reads = ar.ifmap.reads;
  res.sram_ifmap_writes = ar.ifmap.writes;
  res.sram_ofmap_reads = ar.ofmap.reads;
  res.sram_ofmap_writes = ar.ofmap.writes;
  res.sram_reads = ar.ifmap.reads + ar.ofmap.reads;
  res.sram_writes = ar.ifmap.writes + ar.ofmap.writes;
  res.input_bytes = hw.input_bytes;
  res.output_bytes = hw.output_bytes;
  return res;
}

}  // namespace ssim
