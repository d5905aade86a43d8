// stack_signal.hpp: other threads' stacks, taken in-process without stopping the process. The
// capturing thread sends each thread a real-time signal (LEAKWATCH_STACK_SIGNAL); the thread's
// handler walks its own interrupted stack into a preallocated slot (the C++ runtime's unwinder,
// lock-free on glibc 2.35+) and returns at once. Where that walk is not safe or fails, the handler
// saves its context instead and waits (bounded) while the capturer unwinds it with libunwind.
// Threads are asked in batches of kStackSlots, so their wake-ups and walks overlap.
//
// A thread that blocks the signal, does not answer within the timeout, or exits meanwhile gets an
// error text instead of a stack: a capture never hangs. Thread-safe (captures are serialized);
// allocates only to read /proc; the handler is async-signal-safe (atomics, memcpy, clock_gettime,
// futex and the lock-free unwinder only) and keeps errno.
#pragma once

#include <cstddef>
#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::os_threads {

inline constexpr std::size_t kStackSlots = 32;
inline constexpr std::int64_t kDefaultStackTimeoutNs = 50'000'000;  // answer within 50 ms
inline constexpr std::int64_t kHandlerMaxStopNs = 200'000'000;      // a thread never waits longer

// install_stack_signal() installs the handler for LEAKWATCH_STACK_SIGNAL (a number, SIGRTMIN+N,
// SIGRTMAX-N, or "off"; default SIGRTMAX-7). A signal the program already handles is left alone and
// reported once; stacks of other threads are then unavailable (as in a ThreadSanitizer build,
// which defers signal handlers). Idempotent; call at start-up.
void install_stack_signal() noexcept;

// stack_signal() is the installed signal, 0 when none.
int stack_signal() noexcept;

// use_handler_unwind() chooses who walks a signalled thread's stack: the thread itself, in its
// handler (the default where the C++ runtime's unwinder is lock-free, see handler_unwind.hpp), or
// the capturer, from the context the thread saved while it waits. Tests and benchmarks compare the
// two; `on` has no effect where the handler's walk is not safe.
void use_handler_unwind(bool on) noexcept;

// StackResult is one thread's answer: a stack (pc[0] is where it was interrupted), or why not
// ("thread blocks signal 57", "no answer within 50 ms", "thread exited").
struct StackResult {
  unwind::StackTrace trace;
  bool ok = false;
  char why[80] = {};
};

// capture_thread_stacks() takes the current stack of each thread in `tids` (of this process) into
// out[i]. The calling thread's own tid is unwound directly.
void capture_thread_stacks(const int* tids, std::size_t n, StackResult* out,
                           std::int64_t timeout_ns = kDefaultStackTimeoutNs);

// StackSignalCounters: how captures went since start (process-wide).
struct StackSignalCounters {
  std::uint64_t captured = 0;
  std::uint64_t failed = 0;
  std::int64_t longest_stop_ns = 0;  // the longest any thread stood in the handler
};
StackSignalCounters stack_signal_counters() noexcept;

}  // namespace lw::os_threads
