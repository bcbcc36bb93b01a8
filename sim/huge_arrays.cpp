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
// they come from huge pages too, the arena. So do the blocks of 64 KiB to 1 MiB a network run
// allocates op after op (a program's steps as it is planned, the controller's tables): on
// malloc's heap, or mapped by malloc from 128 KiB, each grew 4 KiB a fault (YOLO-tiny on 128x128:
// 54 of its 282 faults, about 1 ms of 10). README, "Performance" has the before/after figures.
//
// How: the replaceable global allocation functions (C++17 [new.delete]) are defined here; the
// executable exports them, so libsystemc's and libstdc++'s calls bind to them too. Blocks of at
// most kArenaBlockMax bytes come from the arena, by size class, and are reused once deleted;
// once it cannot grow, they come from malloc. Larger blocks from kObjectFrom / 4 (new) or
// kArrayFrom (new[]) bytes get their own mapping, recorded in a fixed table (no allocation,
// usable before any static initialiser of ours has run); everything else, and any block once
// the table is full, comes from malloc as the default operators do. delete returns arena blocks
// to their class, unmaps what the table holds and frees the rest. memset is defined here too: it
// leaves alone the one block SystemC's static initialiser maps and clears before main (below,
// g_fresh), and is glibc's for everything else. Debian's jemalloc and tcmalloc (preloaded) made
// YOLO-tiny 3 and 14 ms slower: each is one more library to map and relocate, and starts up
// arenas of its own. Not built with the sanitizers (their runtime
// replaces these operators itself), nor into the tests or the Python module; its own tests are
// tests/allocator/ (a binary of their own, linked with this file).
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kSmallPage = std::size_t{4} << 10;
// Blocks too large for the arena (below): new[] from 1 MiB, its length rounded up to whole huge
// pages (SystemC's 3 MiB heap: 4 MiB, two faults); new from 2 MiB (the simulator's large
// vectors: a program's steps, the controller's per-step tables), its length kept (whole huge
// pages, then 4 KiB pages for the rest: no more resident memory than malloc would take, which
// maps blocks this large one by one too); new from kObjectFrom / 4 to 2 MiB on one whole huge
// page. Each is mapped and unmapped on its own.
constexpr std::size_t kArrayFrom = std::size_t{1} << 20;
constexpr std::size_t kObjectFrom = std::size_t{2} << 20;
constexpr int kSlots = 256;

struct Mapping {
  void* user = nullptr;  // the 2 MiB-aligned block handed out (nullptr: slot free)
  std::size_t length = 0;
};

// A spin lock over `flag` for the scope (usable before any static initialiser has run).
class Lock {
 public:
  explicit Lock(std::atomic_flag& flag) : flag_(flag) {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~Lock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag& flag_;
};

Mapping g_maps[kSlots];
std::atomic_flag g_maps_lock = ATOMIC_FLAG_INIT;

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
  Lock lock(g_maps_lock);
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

// The arena: blocks of new and new[] of at most kArenaBlockMax bytes (with a 16-byte header),
// in size classes of four per doubling (16, 32, 48, 64, 80, 96, 112, 128, 160, ...: a block is
// at most a quarter larger than asked), cut in order from chunks of one huge page (2 MiB-aligned,
// advised MADV_HUGEPAGE), mapped one at a time as needed, up to kArenaChunks (a block that does
// not fit in what is left of a chunk starts the next one). A deleted block goes on its class's
// free list, and the next block of that class is the last one freed: memory is reused, never
// returned. When no chunk can be mapped any more, blocks come from malloc.
constexpr std::size_t kArenaBlockMax = std::size_t{1} << 20;  // a block with its header
constexpr std::size_t kHeader = 16;         // keeps user blocks 16-byte aligned, as malloc's
constexpr int kClasses = 4 + 4 * (20 - 6);  // 16 .. 64 by 16, then four per doubling to 1 MiB
constexpr int kArenaChunks = 32;            // 64 MiB

// The class of a block of s bytes (header included, 1 <= s <= kArenaBlockMax), and its size.
int class_of(std::size_t s) {
  if (s <= 64) return int((s + 15) / 16) - 1;
  const int e = 63 - __builtin_clzll(s - 1);  // 2^e < s <= 2^(e + 1), e >= 6
  const std::size_t q = (s - (std::size_t{1} << e) + (std::size_t{1} << (e - 2)) - 1) >> (e - 2);
  return 4 + (e - 6) * 4 + int(q) - 1;
}
std::size_t class_size(int c) {
  if (c < 4) return 16 * std::size_t(c + 1);
  const int e = 6 + (c - 4) / 4;
  return (std::size_t{1} << e) + (std::size_t((c - 4) % 4 + 1) << (e - 2));
}

struct Header {
  Header* next;  // on a free list: the block freed before it
  std::size_t cls;
};

std::atomic_flag g_arena_lock = ATOMIC_FLAG_INIT;
std::uintptr_t g_chunk[kArenaChunks];  // each chunk's address / kHugePage
std::atomic<int> g_chunks{0};          // chunks mapped (in_arena() reads them unlocked)
char* g_cut = nullptr;                 // the next block of the last chunk
std::size_t g_left = 0;                // bytes left after it
bool g_arena_full = false;             // no chunk could be mapped: malloc from now on
Header* g_free[kClasses] = {};

// A block of n bytes from the arena, or nullptr (too large, or the arena full): the caller then
// takes it from malloc.
void* arena_new(std::size_t n) {
  if (n > kArenaBlockMax - kHeader) return nullptr;
  // (At least one byte: a user pointer lies inside its block, so in_arena() finds its chunk.)
  const int c = class_of(std::max<std::size_t>(n, 1) + kHeader);
  Lock lock(g_arena_lock);
  Header* h = g_free[c];
  if (h != nullptr) {
    g_free[c] = h->next;
    return reinterpret_cast<char*>(h) + kHeader;
  }
  const std::size_t size = class_size(c);
  if (size > g_left) {
    const int k = g_chunks.load(std::memory_order_relaxed);
    char* chunk =
        g_arena_full || k == kArenaChunks ? nullptr : static_cast<char*>(map_aligned(kHugePage));
    if (chunk == nullptr) {
      g_arena_full = true;
      return nullptr;
    }
    g_chunk[k] = reinterpret_cast<std::uintptr_t>(chunk) / kHugePage;
    g_chunks.store(k + 1, std::memory_order_release);
    g_cut = chunk;
    g_left = kHugePage;
  }
  h = reinterpret_cast<Header*>(g_cut);
  g_cut += size;
  g_left -= size;
  h->cls = std::size_t(c);
  return reinterpret_cast<char*>(h) + kHeader;
}

bool in_arena(void* p) {
  const std::uintptr_t key = reinterpret_cast<std::uintptr_t>(p) / kHugePage;
  const int k = g_chunks.load(std::memory_order_acquire);
  for (int i = 0; i < k; ++i)
    if (g_chunk[i] == key) return true;
  return false;
}

void arena_delete(void* p) {
  Header* h = reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader);
  Lock lock(g_arena_lock);
  h->next = g_free[h->cls];
  g_free[h->cls] = h;
}

