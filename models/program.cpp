#include "models/program.hpp"

namespace ssim {

const char* to_string(Operand op) {
  switch (op) {
    case Operand::Ifmap:
      return "ifmap";
    case Operand::Filter:
      return "filter";
    case Operand::Ofmap:
      return "ofmap";
  }
  return "?";
}

uint64_t Program::folds() const {
  uint64_t n = 0;
  for (const TileStep& s : steps)
    if (!s.folds.empty()) n += s.folds.size() - (s.folds.cont ? 1 : 0);
  return n * uint64_t(shared);
}

uint64_t Program::macs() const {
  uint64_t n = 0;
  for (const TileStep& s : steps) n += s.folds.macs();
  return n * uint64_t(shared);
}

uint64_t Program::vector_steps() const {
  uint64_t n = 0;
  for (const TileStep& s : steps) n += s.kind == StepKind::Vector;
  return n * uint64_t(shared);
}

int64_t Program::load_bytes(Operand op) const {
  int64_t n = 0;
  for (const TileStep& s : steps) {
    if (op == Operand::Ifmap) n += s.ifmap_load_bytes;
    if (op == Operand::Filter) n += s.filter_load_bytes;
    if (op == Operand::Ofmap) n += s.psum_load_bytes;
  }
  return n * shared;
}

int64_t Program::side_bytes() const {
  int64_t n = 0;
  for (const TileStep& s : steps) n += s.side_load_bytes;
  return n * shared;
}

int64_t Program::store_bytes() const {
  int64_t n = 0;
  for (const TileStep& s : steps) n += s.store_bytes;
  return n * shared;
}

}  // namespace ssim
