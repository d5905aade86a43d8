// capture.hpp: capturing the calling thread's stack.
// Thread-safe. capture_stack() never allocates and never throws (after warm_up(): libunwind's
// first call sets up caches and may take 0.2-0.5 ms).
#pragma once

#include "src/unwind/stack_trace.hpp"

namespace lw::unwind {

// capture_stack() fills `out` with the caller's return addresses, skipping `skip` frames above the
// caller. Returns out->depth. Uses libunwind's unw_backtrace (~140 ns for 20 frames here).
std::uint32_t capture_stack(StackTrace* out, int skip = 0) noexcept;

// capture_context_stack() fills `out` with the stack of the context `ucontext` (a ucontext_t
// saved by a signal handler on a thread that stays stopped in that handler until this returns):
// pc[0] is the interrupted instruction (stored + 1, so that call_site() yields it exactly), the
// rest are return addresses, found with DWARF CFI so code without frame pointers unwinds too.
// Run it on another thread, never in the handler: libunwind may take the loader's lock and block
// signals. Reads only the stopped thread's stack and the loaded objects' unwind tables; never
// allocates. Returns out->depth.
std::uint32_t capture_context_stack(StackTrace* out, void* ucontext) noexcept;

// warm_up() makes the first real capture cheap; call once at start-up.
void warm_up() noexcept;

}  // namespace lw::unwind
