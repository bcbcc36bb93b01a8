// Allocations on transparent huge pages, in the systolic-sim executable only.
//
// Why: a first touch of a 4 KiB page is expensive on the project machine (a Firecracker VM:
// about 11 us, against 0.1 to 0.3 us on bare metal; a 2 MiB huge page costs one fault of 0.1 to
// 0.2 ms, the kernel zeroing it). At start-up, before main(), libsystemc's
// static initialiser allocates SystemC's temporary heap (`sc_temp_heap`, 3 MiB,
// `new char[0x300000]()`) and zero-fills it: 768 first touches, 8.5 ms of a 22 ms
// `systolic-sim --help` (perf record -e page-faults: 67 % of the process's page faults). A large
// GEMM's planned program and the controller's per-step tables are hundreds of MB touched once
// (4096^3 on 8x8: 0.9 s of a 1.4 s run was the kernel handling page faults). Served from
// 2 MiB-aligned memory advised MADV_HUGEPAGE (transparent huge pages are in `madvise` mode
// here), a 2 MiB extent costs one fault. The small blocks of the start-up (SystemC's object
// pools and simulation context, the libraries' tables, option descriptions, strings: about
// 450 KB by the time `--help` has printed) took 60 more faults on malloc's heap, 4 KiB at a time;
// they come from one huge page, the arena, until it is full. README, "Performance" has the
// before/after figures.
//
// How: the replaceable global allocation functions (C++17 [new.delete]) are defined here; the
// executable exports them, so libsystemc's and libstdc++'s calls bind to them too. Blocks of at
// most kArenaBlockMax bytes are cut from the arena in order and never reused (delete of one does
// nothing, so it holds at most 2 MiB); once it is full, they come from malloc. Blocks from
// kArrayFrom (new[]) or kObjectFrom (new) bytes get their own mapping, recorded in a fixed table
// (no allocation, usable before any static initialiser of ours has run); everything else, and
// any block once the table is full, comes from malloc as the default operators do. delete
// unmaps what the table holds and frees the rest. Not built with the sanitizers (their runtime
// replaces these operators itself), nor into the tests or the Python module.
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kSmallPage = std::size_t{4} << 10;
// new[] from 1 MiB, its length rounded up to whole huge pages (SystemC's 3 MiB heap: 4 MiB, two
// faults); new from 2 MiB (the simulator's large vectors: a program's steps, the controller's
// per-step tables), its length kept (whole huge pages, then 4 KiB pages for the rest: no more
// resident memory than malloc would take, which maps blocks this large one by one too); new
// from kObjectFrom / 4 (512 KiB) to 2 MiB on one whole huge page: an op's program of a few
// thousand steps, which a network plans op after op (GPT-2 prefill on the default hardware
// 38,210 page faults to 6,478 and 0.61 s to 0.23 s, BERT-base-128 0.12 s to 0.04 s; AlexNet on
// 128x128 514 to 356; up to 1.5 MB of resident memory more per such block alive).
constexpr std::size_t kArrayFrom = std::size_t{1} << 20;
constexpr std::size_t kObjectFrom = std::size_t{2} << 20;
constexpr int kSlots = 256;
// The arena: one huge page for blocks of new and new[] up to 64 KiB (the largest block of the
// start-up but SystemC's temporary heap is 20 KiB, one of its object pools), 16-byte aligned as
// malloc's.
constexpr std::size_t kArenaBytes = kHugePage;
constexpr std::size_t kArenaBlockMax = std::size_t{64} << 10;
constexpr std::size_t kArenaAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

struct Mapping {
  void* user = nullptr;  // the 2 MiB-aligned block handed out (nullptr: slot free)
  std::size_t length = 0;
};

Mapping g_maps[kSlots];
std::atomic_flag g_lock = ATOMIC_FLAG_INIT;

