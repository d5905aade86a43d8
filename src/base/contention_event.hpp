// contention_event.hpp: where the modules that see waits (runtime/ for tasks, src/threads for OS
// threads) report them to the block and mutex profiles, which live in src/cpu and which those
// modules may not include. The rates live here, so a hot path checks one relaxed load; src/cpu
// installs the recorder that captures the stack. Go's semantics (runtime.SetBlockProfileRate,
// runtime.SetMutexProfileFraction): both off by default. Thread-safe; never allocates.
#pragma once

#include <atomic>
#include <cstdint>

namespace lw::base {

enum class ContentionProfile : std::uint8_t { kBlock, kMutex };

// The recorder captures the caller's stack (skipping `skip` frames above its own caller) and adds
// one event of `delay_ns`, taken at `rate` (block: the rate in ns; mutex: the fraction n), scaled as
// Go scales it. It runs on the waiting or unlocking thread: it must not block, allocate or throw.
using ContentionRecorder = void (*)(ContentionProfile which, std::int64_t delay_ns, std::int64_t rate,
                                    int skip) noexcept;

extern std::atomic<std::int64_t> g_block_rate_ns;     // 0: block profile off
extern std::atomic<std::int64_t> g_mutex_fraction;    // 0: mutex profile off

inline std::int64_t block_profile_rate() noexcept { return g_block_rate_ns.load(std::memory_order_relaxed); }
inline std::int64_t mutex_profile_fraction() noexcept { return g_mutex_fraction.load(std::memory_order_relaxed); }

// set_contention_recorder() installs the recorder; set it before turning a rate on.
void set_contention_recorder(ContentionRecorder recorder) noexcept;

// block_event() reports a wait of `delay_ns` that just ended on the calling thread or task. Go's
// rule: a wait of at least the rate is always recorded, a shorter one with probability
// delay/rate (and scaled up by the recorder). No-op while the block profile is off.
[[gnu::noinline]] void block_event(std::int64_t delay_ns, int skip) noexcept;

// mutex_sampled() says whether this contended unlock is one of the 1/n recorded; ask it before
// adding up the waiters' delay. mutex_event() then records `delay_ns` at the caller's stack.
bool mutex_sampled() noexcept;
[[gnu::noinline]] void mutex_event(std::int64_t delay_ns, int skip) noexcept;

// contention_dropped() counts events turned away because they were raised while this thread was
// recording another one.
std::uint64_t contention_dropped() noexcept;

}  // namespace lw::base
