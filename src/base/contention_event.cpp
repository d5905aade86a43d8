#include "src/base/contention_event.hpp"

#include "src/base/self_scope.hpp"

namespace lw::base {
namespace {

constinit std::atomic<ContentionRecorder> g_recorder{nullptr};

// A per-thread xorshift generator: the sampling decision needs no lock and no shared line.
// Seeded lazily from the thread's stack address and a constant, so threads differ.
thread_local std::uint64_t tls_random __attribute__((tls_model("initial-exec"))) = 0;

std::uint64_t next_random() noexcept {
  std::uint64_t x = tls_random;
  if (x == 0) x = reinterpret_cast<std::uintptr_t>(&x) * 0x9E3779B97F4A7C15ull | 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  tls_random = x;
  return x;
}

// Set while this thread records an event: a pthread call made by what the recorder calls (the
// unwinder's first look at an object, the site table's first mapping) would raise another.
thread_local bool tls_recording __attribute__((tls_model("initial-exec"))) = false;

constinit std::atomic<std::uint64_t> g_dropped{0};

[[gnu::noinline]] void call_recorder(ContentionProfile which, std::int64_t delay_ns, std::int64_t rate, int skip) noexcept {
  ContentionRecorder r = g_recorder.load(std::memory_order_acquire);
  if (r == nullptr || in_self_work()) return;  // leakwatch's own waits are not the program's
  if (tls_recording) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  tls_recording = true;
  r(which, delay_ns, rate, skip + 1);
  tls_recording = false;
}

}  // namespace

constinit std::atomic<std::int64_t> g_block_rate_ns{0};
constinit std::atomic<std::int64_t> g_mutex_fraction{0};

void set_contention_recorder(ContentionRecorder recorder) noexcept {
  g_recorder.store(recorder, std::memory_order_release);
}

void block_event(std::int64_t delay_ns, int skip) noexcept {
  const std::int64_t rate = block_profile_rate();
  if (rate <= 0) return;
  if (delay_ns <= 0) delay_ns = 1;
  if (rate > delay_ns && static_cast<std::int64_t>(next_random() % static_cast<std::uint64_t>(rate)) > delay_ns) return;
  call_recorder(ContentionProfile::kBlock, delay_ns, rate, skip + 1);
}

bool mutex_sampled() noexcept {
  const std::int64_t n = mutex_profile_fraction();
  if (n <= 0) return false;
  return n == 1 || next_random() % static_cast<std::uint64_t>(n) == 0;
}

void mutex_event(std::int64_t delay_ns, int skip) noexcept {
  const std::int64_t n = mutex_profile_fraction();
  if (n <= 0) return;
  if (delay_ns <= 0) delay_ns = 1;
  call_recorder(ContentionProfile::kMutex, delay_ns, n, skip + 1);
}

std::uint64_t contention_dropped() noexcept { return g_dropped.load(std::memory_order_relaxed); }

}  // namespace lw::base
