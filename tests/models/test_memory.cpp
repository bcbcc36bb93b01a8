// Unit tests of the DRAM channel and the scratchpad buffers (docs/memory-system.md). The expected
// times come from a reference written here with the bandwidth as a fraction p / q bytes per cycle
// (a request of b bytes takes b * q / p cycles), not from the channel's own arithmetic.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "models/dram_channel.hpp"
#include "models/scratchpad.hpp"
#include "models/types.hpp"

namespace ssim {
namespace {

// Reference in-order channel with bandwidth p / q bytes per cycle. Times are kept as numerators
// over p (cycle c is c * p); a transfer of b bytes lasts b * q of those.
struct RefChannel {
  int64_t p, q, latency;
  int64_t free_num = 0;
  int64_t request(int64_t cycle, int64_t bytes) {
    if (bytes == 0) return cycle;
    const int64_t start = std::max(cycle * p, free_num);
    free_num = start + bytes * q;
    return (free_num + p - 1) / p + latency;  // cycle after the last byte, plus the latency
  }
};

TEST(MemoryDram, FractionalBandwidthHasNoDrift) {
  // 2.5 bytes per cycle = 5 / 2; 0.3 = 3 / 10; 7.125 = 57 / 8.
  const struct {
    double bw;
    int64_t p, q;
  } cases[] = {{2.5, 5, 2}, {0.3, 3, 10}, {7.125, 57, 8}};
  for (const auto& c : cases) {
    DramChannel ch("dram");
    ch.configure(DramParams{c.bw, 0, false, 1000});
    RefChannel ref{c.p, c.q, 0};
    // 20000 one-byte requests all issued at cycle 0: request i is ready at ceil((i+1) * q / p).
    for (int64_t i = 0; i < 20000; ++i) {
      const int64_t got = ch.request_at(0, Operand::Ifmap, DramDir::Read, 1);
      ASSERT_EQ(got, ref.request(0, 1)) << "bw " << c.bw << " request " << i;
      ASSERT_EQ(got, ((i + 1) * c.q + c.p - 1) / c.p) << "bw " << c.bw << " request " << i;
    }
    EXPECT_EQ(ch.stats().bytes_read, 20000u);
    EXPECT_NEAR(ch.stats().busy_cycles, 20000.0 * double(c.q) / double(c.p), 1e-6);
  }
}

TEST(MemoryDram, RequestsAreServedInOrderWithLatency) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t p = 1 + int64_t(rng() % 40), q = 1 + int64_t(rng() % 8);
    const int64_t latency = int64_t(rng() % 50);
    DramChannel ch("dram");
    ch.configure(DramParams{double(p) / double(q), latency, false, 64});
    RefChannel ref{p, q, latency};
    // The channel works in micro-bytes; p / q must be exact at that resolution to compare.
    if ((1000000 * p) % q != 0) continue;
    int64_t t = 0;
    for (int i = 0; i < 300; ++i) {
      t += int64_t(rng() % 30);  // gaps between issues, sometimes none
      const int64_t bytes = int64_t(rng() % 500);
      const Operand op = Operand(rng() % 3);
      const DramDir dir = op == Operand::Ofmap ? DramDir::Write : DramDir::Read;
      ASSERT_EQ(ch.request_at(t, op, dir, bytes), ref.request(t, bytes))
          << "trial " << trial << " request " << i;
    }
  }
}

