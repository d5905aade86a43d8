// mi_blocks.hpp: what the hooks need to know about a mimalloc block, fast: whether a pointer is
// one of ours (inside the address range mimalloc's segments are served from) and its usable size
// (read inline from mimalloc 2.0.9's page). Thread-safe, lock-free, never allocates.
//
// prepare_fast_blocks() runs once, from the first allocation hook of the process (before its
// mi_* call): it reserves a large, uncommitted mimalloc arena, so that mimalloc's segments come
// from one known range, and checks the inline size read against mi_usable_size. Until then, and
// when either fails, the fast range is empty and every pointer takes the slow checks
// (mi_is_in_heap_region, mi_usable_size), which are always right.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <mimalloc.h>

#define LW_HIDDEN __attribute__((visibility("hidden")))

namespace lw::heap {

// The fast range: [g_fast_lo, g_fast_lo + g_fast_size). g_fast_lo is written before g_fast_size
// is published (release); readers load the size first (acquire: a plain load on x86-64).
LW_HIDDEN extern std::atomic<std::uintptr_t> g_fast_lo;
LW_HIDDEN extern std::atomic<std::uintptr_t> g_fast_size;
// g_fast_prepared: 0 until prepare_fast_blocks() has run (or is running) once.
LW_HIDDEN extern std::atomic<bool> g_fast_prepared;

// prepare_fast_blocks() reserves the arena and checks the inline size read; idempotent, cheap
// after the first call. Call before the first mi_* allocation if possible (hooks do).
void prepare_fast_blocks() noexcept;

// mimalloc_committed() is mimalloc's own count of committed bytes, as signed (it can go below 0).
inline std::int64_t mimalloc_committed() noexcept {
  std::size_t elapsed = 0, user = 0, sys = 0, rss = 0, peak_rss = 0, commit = 0, peak_commit = 0, faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return static_cast<std::int64_t>(commit);
}

// g_commit_skew is what reserving the arena did to that count (set once, by prepare_fast_blocks;
// header-defined so MemStats reads it in builds without the interposer too, where it stays 0).
inline std::atomic<std::int64_t> g_commit_skew{0};

// heap_committed_bytes() is the memory mimalloc holds committed from the OS, skew removed.
inline std::uint64_t heap_committed_bytes() noexcept {
  const std::int64_t c = mimalloc_committed() - g_commit_skew.load(std::memory_order_relaxed);
  return c > 0 ? static_cast<std::uint64_t>(c) : 0;
}

// fast_blocks_prepared() is the hooks' inline "has prepare_fast_blocks() run" test.
inline bool fast_blocks_prepared() noexcept { return g_fast_prepared.load(std::memory_order_relaxed); }

// in_fast_range() is true when p lies in the reserved arena (so it is mimalloc's, and its size
// can be read inline). False for null, foreign pointers, and mimalloc blocks outside the arena
// (allocated before it existed, or after it filled up: mimalloc then takes memory from the OS).
inline bool in_fast_range(const void* p) noexcept {
  const std::uintptr_t size = g_fast_size.load(std::memory_order_acquire);
  return reinterpret_cast<std::uintptr_t>(p) - g_fast_lo.load(std::memory_order_relaxed) < size;
}

// inline_usable_size() is mi_usable_size() read inline from mimalloc 2.0.9's segment layout
// (segments are 32 MiB aligned; a slice entry of 80 bytes per 64 KiB from offset 0x108 holds the
// byte offset back to its page; the page keeps its flags at 0xe and its block size at 0x1c).
// Only for blocks in the fast range (which exists only when the read was checked at start-up).
// False for blocks with aligned offsets and huge blocks: those take mi_usable_size().
// kBlockStart: p is known to be the start of its block (fresh from mi_malloc/mi_calloc): the
// page's "has aligned blocks" flag then does not matter (the size is the block size).
template <bool kBlockStart = false>
inline bool inline_usable_size(const void* p, std::size_t* usable) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t segment = (a - 1) & ~((std::uintptr_t{1} << 25) - 1);
  const std::uintptr_t slice = segment + 0x108 + ((a - segment) >> 16) * 80;
  std::uint32_t back;
  std::memcpy(&back, reinterpret_cast<const void*>(slice + 4), sizeof back);
  const std::uintptr_t page = slice - back;
  const auto flags = *reinterpret_cast<const std::uint8_t*>(page + 0xe);
  std::int32_t block;
  std::memcpy(&block, reinterpret_cast<const void*>(page + 0x1c), sizeof block);
  *usable = static_cast<std::uint32_t>(block);
  if constexpr (kBlockStart) {
    (void)flags;
    return block >= 0;
  } else {
    return (flags & 2) == 0 && block >= 0;
  }
}

// g_inline_ok: the inline size read agreed with mi_usable_size at start-up (it then holds for
// every mimalloc block, in the fast range or not). Written once by prepare_fast_blocks().
LW_HIDDEN extern std::atomic<bool> g_inline_ok;

// is_ours() / usable_of(): the full answers, fast range or not (for non-null p).
inline bool is_ours(const void* p) noexcept { return in_fast_range(p) || mi_is_in_heap_region(p); }
inline std::size_t usable_of(const void* p) noexcept {
  std::size_t u;
  if (g_inline_ok.load(std::memory_order_relaxed) && inline_usable_size(p, &u)) [[likely]] return u;
  return mi_usable_size(p);
}

// FastBlocksInfo describes the reservation (for docs, tests and diagnostics).
struct FastBlocksInfo {
  std::uintptr_t lo = 0;
  std::uintptr_t size = 0;     // 0: no fast range (not prepared, refused, or inline read off)
  bool inline_size = false;    // the inline size read agreed with mi_usable_size
};
FastBlocksInfo fast_blocks_info() noexcept;

}  // namespace lw::heap
