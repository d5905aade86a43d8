// fast_capture.hpp: the fast stack capture used on hot paths (malloc hooks): a bounds-checked
// frame-pointer walk, with libunwind's unw_backtrace as the fallback where the walk cannot be
// trusted. Thread-safe; never allocates and never throws (after note_frameless_modules(), which
// itself takes the loader lock and must run outside any malloc hook).
#pragma once

#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::unwind {

// FpWalkEnd says why a frame-pointer walk stopped.
enum class FpWalkEnd : std::uint8_t {
  kOutermost,  // reached a null frame pointer: the whole stack was walked
  kFull,       // filled kMaxFrames
  kBadFrame,   // the next frame pointer left [lo, hi), went down, or was misaligned
};

// fp_walk() follows the frame-pointer chain starting at the frame record `fp` (saved fp at fp[0],
// return address at fp[1]), skipping the first `skip` return addresses. Every frame record read
// lies inside [lo, hi) and frames only move towards `hi`, so it never faults on a sane stack range.
// Never allocates.
FpWalkEnd fp_walk(StackTrace* out, std::uintptr_t fp, std::uintptr_t lo, std::uintptr_t hi,
                  int skip) noexcept;

// capture_stack_fast() fills `out` like capture_stack() (pc[0] = return address into the caller,
// `skip` more frames skipped) but walks frame pointers (~15 ns for 20 frames). It falls back to
// unw_backtrace (~140 ns) when the walk cannot be trusted: the stack pointer is not on this
// thread's stack (a task stack, a signal stack), the first return address lies in a module known
// to be built without frame pointers (its caller would be lost), or the walk stops early on a bad
// frame. Never allocates except once per thread (pthread_getattr_np, to learn the stack bounds),
// so callers inside malloc hooks must hold their re-entrancy guard. Returns out->depth.
std::uint32_t capture_stack_fast(StackTrace* out, int skip = 0) noexcept;

// note_frameless_modules() records the code ranges of the loaded objects that Debian builds
// without frame pointers (libc, libstdc++, libgcc_s, libm, ld.so). Call at start-up, outside any
// malloc hook; until then capture_stack_fast() trusts every walk. Calling again refreshes.
void note_frameless_modules() noexcept;

// in_frameless_module() says whether `pc` lies in one of the ranges noted above.
bool in_frameless_module(std::uintptr_t pc) noexcept;

// FastCaptureCounters counts which path captures took (process-wide, relaxed).
struct FastCaptureCounters {
  std::uint64_t fp_walks = 0;
  std::uint64_t fallbacks = 0;
};
FastCaptureCounters fast_capture_counters() noexcept;

}  // namespace lw::unwind