// Whether p is a block of ours (then unmapped). Every other pointer is at most 16-byte aligned
// by malloc in the common case, so most calls return at the first test.
bool unmap_huge(void* p) {
  if ((reinterpret_cast<std::uintptr_t>(p) & (kHugePage - 1)) != 0) return false;
  Lock lock(g_maps_lock);
  for (Mapping& m : g_maps) {
    if (m.user == p) {
      munmap(m.user, m.length);
      m = Mapping{};
      return true;
    }
  }
  return false;
}

// The block new[] has just mapped while the shared libraries' static initialisers run (before
// the executable's own: startup_over() below), until any other allocation, deallocation or memset:
// libsystemc's `new char[0x300000]()` (its temporary heap) asks for 3 MiB and zero-fills them at
// once. Fresh anonymous memory is zero already, so memset() leaves that one block as it is: the
// 3 MiB clear and the two huge-page faults it took (0.3 to 0.5 ms of every run here) happen only
// if SystemC ever uses its temporary heap (it does not in our runs: sc_dt's big and fixed-point
// numbers). Only then, only for that block, and only for a clear from its start.
void* g_fresh = nullptr;
std::size_t g_fresh_length = 0;
bool g_startup_over = false;

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

// glibc's memset behind its length check (no check with the largest length): the same code
// memset runs, reached without coming back here.
extern "C" void* __memset_chk(void* s, int c, std::size_t n, std::size_t s_length);

extern "C" void* memset(void* s, int c, std::size_t n) {
  if (g_fresh != nullptr) {
    const bool fresh = s == g_fresh && c == 0 && n <= g_fresh_length;
    g_fresh = nullptr;
    if (fresh) return s;
  }
  return __memset_chk(s, c, n, ~std::size_t{0});
}

// The executable's first constructor (priority 101): its libraries' initialisers have run, none
// of its own has. From here on memset() clears every block.
__attribute__((constructor(101))) static void startup_over() {
  g_startup_over = true;
  g_fresh = nullptr;
}

void* operator new(std::size_t n) {
  g_fresh = nullptr;
  if (void* p = arena_new(n)) return p;
  if (n >= kObjectFrom / 4) {  // below kObjectFrom: one whole huge page
    if (void* p = map_huge(n, n < kObjectFrom)) return p;
  }
  return plain_new(n);
}

void* operator new[](std::size_t n) {
  g_fresh = nullptr;
  if (void* p = arena_new(n)) return p;
  if (n >= kArrayFrom) {
    if (void* p = map_huge(n, true)) {
      if (!g_startup_over) {
        g_fresh = p;
        g_fresh_length = n;
      }
      return p;
    }
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
  g_fresh = nullptr;
  if (p == nullptr) return;
  if (in_arena(p)) {
    arena_delete(p);
  } else if (!unmap_huge(p)) {
    std::free(p);
  }
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
