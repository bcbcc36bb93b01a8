#include "sim/report/traces.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <system_error>

namespace ssim {

namespace fs = std::filesystem;

// ---- writing ---------------------------------------------------------------------------------

namespace {

// A file written through a buffer, plain or gzip.
class Sink {
 public:
  void open(const std::string& path, bool gz) {
    path_ = path;
    if (gz) {
      gz_ = gzopen(path.c_str(), "wb1");
      if (!gz_) throw std::system_error(errno, std::generic_category(), "cannot write " + path);
    } else {
      f_ = std::fopen(path.c_str(), "wb");
      if (!f_) throw std::system_error(errno, std::generic_category(), "cannot write " + path);
    }
    buf_.reserve(kBuf + 64);
  }
  bool is_open() const { return f_ || gz_; }
  void put(char c) {
    buf_.push_back(c);
    if (buf_.size() >= kBuf) flush();
  }
  void put(const char* s, size_t n) {
    buf_.append(s, n);
    if (buf_.size() >= kBuf) flush();
  }
  void num(int64_t x) {
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, x);
    put(b, size_t(r.ptr - b));
  }
  void close() {
    flush();
    if (f_ && std::fclose(f_) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot write " + path_);
    if (gz_ && gzclose(gz_) != Z_OK) throw std::runtime_error("cannot write " + path_);
    f_ = nullptr;
    gz_ = nullptr;
  }
  ~Sink() {
    if (f_) std::fclose(f_);
    if (gz_) gzclose(gz_);
  }

 private:
  static constexpr size_t kBuf = 1 << 20;
  void flush() {
    if (buf_.empty()) return;
    if (f_ && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      throw std::system_error(errno, std::generic_category(), "cannot write " + path_);
    if (gz_ && gzwrite(gz_, buf_.data(), unsigned(buf_.size())) != int(buf_.size()))
      throw std::runtime_error("cannot write " + path_);
    buf_.clear();
  }
  std::string path_;
  FILE* f_ = nullptr;
  gzFile gz_ = nullptr;
  std::string buf_;
};

constexpr int64_t kEmpty = std::numeric_limits<int64_t>::min();
constexpr int64_t kByteUnits = 1000000;  // the channel's units per byte (DramChannel::kScale)

struct Box {  // a bounding box of fold ranges: rows [r0, r1) x cols [c0, c1)
  int64_t r0 = std::numeric_limits<int64_t>::max(), r1 = -1;
  int64_t c0 = std::numeric_limits<int64_t>::max(), c1 = -1;
  void add(int64_t a, int64_t alen, int64_t b, int64_t blen) {
    r0 = std::min(r0, a), r1 = std::max(r1, a + alen);
    c0 = std::min(c0, b), c1 = std::max(c1, b + blen);
  }
  int64_t area() const { return r1 <= r0 ? 0 : (r1 - r0) * (c1 - c0); }
};

struct BlockInfo {  // an ifmap or filter block, or an output tile
  Box box;
  int64_t copy = 0;
  int64_t bytes = 0;           // load bytes (blocks); store bytes (tiles)
  int64_t psum = 0, side = 0;  // tiles: partial sums and a fused add's operand reloaded
};

// Where one op's elements live (docs/report-format.md, "Traces": SCALE-Sim's address spaces).
struct AddressMap {
  GemmShape s;
  bool conv = false;
  ConvGeom cg;
  int64_t ifo = 0, fo = 0, oo = 0;
  // With values (--fidelity cycle) copy i's rows and columns are shifted by i M and i N
  // (docs/memory-system.md, "Repeated GEMMs"): the addresses are those of the copy's own.
  int64_t row(int64_t m) const { return m >= s.M ? m % s.M : m; }
  int64_t col(int64_t n) const { return n >= s.N ? n % s.N : n; }
  int64_t a(int64_t m, int64_t k, int64_t copy) const {
    m = row(m);
    if (!conv) return ifo + copy * s.M * s.K + m * s.K + k;
    const int64_t P = cg.out_h * cg.out_w, p = cg.m_base + m, img = p / P, q = p % P;
    const int64_t oh = q / cg.out_w, ow = q % cg.out_w;
    const int64_t tap_row = cg.kernel_w * cg.channels;
    const int64_t kh = k / tap_row, kw = (k % tap_row) / cg.channels, ch = k % cg.channels;
    const int64_t ih = oh * cg.stride_h - cg.pad_h + kh * cg.dilation_h;
    const int64_t iw = ow * cg.stride_w - cg.pad_w + kw * cg.dilation_w;
    if (ih < 0 || ih >= cg.in_h || iw < 0 || iw >= cg.in_w) return -1;  // padding
    return raw(img, ih, iw, ch, copy);
  }
  int64_t raw(int64_t img, int64_t ih, int64_t iw, int64_t ch, int64_t copy) const {
    return ifo + copy * cg.batch * cg.in_h * cg.in_w * cg.channels +
           ((img * cg.in_h + ih) * cg.in_w + iw) * cg.channels + ch;
  }
  int64_t b(int64_t k, int64_t n, int64_t copy) const {
    return fo + copy * s.K * s.N + col(n) * s.K + k;
  }
  int64_t c(int64_t m, int64_t n, int64_t copy) const {
    return oo + copy * s.M * s.N + row(m) * s.N + col(n);
  }
};

// Returns false when the words after this one are not wanted.
using WordFn = const std::function<bool(int64_t addr, int64_t bytes)>&;

// The words of an A block in DRAM: a conv's raw input rows or the expanded block, whichever the
// loader moved (sim/im2col.hpp), else the block row by row.
void a_block_words(const AddressMap& am, const BlockInfo& bl, int64_t ib, WordFn out) {
  const Box& x = bl.box;
  const int64_t expanded = x.area() * ib;
  auto expand = [&] {
    for (int64_t m = x.r0; m < x.r1; ++m)
      for (int64_t k = x.c0; k < x.c1; ++k)
        if (!out(am.a(m, k, bl.copy), ib)) return;
  };
  if (!am.conv || bl.bytes == expanded) {
    if (bl.bytes != expanded)
      throw std::logic_error("traces: ifmap block of " + std::to_string(bl.bytes) +
                             " bytes, its steps read " + std::to_string(expanded));
    if (!am.conv) return expand();
  }
  const ConvGeom& cg = am.cg;
  const int64_t P = cg.out_h * cg.out_w, tap_row = cg.kernel_w * cg.channels;
  const int64_t kh0 = x.c0 / tap_row, kh1 = (x.c1 - 1) / tap_row;
  const int64_t nch = std::min(cg.channels, x.c1 - x.c0);
  std::vector<int64_t> chans;
  for (int64_t t = 0; t < nch; ++t) chans.push_back((x.c0 + t) % cg.channels);
  std::sort(chans.begin(), chans.end());
  const int64_t r0 = am.row(x.r0);
  const int64_t a = cg.m_base + r0, b = cg.m_base + r0 + (x.r1 - x.r0);
  int64_t raw_bytes = 0;
  std::vector<std::vector<int64_t>> rows;  // per image touched: its input rows
  for (int64_t img = a / P; img * P < b; ++img) {
    const int64_t p0 = std::max(a, img * P) - img * P, p1 = std::min(b, (img + 1) * P) - img * P;
    std::set<int64_t> ih;
    for (int64_t oh = p0 / cg.out_w; oh <= (p1 - 1) / cg.out_w; ++oh)
      for (int64_t kh = kh0; kh <= kh1; ++kh) {
        const int64_t r = oh * cg.stride_h - cg.pad_h + kh * cg.dilation_h;
        if (r >= 0 && r < cg.in_h) ih.insert(r);
      }
    rows.emplace_back(ih.begin(), ih.end());
    raw_bytes += int64_t(ih.size()) * cg.in_w * nch * ib;
  }
  if (bl.bytes == expanded && expanded <= raw_bytes) return expand();
  if (bl.bytes != raw_bytes)
    throw std::logic_error("traces: conv ifmap block of " + std::to_string(bl.bytes) +
                           " bytes, its input rows are " + std::to_string(raw_bytes));
  int64_t img = a / P;
  for (const auto& rs : rows) {
    for (int64_t ih : rs)
      for (int64_t iw = 0; iw < cg.in_w; ++iw)
        for (int64_t ch : chans)
          if (!out(am.raw(img, ih, iw, ch, bl.copy), ib)) return;
    ++img;
  }
}

void b_block_words(const AddressMap& am, const BlockInfo& bl, int64_t ib, WordFn out) {
  const Box& x = bl.box;  // rows k, cols n
  if (bl.bytes != x.area() * ib)
    throw std::logic_error("traces: filter block of " + std::to_string(bl.bytes) +
                           " bytes, its steps read " + std::to_string(x.area() * ib));
  for (int64_t n = x.c0; n < x.c1; ++n)
    for (int64_t k = x.r0; k < x.r1; ++k)
      if (!out(am.b(k, n, bl.copy), ib)) return;
}

// An output tile's elements, `bytes` of them at bytes / elements each.
void c_tile_words(const AddressMap& am, const BlockInfo& t, int64_t bytes, WordFn out) {
  const Box& x = t.box;  // rows m, cols n
  const int64_t e = x.area();
  if (bytes == 0) return;
  if (e == 0 || bytes % e != 0)
    throw std::logic_error("traces: output transfer of " + std::to_string(bytes) +
                           " bytes for a tile of " + std::to_string(e) + " elements");
  const int64_t eb = bytes / e;
  for (int64_t m = x.r0; m < x.r1; ++m)
    for (int64_t n = x.c0; n < x.c1; ++n)
      if (!out(am.c(m, n, t.copy), eb)) return;
}

// The blocks and output tiles of a program, resolved as the controller resolves them.
struct ProgramIndex {
  std::vector<BlockInfo> blocks[2];
  std::vector<BlockInfo> tiles;
  void build(const Program& prog) {
    for (auto& b : blocks) b.clear();
    tiles.clear();
    int64_t cur[2] = {-1, -1};
    // (Every step the program runs, held or planned lazily.)
    prog.for_each_step([&](size_t, const TileStep& s) {
      const bool vec = s.kind == StepKind::Vector;
      const int64_t load[2] = {s.ifmap_load_bytes, s.filter_load_bytes};
      for (int op = 0; op < 2; ++op) {
        if (vec && op == 1) break;
        if (load[op] > 0 || vec || (op == 0 && s.ifmap_pad_only)) {
          BlockInfo b;
          b.bytes = load[op];
          b.copy = s.copy;
          blocks[op].push_back(b);
          cur[op] = int64_t(blocks[op].size()) - 1;
        }
        const bool skips = op == prog.stationary && !vec && load[op] == 0 && s.folds.front().cont;
        if (vec || skips || cur[op] < 0) continue;
        for (const Fold& f : s.folds) {
          if (op == 0) blocks[0][size_t(cur[0])].box.add(f.m0, f.mlen, f.k0, f.klen);
          if (op == 1) blocks[1][size_t(cur[1])].box.add(f.k0, f.klen, f.n0, f.nlen);
        }
      }
      if (vec) cur[0] = -1;
      if (s.new_output) {
        BlockInfo t;
        t.copy = s.copy;
        t.psum = s.psum_load_bytes;
        t.side = s.side_load_bytes;
        tiles.push_back(t);
      }
      if (tiles.empty()) return;
      BlockInfo& t = tiles.back();
      if (!vec)
        for (const Fold& f : s.folds) t.box.add(f.m0, f.mlen, f.n0, f.nlen);
      if (s.store_bytes > 0) t.bytes = s.store_bytes;
    });
  }
};

// One DRAM trace: a row per cycle in which the channel moved the operand's words, written ragged
// to a side file and padded with -1 to the widest row when it closes.
class DramTrace {
 public:
  void open(const std::string& path, bool gz) {
    path_ = path;
    gz_ = gz;
    ragged_ = std::fopen((path + ".part").c_str(), "wb");
    if (!ragged_)
      throw std::system_error(errno, std::generic_category(), "cannot write " + path + ".part");
    row_ = kEmpty;
    width_ = 0;
    words_ = 0;
  }
  void word(int64_t cycle, int64_t addr) {
    if (cycle != row_) {
      if (row_ != kEmpty) std::fputc('\n', ragged_);
      char b[24];
      auto r = std::to_chars(b, b + sizeof b, cycle);
      std::fwrite(b, 1, size_t(r.ptr - b), ragged_);
      row_ = cycle;
      words_ = 0;
    }
    char b[26];
    b[0] = ',';
    auto r = std::to_chars(b + 1, b + sizeof b, addr);
    std::fwrite(b, 1, size_t(r.ptr - b), ragged_);
    width_ = std::max(width_, ++words_);
  }
  void close() {
    if (!ragged_) return;
    if (row_ != kEmpty) std::fputc('\n', ragged_);
    const bool ok = std::fclose(ragged_) == 0;
    ragged_ = nullptr;
    if (!ok) throw std::runtime_error("cannot write " + path_ + ".part");
    FILE* in = std::fopen((path_ + ".part").c_str(), "rb");
    if (!in) throw std::runtime_error("cannot read " + path_ + ".part");
    Sink out;
    out.open(path_, gz_);
    int64_t commas = 0;
    std::vector<char> buf(1 << 20);
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), in)) > 0) {
      for (size_t i = 0; i < n; ++i) {
        const char c = buf[i];
        if (c == ',') ++commas;
        if (c == '\n') {
          for (; commas < width_; ++commas) out.put(",-1", 3);
          commas = 0;
        }
        out.put(c);
      }
    }
    std::fclose(in);
    out.close();
    fs::remove(path_ + ".part");
  }
  ~DramTrace() {
    if (ragged_) std::fclose(ragged_);
  }

 private:
  std::string path_;
  bool gz_ = false;
  FILE* ragged_ = nullptr;
  int64_t row_ = kEmpty, width_ = 0, words_ = 0;
};

