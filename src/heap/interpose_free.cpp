// The free side of the interposer: free and every operator delete form, served by mi_free.
//
// Kept apart from interpose.cpp because it is compiled without -fno-optimize-sibling-calls: a
// free never captures a stack, so its fast path ends in a jump to mi_free (no frame of its own,
// no return through it), and its slow paths are tail calls too.
//
// Foreign pointers (blocks from another allocator, e.g. glibc's before a late load) are never
// handed to mimalloc: free() leaks them.
#include <cstddef>
#include <new>

#include <mimalloc.h>

#include "src/heap/hook_guard.hpp"
#include "src/heap/hook_paths.hpp"
#include "src/heap/mem_counters.hpp"
#include "src/heap/mi_blocks.hpp"
#include "src/heap/tracker.hpp"

namespace lw::heap {

[[gnu::noinline]] void free_sampled_block(void* p, std::size_t usable) noexcept {
  HookGuard g;
  record_free(g, p, usable);
}

namespace {

// free_slow() is the whole free for anything off the fast path: null, a pointer outside the fast
// range (foreign, or mimalloc's from outside the arena), a thread without a counter slot.
[[gnu::noinline]] void free_slow(void* p) noexcept {
  if (p == nullptr) return;
  if (before_free(p)) mi_free(p);
}

// free_sampled() takes back a sampled (or filter-colliding) block's record, then frees it.
[[gnu::noinline]] void free_sampled(void* p, std::size_t usable) noexcept {
  {
    HookGuard g;
    record_free(g, p, usable);
  }
  mi_free(p);
}

LW_HOOK_INLINE void free_hook(void* p) noexcept {
  std::size_t usable;
  if (!in_fast_range(p) || !inline_usable_size(p, &usable)) [[unlikely]]
    return free_slow(p);
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr || base::in_self_work()) [[unlikely]]
    return free_slow(p);
  owner_add(s->frees, 1);
  owner_add(s->free_bytes, usable);
  if (maybe_sampled(p)) [[unlikely]]
    return free_sampled(p, usable);
  mi_free(p);
}

}  // namespace
}  // namespace lw::heap

using lw::heap::free_hook;

extern "C" {
__attribute__((visibility("default"))) void free(void* p) { free_hook(p); }
}  // extern "C"

__attribute__((visibility("default"))) void operator delete(void* p) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete[](void* p) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete(void* p, std::size_t) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete[](void* p, std::size_t) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete(void* p, const std::nothrow_t&) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete[](void* p, const std::nothrow_t&) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete(void* p, std::align_val_t) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t) noexcept { free_hook(p); }
__attribute__((visibility("default"))) void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  free_hook(p);
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  free_hook(p);
}
__attribute__((visibility("default"))) void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  free_hook(p);
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  free_hook(p);
}