TEST(MemoryDram, CountsBytesAndSpansPerOperand) {
  DramChannel ch("dram");
  ch.configure(DramParams{4, 3, false, 1000});
  // ifmap 40 B at cycle 0: moves in cycles 0..9, ready at 10 + 3.
  EXPECT_EQ(ch.request_at(0, Operand::Ifmap, DramDir::Read, 40), 13);
  // filter 8 B at cycle 2: queued behind the ifmap, moves in cycles 10..11, ready at 12 + 3.
  EXPECT_EQ(ch.request_at(2, Operand::Filter, DramDir::Read, 8), 15);
  // ofmap write 6 B at cycle 20: moves in 20 .. 21.5, done at 22 + 3.
  EXPECT_EQ(ch.request_at(20, Operand::Ofmap, DramDir::Write, 6), 25);
  // A zero-byte request completes at once and is not counted.
  EXPECT_EQ(ch.request_at(30, Operand::Ifmap, DramDir::Read, 0), 30);
  const DramStats& s = ch.stats();
  EXPECT_EQ(s.bytes_read, 48u);
  EXPECT_EQ(s.bytes_written, 6u);
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.of(Operand::Ifmap, DramDir::Read).bytes, 40u);
  EXPECT_EQ(s.of(Operand::Ifmap, DramDir::Read).first_cycle, 0);
  EXPECT_EQ(s.of(Operand::Ifmap, DramDir::Read).last_cycle, 9);
  EXPECT_EQ(s.of(Operand::Filter, DramDir::Read).first_cycle, 10);
  EXPECT_EQ(s.of(Operand::Filter, DramDir::Read).last_cycle, 11);
  EXPECT_EQ(s.of(Operand::Ofmap, DramDir::Write).first_cycle, 20);
  EXPECT_EQ(s.of(Operand::Ofmap, DramDir::Write).last_cycle, 21);
  EXPECT_EQ(s.of(Operand::Ofmap, DramDir::Read).bytes, 0u);
  EXPECT_DOUBLE_EQ(s.busy_cycles, 54.0 / 4.0);
  EXPECT_EQ(s.last_ready, 25);
}

TEST(MemoryDram, UnlimitedBandwidthTakesNoTime) {
  DramChannel ch("dram");
  ch.configure(DramParams{1, 100, true, 10});
  EXPECT_EQ(ch.request_at(0, Operand::Ifmap, DramDir::Read, 1 << 20), 0);
  EXPECT_EQ(ch.request_at(0, Operand::Filter, DramDir::Read, 1 << 20), 0);
  EXPECT_EQ(ch.request_at(5, Operand::Ofmap, DramDir::Write, 100), 5);
  EXPECT_EQ(ch.stats().bytes_read, 2u << 20);
  EXPECT_EQ(ch.stats().bytes_written, 100u);
  // Window 0 (cycles 0..9) holds 2 MiB + 100 B.
  EXPECT_DOUBLE_EQ(ch.stats().peak_bytes_per_cycle(1000), double((2 << 20) + 100) / 10.0);
}

TEST(MemoryDram, PeakBandwidthIsTheBusiestWindow) {
  {
    // 50 bytes at 10 B/cycle in cycles 0..4, then 20 bytes in cycles 150..151; windows of 100.
    DramChannel ch("dram");
    ch.configure(DramParams{10, 0, false, 100});
    ch.request_at(0, Operand::Ifmap, DramDir::Read, 50);
    ch.request_at(150, Operand::Filter, DramDir::Read, 20);
    EXPECT_DOUBLE_EQ(ch.stats().peak_bytes_per_cycle(1000), 0.5);
    // A run shorter than a window counts as one window of its length.
    EXPECT_DOUBLE_EQ(ch.stats().peak_bytes_per_cycle(25), 2.0);
  }
  {
    // A transfer that spans whole windows runs at the full bandwidth in them.
    DramChannel ch("dram");
    ch.configure(DramParams{2.5, 0, false, 100});
    ch.request_at(30, Operand::Ifmap, DramDir::Read, 1000);  // cycles 30 .. 429
    EXPECT_DOUBLE_EQ(ch.stats().peak_bytes_per_cycle(10000), 2.5);
  }
  {
    // Two transfers in one window add up: 40 + 30 bytes in window 1 at 1 B/cycle.
    DramChannel ch("dram");
    ch.configure(DramParams{1, 0, false, 100});
    ch.request_at(110, Operand::Ifmap, DramDir::Read, 40);   // cycles 110 .. 149
    ch.request_at(160, Operand::Filter, DramDir::Read, 30);  // cycles 160 .. 189
    ch.request_at(200, Operand::Filter, DramDir::Read, 50);  // cycles 200 .. 249 (window 2)
    EXPECT_DOUBLE_EQ(ch.stats().peak_bytes_per_cycle(1000), 0.7);
  }
}