struct ActiveFold {
  Fold f;
  int64_t p = 0, s = 0, end = 0, copy = 0;
};

}  // namespace

struct TraceSession::Impl {
  HwSpec hw;
  TraceOptions o;
  std::string dir;
  bool traced = false;  // the current op is traced
  AddressMap am;
  ProgramIndex index;
  Dataflow df = Dataflow::WS;
  int64_t R = 1, C = 1;
  int ib = 1;
  Sink sram[3];
  DramTrace dram[3];
  int64_t ports[3] = {1, 1, 1};
  std::vector<int64_t> row[3];
  std::deque<ActiveFold> active;
  int64_t emitted = 0;  // cycles below this are written
  // Per submitted step not yet scheduled in full: its folds left and its copy (the cycle model
  // schedules a fold when its stream starts, after later steps may have been submitted).
  std::deque<std::pair<size_t, int64_t>> pending;
  const Program* prog = nullptr;
  int64_t pooled = 0;  // outputs of a fused pooling written so far
  // The last tag, and the weight blocks this job prefetched for the next one.
  TraceObserver::Cause cause = TraceObserver::Cause::Load;
  int tag_op = 0;
  int64_t tag_block = -1, tag_offset = 0;
  struct Prefetched {
    int64_t block, issue;
    __int128 start, end, per;
  };
  std::vector<Prefetched> prefetched, carried;
  int64_t carried_shift = 0;

