#include "src/unwind/capture.hpp"

#include <pthread.h>

#include <atomic>

#include "src/unwind/fast_capture.hpp"
#include "src/unwind/handler_unwind.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace lw::unwind {
namespace {

// use_per_thread_cache() switches libunwind to per-thread caches of unwind rules, once. The
// default, one global cache, is guarded by a mutex: a fork while another thread holds it leaves
// the child that mutex locked forever, and the child's first sampled allocation (capture_stack,
// in the malloc hook) hangs on it (found by tests/fixtures/cpu_stress under the preload library:
// threads allocating while another forks and its child allocates). A per-thread cache takes no
// lock, and spares the two sigprocmask calls libunwind makes around every use of the global one.
void use_per_thread_cache() noexcept {
  static const bool kPerThreadCache = [] {
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    return true;
  }();
  (void)kPerThreadCache;
}

// In the child of a fork, libunwind may never be used again: it finds unwind tables with
// dl_iterate_phdr, whose loader lock glibc does not reset in the child, and a thread of the
// parent (in dlopen, dlclose or a walk of its own) may have held it at the fork: the child's
// first sampled allocation would wait on it forever (found by tests/fixtures/cpu_stress under the
// preload library). The child walks with the C++ runtime's unwinder instead, whose lookup
// (_dl_find_object) takes no lock; where that is not safe (handler_unwind_ready()), it records
// allocations without a stack. 0: not a forked child; 1: forked, no stacks; 2: forked, lock-free walk.
std::atomic<int> g_forked{0};

void after_fork_in_child() noexcept {
  g_forked.store(1, std::memory_order_relaxed);
  if (handler_unwind_ready()) g_forked.store(2, std::memory_order_relaxed);
}

}  // namespace

std::uint32_t capture_stack(StackTrace* out, int skip) noexcept {
#if defined(__SANITIZE_THREAD__)
  // libunwind keeps per-thread caches whose destructors lock a mutex at thread exit, after
  // ThreadSanitizer has let go of the thread (a crash in its lock interceptor): that build walks
  // frame pointers only.
  std::uint32_t walked = capture_stack_fast(out, skip + 1);
  asm volatile("" ::: "memory");  // keep this frame, so the skip stays right
  return walked;
#endif
  if (const int forked = g_forked.load(std::memory_order_relaxed); forked != 0) {
    out->depth = 0;
    if (forked == 2) walk_own_stack(out, skip + 1);  // + this function's own frame
    asm volatile("" ::: "memory");  // keep this frame, so the skip stays right
    return out->depth;
  }
  void* buf[kMaxFrames + 8];
  const int want = static_cast<int>(kMaxFrames) + skip + 1;
  int n = unw_backtrace(buf, want < static_cast<int>(kMaxFrames + 8) ? want : static_cast<int>(kMaxFrames + 8));
  // Frame 0 is capture_stack itself.
  int first = 1 + skip;
  std::uint32_t depth = 0;
  for (int i = first; i < n && depth < kMaxFrames; ++i)
    out->pc[depth++] = reinterpret_cast<std::uintptr_t>(buf[i]);
  out->depth = depth;
  return depth;
}

std::uint32_t capture_context_stack(StackTrace* out, void* ucontext) noexcept {
  use_per_thread_cache();
  out->depth = 0;
  unw_cursor_t cursor;
  if (unw_init_local2(&cursor, static_cast<unw_context_t*>(ucontext), UNW_INIT_SIGNAL_FRAME) != 0) return 0;
  std::uint32_t depth = 0;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    out->pc[depth] = depth == 0 ? ip + 1 : ip;
    ++depth;
  } while (depth < kMaxFrames && unw_step(&cursor) > 0);
  out->depth = depth;
  return depth;
}

void warm_up() noexcept {
  use_per_thread_cache();  // before the first walk, so no walk ever uses the locked global cache
  static const bool kForkHandler = pthread_atfork(nullptr, nullptr, after_fork_in_child) == 0;
  (void)kForkHandler;
  StackTrace t;
  capture_stack(&t);
}

}  // namespace lw::unwind
