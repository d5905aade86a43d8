#include "src/unwind/capture.hpp"

#include "src/unwind/fast_capture.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace lw::unwind {

std::uint32_t capture_stack(StackTrace* out, int skip) noexcept {
#if defined(__SANITIZE_THREAD__)
  // libunwind keeps per-thread caches whose destructors lock a mutex at thread exit, after
  // ThreadSanitizer has let go of the thread (a crash in its lock interceptor): that build walks
  // frame pointers only.
  std::uint32_t walked = capture_stack_fast(out, skip + 1);
  asm volatile("" ::: "memory");  // keep this frame, so the skip stays right
  return walked;
#endif
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
  // A per-thread cache of unwind rules needs no lock, and libunwind's global cache blocks and
  // unblocks signals (two syscalls) around every use of its lock: a few per frame.
  static const bool kPerThreadCache = [] {
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    return true;
  }();
  (void)kPerThreadCache;
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
  StackTrace t;
  capture_stack(&t);
}

}  // namespace lw::unwind
