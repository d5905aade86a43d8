// The malloc/new interposer: every allocating entry point of the malloc family and every operator
// new form, served by mimalloc (mi_* calls; never malloc itself, so there is no recursion even
// though libmimalloc.so exports malloc too: ours is found first, by link order or LD_PRELOAD).
// free and the operator delete forms are in interpose_free.cpp.
//
// Each hook: (1) calls mimalloc, (2) counts the block exactly for MemStats (per-thread counters,
// the block size read inline from mimalloc's page), (3) runs the sampler's countdown, and only
// when it hits, enters the re-entrancy guard and records the block with its stack (out of line).
// The fast path is inline (hook_paths.hpp); everything else is in out-of-line functions that
// return the block, so the fast path keeps nothing across calls. This file is compiled with
// -fno-optimize-sibling-calls: every hook and slow path keeps its own frame, so the stack skip
// is exact (record_alloc skips itself, the slow path and the hook).
//
// Foreign pointers (blocks from another allocator, e.g. glibc's before a late load) are never
// handed to mimalloc: realloc() copies them out (their size is read from glibc's chunk header),
// malloc_usable_size() reads that header too.
#include <errno.h>
#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include <mimalloc.h>

#include "src/heap/hook_guard.hpp"
#include "src/heap/hook_paths.hpp"
#include "src/heap/mem_counters.hpp"
#include "src/heap/mi_blocks.hpp"
#include "src/heap/tracker.hpp"