  bool in_window(int64_t c) const { return c >= o.first_cycle && c <= o.last_cycle; }

  // Words of one transfer, each at the cycle its last byte crossed the channel.
  // Bytes [offset, offset + bytes) of the words `words` lists (a block loaded in parts, ahead of
  // program order); a word is written with the part that moves its last byte, in the cycle that
  // byte crossed the channel, except a request's first word: in the request's first cycle (the
  // channel's, when the request starts in the middle of a cycle).
  void transfer_words(int op, int64_t issue, __int128 start, __int128 per, int64_t shift,
                      const std::function<void(WordFn)>& words, int64_t bytes, int64_t offset = 0) {
    int64_t moved = 0, pos = 0;
    bool first = true;
    const int64_t stop = offset + bytes;
    words([&](int64_t addr, int64_t wb) {
      const int64_t p0 = pos;
      pos += wb;
      moved += std::max<int64_t>(0, std::min(pos, stop) - std::max(p0, offset));
      if (pos - 1 >= offset && pos - 1 < stop) {
        int64_t cyc = issue;
        if (per > 0)
          cyc = first ? int64_t(start / per)
                      : int64_t((start + __int128(moved) * kByteUnits + per - 1) / per) - 1;
        first = false;
        cyc -= shift;
        if (in_window(cyc)) dram[op].word(cyc, addr);
      }
      return pos < stop;
    });
    if (moved != bytes)
      throw std::logic_error("traces: a DRAM request of " + std::to_string(bytes) +
                             " bytes, its words have " + std::to_string(moved));
  }

