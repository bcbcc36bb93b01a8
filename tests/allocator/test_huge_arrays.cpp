// The executable's allocation functions (sim/huge_arrays.cpp), linked into this test binary of
// their own (the simulator's tests run with the default ones; the sanitizer build has neither).
// Every figure below comes from the rules the file documents, derived here without its code:
// blocks of up to 1 MiB (a 16-byte header included) in size classes 16, 32, 48, 64, then four
// per doubling (2^e + q 2^(e-2), q = 1..4), cut in order from chunks of one 2 MiB huge page,
// reused last-freed-first within a class; larger blocks mapped on their own at a 2 MiB boundary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr std::size_t kHuge = std::size_t{2} << 20;

// The block size the documented classes give a request of n bytes (header included).
std::size_t block_of(std::size_t n) {
  std::vector<std::size_t> sizes = {16, 32, 48, 64};
  for (std::size_t p = 64; p < (std::size_t{1} << 20); p *= 2)
    for (std::size_t q = 1; q <= 4; ++q) sizes.push_back(p + q * p / 4);
  const std::size_t need = std::max<std::size_t>(n, 1) + 16;
  for (std::size_t s : sizes)
    if (s >= need) return s;
  return 0;  // not an arena block
}

std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// Keeps the compiler from pairing a new with its delete and leaving both out.
void* touch(void* p, std::size_t n) {
  std::memset(p, 0x5a, std::min<std::size_t>(n, 64));
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

TEST(Allocator, TheClassesAreTheDocumentedOnes) {
  // The reference itself: a block is at most a quarter larger than its request with the header.
  for (std::size_t n = 49; n < (std::size_t{1} << 20) - 16; n = n * 9 / 8 + 1) {
    const std::size_t b = block_of(n);
    ASSERT_GE(b, n + 16);
    EXPECT_LE(b, (n + 16) * 5 / 4 + 16) << n;
  }
}

TEST(Allocator, FreshBlocksOfAClassFollowOneAnotherByItsSize) {
  // Classes no other code in this process uses at this point (a few hundred KiB): two fresh
  // blocks are cut one after the other, a class size apart, if both fit in the chunk.
  for (std::size_t n : {300'000, 200'000, 170'000}) {
    const std::size_t b = block_of(n);
    void* p = touch(::operator new(n), n);
    void* q = touch(::operator new(n), n);
    if (addr(q) / kHuge == addr(p) / kHuge) {
      EXPECT_EQ(addr(q) - addr(p), b) << n;
    } else {
      EXPECT_EQ(addr(q) % kHuge, 16u) << n;  // the first block of the next chunk
    }
    ::operator delete(q);
    ::operator delete(p);
  }
}

TEST(Allocator, AFreedBlockIsReusedByTheNextRequestOfItsClass) {
  for (std::size_t n : {1, 40, 1000, 5000, 70'000, 100'000, 600'000, 1'000'000}) {
    void* p = touch(::operator new(n), n);
    ::operator delete(p);
    // The largest request of the same class.
    const std::size_t same = block_of(n) - 16;
    ASSERT_EQ(block_of(same), block_of(n));
    void* q = touch(::operator new[](same), same);
    EXPECT_EQ(q, p) << n << " then " << same;
    // A request of the next class does not take it.
    void* r = touch(::operator new(same + 1), same + 1);
    EXPECT_NE(r, p) << same + 1;
    ::operator delete(r);
    ::operator delete[](q);
  }
}

TEST(Allocator, LargeBlocksAreMappedAtAHugePageBoundary) {
  for (std::size_t n : {std::size_t{1} << 20, std::size_t{3} << 20}) {  // new[] from 1 MiB
    char* p = static_cast<char*>(touch(::operator new[](n), n));
    EXPECT_EQ(addr(p) % kHuge, 0u) << n;
    p[n - 1] = 1;
    ::operator delete[](p);
  }
  for (std::size_t n : {std::size_t{1} << 20 | 1, std::size_t{5} << 20}) {  // new past the arena
    char* p = static_cast<char*>(touch(::operator new(n), n));
    EXPECT_EQ(addr(p) % kHuge, 0u) << n;
    p[n - 1] = 1;
    ::operator delete(p);
  }
}

// Once the process has started, memset() clears every block, a fresh new[] block mapped on its
// own too (only a block mapped while the libraries' static initialisers run is left as the
// kernel zeroed it: sim/huge_arrays.cpp).
TEST(Allocator, MemsetClearsAFreshLargeBlockAfterStartUp) {
  for (std::size_t n : {std::size_t{3} << 20, std::size_t{1} << 20}) {
    auto* p = static_cast<unsigned char*>(::operator new[](n));
    p[0] = 7;
    p[n / 2] = 7;
    p[n - 1] = 7;
    void* volatile dst = p;  // (a call the compiler cannot see through)
    std::memset(dst, 0, n);
    EXPECT_EQ(p[0], 0) << n;
    EXPECT_EQ(p[n / 2], 0) << n;
    EXPECT_EQ(p[n - 1], 0) << n;
    std::memset(dst, 0x5a, n);
    EXPECT_EQ(p[n / 2], 0x5a) << n;
    ::operator delete[](p);
  }
}

// Random blocks from 0 bytes to 4 MiB (at most 300 alive), allocated and freed in random order:
// each 16-byte aligned, no two alive at once overlapping, and each keeps what was written into it.
TEST(Allocator, RandomBlocksAreAlignedDisjointAndKeepTheirContents) {
  std::mt19937_64 rng(12345);
  struct Live {
    unsigned char* p;
    std::size_t n;
    unsigned char tag;
    bool array;
  };
  std::vector<Live> live;
  auto check = [](const Live& l) {
    // First, last and a few bytes between (a full scan of megabytes each time would be slow).
    for (std::size_t i : {std::size_t{0}, l.n / 3, l.n / 2, l.n - 1})
      if (l.n > 0 && l.p[i] != static_cast<unsigned char>(l.tag + i % 7)) return false;
    return true;
  };
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || (live.size() < 300 && rng() % 2 == 0)) {
      const int scale = int(rng() % 23);  // log-uniform sizes up to 4 MiB
      const std::size_t n = std::size_t(rng() % ((std::size_t{1} << scale) + 1));
      const bool array = rng() % 2 == 0;
      auto* p = static_cast<unsigned char*>(array ? ::operator new[](n) : ::operator new(n));
      ASSERT_EQ(addr(p) % 16, 0u) << n;
      Live l{p, n, static_cast<unsigned char>(rng()), array};
      for (std::size_t i : {std::size_t{0}, n / 3, n / 2, n - 1})
        if (n > 0) p[i] = static_cast<unsigned char>(l.tag + i % 7);
      live.push_back(l);
    } else {
      const std::size_t k = rng() % live.size();
      ASSERT_TRUE(check(live[k])) << "block of " << live[k].n << " bytes overwritten";
      if (live[k].array)
        ::operator delete[](live[k].p);
      else
        ::operator delete(live[k].p);
      live[k] = live.back();
      live.pop_back();
    }
    if (step % 1000 == 999) {  // no two live blocks overlap
      std::vector<std::pair<std::uintptr_t, std::uintptr_t>> iv;
      for (const Live& l : live)
        iv.push_back({addr(l.p), addr(l.p) + std::max<std::size_t>(l.n, 1)});
      std::sort(iv.begin(), iv.end());
      for (std::size_t i = 1; i < iv.size(); ++i) ASSERT_LE(iv[i - 1].second, iv[i].first);
    }
  }
  for (const Live& l : live) {
    EXPECT_TRUE(check(l));
    if (l.array)
      ::operator delete[](l.p);
    else
      ::operator delete(l.p);
  }
}

// More live blocks than the arena's 64 MiB hold: the rest come from malloc, every block usable,
// and freeing them all (arena blocks and malloc's) works.
TEST(Allocator, BeyondTheArenaBlocksComeFromMalloc) {
  // Blocks of 896 KiB, two to a chunk: 64 of them fill the arena's 32 chunks (less any block
  // freed earlier in this process), the others come from malloc.
  const std::size_t n = 900'000;
  std::vector<char*> blocks;
  for (int i = 0; i < 80; ++i) {
    char* p = static_cast<char*>(::operator new(n));
    p[0] = char(i);
    p[n - 1] = char(i);
    blocks.push_back(p);
  }
  std::vector<char*> sorted = blocks;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < sorted.size(); ++i)
    EXPECT_GE(sorted[i] - sorted[i - 1], ptrdiff_t(n));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i][0], char(i));
    EXPECT_EQ(blocks[i][n - 1], char(i));
    ::operator delete(blocks[i]);
  }
  // Containers still work once the arena is full.
  std::vector<std::unique_ptr<int>> v;
  for (int i = 0; i < 10000; ++i) v.push_back(std::make_unique<int>(i));
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(*v[size_t(i)], i);
}

}  // namespace
