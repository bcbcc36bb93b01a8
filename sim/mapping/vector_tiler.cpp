// The vector-op half of the tiler (sim/mapping/tiler.hpp, "Vector ops"): chunks of a vector op that
// fit the ifmap and ofmap buffers. docs/memory-system.md, "Vector steps".
#include <algorithm>
#include <limits>
#include <memory>
#include <string>

#include "sim/mapping/tiler.hpp"

namespace ssim {

// --- Vector ops
// -----------------------------------------------------------------------------------

VectorCmd to_vector_cmd(const VectorOp& op, int64_t row) {
  VectorCmd c;
  c.kind = op.kind;
  c.elements = op.outputs;
  c.inputs = op.inputs;
  if (vector_shape(op.kind) == VectorShape::Row) c.row = row;
  if (vector_shape(op.kind) == VectorShape::Window)
    c.window = op.outputs > 0 ? op.elements / op.outputs : 0;
  return c;
}

VectorConfig vector_config(const HwSpec& hw) {
  VectorConfig c;
  c.lanes = hw.vector_lanes;
  c.timing = default_vector_timing();
  return c;
}

namespace {

// What a vector op's chunking works with, after checking the op.
struct VectorPlan {
  VectorShape shape = VectorShape::Elementwise;
  int64_t outputs = 0, inputs = 0;
  int64_t row = 0;        // row kinds: elements per row
  int64_t window = 1;     // window kinds
  int64_t granule = 1;    // chunks are multiples of it (a row; the lanes)
  int64_t max_chunk = 0;  // the most outputs a chunk may hold (a multiple of granule, or < lanes)
};

std::string op_label(const VectorOp& op) {
  return "vector op '" + op.name + "' (" + to_string(op.kind) + ")";
}

// Inputs of the chunk of outputs [s, s + n): the inputs spread evenly over the outputs.
int64_t chunk_inputs(const VectorPlan& v, int64_t s, int64_t n) {
  const __int128 I = v.inputs, O = v.outputs;
  return int64_t(I * (s + n) / O - I * s / O);
}
// The most inputs any chunk of n outputs reads: ceil(inputs * n / outputs).
int64_t max_chunk_inputs(const VectorPlan& v, int64_t n) {
  const __int128 I = v.inputs, O = v.outputs;
  return int64_t((I * n + O - 1) / O);
}

VectorPlan vector_plan(const HwSpec& hw, const VectorOp& op) {
  const std::string where = op_label(op) + ": ";
  if (op.outputs < 1)
    throw InputError(where + "outputs = " + std::to_string(op.outputs) + ", allowed: >= 1");
  if (op.inputs < 0)
    throw InputError(where + "inputs = " + std::to_string(op.inputs) + ", allowed: >= 0");
  if (op.elements < 1)
    throw InputError(where + "elements = " + std::to_string(op.elements) + ", allowed: >= 1");
  VectorPlan v;
  v.shape = vector_shape(op.kind);
  v.outputs = op.outputs;
  v.inputs = op.inputs;
  const int64_t lanes = std::max(1, hw.vector_lanes);
  switch (v.shape) {
    case VectorShape::Row:
      v.row = op.row > 0 ? op.row : op.outputs;
      if (op.row < 0 || op.outputs % v.row != 0)
        throw InputError(where + "row = " + std::to_string(op.row) +
                         " does not divide outputs = " + std::to_string(op.outputs));
      v.granule = v.row;
      break;
    case VectorShape::Window:
      v.window = op.elements / op.outputs;
      if (v.window < 1)
        throw InputError(where + "elements = " + std::to_string(op.elements) +
                         " is less than outputs = " + std::to_string(op.outputs) +
                         " (a window of at least one element per output)");
      v.granule = std::min(lanes, op.outputs);
      break;
    case VectorShape::Elementwise:
      v.granule = std::min(lanes, op.outputs);
      break;
  }

  // The smallest chunk: one row (row kinds) or one output; it must fit a half of each buffer.
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  const int64_t half_in = sram_half_bytes(hw, Operand::Ifmap);
  const int64_t half_out = sram_half_bytes(hw, Operand::Ofmap);
  const bool rows = v.shape == VectorShape::Row;
  const int64_t min_out = rows ? v.row : 1;
  const int64_t min_in = max_chunk_inputs(v, min_out);
  const struct {
    Operand op;
    int64_t elems, elem_bytes, half;
    const char* what;
  } needs[] = {{Operand::Ifmap, min_in, ib, half_in, "input"},
               {Operand::Ofmap, min_out, ob, half_out, "output"}};
  for (const auto& n : needs) {
    const int64_t bytes = n.elems * n.elem_bytes;
    if (bytes > n.half)
      throw InputError(std::string(sram_key(n.op)) + " " +
                       std::to_string(sram_bytes(hw, n.op) / 1024) + ": too small for " +
                       (rows ? "one row" : "one output") + " of " + to_string(op.kind) + " '" +
                       op.name + "' (" + std::to_string(n.elems) + " " + n.what + " elements at " +
                       std::to_string(n.elem_bytes) + " B = " + kib_text(bytes) +
                       " KiB per half, double buffered); needs at least " +
                       std::to_string(ceil_div(2 * bytes, 1024)) + " KiB");
  }

  // The largest chunk: ceil(inputs * n / outputs) * ib <= half_in and n * ob <= half_out.
  int64_t n = std::min(op.outputs, half_out / ob);
  if (op.inputs > 0) {
    const __int128 h = half_in / ib;
    n = int64_t(std::min<__int128>(n, h * op.outputs / op.inputs));
  }
  if (n < op.outputs && n >= v.granule) n -= n % v.granule;
  v.max_chunk = n;  // >= min_out: checked above
  return v;
}

VectorCmd chunk_cmd(const VectorOp& op, const VectorPlan& v, int64_t n) {
  VectorCmd c;
  c.kind = op.kind;
  c.elements = n;
  c.inputs = 0;
  c.row = v.shape == VectorShape::Row ? v.row : 0;
  c.window = v.window;
  return c;
}

}  // namespace

VectorChunking choose_vector_chunks(const HwSpec& hw, const VectorOp& op) {
  const VectorPlan v = vector_plan(hw, op);
  const VectorConfig cfg = vector_config(hw);
  const int64_t ib = hw.input_bytes, ob = hw.output_bytes;
  const bool unlimited = hw.unlimited_bandwidth;
  const double bw = unlimited ? 0 : hw.dram_bw();
  const double lat = unlimited ? 0 : double(hw.dram_latency);
  auto mem = [&](double bytes) { return unlimited ? 0.0 : bytes / bw; };
  const double L = double(cfg[op.kind].latency);
  const double total_bytes = double(v.inputs * ib + v.outputs * ob);

  // Candidates (in granules): the largest chunk, even splits into p chunks, powers of two.
  const int64_t g = v.max_chunk >= v.granule ? v.granule : 1;
  const int64_t units = ceil_div(v.outputs, g);
  const int64_t max_units = v.max_chunk == v.outputs ? units : v.max_chunk / g;
  std::vector<int64_t> cand;
  for (int64_t p = 1; p <= 64 && p <= units; ++p)
    cand.push_back(std::min(max_units, ceil_div(units, p)));
  for (int64_t u = 1; u < max_units; u *= 2) cand.push_back(u);
  cand.push_back(max_units);
  std::sort(cand.begin(), cand.end(), std::greater<int64_t>());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());

