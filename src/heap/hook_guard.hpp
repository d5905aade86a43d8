// hook_guard.hpp: the re-entrancy guard every allocation hook enters through, and the scoped
// "untracked" guard for the tracker's own work. Per-thread; never allocates.
//
// A HookGuard is passed by reference to the recording code (record_alloc/record_free), so those
// can only be called from inside a guard. When a hook is re-entered on the same thread (the stack
// capture allocating once per thread, a signal handler that allocates while the hook records),
// the inner call sees entered() == false and goes straight to mimalloc.
#pragma once

#include "src/base/self_scope.hpp"
#include "src/heap/thread_state.hpp"

namespace lw::heap {

class HookGuard {
 public:
  HookGuard() noexcept : entered_(tls_heap.in_hook++ == 0) {}
  ~HookGuard() { --tls_heap.in_hook; }
  HookGuard(const HookGuard&) = delete;
  HookGuard& operator=(const HookGuard&) = delete;

  // entered() is true for the outermost hook on this thread: it may record.
  bool entered() const noexcept { return entered_; }

 private:
  bool entered_;
};

// UntrackedScope marks leakwatch's own work (base::SelfScope): allocations made under it stay out
// of the heap profile and out of MemStats' program figures; they are counted in self_bytes. Capture
// code holds one while it builds a Snapshot. Frees of sampled blocks are still matched. Nests.
using UntrackedScope = base::SelfScope;

}  // namespace lw::heap