  void emit_until(int64_t limit) {  // writes the SRAM rows of cycles < limit
    int64_t c = std::max(emitted, o.first_cycle);
    const int64_t stop = std::min(
        limit, o.last_cycle == std::numeric_limits<int64_t>::max() ? limit : o.last_cycle + 1);
    while (c < stop) {
      while (!active.empty() && active.front().end < c) active.pop_front();
      if (active.empty()) break;
      int64_t first = std::numeric_limits<int64_t>::max();
      for (const ActiveFold& a : active) first = std::min(first, start_of(a));
      if (first > c) {
        c = first;
        continue;
      }
      for (int x = 0; x < 3; ++x) std::fill(row[x].begin(), row[x].end(), kEmpty);
      for (const ActiveFold& a : active)
        if (a.end >= c && start_of(a) <= c) expand(a, c);
      for (int x = 0; x < 3; ++x) {
        bool any = false;
        for (int64_t v : row[x]) any = any || v != kEmpty;
        if (!any) continue;
        sram[x].num(c);
        for (int64_t v : row[x]) {
          sram[x].put(',');
          sram[x].num(v == kEmpty ? -1 : v);
        }
        sram[x].put('\n');
      }
      ++c;
    }
    emitted = std::max(emitted, limit);
    // Segments that ended before the limit are written (or outside the window): drop them.
    while (!active.empty() && active.front().end < emitted) active.pop_front();
  }