  VectorChunking best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int64_t u : cand) {
    const int64_t n = std::min(v.outputs, u * g);
    const int64_t k = ceil_div(v.outputs, n);
    const int64_t last = v.outputs - (k - 1) * n;
    const double In = double(vector_issue_cycles(cfg, chunk_cmd(op, v, n)));
    const double Il = double(vector_issue_cycles(cfg, chunk_cmd(op, v, last)));
    const double V = double(k - 1) * In + Il;
    const double first = double(max_chunk_inputs(v, n) * ib);
    const double store = double(last * ob);
    const double rest = std::max(0.0, total_bytes - first - store);
    const double est = mem(first) + lat + std::max(V - In, mem(rest)) + In + L + mem(store) + lat;
    const double cost = est + double(k);  // ties go to fewer chunks
    if (cost < best_cost) {
      best_cost = cost;
      best = VectorChunking{n, k, est};
    }
  }
  return best;
}

namespace {

// The chunks of a vector op as steps, made one at a time (held: build_vector_program() keeps
// them; lazy: the controller makes them as it needs them). A chunk's inputs from DRAM, when part
// of them is resident, are its share (Shares) of those bytes: the chunks' inputs add up to the
// op's exactly (chunk_inputs() telescopes), so the shares follow from the chunk index alone.
class VectorChunks final : public StepPlan {
 public:
  VectorChunks(const VectorOp& op, const VectorPlan& v, int64_t chunk, int64_t ib, int64_t ob,
               const VectorStepPlace& place)
      : kind_(op.kind), v_(v), chunk_(chunk), ib_(ib), ob_(ob), place_(place) {}
  size_t size() const override { return size_t(ceil_div(v_.outputs, chunk_)); }
  int64_t max_psum_back() const override { return 0; }
  std::unique_ptr<StepSource> begin() const override { return std::make_unique<Cursor>(this); }
  Shares shares() const {  // (all = 0: no rescaling)
    const bool rescaled = place_.input_dram_bytes >= 0 && v_.inputs > 0;
    return Shares{rescaled ? __int128(v_.inputs) * ib_ : 0, 0, place_.input_dram_bytes, 0};
  }
  // Chunk c's step into s, which must hold a default TileStep, its DRAM input share taken from
  // sh.
  void make(int64_t c, Shares& sh, TileStep& s) const {
    s.kind = StepKind::Vector;
    s.m0 = c * chunk_;
    s.mlen = std::min(chunk_, v_.outputs - s.m0);
    s.vector.kind = kind_;
    s.vector.elements = s.mlen;
    s.vector.inputs = chunk_inputs(v_, s.m0, s.mlen);
    s.vector.row = v_.shape == VectorShape::Row ? v_.row : 0;
    s.vector.window = v_.window;
    s.ifmap_load_bytes = s.vector.inputs * ib_;
    if (sh.all > 0) s.ifmap_load_bytes = sh.next(s.ifmap_load_bytes);
    s.new_output = true;
    s.ofmap_tile_bytes = s.mlen * ob_;
    s.store_bytes = s.mlen * ob_;
    s.stage = place_.stage;
  }

