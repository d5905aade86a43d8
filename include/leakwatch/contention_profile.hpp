// contention_profile.hpp: Go's block and mutex profiles (runtime.SetBlockProfileRate,
// runtime.SetMutexProfileFraction), for tasks and plain threads alike. The block profile charges
// each wait to the waiter's stack: channel send, receive and select, lw::Mutex, lw::WaitGroup, and
// the interposed pthread mutex, rwlock, condition, semaphore, barrier and join waits. The mutex
// profile charges the delay a contended unlock ends to the unlocker's stack, for every waiter
// still queued (lw::Mutex, pthread mutexes and so std::mutex). Both are off by default, as in Go;
// the debug server serves them at /debug/pprof/block and /debug/pprof/mutex (also as
// ?seconds=N deltas). The environment (LEAKWATCH_BLOCK_RATE, LEAKWATCH_MUTEX_FRACTION) sets the
// same at start-up. Thread-safe; never allocates.
#pragma once

#include <cstdint>

namespace lw {

// set_block_profile_rate() records, on average, one blocking event per `rate_ns` nanoseconds
// spent blocked: a wait of at least rate_ns always, a shorter one with probability d / rate_ns
// (scaled up to stay unbiased). 1 records every wait; 0 or less turns the profile off.
void set_block_profile_rate(std::int64_t rate_ns) noexcept;

// set_mutex_profile_fraction() records, on average, 1 in `n` contention events (scaled by n);
// 0 turns it off; a negative n only reads. Returns the previous fraction.
int set_mutex_profile_fraction(int n) noexcept;

}  // namespace lw
