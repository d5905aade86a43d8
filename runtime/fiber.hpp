// fiber.hpp: switching between execution contexts (a task's stack and a worker's own stack).
// The only file that knows Boost.Context (fiber.cpp). Not thread-safe per context: a context is
// switched by the one thread running it. Never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lw::rt {

// FiberContext is one execution context. `sp` is the saved Boost fcontext (a pointer into the
// context's own stack) while the context is suspended; it is written by the thread that resumes
// the context that switched away, right after the switch.
struct FiberContext {
  void* sp = nullptr;
  void* stack_lo = nullptr;     // for sanitizers; null for a thread's own stack
  std::size_t stack_size = 0;
  void* san_fiber = nullptr;    // TSan fiber handle
  void* san_fake_stack = nullptr;
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
};

// fiber_init_thread() makes `self` stand for the calling thread's own stack.
void fiber_init_thread(FiberContext* self) noexcept;
// fiber_make() prepares `f` to run entry(arg) on [lo, lo+size) at its first switch. entry never
// returns; it ends with fiber_exit().
void fiber_make(FiberContext* f, void* lo, std::size_t size, void (*entry)(void*), void* arg) noexcept;
// fiber_switch() suspends `from` (the caller's context) and resumes `to`.
void fiber_switch(FiberContext* from, FiberContext* to) noexcept;
// fiber_exit() resumes `to` for good: `from` is finished and may be reused by fiber_make().
[[noreturn]] void fiber_exit(FiberContext* from, FiberContext* to) noexcept;

// Layout of a saved context (Boost 1.74, x86_64 SysV): the frame pointer and the resume address
// sit at these offsets from `sp`. tests/runtime checks them against a real parked task.
inline constexpr std::size_t kSavedRbpOffset = 0x30;
inline constexpr std::size_t kSavedRipOffset = 0x38;

// run_guarded() calls fn(arg) and returns normally whatever it throws, except Boost.Context's
// forced_unwind, which always propagates. On an exception it copies a description into `what`
// (NUL-terminated, cut to `cap`) and returns false. `cancelled` is set for the runtime's own
// shutdown unwinding, which is not an error.
bool run_guarded(void (*fn)(void*), void* arg, char* what, std::size_t cap, bool* cancelled);
// fiber_release() frees what sanitizers keep for a finished context `f`; call after fiber_exit().
void fiber_release(FiberContext* f) noexcept;

}  // namespace lw::rt
