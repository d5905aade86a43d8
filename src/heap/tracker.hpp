// tracker.hpp: the heap tracker's core: the sampler (a per-thread byte countdown with
// exponentially distributed gaps, as Go's MemProfileRate), the recording of sampled allocations
// into the site table and the block map, and the process-wide figures read by capture.
// Thread-safe. The hot-path functions never allocate, never throw and never take a lock that can
// allocate; record_alloc/record_free may only be called under a HookGuard (they take it by
// reference). The read side (for_each_site, tracker_stats) does not allocate either; its callback may.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/heap/block_map.hpp"
#include "src/heap/hook_guard.hpp"
#include "src/heap/stack_table.hpp"
#include "src/heap/thread_state.hpp"

namespace lw::heap {

// kDefaultSampleRate is Go's default MemProfileRate: one sample per 512 KiB allocated on average.
inline constexpr std::int64_t kDefaultSampleRate = 524288;

// set_sample_rate() sets the mean bytes between samples: 1 = every allocation, 0 = no sampling.
// The calling thread starts a fresh countdown at once; other threads at their next sample.
void set_sample_rate(std::int64_t bytes) noexcept;
std::int64_t sample_rate() noexcept;

// seed_thread_sampler() reseeds the calling thread's random gaps (tests use fixed seeds) and
// draws a fresh countdown.
void seed_thread_sampler(std::uint64_t seed) noexcept;

// The sample rate (mean bytes between samples; 1 = every allocation, 0 = none).
__attribute__((visibility("hidden"))) extern std::atomic<std::int64_t> g_rate;

// sample_slow() is the rare part of countdown_hit(): seeds a new thread, draws the next gap.
bool sample_slow(std::size_t size) noexcept;

// sample_due() is sample_slow() with its rate-1 case inline (every allocation: no gap to draw).
inline bool sample_due(std::size_t size) noexcept {
  if (g_rate.load(std::memory_order_relaxed) == 1 && tls_heap.rng != 0) {
    tls_heap.countdown = 0;
    return true;
  }
  return sample_slow(size);
}

// countdown_expired() subtracts `size` from this thread's countdown and says whether it has run
// out (then sample_slow() decides). On x86-64 one `sub` to the TLS word and the branch on its
// flags; elsewhere (and under TSan) plain code.
inline bool countdown_expired(std::size_t size) noexcept {
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
  bool positive;
  asm("subq %2, %0" : "+m"(tls_heap.countdown), "=@ccg"(positive) : "er"(static_cast<std::int64_t>(size)));
  return !positive;
#else
  ThreadState& t = tls_heap;
  t.countdown -= static_cast<std::int64_t>(size);
  return t.countdown <= 0;
#endif
}

// countdown_hit() subtracts `size` from this thread's countdown and says whether this
// allocation is to be sampled. This is the whole unsampled fast path.
inline bool countdown_hit(std::size_t size) noexcept {
  if (!countdown_expired(size)) [[likely]] return false;
  return sample_slow(size);
}

// record_alloc() records a sampled block of `usable` bytes at `p`: captures the stack (dropping
// this function and `skip` frames of its caller, so a hook passes 1 to start at its caller),
// interns it and adds the unbiased estimate to the site. Does nothing inside an UntrackedScope or
// when `guard` did not enter (a re-entered hook).
void record_alloc(const HookGuard& guard, void* p, std::size_t usable, int skip) noexcept;

// The process's live sampled blocks (defined in tracker.cpp, constant-initialized).
extern BlockMap g_sampled_blocks;

// maybe_sampled() is the lock-free filter in front of record_free(): one load, inlined.
inline bool maybe_sampled(const void* p) noexcept {
  return g_sampled_blocks.maybe_contains(reinterpret_cast<std::uintptr_t>(p));
}

// record_free() takes back the estimate of a sampled block of `usable` bytes that is being freed.
// Call before the block goes back to the allocator (its address could be reused at once).
void record_free(const HookGuard& guard, void* p, std::size_t usable) noexcept;

// TrackerStats are the tracker's own counters.
struct TrackerStats {
  std::uint64_t dropped_samples = 0;  // samples not recorded (block map full)
  std::uint64_t dropped_stacks = 0;   // samples put in the overflow site (site table full)
  std::uint64_t live_samples = 0;     // sampled blocks not yet freed
  std::uint64_t sites = 0;            // distinct stacks in the site table
  std::uint64_t table_bytes = 0;      // address space mapped for the tables
  std::uint64_t fp_walks = 0;         // stacks taken by frame-pointer walk
  std::uint64_t unwinder_fallbacks = 0;  // stacks taken by unw_backtrace
};
TrackerStats tracker_stats() noexcept;

// site_table() is the process's site table (read it with for_each under an UntrackedScope).
const StackTable& site_table() noexcept;

// after_fork_in_child() resets locks and per-thread ownership in a fork child. Registered with
// pthread_atfork at start-up; exposed for tests.
void after_fork_in_child() noexcept;

// interposer_active() says whether this build replaces malloc (LEAKWATCH_INTERPOSE_MALLOC).
bool interposer_active() noexcept;

}  // namespace lw::heap
