#include "sim/mapping/network_plan.hpp"

#include <algorithm>
#include <map>

#include "models/vector_unit.hpp"
#include "sim/mapping/tiler.hpp"

namespace ssim {

int64_t op_outputs(const Op& op) {
  if (const GemmOp* g = as_gemm(op)) return g->repeat * g->shape.M * g->shape.N;
  return std::get<VectorOp>(op).outputs;
}

namespace {

// One input of an op: the op whose output it reads (-1: the network's input, a parameter, or
// a tensor whose size does not match, all read from DRAM) and whether it may be read from the
// ifmap buffer (a GEMM's B operand is always read from DRAM: the filter path).
struct In {
  int src = -1;
  bool chip_ok = false;
  int64_t elements = 0;
};

bool fusable(VectorKind k) {
  return k != VectorKind::Softmax && k != VectorKind::LayerNorm;
}
bool binary(VectorKind k) {
  return k == VectorKind::Add || k == VectorKind::Mul;
}
bool pooling(VectorKind k) {
  return k == VectorKind::MaxPool || k == VectorKind::AvgPool;
}

// The ops' inputs from the layers' data flow (docs/network-schedule.md, "Data flow").
std::vector<std::vector<In>> op_inputs(const Network& net, const std::vector<Op>& ops) {
  std::vector<std::vector<In>> in(ops.size());
  std::vector<std::vector<int>> of_layer(net.layers.size());
  for (size_t j = 0; j < ops.size(); ++j) of_layer.at(size_t(op_layer(ops[j]))).push_back(int(j));
  std::map<std::string, int> by_name;  // layer name -> index of the latest layer so named
  auto edge = [&](int src, int64_t elements, bool chip_ok) {
    if (src >= 0 && op_outputs(ops[size_t(src)]) == elements) return In{src, chip_ok, elements};
    return In{-1, false, elements};
  };
  for (size_t L = 0; L < net.layers.size(); ++L) {
    const Layer& layer = net.layers[L];
    std::vector<int> srcs;  // the ops whose outputs the layer reads
    if (layer.from.empty()) {
      if (L > 0 && !of_layer[L - 1].empty()) srcs.push_back(of_layer[L - 1].back());
    } else {
      for (const std::string& f : layer.from) {
        const auto it = by_name.find(f);
        if (it == by_name.end())
          throw InputError("layer '" + layer.name + "': 'from' names no earlier layer '" + f + "'");
        srcs.push_back(of_layer[size_t(it->second)].empty() ? -1
                                                            : of_layer[size_t(it->second)].back());
      }
    }
    by_name[layer.name] = int(L);
    const int s0 = srcs.empty() ? -1 : srcs[0], s1 = srcs.size() > 1 ? srcs[1] : -1;
    const std::vector<int>& js = of_layer[L];
    const int64_t B = layer.batch;
    for (size_t i = 0; i < js.size(); ++i) {
      const int j = js[i];
      std::vector<In>& x = in[size_t(j)];
      if (i > 0 && layer.type() != LayerType::Attention) {  // a GEMM's activation
        x.push_back(edge(js[i - 1], op_outputs(ops[size_t(js[i - 1])]), true));
        continue;
      }
      switch (layer.type()) {
        case LayerType::Conv2d: {
          const auto& p = std::get<Conv2dLayer>(layer.params);
          x.push_back(edge(s0, B * p.in_h * p.in_w * p.in_c, true));
          break;
        }
        case LayerType::Linear: {
          const auto& p = std::get<LinearLayer>(layer.params);
          x.push_back(edge(s0, B * p.tokens * p.in, true));
          break;
        }
        case LayerType::Gemm: {
          const auto& p = std::get<GemmLayer>(layer.params);
          x.push_back(edge(s0, B * p.M * p.K, true));
          break;
        }
        case LayerType::Attention: {
          // q, k, v read the layer's input (k and v another sequence's for cross-attention);
          // qk reads q and k^T, av the softmax and v (their B from DRAM), out reads av.
          const auto& p = std::get<AttentionLayer>(layer.params);
          const int64_t q_in = B * p.seq * p.d_model;
          const GemmOp* g = as_gemm(ops[size_t(j)]);
          const int64_t a_in = g ? g->repeat * g->shape.M * g->shape.K : 0;
          const auto at = [&](size_t k) { return js.at(k); };
          const auto whole = [&](int src) {
            return src >= 0 ? op_outputs(ops[size_t(src)]) : int64_t(0);
          };
          if (!p.projections) {
            // The core alone: qk reads Q (from[0]) and K (from[1]), av the softmax and V (from[2]).
            const int s2 = srcs.size() > 2 ? srcs[2] : -1;
            if (i == 0) {
              x.push_back(edge(s0, a_in, true));
              x.push_back(edge(s1, g->repeat * g->shape.K * g->shape.N, false));
            } else if (i == 1) {
              x.push_back(edge(at(0), whole(at(0)), true));
            } else {
              x.push_back(edge(at(1), whole(at(1)), true));
              x.push_back(edge(s2, g->repeat * g->shape.K * g->shape.N, false));
            }
            break;
          }
          switch (i) {
            case 0:
              x.push_back(edge(s0, q_in, true));
              break;
            case 1:
            case 2:
              x.push_back(p.cross ? In{-1, false, a_in} : edge(s0, a_in, true));
              break;
            case 3:
              x.push_back(edge(at(0), whole(at(0)), true));
              x.push_back(edge(at(1), whole(at(1)), false));
              break;
            case 4:
              x.push_back(edge(at(3), whole(at(3)), true));
              break;
            case 5:
              x.push_back(edge(at(4), whole(at(4)), true));
              x.push_back(edge(at(2), whole(at(2)), false));
              break;
            default:
              x.push_back(edge(at(5), whole(at(5)), true));
              break;
          }
          break;
        }
        case LayerType::Elementwise:
        case LayerType::Pool:
        case LayerType::Softmax: {
          const VectorOp& v = std::get<VectorOp>(ops[size_t(j)]);
          if (binary(v.kind)) {
            x.push_back(edge(s0, v.outputs, true));
            x.push_back(edge(s1, v.outputs, true));  // -1: a parameter (one name in `from`)
          } else {
            x.push_back(edge(s0, v.inputs, true));
          }
          break;
        }
      }
    }
  }
  return in;
}

}  // namespace

NetworkPlan plan_network(const HwSpec& hw, const Network& net, const std::vector<Op>& ops) {
  const size_t n = ops.size();
  const std::vector<std::vector<In>> in = op_inputs(net, ops);
  NetworkPlan plan;
  plan.ops.assign(n, OpPlacement{});
  plan.resident_budget = sram_half_bytes(hw, Operand::Ifmap);
  std::vector<int> readers(n, 0);
  for (const auto& x : in)
    for (const In& i : x)
      if (i.src >= 0) ++readers[size_t(i.src)];
  for (size_t j = 0; j < n; ++j)
    if (!in[j].empty()) plan.ops[j].input_op = in[j][0].src;

  // Fusion: a vector op joins the output stage of the GEMM whose (stage) output it reads, when
  // it is the next op, the only reader of that output, and (a binary op) its other operand
  // exists before the GEMM runs.
  const VectorConfig vc = vector_config(hw);
  std::vector<bool> pooled(n, false);
  for (size_t j = 1; j < n && hw.fusion; ++j) {
    const VectorOp* v = as_vector(ops[j]);
    if (!v || !fusable(v->kind)) continue;
    const int prev = int(j) - 1;
    const int g = as_gemm(ops[size_t(prev)]) ? prev : plan.ops[size_t(prev)].fused_into;
    if (g < 0 || pooled[size_t(g)] || readers[size_t(prev)] != 1) continue;
    const auto main =
        std::find_if(in[j].begin(), in[j].end(), [&](const In& i) { return i.src == prev; });
    if (main == in[j].end()) continue;
    OpPlacement& gp = plan.ops[size_t(g)];
    int side = -2;
    if (binary(v->kind)) {
      const In& other = in[j][main == in[j].begin() ? 1 : 0];
      if (gp.side_op != -2) continue;  // one second operand per output stage
      if (other.src >= 0) {
        const int run = plan.ops[size_t(other.src)].fused_into >= 0
                            ? plan.ops[size_t(other.src)].fused_into
                            : other.src;
        if (run >= g) continue;  // made after the GEMM runs
      }
      side = other.src;
    }
    plan.ops[j].fused_into = g;
    gp.fused.push_back(int(j));
    if (side != -2) gp.side_op = side;
    const VectorKindTiming& t = vc[v->kind];
    // Work per GEMM output: one element (pooling: its windows' share, elements / inputs).
    const int64_t per = pooling(v->kind) ? (v->elements + v->inputs - 1) / v->inputs : 1;
    gp.stage.passes += t.passes * per;
    gp.stage.latency += t.latency;
    gp.stage.lanes = hw.array_cols;
    if (pooling(v->kind)) {
      pooled[size_t(g)] = true;
      gp.stored_outputs = v->outputs;
    }
  }

  // Residency: the tensors the running ops make (a GEMM with a stage: its last fused op's
  // output), each read at the times of its readers (a fused reader: its GEMM's time).
  auto run_of = [&](int k) {
    return plan.ops[size_t(k)].fused_into >= 0 ? plan.ops[size_t(k)].fused_into : k;
  };
  struct Use {
    int reader;  // the op whose placement the read changes
    int at;      // when it reads (a running op's index)
    bool chip_ok;
    bool side;
  };
  std::vector<std::vector<Use>> uses(n);
  for (size_t j = 0; j < n; ++j) {
    const int r = run_of(int(j));
    for (size_t k = 0; k < in[j].size(); ++k) {
      const In& i = in[j][k];
      if (i.src < 0) continue;
      if (plan.ops[j].fused_into >= 0) {
        if (i.src == int(j) - 1) continue;  // the stage's own chain
        uses[size_t(i.src)].push_back(Use{r, r, true, true});
      } else {
        uses[size_t(i.src)].push_back(Use{int(j), int(j), i.chip_ok, false});
      }
    }
  }
  std::vector<int64_t> load(n, 0);  // resident bytes while op i runs
  std::vector<bool> resident(n, false);
  for (size_t r = 0; r < n; ++r) {
    if (plan.ops[r].fused_into >= 0) continue;
    const size_t e = plan.ops[r].fused.empty() ? r : size_t(plan.ops[r].fused.back());
    const std::vector<Use>& u = uses[e];
    if (!hw.residency || u.empty()) continue;
    bool ok = true;
    int last = int(r);
    for (const Use& x : u) ok = ok && x.chip_ok, last = std::max(last, x.at);
    const int64_t bytes = op_outputs(ops[e]) * hw.output_bytes;
    for (int t = int(r); t <= last && ok; ++t) ok = load[size_t(t)] + bytes <= plan.resident_budget;
    if (!ok) continue;
    for (int t = int(r); t <= last; ++t) load[size_t(t)] += bytes;
    resident[e] = true;
    plan.ops[r].output_on_chip = true;
    for (const Use& x : u) {
      if (x.side)
        plan.ops[size_t(x.reader)].side_on_chip = true;
      else if (as_gemm(ops[size_t(x.reader)]))
        plan.ops[size_t(x.reader)].input_on_chip = true;
    }
  }
  // A running vector op reads from DRAM what is not resident.
  for (size_t j = 0; j < n; ++j) {
    const VectorOp* v = as_vector(ops[j]);
    if (!v || plan.ops[j].fused_into >= 0) continue;
    int64_t dram = 0;
    for (const In& i : in[j])
      if (i.src < 0 || !resident[size_t(i.src)]) dram += i.elements;
    dram = std::min(dram, v->inputs);
    if (dram < v->inputs) {
      plan.ops[j].input_dram_elements = dram;
      plan.ops[j].input_on_chip = dram == 0;
    }
  }
  return plan;
}

}  // namespace ssim
