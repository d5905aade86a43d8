// Telling our blocks from foreign ones, and reading their sizes, without calling mimalloc.
//
// Every free must know whether its pointer is mimalloc's (foreign blocks, e.g. glibc's from before
// a late load, must never reach mi_free) and its usable size (exact MemStats). mimalloc 2.0.9
// answers both through calls: mi_is_in_heap_region (~21 instructions, a lookup in its private
// segment map) and mi_usable_size. Chosen: reserve one large mimalloc arena up front, uncommitted
// (mi_reserve_os_memory_ex with commit = false: address space only, PROT_NONE, so no RSS and no
// commit charge until mimalloc commits what it uses, as it does for segments from the OS).
// mimalloc takes its 32 MiB segments from arenas before asking the OS, so every block lies in that
// one range and "is it ours" is a subtraction and a compare. When the arena is full mimalloc falls
// back to the OS (mi_option_limit_os_alloc stays off), and such blocks, blocks from before the
// reservation and foreign blocks take the old checks. The block size is then read inline (the
// same four loads mi_usable_size does), validated once against mi_usable_size.
//
// The reservation is made from the first allocation hook of the process, before its mi_* call, so
// that even the main thread's first segment comes from the arena (a segment made earlier would
// keep serving the main thread's small blocks for the life of the process, all on the slow
// checks). Sizes tried: 1 TiB down to 4 GiB (the arena's bitmaps are a few KiB even at 1 TiB);
// under an address-space limit (RLIMIT_AS) at most an eighth of it, so the program keeps its room.
//
// Rejected: copying mimalloc's segment map (private in 2.0.9), a bitmap of 32 MiB chunks learned
// from mi_is_in_heap_region (a chunk mimalloc gives back to the OS may be reused by another
// allocator: a stale bit would hand a foreign pointer to mi_free), and mi_option_limit_os_alloc
// (the program would fail its allocations once the arena is full).
#include "src/heap/mi_blocks.hpp"

#include <sys/resource.h>

#include <iterator>

#include <mimalloc.h>

namespace lw::heap {

constinit std::atomic<std::uintptr_t> g_fast_lo{0};
constinit std::atomic<std::uintptr_t> g_fast_size{0};
constinit std::atomic<bool> g_fast_prepared{false};
constinit std::atomic<bool> g_inline_ok{false};

namespace {

constinit std::atomic<int> g_prepare_state{0};  // 0 not started, 1 running, 2 done

// check_inline_size() compares the inline read with mi_usable_size on blocks of every kind
// (small, large, huge, aligned). Requires mimalloc 2.0.9 (mi_version() 209).
bool check_inline_size() noexcept {
  if (mi_version() != 209) return false;
  constexpr std::size_t kSizes[] = {1,     8,      16,      24,      100,     128,     1000,
                                    4096,  5000,   16384,   70000,   131072,  600000,  1u << 21,
                                    5u << 20, 40u << 20};
  bool same = true;
  void* blocks[std::size(kSizes) * 3] = {};
  std::size_t n = 0;
  for (std::size_t size : kSizes) {
    void* a = mi_malloc(size);
    void* b = mi_malloc_aligned(size, 256);
    void* c = mi_malloc(size);  // likely in b's page, which now has aligned blocks: a block start
    blocks[n++] = a;
    blocks[n++] = b;
    blocks[n++] = c;
    for (void* p : {a, b, c}) {
      std::size_t u = 0;
      if (p != nullptr && inline_usable_size(p, &u) && u != mi_usable_size(p)) same = false;
    }
    for (void* p : {a, c}) {
      std::size_t u = 0;
      if (p != nullptr && inline_usable_size<true>(p, &u) && u != mi_usable_size(p)) same = false;
    }
  }
  for (std::size_t i = 0; i < n; ++i) mi_free(blocks[i]);
  return same;
}

// reserve_arena() reserves the largest arena the process allows; false when none could be had.
bool reserve_arena(std::uintptr_t* lo, std::uintptr_t* size) noexcept {
  std::uint64_t cap = ~std::uint64_t{0};
  rlimit rl{};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) cap = rl.rlim_cur / 8;
  for (int shift = 40; shift >= 32; shift -= 2) {
    const std::size_t want = std::size_t{1} << shift;
    if (want > cap) continue;
    mi_arena_id_t id = 0;
    if (mi_reserve_os_memory_ex(want, /*commit=*/false, /*allow_large=*/false, /*exclusive=*/false, &id) != 0)
      continue;
    std::size_t got = 0;
    void* start = mi_arena_area(id, &got);
    if (start == nullptr || got == 0) return false;
    *lo = reinterpret_cast<std::uintptr_t>(start);
    *size = got;
    return true;
  }
  return false;
}

}  // namespace

void prepare_fast_blocks() noexcept {
  int expected = 0;
  if (!g_prepare_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  // mimalloc initializes itself on its first allocation; we reserve before that one.
  mi_process_init();
  std::uintptr_t lo = 0, size = 0;
  const std::int64_t committed_before = mimalloc_committed();
  const bool reserved = reserve_arena(&lo, &size);
  // Checked on blocks from the arena (when there is one): the check's own segments come from it.
  const bool inline_ok = check_inline_size();
  // mimalloc 2.0.9's "committed" count comes out of the reservation and the check's huge blocks
  // (taken from the arena, then given back) off by a constant, negative by ~100 MB: every block
  // is freed again here, so whatever moved is that skew.
  g_commit_skew.store(mimalloc_committed() - committed_before, std::memory_order_relaxed);
  g_inline_ok.store(inline_ok, std::memory_order_relaxed);
  if (reserved && inline_ok) {
    g_fast_lo.store(lo, std::memory_order_relaxed);
    g_fast_size.store(size, std::memory_order_release);
  }
  g_fast_prepared.store(true, std::memory_order_release);
  g_prepare_state.store(2, std::memory_order_release);
}

FastBlocksInfo fast_blocks_info() noexcept {
  FastBlocksInfo i;
  i.size = g_fast_size.load(std::memory_order_acquire);
  i.lo = g_fast_lo.load(std::memory_order_relaxed);
  i.inline_size = g_inline_ok.load(std::memory_order_relaxed);
  return i;
}

}  // namespace lw::heap