  int64_t start_of(const ActiveFold& a) const { return df == Dataflow::OS || a.f.cont ? a.s : a.p; }

  void set(int x, int64_t port, int64_t addr) {
    int64_t& e = row[x][size_t(port)];
    if (e != kEmpty) throw std::logic_error("traces: two folds use one SRAM port in one cycle");
    e = addr;
  }

  // The ports fold segment `a` uses in cycle c (docs/cycle-accounting.md; report-format.md).
  void expand(const ActiveFold& a, int64_t c) {
    const Fold& f = a.f;
    const int64_t r = f.rows, cc = f.cols, T = f.T, s = a.s;
    // Streamed operand: port i (a row) carries vector t = c - s - i.
    const int64_t i0 = std::max<int64_t>(0, c - s - T + 1), i1 = std::min<int64_t>(r - 1, c - s);
    if (df == Dataflow::OS) {
      for (int64_t i = i0; i <= i1; ++i) set(0, i, am.a(f.m0 + i, f.k0 + (c - s - i), a.copy));
      const int64_t j0 = std::max<int64_t>(0, c - s - T + 1), j1 = std::min(cc - 1, c - s);
      for (int64_t j = j0; j <= j1; ++j) set(1, j, am.b(f.k0 + (c - s - j), f.n0 + j, a.copy));
      if (!f.more) {  // the drain: the collector takes row R-1-q in cycle d + q
        const int64_t q = c - (a.end - R + 1), row_i = R - 1 - q;
        if (q >= 0 && row_i < r)
          for (int64_t j = 0; j < cc; ++j) set(2, j, am.c(f.m0 + row_i, f.n0 + j, a.copy));
      }
      return;
    }
    const bool ws = df == Dataflow::WS;
    // Preload (first segment): the row that ends deepest enters first, through the top edge.
    if (!f.cont && c >= a.p && c < a.p + r) {
      const int64_t kr = f.k0 + (r - 1 - (c - a.p));
      for (int64_t j = 0; j < cc; ++j)
        ws ? set(1, j, am.b(kr, f.n0 + j, a.copy)) : set(0, j, am.a(f.m0 + j, kr, a.copy));
    }
    for (int64_t i = i0; i <= i1; ++i) {
      const int64_t t = c - s - i;
      ws ? set(0, i, am.a(f.m0 + t, f.k0 + i, a.copy))
         : set(1, i, am.b(f.k0 + i, f.n0 + t, a.copy));
    }
    // Outputs leave PE(R-1, j) in cycle s + t + R - 1 + j.
    const int64_t j0 = std::max<int64_t>(0, c - s - (R - 1) - T + 1);
    const int64_t j1 = std::min(cc - 1, c - s - (R - 1));
    for (int64_t j = j0; j <= j1; ++j) {
      const int64_t t = c - s - (R - 1) - j;
      ws ? set(2, j, am.c(f.m0 + t, f.n0 + j, a.copy))
         : set(2, j, am.c(f.m0 + j, f.n0 + t, a.copy));
    }
  }

