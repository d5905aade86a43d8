// hook_paths.hpp: the pieces the allocation hooks (interpose.cpp) and the free hooks
// (interpose_free.cpp) are made of. Internal to the interposer; never allocates, never throws.
//
// Each hook is an inline fast path for the common case (a block in the fast range, a thread with
// its own counter slot, no sample due) and out-of-line slow paths for everything else, so the
// fast path needs no callee-saved registers and its frame is one push. The slow allocation paths
// keep their own frame between the hook and record_alloc: they capture with skip = 2.
#pragma once

#include <cstddef>

#include "src/heap/mem_counters.hpp"
#include "src/heap/mi_blocks.hpp"
#include "src/heap/tracker.hpp"

#define LW_HOOK_INLINE inline __attribute__((always_inline))

namespace lw::heap {

// alloc_slow() accounts for block p (null, outside the fast range, or a thread without a counter
// slot) and samples it if due. alloc_sampled() samples p when its countdown ran out. Both return
// p, so the hook needs nothing kept across the call.
void* alloc_slow(void* p) noexcept;
void* alloc_sampled(void* p, std::size_t usable) noexcept;

// after_alloc() is every allocating hook's work once mimalloc has returned p. kBlockStart: p
// came from mi_malloc/mi_calloc (not an aligned allocation, not realloc, which may return an
// aligned block in place), so it is the start of its block.
template <bool kBlockStart = false>
LW_HOOK_INLINE void* after_alloc(void* p) noexcept {
  std::size_t usable;
  if (!in_fast_range(p) || !inline_usable_size<kBlockStart>(p, &usable)) [[unlikely]]
    return alloc_slow(p);
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr || base::in_self_work()) [[unlikely]]
    return alloc_slow(p);
  owner_add(s->mallocs, 1);
  owner_add(s->alloc_bytes, usable);
  if (countdown_expired(usable)) [[unlikely]]
    return alloc_sampled(p, usable);
  return p;
}

// before_alloc() runs before a hook's first mi_* call: the process's first allocation prepares
// the fast range (so that even the first segment comes from the reserved arena).
LW_HOOK_INLINE void before_alloc() noexcept {
  if (!fast_blocks_prepared()) [[unlikely]]
    prepare_fast_blocks();
}

// free_sampled_block() takes back a sampled block's record (before the block goes back to
// mimalloc: its address could be reused at once). Out of line.
void free_sampled_block(void* p, std::size_t usable) noexcept;

// before_free() accounts for any non-null block about to go back to mimalloc; false for a
// foreign block (which must not). The general path, used by realloc.
inline bool before_free(void* p) noexcept {
  if (!is_ours(p)) [[unlikely]]
    return false;
  const std::size_t usable = usable_of(p);
  count_free(usable);
  if (maybe_sampled(p)) [[unlikely]]
    free_sampled_block(p, usable);
  return true;
}

}  // namespace lw::heap
