// stack_signal.hpp: other threads' stacks, taken in-process without stopping the process. The
// capturing thread sends one thread a real-time signal (LEAKWATCH_STACK_SIGNAL); that thread's
// handler saves its interrupted context into the one preallocated slot and waits (bounded) while
// the capturer unwinds the saved context with DWARF CFI; then it returns to what it was doing.
// Only one thread stands in the handler at a time, for the few microseconds of its own unwind.
//
// A thread that blocks the signal, does not answer within the timeout, or exits meanwhile gets an
// error text instead of a stack: a capture never hangs. Thread-safe (captures are serialized);
// capture_thread_stack() does not allocate; the handler is async-signal-safe (atomics, memcpy,
// clock_gettime and futex only) and keeps errno.
#pragma once

#include <cstddef>
#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::os_threads {

inline constexpr std::int64_t kDefaultStackTimeoutNs = 50'000'000;  // answer within 50 ms
inline constexpr std::int64_t kHandlerMaxStopNs = 200'000'000;      // a thread never waits longer

// install_stack_signal() installs the handler for LEAKWATCH_STACK_SIGNAL (a number, SIGRTMIN+N,
// SIGRTMAX-N, or "off"; default SIGRTMAX-7). A signal the program already handles is left alone and
// reported once; stacks of other threads are then unavailable. Idempotent; call at start-up.
void install_stack_signal() noexcept;

// stack_signal() is the installed signal, 0 when none.
int stack_signal() noexcept;

// capture_thread_stack() fills `out` with the current stack of thread `tid` of this process
// (innermost first; pc[0] is where it was interrupted). On failure returns false and writes why
// into `why` ("thread blocks signal 57", "no answer within 50 ms", "thread exited").
bool capture_thread_stack(int tid, unwind::StackTrace* out, char* why, std::size_t why_size,
                          std::int64_t timeout_ns = kDefaultStackTimeoutNs) noexcept;

// StackSignalCounters: how captures went since start (process-wide).
struct StackSignalCounters {
  std::uint64_t captured = 0;
  std::uint64_t failed = 0;
  std::int64_t longest_stop_ns = 0;  // the longest any thread stood in the handler
};
StackSignalCounters stack_signal_counters() noexcept;

}  // namespace lw::os_threads