  void close_op() {
    if (!traced) return;
    emit_until(std::numeric_limits<int64_t>::max());
    active.clear();
    for (auto& s : sram) s.close();
    for (auto& d : dram) d.close();
    traced = false;
  }
};

namespace {
TraceSession*& active_session() {
  static TraceSession* s = nullptr;
  return s;
}
const char* const kSramNames[3] = {"IFMAP_SRAM_TRACE", "FILTER_SRAM_TRACE", "OFMAP_SRAM_TRACE"};
const char* const kDramNames[3] = {"IFMAP_DRAM_TRACE", "FILTER_DRAM_TRACE", "OFMAP_DRAM_TRACE"};
}  // namespace

TraceSession* TraceSession::active() {
  return active_session();
}
void TraceSession::activate(TraceSession* s) {
  active_session() = s;
  OpObserver::active() = s;
  set_trace_observer(s);
}

TraceSession::TraceSession(const HwSpec& hw, const TraceOptions& o, std::string dir)
    : impl_(std::make_unique<Impl>()), dir_(std::move(dir)) {
  impl_->hw = hw;
  impl_->o = o;
  impl_->dir = dir_;
}

TraceSession::~TraceSession() {
  if (active() == this) activate(nullptr);
}

void TraceSession::begin_op(size_t row, const GemmOp* g, const Program& prog) {
  Impl& m = *impl_;
  m.close_op();
  m.prefetched.swap(m.carried);  // the blocks the op before loaded for this one
  m.prefetched.clear();
  m.traced = g && trace_selected(m.o, *g);
  if (!m.traced) {
    m.carried.clear();
    return;
  }
  const HwSpec& hw = m.hw;
  m.df = prog.dataflow;
  m.R = hw.array_rows;
  m.C = hw.array_cols;
  m.ib = prog.input_bytes;
  m.am = AddressMap{};
  m.am.s = prog.shape;
  m.am.conv = g->has_conv;
  m.am.cg = g->conv;
  m.am.ifo = hw.ifmap_offset;
  m.am.fo = hw.filter_offset;
  m.am.oo = hw.ofmap_offset;
  m.index.build(prog);
  m.prog = &prog;
  m.pooled = 0;
  const bool is = m.df == Dataflow::IS;
  m.ports[0] = is ? m.C : m.R;
  m.ports[1] = is ? m.R : m.C;
  m.ports[2] = m.C;
  for (int x = 0; x < 3; ++x) m.row[x].assign(size_t(m.ports[x]), kEmpty);
  m.emitted = std::numeric_limits<int64_t>::min();
  m.active.clear();
  m.pending.clear();
  const std::string name = "layer" + std::to_string(row);
  const fs::path d = fs::path(dir_) / name;
  fs::create_directories(d);
  folders_.push_back(name);
  const std::string ext = m.o.gz ? ".csv.gz" : ".csv";
  for (int x = 0; x < 3; ++x) {
    m.sram[x].open((d / (std::string(kSramNames[x]) + ext)).string(), m.o.gz);
    m.dram[x].open((d / (std::string(kDramNames[x]) + ext)).string(), m.o.gz);
  }
  // Weight blocks loaded while the op before ran: before this op's cycle 0.
  for (const Impl::Prefetched& p : m.carried) {
    if (size_t(p.block) >= m.index.blocks[1].size()) continue;
    const BlockInfo& bl = m.index.blocks[1][size_t(p.block)];
    m.transfer_words(
        1, p.issue, p.start, p.per, m.carried_shift,
        [&](WordFn out) { b_block_words(m.am, bl, m.ib, out); }, bl.bytes);
  }
  m.carried.clear();
}

void TraceSession::end_op(int64_t total_cycles) {
  impl_->close_op();
  impl_->carried_shift = total_cycles;
}

void TraceSession::finish() {
  impl_->close_op();
}

void TraceSession::move_into(const std::string& out_dir) const {
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(out_dir)) {
    const std::string n = e.path().filename().string();
    if (!e.is_directory() || n.size() < 6 || n.rfind("layer", 0) != 0 ||
        n.find_first_not_of("0123456789", 5) != std::string::npos)
      continue;
    bool traces_only = true;
    for (const auto& f : fs::directory_iterator(e.path())) {
      const std::string fn = f.path().filename().string();
      const size_t at = fn.find("_TRACE.csv");
      traces_only = traces_only && f.is_regular_file() && at != std::string::npos &&
                    (fn.size() == at + 10 || fn.substr(at + 10) == ".gz");
    }
    if (traces_only) stale.push_back(e.path());
  }
  for (const fs::path& p : stale) fs::remove_all(p);
  for (const std::string& f : folders_) fs::rename(fs::path(dir_) / f, fs::path(out_dir) / f);
}

