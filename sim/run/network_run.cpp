#include "sim/run/network_run.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "models/accelerator.hpp"
#include "sim/mapping/tiler.hpp"
#include "sim/run/op_observer.hpp"
#include "sim/run/op_run.hpp"

namespace ssim {
namespace {

std::string vector_type(VectorKind k) {
  switch (k) {
    case VectorKind::Add:
    case VectorKind::Mul:
      return "elementwise";
    case VectorKind::LayerNorm:
      return "norm";
    case VectorKind::Softmax:
      return "softmax";
    case VectorKind::MaxPool:
    case VectorKind::AvgPool:
      return "pool";
    default:
      return "activation";
  }
}

// The part of an op name after the layer name ("attn.qk" -> "qk").
std::string op_part(const std::string& name, const std::string& layer_name) {
  if (name.size() > layer_name.size() + 1 && name.compare(0, layer_name.size(), layer_name) == 0)
    return name.substr(layer_name.size() + 1);
  return "";
}

OpRow vector_row(const HwSpec& hw, const VectorRunResult& r) {
  (void)hw;
  OpRow row;
  row.is_gemm = false;
  row.flops = uint64_t(r.elements);
  row.total_cycles = r.total_cycles;
  row.vector_cycles = r.vector_cycles;
  row.stage_cycles = r.link.stage_cycles;
  row.mem_stall_cycles = r.stall_cycles + r.writeback_cycles - row.stage_cycles;
  row.dram_read_bytes = r.dram_read_bytes;
  row.dram_write_bytes = r.dram_write_bytes;
  row.dram_input_bytes = r.dram_read_bytes;
  row.dram_output_bytes = r.dram_write_bytes;
  EnergyCounts& n = row.counts;
  n.sram_reads[0] = r.sram_ifmap_reads;
  n.sram_writes[0] = r.sram_ifmap_writes;
  n.sram_reads[2] = r.sram_ofmap_reads;
  n.sram_writes[2] = r.sram_ofmap_writes;
  n.sram_bits[0] = 8 * r.input_bytes;
  n.sram_bits[2] = 8 * r.output_bytes;  // a vector op's results, not accumulators
  n.dram_read_bytes = r.dram_read_bytes;
  n.dram_write_bytes = r.dram_write_bytes;
  n.vector_ops = r.lane_ops;
  return row;
}

}  // namespace

std::string op_type(const Network& net, const Op& op) {
  if (const VectorOp* v = as_vector(op)) return vector_type(v->kind);
  const GemmOp& g = std::get<GemmOp>(op);
  const Layer& layer = net.layers.at(size_t(g.layer));
  switch (layer.type()) {
    case LayerType::Conv2d:
      return "conv";
    case LayerType::Attention: {
      const std::string part = op_part(g.name, layer.name);
      if (part == "qk") return "attention-qk";
      if (part == "av") return "attention-av";
      return "linear";
    }
    case LayerType::Gemm:
      return "gemm";
    default:
      return "linear";
  }
}

OpRow gemm_row(const HwSpec& hw, const GemmRunResult& r, int64_t repeat) {
  OpRow row;
  row.is_gemm = true;
  row.shape = r.shape;
  row.repeat = repeat;
  row.macs = r.macs;
  row.flops = 2 * r.macs;
  row.folds = r.folds;
  row.total_cycles = r.total_cycles;
  const double pes = double(hw.array_rows) * double(hw.array_cols);
  // Every fold streams T vectors: the array's streaming cycles are sum(T) = mapped PE-cycles / PEs.
  const int64_t busy = r.compute_cycles;  // cycles with a fold in flight
  row.compute_cycles = std::min<int64_t>(busy, r.stream_cycles);
  row.fill_drain_cycles = busy - row.compute_cycles;
  row.stage_cycles = r.link.stage_cycles;
  row.mem_stall_cycles = r.stall_cycles + r.writeback_cycles - row.stage_cycles;
  row.compute_util = busy ? double(r.macs) / (pes * double(busy)) : 0;
  row.overall_util = r.total_cycles ? double(r.macs) / (pes * double(r.total_cycles)) : 0;
  row.mapping_eff = r.fold_pe_eff;
  row.dram_read_bytes = r.dram_read_bytes;
  row.dram_write_bytes = r.dram_write_bytes;
  EnergyCounts& n = row.counts;
  n.macs = r.macs;
  n.register_read_bits = r.register_read_bits;
  n.register_write_bits = r.register_write_bits;
  n.transfer_bits = r.transfer_bits;
  n.sram_reads[0] = r.sram_ifmap_reads;
  n.sram_writes[0] = r.sram_ifmap_writes;
  n.sram_reads[1] = r.sram_filter_reads;
  n.sram_writes[1] = r.sram_filter_writes;
  n.sram_reads[2] = r.sram_ofmap_reads;
  n.sram_writes[2] = r.sram_ofmap_writes;
  n.sram_bits[0] = n.sram_bits[1] = 8 * r.input_bytes;
  n.sram_bits[2] = 32;  // int32 accumulators
  n.dram_read_bytes = r.dram_read_bytes;
  n.dram_write_bytes = r.dram_write_bytes;
  return row;
}

namespace {

// A GEMM op's row of the result, and its GemmRunResult kept in res.gemms.
void add_gemm_row(const HwSpec& hw, const GemmOp& g, const OpPlacement& pl,
                  const std::vector<Op>& ops, GemmRunResult r, OpRow& row, NetworkRunResult& res) {
  row = gemm_row(hw, r, g.repeat);
  (g.b_is_weight ? row.dram_weight_bytes : row.dram_input_bytes) += r.dram_filter_bytes;
  row.dram_input_bytes += r.dram_ifmap_bytes;
  row.dram_output_bytes = r.dram_output_bytes;
  row.dram_spill_bytes = r.dram_spill_bytes;
  row.dram_side_bytes = r.dram_side_bytes;
  for (int f : pl.fused) row.fused += (row.fused.empty() ? "" : ";") + op_name(ops[size_t(f)]);
  if (r.values_checked) {
    res.values_checked = true;
    res.values_ok = res.values_ok && r.values_ok;
  }
  res.gemms.push_back(std::move(r));
}

}  // namespace

void check_plan_sizes(const HwSpec& hw, const std::vector<Op>& ops,
                      const std::vector<std::optional<PeriodicPlan>>* periodic,
                      const NetworkPlan* plan) {
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> seen;
  size_t j = 0;
  // (held: the program's steps are all held; else they are made as it runs, as every program of
  // more than kLazyPlanSteps steps is, a GEMM's or a vector op's.)
  auto check = [&](const std::string& what, int64_t steps, bool held) {
    if (steps <= max_program_steps(held)) return;
    throw InputError(what + " would be planned as up to " + std::to_string(steps) +
                     " program steps, more than " + program_steps_limit_text(held) +
                     "; use larger SRAM buffers (fewer, larger blocks), a larger array, or a "
                     "smaller layer");
  };
  for (const Op& op : ops) {
    const size_t i = j++;
    const PeriodicPlan* p = periodic && (*periodic)[i] ? &*(*periodic)[i] : nullptr;
    if (plan && plan->ops[i].fused_into >= 0) continue;  // in a GEMM's output stage: no program
    if (const GemmOp* g = as_gemm(op)) {
      const GemmShape& s = g->shape;
      const std::string what = "GEMM '" + g->name + "' (M,N,K = " + std::to_string(s.M) + "," +
                               std::to_string(s.N) + "," + std::to_string(s.K) +
                               (g->repeat > 1 ? ", " + std::to_string(g->repeat) + " copies" : "") +
                               ")";
      if (p) {
        check(what + " run as a few of its " + std::to_string(p->groups) + " " + p->name(),
              p->head_steps, true);
        continue;
      }
      if (!seen.insert({g->shape.M, g->shape.N, g->shape.K, g->repeat}).second) continue;
      check(what, plan_steps_bound(hw, s, g->repeat), false);
    } else {
      const VectorOp& v = std::get<VectorOp>(op);
      check("vector op '" + v.name + "' (" + std::to_string(v.outputs) + " outputs)",
            plan_steps_bound(hw, v), false);
    }
  }
}

NetworkRunResult run_network(const ValidHw& valid, const Network& net, uint64_t seed,
                             const std::function<void(const Op&)>& on_op_done) {
  const HwSpec& hw = valid;
  // Repeated layers are planned once, and repeated jobs (the same program entered in the same
  // state) simulated once.
  const PlanMemoScope plan_scope(hw);
  const JobMemoScope memo_scope;
  NetworkRunResult res;
  res.workload = net.name;
  res.layers = int64_t(net.layers.size());
  const std::vector<Op> ops = lower(net);
  const NetworkPlan plan = plan_network(hw, net, ops);
  // A GEMM op of many groups (blocks, fold columns, copies), not traced, runs as a few of them.
  std::vector<std::optional<PeriodicPlan>> periodic(ops.size());
  if (!OpObserver::active())
    for (size_t j = 0; j < ops.size(); ++j)
      if (const GemmOp* g = as_gemm(ops[j]); g && plan.ops[j].fused_into < 0)
        periodic[j] = periodic_plan(valid, *g, &plan.ops[j]);
  check_plan_sizes(hw, ops, &periodic, &plan);
  // Each op that runs is planned once; the next one before the current one runs, so that the
  // current one may prefetch its first weight blocks (docs/network-schedule.md, "Across ops").
  auto plan_op = [&](size_t j) {
    if (const GemmOp* g = as_gemm(ops[j])) return plan_gemm_program(valid, *g, &plan.ops[j]);
    return plan_vector_program(valid, std::get<VectorOp>(ops[j]), &plan.ops[j]);
  };
  Program next_prog;
  size_t next_idx = ops.size();  // the op next_prog belongs to (ops.size(): none)
  Program next_head;             // a periodic op's first head program, planned by the op before
  size_t next_head_idx = ops.size();
  JobLink link;
  const EnergyCosts costs = resolve_energy(hw.energy, hw);
  for (size_t j = 0; j < ops.size(); ++j) {
    const Op& op = ops[j];
    const OpPlacement& pl = plan.ops[j];
    OpRow row;
    if (pl.fused_into >= 0) {  // applied in a GEMM's output stage: no time or traffic of its own
      const VectorOp& v = std::get<VectorOp>(op);
      row.flops = uint64_t(v.elements);
      row.fused_into = op_name(ops[size_t(pl.fused_into)]);
      row.counts.vector_ops = uint64_t(v.elements);  // one lane operation per element, in the stage
      ++res.fused_ops;
    } else {
      // This op's program if the op before planned it, then what this op does for the next.
      const bool planned = next_idx == j;
      Program prog = planned ? std::move(next_prog) : Program{};
      Program head = next_head_idx == j ? std::move(next_head) : Program{};
      next_idx = next_head_idx = ops.size();
      link.next_filter.clear();
      link.handoff = false;
      size_t k = j + 1;
      while (k < ops.size() && plan.ops[k].fused_into >= 0) ++k;
      if (hw.op_overlap && k < ops.size()) {
        link.handoff = true;
        const GemmOp* nk = as_gemm(ops[k]);
        // A periodic op's first weight blocks from a head program when they lie in its first
        // groups (no whole program planned for them).
        std::optional<std::vector<int64_t>> loads;
        if (nk && nk->b_is_weight && periodic[k]) {
          loads = periodic_first_filter_loads(valid, *nk, &plan.ops[k], *periodic[k], &next_head);
          next_head_idx = k;
        }
        if (loads) {
          link.next_filter = std::move(*loads);
        } else if (nk && nk->b_is_weight) {  // activations (attention's k^T, v) are not prefetched
          next_prog = plan_op(k);
          next_idx = k;
          link.next_filter = first_filter_loads(next_prog);
        }
      }
      OpLinkStats ls;
      std::optional<GemmRunResult> pr;
      if (periodic[j])
        pr = run_gemm_periodic(valid, *as_gemm(op), &pl, *periodic[j], &link, std::move(head));
      if (pr) {
        ls = pr->link;
        add_gemm_row(hw, *as_gemm(op), pl, ops, std::move(*pr), row, res);
      } else {
        if (periodic[j])  // not periodic after all: the whole program, if it may be held
          check_whole_program(hw, *as_gemm(op), *periodic[j], "GEMM '" + op_name(op) + "'",
                              "use larger SRAM buffers, a larger array, or a smaller layer");
        if (!planned) prog = plan_op(j);
        OpObserver* trace = OpObserver::active();  // --traces
        if (trace) trace->begin_op(res.rows.size(), as_gemm(op), prog);
        if (const GemmOp* g = as_gemm(op)) {
          GemmRunResult r = run_gemm_op(valid, *g, seed + res.rows.size(), &pl, &link, &prog);
          ls = r.link;
          add_gemm_row(hw, *g, pl, ops, std::move(r), row, res);
        } else {
          const VectorRunResult r = run_vector_op(valid, std::get<VectorOp>(op), &pl, &link, &prog);
          row = vector_row(hw, r);
          ls = r.link;
        }
        if (trace) trace->end_op(row.total_cycles);
      }
      row.prefetched_weight_bytes = uint64_t(ls.carried_bytes);
      row.overlap_cycles = ls.overlap_cycles;
      // The next op continues where this one handed off.
      link.continues = link.handoff;
      link.carried = std::move(ls.prefetched);
      link.after_cycles = row.total_cycles;
      link.ofmap_free[0] = ls.ofmap_free[0];
      link.ofmap_free[1] = ls.ofmap_free[1];
    }
    row.input_on_chip = pl.input_on_chip;
    row.output_on_chip = pl.output_on_chip;
    res.resident_tensors += pl.output_on_chip;
    row.index = int(res.rows.size());
    row.layer = op_layer(op);
    row.name = op_name(op);
    row.type = op_type(net, op);
    res.total_cycles += row.total_cycles;
    res.macs += row.macs;
    res.flops += row.flops;
    res.dram_read_bytes += row.dram_read_bytes;
    res.dram_write_bytes += row.dram_write_bytes;
    res.dram_weight_bytes += row.dram_weight_bytes;
    res.dram_input_bytes += row.dram_input_bytes;
    res.dram_output_bytes += row.dram_output_bytes;
    res.dram_spill_bytes += row.dram_spill_bytes;
    res.dram_side_bytes += row.dram_side_bytes;
    res.prefetched_weight_bytes += row.prefetched_weight_bytes;
    res.overlap_cycles += row.overlap_cycles;
    row.energy = energy_of(costs, hw, row.counts);
    res.energy += row.energy;
    res.rows.push_back(std::move(row));
    if (on_op_done) on_op_done(op);
  }
  return res;
}

CanonicalKernels run_canonical_kernels(const ValidHw& hw_in) {
  const ValidHw hw = hw_in.fast();
  CanonicalKernels k;
  k.computed = true;
  k.source = "simulated";

  VectorOp add;
  add.name = "vector_add";
  add.kind = VectorKind::Add;
  add.elements = kCanonicalVectorAddElements;
  add.inputs = 2 * add.elements;
  add.outputs = add.elements;
  const VectorRunResult v = run_vector_op(hw, add);
  k.vector_add.description =
      "c = a + b, " + std::to_string(add.elements) + " int8 elements on the vector unit";
  k.vector_add.flops = uint64_t(add.elements);
  k.vector_add.dram_bytes = v.dram_read_bytes + v.dram_write_bytes;
  k.vector_add.cycles = v.total_cycles;

  const int64_t n = kCanonicalMatrixMultiplySize;
  const GemmShape shape{n, n, n};
  k.matrix_multiply.description = std::to_string(n) + " x " + std::to_string(n) + " x " +
                                  std::to_string(n) + " int8 GEMM on the array";
  // As a --gemm run of the same shape runs it: by its periodic groups when its whole program
  // is large (sim/run/periodic_run.hpp), the cut named then.
  GemmOp mm;
  mm.name = "matrix_multiply";
  mm.shape = shape;
  mm.repeat = 1;
  std::optional<GemmRunResult> p;
  std::string cut;  // (as the plan names it)
  if (const std::optional<PeriodicPlan> plan = periodic_plan(hw, mm)) {
    p = run_gemm_periodic(hw, mm, nullptr, *plan);
    if (!p)
      check_whole_program(hw, mm, *plan,
                          "--report: the roofline's reference " + std::to_string(n) + "^3 GEMM",
                          "use a larger array or larger SRAM buffers, or leave out --report");
    const SubGemms& t = plan->cut;
    if (plan->by != PeriodicPlan::Groups::FoldColumns)
      cut = "sub-GEMMs of " + std::to_string(t.m) + "x" + std::to_string(t.n) +
            (t.k < n ? "x" + std::to_string(t.k) : std::string()) + "; ";
  }
  const GemmRunResult g = p ? std::move(*p) : run_gemm_op(hw, mm, 1);
  if (!g.periodic.empty()) k.matrix_multiply.description += " (" + cut + g.periodic + ")";
  k.matrix_multiply.flops = 2 * g.macs;
  k.matrix_multiply.dram_bytes = g.dram_read_bytes + g.dram_write_bytes;
  k.matrix_multiply.cycles = g.total_cycles;
  return k;
}

}  // namespace ssim