// WindowPeak (the busiest aligned window) fed transfers as the channel serves them, by absolute
// times (add) or from the start of an earlier window (add_from, as a replay of a repeating stretch
// adds it): both equal a brute-force sum of each window's overlap with every transfer.
TEST(MemoryDram, WindowPeakEqualsTheBusiestWindowByBruteForce) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t window = 1 + int64_t(rng() % 50), per_cycle = 1 + int64_t(rng() % 7);
    const int64_t wu = window * per_cycle;
    std::vector<std::pair<int64_t, int64_t>> spans;  // [start, end) units, ascending, disjoint
    int64_t t = int64_t(rng() % 100);
    for (int i = 0, n = 1 + int(rng() % 40); i < n; ++i) {
      const int64_t len = 1 + int64_t(rng() % (rng() % 4 == 0 ? 4 * wu : wu / 2 + 1));
      spans.push_back({t, t + len});
      t += len + int64_t(rng() % (2 * wu));
    }
    WindowPeak::Units expect = 0;
    for (int64_t w = 0; w * wu < t; ++w) {
      int64_t sum = 0;
      for (auto [a, b] : spans)
        sum += std::max<int64_t>(0, std::min(b, (w + 1) * wu) - std::max(a, w * wu));
      expect = std::max<WindowPeak::Units>(expect, sum);
    }
    WindowPeak by_time, from_window;
    by_time.reset(window, per_cycle);
    from_window.reset(window, per_cycle);
    ASSERT_EQ(from_window.window_units64(), wu);
    for (auto [a, b] : spans) {
      by_time.add(a / per_cycle, a, b, b - a);
      const int64_t w = int64_t(rng() % (a / wu + 1));  // any window at or before the start
      from_window.add_from(w, a - w * wu, b - w * wu);
    }
    EXPECT_EQ(by_time.peak(), expect) << "trial " << trial;
    EXPECT_EQ(from_window.peak(), expect) << "trial " << trial;
  }
}

TEST(MemoryDram, RejectsInvalidParameters) {
  DramChannel ch("dram");
  EXPECT_THROW(ch.configure(DramParams{0, 0, false, 10}), InputError);
  EXPECT_THROW(ch.configure(DramParams{-1, 0, false, 10}), InputError);
  EXPECT_THROW(ch.configure(DramParams{1e-9, 0, false, 10}), InputError);
  EXPECT_THROW(ch.configure(DramParams{1, -1, false, 10}), InputError);
  EXPECT_NO_THROW(ch.configure(DramParams{0, 0, true, 10}));  // bandwidth unused when unlimited
  ch.configure(DramParams{1, 0, false, 10});
  ch.request_at(10, Operand::Ifmap, DramDir::Read, 1);
  EXPECT_THROW(ch.request_at(9, Operand::Ifmap, DramDir::Read, 1), std::logic_error);
  EXPECT_THROW(ch.request_at(11, Operand::Ifmap, DramDir::Read, -1), std::logic_error);
}

TEST(MemoryScratchpad, HalvesHoldOneBlockEach) {
  Scratchpad sp("sp");
  sp.configure(1000);
  EXPECT_EQ(sp.half_bytes(), 500);
  sp.occupy(0, 500);
  EXPECT_THROW(sp.occupy(0, 10), std::logic_error);   // still in use
  EXPECT_THROW(sp.occupy(1, 501), std::logic_error);  // does not fit a half
  sp.occupy(1, 200);
  EXPECT_EQ(sp.stats().peak_bytes, 700);
  sp.release(0);
  EXPECT_FALSE(sp.busy(0));
  EXPECT_TRUE(sp.busy(1));
  EXPECT_THROW(sp.release(0), std::logic_error);
  sp.occupy(0, 100);
  EXPECT_EQ(sp.stats().blocks, 3u);
  sp.count_reads(7);
  sp.count_writes(5);
  EXPECT_EQ(sp.stats().reads, 7u);
  EXPECT_EQ(sp.stats().writes, 5u);
  sp.configure(64);  // a new job clears everything
  EXPECT_FALSE(sp.busy(0));
  EXPECT_EQ(sp.stats().blocks, 0u);
}

}  // namespace
}  // namespace ssim
