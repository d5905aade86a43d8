// The malloc/new interposer: every entry point of the malloc family and every operator new/delete
// form, served by mimalloc (mi_* calls; never malloc itself, so there is no recursion even though
// libmimalloc.so exports malloc too: ours is found first, by link order or LD_PRELOAD).
//
// Each hook: (1) calls mimalloc, (2) counts the block exactly for MemStats (per-thread counters,
// the block size read inline from mimalloc's page), (3) runs the sampler's countdown, and only
// when it hits, enters the re-entrancy guard and records the block with its stack (out of line).
// Frees first ask the lock-free filter whether the block may be sampled. This file is compiled
// with -fno-optimize-sibling-calls: every hook keeps its own frame, so the stack starts exactly
// at the hook's caller.
//
// Foreign pointers (blocks from another allocator, e.g. glibc's before a late load) are never
// handed to mimalloc: free() leaks them, realloc() copies them out (their size is read from
// glibc's chunk header), malloc_usable_size() reads that header too.
#include <errno.h>
#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <cstring>
#include <new>

#include <mimalloc.h>

#include "src/heap/hook_guard.hpp"
#include "src/heap/mem_counters.hpp"
#include "src/heap/tracker.hpp"

namespace lw::heap {
namespace {

#define LW_HOOK_INLINE inline __attribute__((always_inline))

LW_HOOK_INLINE bool ours(const void* p) noexcept { return mi_is_in_heap_region(p); }

// usable_of() is mi_usable_size() read inline from mimalloc 2.0.9's segment layout (segments are
// 32 MiB aligned; a slice entry of 80 bytes per 64 KiB from offset 0x108 holds the byte offset back
// to its page; the page keeps its flags at 0xe and its block size at 0x1c). It saves a call, a
// stack-protector check and a second segment lookup per hook. Used only after check_inline_size()
// has compared it with mi_usable_size() on blocks of every size class kind (mi_version() must be
// 209); blocks with aligned offsets and huge blocks take mimalloc's own path.
constinit std::atomic<bool> g_inline_size{false};

LW_HOOK_INLINE std::size_t usable_of(const void* p) noexcept {
  if (g_inline_size.load(std::memory_order_relaxed)) [[likely]] {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t segment = (a - 1) & ~((std::uintptr_t{1} << 25) - 1);
    const std::uintptr_t slice = segment + 0x108 + ((a - segment) >> 16) * 80;
    std::uint32_t back;
    std::memcpy(&back, reinterpret_cast<const void*>(slice + 4), sizeof back);
    const std::uintptr_t page = slice - back;
    const auto flags = *reinterpret_cast<const std::uint8_t*>(page + 0xe);
    std::uint32_t block;
    std::memcpy(&block, reinterpret_cast<const void*>(page + 0x1c), sizeof block);
    if ((flags & 2) == 0 && block <= 0x7fffffffu) [[likely]]
      return block;
  }
  return mi_usable_size(p);
}

// check_inline_size() enables usable_of()'s inline read when it agrees with mimalloc everywhere.
__attribute__((constructor(101))) void check_inline_size() {
  if (mi_version() != 209) return;
  constexpr std::size_t kSizes[] = {1,     8,      16,      24,      100,     128,     1000,
                                    4096,  5000,   16384,   70000,   131072,  600000,  1u << 21,
                                    5u << 20, 40u << 20};
  bool same = true;
  void* blocks[std::size(kSizes) * 2] = {};
  std::size_t n = 0;
  g_inline_size.store(true, std::memory_order_relaxed);
  for (std::size_t size : kSizes) {
    void* a = mi_malloc(size);
    void* b = mi_malloc_aligned(size, 256);
    blocks[n++] = a;
    blocks[n++] = b;
    for (void* p : {a, b})
      if (p != nullptr && usable_of(p) != mi_usable_size(p)) same = false;
  }
  g_inline_size.store(same, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) mi_free(blocks[i]);
}

// glibc's malloc_chunk keeps the size (low 3 bits are flags, bit 1 = mmapped) just before the block.
std::size_t foreign_usable_size(const void* p) noexcept {
  std::size_t header = static_cast<const std::size_t*>(p)[-1];
  std::size_t size = header & ~std::size_t{7};
  std::size_t overhead = (header & 2) ? 2 * sizeof(std::size_t) : sizeof(std::size_t);
  return size > overhead ? size - overhead : 0;
}

// The sampled (rare) paths. The re-entrancy guard is entered only here: the unsampled fast path
// records nothing, takes no lock and calls only mimalloc, so a hook re-entered there (from a
// signal handler) needs no protection, and the guard's TLS increment and decrement stay off the
// common path. Inlined into the hook's unlikely branch (record_alloc itself is out of line), so
// the stack skips record_alloc and the hook: skip = 1. (An out-of-line helper cost one more frame
// to walk and skip at every sample: +45 instructions per operation at rate 1.)
LW_HOOK_INLINE void sample_alloc(void* p, std::size_t usable) noexcept {
  HookGuard g;
  record_alloc(g, p, usable, 1);
}

LW_HOOK_INLINE void sample_free(void* p, std::size_t usable) noexcept {
  HookGuard g;
  record_free(g, p, usable);
}

LW_HOOK_INLINE void after_alloc(void* p) noexcept {
  if (p == nullptr) return;
  std::size_t usable = usable_of(p);
  count_alloc(usable);
  if (countdown_hit(usable)) [[unlikely]]
    sample_alloc(p, usable);
}

// before_free() accounts for a block about to go back to mimalloc; false for a foreign block.
LW_HOOK_INLINE bool before_free(void* p) noexcept {
  if (!ours(p)) [[unlikely]]
    return false;
  std::size_t usable = usable_of(p);
  count_free(usable);
  if (maybe_sampled(p)) [[unlikely]]
    sample_free(p, usable);
  return true;
}

LW_HOOK_INLINE void free_hook(void* p) noexcept {
  if (p == nullptr) return;
  if (before_free(p)) mi_free(p);
}

LW_HOOK_INLINE void* realloc_hook(void* p, std::size_t n) noexcept {
  if (p == nullptr) {
    void* q = mi_malloc(n);
    after_alloc(q);
    return q;
  }
  if (n == 0) {  // glibc: frees and returns NULL
    if (before_free(p)) mi_free(p);
    return nullptr;
  }
  if (!ours(p)) [[unlikely]] {
    void* q = mi_malloc(n);
    if (q != nullptr) {
      std::size_t old = foreign_usable_size(p);
      std::memcpy(q, p, old < n ? old : n);
      after_alloc(q);
    }
    return q;
  }
  std::size_t old_usable = usable_of(p);
  bool sampled = maybe_sampled(p);
  if (sampled) sample_free(p, old_usable);  // before mimalloc may hand the address to another thread
  void* q = mi_realloc(p, n);
  if (q == nullptr) return nullptr;  // p is untouched (its sample, if any, is no longer tracked)
  count_free(old_usable);
  after_alloc(q);
  return q;
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
using lw::heap::new_memory;
using lw::heap::new_memory_nothrow;
using lw::heap::free_hook;

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t n) {
  void* p = mi_malloc(n);
  after_alloc(p);
  return p;
}

__attribute__((visibility("default"))) void free(void* p) { free_hook(p); }

__attribute__((visibility("default"))) void* calloc(std::size_t count, std::size_t size) {
  void* p = mi_calloc(count, size);
  after_alloc(p);
  return p;
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
  int rc = mi_posix_memalign(out, align, n);
  if (rc == 0) after_alloc(*out);
  return rc;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t align, std::size_t n) {
  void* p = mi_aligned_alloc(align, n);
  after_alloc(p);
  return p;
}

__attribute__((visibility("default"))) void* memalign(std::size_t align, std::size_t n) {
  void* p = mi_memalign(align, n);
  after_alloc(p);
  return p;
}

__attribute__((visibility("default"))) void* valloc(std::size_t n) {
  void* p = mi_valloc(n);
  after_alloc(p);
  return p;
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t n) {
  void* p = mi_pvalloc(n);
  after_alloc(p);
  return p;
}

__attribute__((visibility("default"))) std::size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (!lw::heap::ours(p)) return lw::heap::foreign_usable_size(p);
  return lw::heap::usable_of(p);
}

}  // extern "C"

// operator new/delete: every form.
#define LW_NEW(expr)   \
  void* p = (expr);    \
  after_alloc(p);      \
  return p

__attribute__((visibility("default"))) void* operator new(std::size_t n) { LW_NEW(new_memory(n, 0)); }
__attribute__((visibility("default"))) void* operator new[](std::size_t n) { LW_NEW(new_memory(n, 0)); }
__attribute__((visibility("default"))) void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  LW_NEW(new_memory_nothrow(n, 0));
}
__attribute__((visibility("default"))) void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  LW_NEW(new_memory_nothrow(n, 0));
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

// Referenced with -Wl,--undefined by programs that link the heap module as a static archive, so
// the linker keeps this object (and with it the hooks) although nothing else names it.
extern "C" {
__attribute__((visibility("default"))) extern int lw_heap_interposer_anchor;
int lw_heap_interposer_anchor = 1;
}
