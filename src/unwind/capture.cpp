#include "src/unwind/capture.hpp"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace lw::unwind {

std::uint32_t capture_stack(StackTrace* out, int skip) noexcept {
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

void warm_up() noexcept {
  StackTrace t;
  capture_stack(&t);
}

}  // namespace lw::unwind
