// A Program: what the controller (models/controller.*) runs on the accelerator. The tiler
// (sim/mapping/tiler.*) builds it from a GEMM and a hardware spec; the memory system, the buffer
// rules and the counting rules are described in docs/memory-system.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/types.hpp"

namespace ssim {

// The three scratchpad buffers and the DRAM traffic classes that fill or drain them.
enum class Operand { Ifmap = 0, Filter = 1, Ofmap = 2 };
constexpr int kNumOperands = 3;
const char* to_string(Operand op);  // "ifmap", "filter", "ofmap"

enum class StepKind {
  ArrayTile,  // a GEMM tile on the systolic array
  Vector,     // one chunk of a vector op on the vector unit (models/vector_unit.hpp)
};

// Work for the vector unit: one chunk of a vector op (docs/memory-system.md, "Vector steps").
// The controller hands it to the unit as a VectorCmd (id = the step's index).
struct VectorWork {
  VectorKind kind = VectorKind::Add;
  int64_t elements = 0;  // output elements of the chunk (VectorCmd::elements), >= 1
  int64_t inputs = 0;    // input elements of the chunk, loaded from DRAM into the ifmap buffer
  int64_t row = 0;       // softmax, layernorm: elements per row (the chunk holds whole rows)
  int64_t window = 1;    // maxpool, avgpool: input elements per output
  bool after_previous = false;  // VectorCmd::after_previous (reads the previous command's results)
};

// One step of a Program: an SRAM-sized tile of a GEMM, C[m0.., n0..] += A[m0.., k0..] * B[k0..,
// n0..], or a chunk of a vector op. Buffer rules (docs/memory-system.md):
//  - ifmap_load_bytes > 0: the step's A block is loaded from DRAM into the next half of the ifmap
//    buffer (halves alternate); == 0: the step uses the block of the previous step that loaded
//    one (it stays in its half). The same for filter_load_bytes and B.
//  - new_output: the step opens a new output tile, which takes the next half of the ofmap buffer
//    (ofmap_tile_bytes of int32 accumulators, zeroed). Otherwise it accumulates into the open one.
//  - store_bytes > 0: the step completes the output tile; after it, the tile is written back to
//    DRAM (store_bytes at OutputBytes per element) and its half is free once the write finishes.
//  - A Vector step always takes a new ifmap block of ifmap_load_bytes (the chunk's inputs, 0
//    allowed), uses no filter block, and opens (new_output) and closes its own output tile of
//    ofmap_tile_bytes (its results at OutputBytes each), written back as store_bytes. The step
//    after a vector step must load its own ifmap block.
//  - wait_for_stores: a dependency barrier. The step's loads are issued, and the step submitted,
//    only after every earlier step has finished and every earlier write-back has completed (the
//    step reads what they wrote to DRAM). The step must open a new output tile.
struct TileStep {
  StepKind kind = StepKind::ArrayTile;
  int64_t m0 = 0, mlen = 0, n0 = 0, nlen = 0, k0 = 0, klen = 0;
  int64_t ifmap_load_bytes = 0;
  // The step's A block is all padding (a conv's window rows above or below the image): a new
  // block of 0 bytes that nothing fills (the address generator makes the zeros).
  bool ifmap_pad_only = false;
  int64_t filter_load_bytes = 0;
  bool new_output = false;
  int64_t ofmap_tile_bytes = 0;  // accumulator bytes of the output tile (set on new_output steps)
  int64_t store_bytes = 0;
  // Partial sums reloaded (a new_output step whose outputs already hold partial sums that an
  // earlier output tile spilled to DRAM): psum_load_bytes of int32 accumulators are read from
  // DRAM into the tile's ofmap half before the step starts, once that half is free and the
  // write-back of the output tile `psum_back` tiles before this one has completed.
  int64_t psum_load_bytes = 0;
  int64_t psum_back = 0;
  // A fused add's second operand for the tile's outputs (docs/network-schedule.md): on a
  // new_output step, side_load_bytes are read from DRAM into the tile's half (counted in
  // ofmap_tile_bytes) when the tile opens, with the partial sums if any; the step waits for them.
  int64_t side_load_bytes = 0;
  // The step stores final outputs: they pass the output stage (Program::stage) on their way out.
  bool stage = false;
  bool wait_for_stores = false;
  int64_t copy = 0;   // which copy of a repeated GEMM the step belongs to (0 .. repeat-1)
  FoldGrid folds;     // the sub-GEMM's folds (the tiler plans one fold segment per step)
  VectorWork vector;  // for StepKind::Vector
};

// Planning lazily (docs/memory-system.md, "Planning lazily"): a program's steps made as they are
// needed, by a generator over the planner's loop nest, instead of held in Program::steps.
class StepSource {  // a cursor: the steps in program order
 public:
  virtual ~StepSource() = default;
  // Writes the next step into s (every field set) and returns true; false at the end.
  virtual bool next(TileStep& s) = 0;
  // An independent cursor at the same place (it makes the same steps from here on).
  virtual std::unique_ptr<StepSource> clone() const = 0;
};
class StepPlan {  // what makes the steps of one copy; immutable, shared by copies of a Program
 public:
  virtual ~StepPlan() = default;
  virtual size_t size() const = 0;  // the steps of one copy
  virtual std::unique_ptr<StepSource> begin() const = 0;
  // At least the largest TileStep::psum_back of its steps (how far back a partial-sum reload
  // reaches, in output tiles; 0: none).
  virtual int64_t max_psum_back() const = 0;
};

struct TileSizes {
  int64_t m = 0, n = 0, k = 0;
};

struct Program {
  GemmShape shape;     // of one copy
  int64_t repeat = 1;  // copies of the GEMM, back to back (steps of copy i, then copy i+1)
  // Copies that share `steps` (docs/memory-system.md, "Repeated GEMMs"): 1, every step held in
  // `steps`; or `repeat`, `steps` holding copy 0's and the program running them `shared` times,
  // copy i's steps and folds moved by (i copy_m, i copy_n) in (M, N) and numbered i (step()).
  int64_t shared = 1;
  int64_t copy_m = 0, copy_n = 0;
  Dataflow dataflow = Dataflow::WS;
  TileSizes tile;        // the largest step's sub-GEMM extents
  std::string plan;      // how the tiler laid the GEMM out (GemmPlan::describe())
  int input_bytes = 1;   // bytes per A / B element
  int output_bytes = 1;  // bytes per C element written to DRAM
  int acc_bytes = 4;     // bytes per accumulator in the ofmap buffer
  // The operand whose fold tile is preloaded into the PEs (WS: 1, the filter; IS: 0, the ifmap;
  // -1: none, OS). Its block is read only by a fold's first segment and is free once the
  // preload has ended; it may take the whole buffer.
  int stationary = -1;
  // Where the op's data lives (docs/network-schedule.md, "Residency"): the ifmap blocks are views
  // of a tensor already in the ifmap buffer (loads cross no channel and are ready when issued);
  // the final outputs (stage steps' stores) stay on chip instead of being written back.
  bool ifmap_on_chip = false;
  bool ofmap_on_chip = false;
  // The output stage between the array and the ofmap buffer (a fused activation, add, pooling):
  // `passes` cycles per output and lane (0: nothing fused), `latency` cycles of pipeline, `lanes`
  // outputs per cycle and pass. A final tile of e outputs is written back
  // ceil(e (passes - 1) / lanes) + latency cycles after its last step (docs/network-schedule.md).
  struct OutputStage {
    int64_t passes = 0, latency = 0, lanes = 1;
    int64_t delay(int64_t e) const {
      return passes < 1 ? 0 : (e * (passes - 1) + lanes - 1) / lanes + latency;
    }
  } stage;
  std::vector<TileStep> steps;
  // With `lazy`, `steps` is empty and the steps of copy 0 are made by lazy->begin() as they are
  // needed (StepPlan); the copies are shared as above. Only the controller (through
  // ProgramCursor), the totals below and for_each_base() read such a program; materialized()
  // holds its steps for a caller that needs them all at once.
  std::shared_ptr<const StepPlan> lazy;