struct Lock {
  Lock() {
    while (g_lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~Lock() { g_lock.clear(std::memory_order_release); }
};

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// `length` bytes at a 2 MiB boundary, advised MADV_HUGEPAGE, or nullptr. Maps a huge page more
// than needed, keeps the aligned part and gives back the rest.
void* map_aligned(std::size_t length) {
  void* base =
      mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  const auto b = reinterpret_cast<std::uintptr_t>(base);
  const auto aligned = (b + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > b) munmap(base, aligned - b);
  if (const std::uintptr_t tail = b + length + kHugePage - (aligned + length); tail > 0)
    munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* user = reinterpret_cast<void*>(aligned);
  madvise(user, length, MADV_HUGEPAGE);  // advice only: on failure the pages are 4 KiB ones
  return user;
}

void* map_huge(std::size_t n, bool whole_pages) {
  const std::size_t length = round_up(n, whole_pages ? kHugePage : kSmallPage);
  if (length < n || length > (std::size_t{1} << 46)) return nullptr;  // let operator new fail
  Lock lock;
  Mapping* slot = nullptr;
  for (Mapping& m : g_maps) {
    if (m.user == nullptr) {
      slot = &m;
      break;
    }
  }
  if (slot == nullptr) return nullptr;
  void* user = map_aligned(length);
  if (user == nullptr) return nullptr;
  *slot = {user, length};
  return user;
}

std::atomic<char*> g_arena{nullptr};       // mapped at the first small block
std::atomic<std::size_t> g_arena_used{0};  // bytes handed out (beyond kArenaBytes: full)
std::atomic_flag g_arena_tried = ATOMIC_FLAG_INIT;

// A block of n bytes from the arena, or nullptr (full, being mapped by another thread, or not
// mappable): the caller then takes it from malloc.
void* arena_new(std::size_t n) {
  if (g_arena_used.load(std::memory_order_relaxed) >= kArenaBytes) return nullptr;
  char* base = g_arena.load(std::memory_order_acquire);
  if (base == nullptr) {
    if (g_arena_tried.test_and_set()) return nullptr;  // another thread maps it (or failed to)
    base = static_cast<char*>(map_aligned(kArenaBytes));
    if (base == nullptr) {
      g_arena_used.store(kArenaBytes);
      return nullptr;
    }
    g_arena.store(base, std::memory_order_release);
  }
  const std::size_t size = round_up(n == 0 ? 1 : n, kArenaAlign);
  const std::size_t at = g_arena_used.fetch_add(size, std::memory_order_relaxed);
  if (at + size > kArenaBytes) return nullptr;
  return base + at;
}

bool in_arena(void* p) {
  const char* base = g_arena.load(std::memory_order_acquire);
  return base != nullptr && static_cast<char*>(p) >= base &&
         static_cast<char*>(p) < base + kArenaBytes;
}

// Whether p is a block of ours (then unmapped). Every other pointer is at most 16-byte aligned
// by malloc in the common case, so most calls return at the first test.
bool unmap_huge(void* p) {
  if ((reinterpret_cast<std::uintptr_t>(p) & (kHugePage - 1)) != 0) return false;
  Lock lock;
  for (Mapping& m : g_maps) {
    if (m.user == p) {
      munmap(m.user, m.length);
      m = Mapping{};
      return true;
    }
  }
  return false;
}

// The default behaviour of operator new (C++17 [new.delete.single]): malloc, and on failure the
// new-handler, or std::bad_alloc without one.
void* plain_new(std::size_t n) {
  if (n == 0) n = 1;
  for (;;) {
    if (void* p = std::malloc(n)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

}  // namespace

void* operator new(std::size_t n) {
  if (n <= kArenaBlockMax) {
    if (void* p = arena_new(n)) return p;
  }
  if (n >= kObjectFrom / 4) {  // below kObjectFrom: one whole huge page
    if (void* p = map_huge(n, n < kObjectFrom)) return p;
  }
  return plain_new(n);
}

void* operator new[](std::size_t n) {
  if (n <= kArenaBlockMax) {
    if (void* p = arena_new(n)) return p;
  }
  if (n >= kArrayFrom) {
    if (void* p = map_huge(n, true)) return p;
  }
  return plain_new(n);
}

void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (...) {
    return nullptr;
  }
}

void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new[](n);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept {
  if (p != nullptr && !in_arena(p) && !unmap_huge(p)) std::free(p);
}
void operator delete[](void* p) noexcept {
  operator delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  operator delete(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  operator delete(p);
}
