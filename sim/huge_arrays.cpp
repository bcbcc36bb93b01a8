// Large allocations on transparent huge pages, in the systolic-sim executable only.
//
// Why: a first touch of a 4 KiB page is expensive on the project machine (a Firecracker VM:
// about 11 us, against 0.1 to 0.3 us on bare metal). At start-up, before main(), libsystemc's
// static initialiser allocates SystemC's temporary heap (`sc_temp_heap`, 3 MiB,
// `new char[0x300000]()`) and zero-fills it: 768 first touches, 8.5 ms of a 22 ms
// `systolic-sim --help` (perf record -e page-faults: 67 % of the process's page faults). A large
// GEMM's planned program and the controller's per-step tables are hundreds of MB touched once
// (4096^3 on 8x8: 0.9 s of a 1.4 s run was the kernel handling page faults). Served from
// 2 MiB-aligned memory advised MADV_HUGEPAGE (transparent huge pages are in `madvise` mode
// here), a 2 MiB extent costs one fault. README, "Performance" has the before/after figures.
//
// How: the replaceable global allocation functions (C++17 [new.delete]) are defined here; the
// executable exports them, so libsystemc's and libstdc++'s calls bind to them too. Blocks from
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
// resident memory than malloc would take, which maps blocks this large one by one too).
constexpr std::size_t kArrayFrom = std::size_t{1} << 20;
constexpr std::size_t kObjectFrom = std::size_t{2} << 20;
constexpr int kSlots = 256;

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
  // Map a huge page more than needed, keep the 2 MiB-aligned part, give back the rest.
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
  *slot = {user, length};
  return user;
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
  if (n >= kObjectFrom) {
    if (void* p = map_huge(n, false)) return p;
  }
  return plain_new(n);
}

void* operator new[](std::size_t n) {
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
  if (p != nullptr && !unmap_huge(p)) std::free(p);
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
