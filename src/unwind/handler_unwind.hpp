// handler_unwind.hpp: unwinding the interrupted stack from inside a signal handler, on the
// interrupted thread itself, and the calling thread's own stack, without a lock. Thread-safe; never allocates; async-signal-safe once
// handler_unwind_ready() has returned true (it does the unwinder's one-time set-up).
#pragma once

#include "src/unwind/stack_trace.hpp"

namespace lw::unwind {

// handler_unwind_ready() says whether handler_unwind() may be used in this process: the C++
// runtime's unwinder finds unwind tables with glibc's lock-free _dl_find_object (glibc 2.35 and
// later), and no program code has registered unwind tables by hand (__register_frame*: a JIT), for
// which the unwinder would take a lock the interrupted thread may hold. The first call sets the
// unwinder up; call it from normal code (never first from a handler).
bool handler_unwind_ready() noexcept;

// handler_unwind() fills `out` with the stack of the code the signal interrupted (`ucontext` is
// the handler's third argument): pc[0] is the interrupted instruction (stored + 1, so that
// call_site() yields it exactly), the rest are return addresses. Returns false when the walk did
// not reach the interrupted frame or stopped on an error right after it (code without unwind
// tables): the caller then unwinds the saved context another way.
bool handler_unwind(StackTrace* out, const void* ucontext) noexcept;

// walk_own_stack() fills `out` with the calling thread's return addresses like capture_stack()
// (pc[0] = the return address into the caller, `skip` more frames skipped), with the same
// lock-free unwinder: for paths where libunwind's loader-lock look-ups could wait on a thread that
// waits on us (a pthread hook). Needs handler_unwind_ready(); false (depth 0) otherwise. Works on
// any stack, task stacks included. Never allocates.
bool walk_own_stack(StackTrace* out, int skip) noexcept;

}  // namespace lw::unwind
