// wait_profile.hpp: what the thread interposer tells the block and mutex profiles
// (src/base/contention_event.hpp). Thread-safe; never allocates.
#pragma once

#include <cstdint>

namespace lw::os_threads {

// report_block_wait() reports a wait that began at `since_ns` (wall) and just ended on this
// thread; its stack is the caller's caller (the hook). Call only while the block profile is on.
[[gnu::noinline]] void report_block_wait(std::int64_t since_ns) noexcept;

// program_waits() says whether this thread's waits are the program's: not one of leakwatch's own
// threads, not a runtime worker between tasks (its idle waits), not leakwatch's work on a program
// thread (base::SelfScope).
bool program_waits() noexcept;

// charge_waiters() adds up how long the threads now waiting to lock `object` have waited since an
// unlock last charged them, and restarts their clocks: the delay this unlock ends, which the mutex
// profile charges to the unlocker (Go's semantics). Walks every live thread: call only on a
// contended unlock while the mutex profile is on.
std::int64_t charge_waiters(const void* object) noexcept;

}  // namespace lw::os_threads