void TraceSession::dram_tag(Cause cause, int op, int64_t block, int64_t offset) {
  impl_->tag_offset = offset;
  impl_->cause = cause;
  impl_->tag_op = op;
  impl_->tag_block = block;
}

void TraceSession::dram_transfer(Operand op, bool, int64_t bytes, int64_t issue, __int128 start,
                                 __int128 end, __int128 per_cycle) {
  Impl& m = *impl_;
  (void)end;
  if (m.cause == Cause::Prefetch) {  // the next op's weights: written with the next op
    m.prefetched.push_back({m.tag_block, issue, start, end, per_cycle});
    return;
  }
  if (!m.traced) return;
  const int x = int(op);
  const int64_t b = m.tag_block;
  auto check = [&](bool ok) {
    if (!ok) throw std::logic_error("traces: a DRAM request the program does not name");
  };
  switch (m.cause) {
    case Cause::Load: {
      check(m.tag_op == x && x < 2 && b >= 0 && size_t(b) < m.index.blocks[x].size());
      const BlockInfo& bl = m.index.blocks[x][size_t(b)];
      m.transfer_words(
          x, issue, start, per_cycle, 0,
          [&](WordFn out) {
            x == 0 ? a_block_words(m.am, bl, m.ib, out) : b_block_words(m.am, bl, m.ib, out);
          },
          bytes, m.tag_offset);
      break;
    }
    case Cause::OutLoad:
    case Cause::Store: {
      check(x == 2 && b >= 0 && size_t(b) < m.index.tiles.size());
      const BlockInfo& t = m.index.tiles[size_t(b)];
      const bool store = m.cause == Cause::Store;
      m.transfer_words(
          2, issue, start, per_cycle, 0,
          [&](WordFn out) {
            const int64_t e = t.box.area(), ob = m.prog->output_bytes;
            if (store && e > 0 && t.bytes < e * ob && t.bytes % ob == 0) {
              // A fused pooling shrank the tile's outputs: they are numbered in the order they
              // are written, from OfmapOffset (docs/report-format.md, "Traces").
              for (int64_t w = 0; w < t.bytes / ob; ++w) out(m.am.oo + m.pooled++, ob);
              return;
            }
            if (store) return c_tile_words(m.am, t, t.bytes, out);
            c_tile_words(m.am, t, t.psum, out);  // int32 partial sums, then the add's operand
            c_tile_words(m.am, t, t.side, out);
          },
          bytes);
      break;
    }
    case Cause::Prefetch:
      break;
  }
}

void TraceSession::step(size_t j, size_t folds, int64_t copy) {
  Impl& m = *impl_;
  if (m.traced && m.prog && j < m.prog->size()) m.pending.emplace_back(folds, copy);
}

void TraceSession::fold(const Fold& f, int64_t preload, int64_t stream, int64_t end) {
  Impl& m = *impl_;
  if (!m.traced) return;
  // Every later segment is active from here on: a new fold's preload (or OS stream) follows this
  // one's, a continuation streams behind it.
  const int64_t lb = m.df == Dataflow::OS ? stream + f.T : f.cont ? m.emitted : preload + f.rows;
  if (m.pending.empty()) throw std::logic_error("traces: a fold of no submitted step");
  ActiveFold a{f, preload, stream, end, m.pending.front().second};
  if (--m.pending.front().first == 0) m.pending.pop_front();
  if (m.emitted == std::numeric_limits<int64_t>::min())
    m.emitted = m.df == Dataflow::OS || f.cont ? stream : preload;
  // Ordered by end, for pruning from the front; a segment after the window is not kept.
  if (m.start_of(a) <= m.o.last_cycle && a.end >= m.o.first_cycle)
    m.active.insert(
        std::upper_bound(m.active.begin(), m.active.end(), a,
                         [](const ActiveFold& x, const ActiveFold& y) { return x.end < y.end; }),
        a);
  m.emit_until(lb);
}

}  // namespace ssim
