// capture.hpp: capturing the calling thread's stack.
// Thread-safe. capture_stack() never allocates and never throws (after warm_up(): libunwind's
// first call sets up caches and may take 0.2-0.5 ms).
#pragma once

#include "src/unwind/stack_trace.hpp"

namespace lw::unwind {

// capture_stack() fills `out` with the caller's return addresses, skipping `skip` frames above the
// caller. Returns out->depth. Uses libunwind's unw_backtrace (~140 ns for 20 frames here).
std::uint32_t capture_stack(StackTrace* out, int skip = 0) noexcept;

// warm_up() makes the first real capture cheap; call once at start-up.
void warm_up() noexcept;

}  // namespace lw::unwind