 private:
  class Cursor final : public StepSource {
   public:
    explicit Cursor(const VectorChunks* p) : p_(p), shares_(p->shares()) {}
    bool next(TileStep& s) override {
      if (c_ >= int64_t(p_->size())) return false;
      s = TileStep{};
      p_->make(c_++, shares_, s);
      return true;
    }
    std::unique_ptr<StepSource> clone() const override { return std::make_unique<Cursor>(*this); }

   private:
    const VectorChunks* p_;
    Shares shares_;
    int64_t c_ = 0;
  };
  VectorKind kind_;
  VectorPlan v_;
  int64_t chunk_, ib_, ob_;
  VectorStepPlace place_;
};

}  // namespace

Program build_vector_program(const HwSpec& hw, const VectorOp& op, int64_t chunk_outputs,
                             const VectorStepPlace& place) {
  const VectorPlan v = vector_plan(hw, op);
  if (chunk_outputs < 1 || chunk_outputs > v.max_chunk ||
      (v.shape == VectorShape::Row && chunk_outputs % v.row != 0))
    throw InputError(op_label(op) + ": a chunk of " + std::to_string(chunk_outputs) +
                     " outputs does not fit the buffers (at most " + std::to_string(v.max_chunk) +
                     (v.shape == VectorShape::Row ? ", whole rows)" : ")"));
  Program p;
  p.dataflow = hw.dataflow;
  p.tile = TileSizes{chunk_outputs, 1, 1};
  p.input_bytes = hw.input_bytes;
  p.output_bytes = hw.output_bytes;
  p.acc_bytes = hw.output_bytes;  // results are stored at OutputBytes
  auto chunks = std::make_shared<const VectorChunks>(op, v, chunk_outputs, hw.input_bytes,
                                                     hw.output_bytes, place);
  const int64_t k = int64_t(chunks->size());
  if (plans_lazily(double(k))) {
    p.lazy = std::move(chunks);
    return p;
  }
  p.steps.resize(size_t(k));  // (default steps, as make() takes them)
  Shares sh = chunks->shares();
  for (int64_t c = 0; c < k; ++c) chunks->make(c, sh, p.steps[size_t(c)]);
  return p;
}

Program plan_vector(const HwSpec& hw, const VectorOp& op, const VectorStepPlace& place) {
  return build_vector_program(hw, op, choose_vector_chunks(hw, op).outputs, place);
}

}  // namespace ssim