  // The steps of one copy, and the steps the program runs: those times the shared copies.
  size_t base_size() const { return lazy ? lazy->size() : steps.size(); }
  size_t size() const { return base_size() * size_t(shared); }
  // f(const TileStep&) for each step of copy 0 (held or made), in order.
  template <class F>
  void for_each_base(F f) const {
    if (!lazy) {
      for (const TileStep& s : steps) f(s);
      return;
    }
    TileStep s;
    for (auto src = lazy->begin(); src->next(s);) f(s);
  }
  // f(j, const TileStep&) for each step j the program runs, in order (held or made; a shared
  // copy's moved to it, as step() gives it).
  template <class F>
  void for_each_step(F f) const {
    size_t j = 0;
    TileStep moved;
    for (int64_t i = 0; i < shared; ++i)
      for_each_base([&](const TileStep& s) {
        if (i == 0) return f(j++, s);
        moved = s;
        move_to_copy(moved, i);
        f(j++, moved);
      });
  }
  // Step j's folds: steps[j]'s, or for a shared copy i > 0 copy 0's moved to it in `scratch`
  // (returned).
  const FoldGrid& grid(size_t j, FoldGrid& scratch) const {
    if (shared == 1 || j < steps.size()) return steps[j].folds;
    const int64_t i = int64_t(j / steps.size());
    scratch = steps[j % steps.size()].folds;
    scratch.shift(i * copy_m, i * copy_n, 0);
    return scratch;
  }
  // Step j of the run, whole: steps[j], or for a shared copy i > 0 its step in `scratch`.
  const TileStep& step(size_t j, TileStep& scratch) const {
    if (shared == 1 || j < steps.size()) return steps[j];
    scratch = steps[j % steps.size()];
    move_to_copy(scratch, int64_t(j / steps.size()));
    return scratch;
  }
  void move_to_copy(TileStep& s, int64_t i) const {  // copy 0's step s, as shared copy i's
    s.copy = i;
    s.m0 += i * copy_m;
    s.n0 += i * copy_n;
    s.folds.shift(i * copy_m, i * copy_n, 0);
  }
  // What step j has in common with every copy of it: all but its copy number and position.
  const TileStep& base(size_t j) const { return steps[shared == 1 ? j : j % steps.size()]; }
  int64_t copy_of(size_t j) const {  // step(j).copy
    return shared == 1 ? steps[j].copy : int64_t(j / steps.size());
  }

  // Totals over the steps run.
  uint64_t folds() const;  // a fold whose stream spans several steps counts once
  uint64_t macs() const;
  uint64_t vector_steps() const;
  int64_t load_bytes(Operand op) const;  // DRAM reads (ofmap: partial sums reloaded)
  int64_t store_bytes() const;           // ofmap DRAM writes
  int64_t side_bytes() const;            // fused adds' operands read (side_load_bytes)
};

// The same program with its steps made by a StepPlan over the steps it holds (p.lazy set,
// p.steps moved into the plan): it runs as the held program does, through the controller's
// lazy path (the tests compare both; set_run_lazily() in models/accelerator.hpp).
Program as_lazy(Program p);
// A lazy program with its steps held (Program::lazy cleared), for a caller that needs them all.
Program materialized(Program p);

}  // namespace ssim