namespace lw::heap {

[[gnu::noinline]] void* alloc_slow(void* p) noexcept {
  if (p == nullptr) return nullptr;
  const std::size_t usable = usable_of(p);
  count_alloc(usable);
  if (base::in_self_work()) return p;  // leakwatch's own block: counted apart, never sampled
  if (countdown_hit(usable)) [[unlikely]] {
    HookGuard g;
    record_alloc(g, p, usable, 2);
  }
  return p;
}

[[gnu::noinline]] void* alloc_sampled(void* p, std::size_t usable) noexcept {
  if (sample_due(usable)) {
    HookGuard g;
    record_alloc(g, p, usable, 2);
  }
  return p;
}

namespace {

// glibc's malloc_chunk keeps the size (low 3 bits are flags, bit 1 = mmapped) just before the block.
std::size_t foreign_usable_size(const void* p) noexcept {
  std::size_t header = static_cast<const std::size_t*>(p)[-1];
  std::size_t size = header & ~std::size_t{7};
  std::size_t overhead = (header & 2) ? 2 * sizeof(std::size_t) : sizeof(std::size_t);
  return size > overhead ? size - overhead : 0;
}

LW_HOOK_INLINE void* realloc_hook(void* p, std::size_t n) noexcept {
  before_alloc();
  if (p == nullptr) return after_alloc(mi_malloc(n));
  if (n == 0) {  // glibc: frees and returns NULL
    if (before_free(p)) mi_free(p);
    return nullptr;
  }
  if (!is_ours(p)) [[unlikely]] {
    void* q = mi_malloc(n);
    if (q != nullptr) {
      std::size_t old = foreign_usable_size(p);
      std::memcpy(q, p, old < n ? old : n);
    }
    return after_alloc(q);
  }
  const std::size_t old_usable = usable_of(p);
  if (maybe_sampled(p)) free_sampled_block(p, old_usable);  // before mimalloc may hand p to another thread
  void* q = mi_realloc(p, n);
  if (q == nullptr) return nullptr;  // p is untouched (its sample, if any, is no longer tracked)
  count_free(old_usable);
  return after_alloc(q);
}

// new_memory() is operator new's C++ contract: retry through the new_handler, then bad_alloc.
// (Debian's libmimalloc is C: its mi_new aborts instead of throwing.)
void* new_memory(std::size_t n, std::size_t align) {
  while (true) {
    void* p = align == 0 ? mi_malloc(n) : mi_malloc_aligned(n, align);
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* new_memory_nothrow(std::size_t n, std::size_t align) noexcept {
  try {
    return new_memory(n, align);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace
}  // namespace lw::heap

using lw::heap::after_alloc;
using lw::heap::before_alloc;
using lw::heap::new_memory;
using lw::heap::new_memory_nothrow;

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t n) {
  before_alloc();
  return after_alloc<true>(mi_malloc(n));
}

__attribute__((visibility("default"))) void* calloc(std::size_t count, std::size_t size) {
  before_alloc();
  return after_alloc<true>(mi_calloc(count, size));
}

__attribute__((visibility("default"))) void* realloc(void* p, std::size_t n) {
  return lw::heap::realloc_hook(p, n);
}

__attribute__((visibility("default"))) void* reallocarray(void* p, std::size_t count, std::size_t size) {
  std::size_t n = 0;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  return lw::heap::realloc_hook(p, n);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t align, std::size_t n) {
  before_alloc();
  int rc = mi_posix_memalign(out, align, n);
  if (rc == 0) after_alloc(*out);
  return rc;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t align, std::size_t n) {
  before_alloc();
  return after_alloc(mi_aligned_alloc(align, n));
}

__attribute__((visibility("default"))) void* memalign(std::size_t align, std::size_t n) {
  before_alloc();
  return after_alloc(mi_memalign(align, n));
}

__attribute__((visibility("default"))) void* valloc(std::size_t n) {
  before_alloc();
  return after_alloc(mi_valloc(n));
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t n) {
  before_alloc();
  return after_alloc(mi_pvalloc(n));
}

__attribute__((visibility("default"))) std::size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (!lw::heap::is_ours(p)) return lw::heap::foreign_usable_size(p);
  return lw::heap::usable_of(p);
}

}  // extern "C"

// operator new: every form (operator delete is in interpose_free.cpp).
// (Unaligned forms: the block comes from mi_malloc, so it is a block start.)
#define LW_NEW(expr) \
  before_alloc();    \
  return after_alloc(expr)
#define LW_NEW_UNALIGNED(expr) \
  before_alloc();              \
  return after_alloc<true>(expr)

__attribute__((visibility("default"))) void* operator new(std::size_t n) { LW_NEW_UNALIGNED(new_memory(n, 0)); }
__attribute__((visibility("default"))) void* operator new[](std::size_t n) { LW_NEW_UNALIGNED(new_memory(n, 0)); }
__attribute__((visibility("default"))) void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  LW_NEW_UNALIGNED(new_memory_nothrow(n, 0));
}
__attribute__((visibility("default"))) void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  LW_NEW_UNALIGNED(new_memory_nothrow(n, 0));
}
__attribute__((visibility("default"))) void* operator new(std::size_t n, std::align_val_t a) {
  LW_NEW(new_memory(n, static_cast<std::size_t>(a)));
}
__attribute__((visibility("default"))) void* operator new[](std::size_t n, std::align_val_t a) {
  LW_NEW(new_memory(n, static_cast<std::size_t>(a)));
}
__attribute__((visibility("default"))) void* operator new(std::size_t n, std::align_val_t a,
                                                          const std::nothrow_t&) noexcept {
  LW_NEW(new_memory_nothrow(n, static_cast<std::size_t>(a)));
}
__attribute__((visibility("default"))) void* operator new[](std::size_t n, std::align_val_t a,
                                                            const std::nothrow_t&) noexcept {
  LW_NEW(new_memory_nothrow(n, static_cast<std::size_t>(a)));
}
#undef LW_NEW
#undef LW_NEW_UNALIGNED

// Referenced with -Wl,--undefined by programs that link the heap module as a static archive, so
// the linker keeps this object (and with it the hooks) although nothing else names it.
extern "C" {
__attribute__((visibility("default"))) extern int lw_heap_interposer_anchor;
int lw_heap_interposer_anchor = 1;
}
