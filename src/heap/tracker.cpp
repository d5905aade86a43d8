// The sampler follows Go's runtime (mcache.nextSample): after each sample a thread draws the
// next gap from an exponential distribution of mean R bytes and counts its allocations down.
// This makes the sampled set a Poisson process over allocated bytes, so a block of s bytes is
// sampled with probability 1 - e^(-s/R) regardless of what was allocated before it, which is what
// sample_weight.hpp's unbiasing needs. Rejected: "every Nth allocation" (biased towards frequent
// small sizes, aliasing with periodic allocation patterns) and a fixed byte period (aliasing).
//
// Each sample adds its estimate (1/p objects, s/p bytes) to the site at once and keeps the same
// figures in the block map, so the free takes back exactly what the allocation added: in-use
// figures return to zero when everything is freed, whatever the rate did in between.
#include "src/heap/tracker.hpp"

#include <pthread.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "src/base/current_labels.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/parse.hpp"
#include "src/heap/block_map.hpp"
#include "src/heap/mem_counters.hpp"
#include "src/heap/sample_weight.hpp"
#include "src/unwind/capture.hpp"
#include "src/unwind/fast_capture.hpp"

namespace lw::heap {

constinit std::atomic<std::int64_t> g_rate{kDefaultSampleRate};
constinit BlockMap g_sampled_blocks{1u << 15};  // at most 64 shards x 32768 x 16 B = 32 MiB, mapped as they grow

namespace {

constexpr std::uint32_t kSiteCapacity = 1u << 14;    // 16384 sites x 832 B, 13 MiB of address space

constinit StackTable g_sites{kSiteCapacity};
constinit std::atomic<std::uint64_t> g_dropped_samples{0};
constinit std::atomic<std::uint64_t> g_seed_counter{0};

std::uint64_t next_random(ThreadState& t) noexcept {
  // xorshift64*
  std::uint64_t x = t.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t.rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

std::int64_t draw_gap(ThreadState& t, std::int64_t rate) noexcept {
  if (rate <= 0) return INT64_MAX;  // sampling off
  if (rate == 1) return 0;          // every allocation
  // u uniform in (0, 1]; gap = -ln(u) * rate, mean `rate`.
  double u = static_cast<double>((next_random(t) >> 11) + 1) * 0x1.0p-53;
  double gap = -std::log(u) * static_cast<double>(rate);
  if (gap >= 9.0e18) return INT64_MAX;
  return static_cast<std::int64_t>(gap) + 1;
}

void seed(ThreadState& t, std::uint64_t s) noexcept {
  // splitmix64 of the seed, never 0.
  std::uint64_t z = s + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  t.rng = z == 0 ? 1 : z;
}

// The figures one sample stands for; computed the same way at allocation and at free.
// Weight 1 (rate 1, or blocks far above the rate) skips the floating point; otherwise round to
// nearest (weights are positive; no libm call on the hook path).
std::uint64_t units_of(float w) noexcept {
  if (w == 1.0f) return kObjectUnit;
  return static_cast<std::uint64_t>(static_cast<double>(w) * kObjectUnit + 0.5);
}
std::uint64_t bytes_of(float w, std::size_t usable) noexcept {
  if (w == 1.0f) return usable;
  return static_cast<std::uint64_t>(static_cast<double>(w) * static_cast<double>(usable) + 0.5);
}

}  // namespace

void set_sample_rate(std::int64_t bytes) noexcept {
  if (bytes < 0) bytes = 0;
  g_rate.store(bytes, std::memory_order_relaxed);
  ThreadState& t = tls_heap;
  if (t.rng == 0) seed(t, reinterpret_cast<std::uintptr_t>(&t) ^ g_seed_counter.fetch_add(1));
  t.countdown = draw_gap(t, bytes);
}

std::int64_t sample_rate() noexcept { return g_rate.load(std::memory_order_relaxed); }

void seed_thread_sampler(std::uint64_t s) noexcept {
  ThreadState& t = tls_heap;
  seed(t, s);
  t.countdown = draw_gap(t, sample_rate());
}

bool sample_slow(std::size_t size) noexcept {
  ThreadState& t = tls_heap;
  const std::int64_t rate = g_rate.load(std::memory_order_relaxed);
  if (rate == 1 && t.rng != 0) {  // every allocation: no gap to draw
    t.countdown = 0;
    return true;
  }
  if (t.rng == 0) {
    // A new thread: start with a random gap rather than sampling its first allocation.
    std::uint64_t s = reinterpret_cast<std::uintptr_t>(&t) * 0x9e3779b97f4a7c15ull;
    s ^= g_seed_counter.fetch_add(1, std::memory_order_relaxed);
    seed(t, s);
    t.countdown = draw_gap(t, rate) - static_cast<std::int64_t>(size);
    if (t.countdown > 0) return false;
  }
  t.countdown = draw_gap(t, rate);
  return rate > 0;
}

[[gnu::noinline]] void record_alloc(const HookGuard& guard, void* p, std::size_t usable, int skip) noexcept {
  if (!guard.entered() || base::in_self_work() || p == nullptr) return;
  unwind::StackTrace trace;
  unwind::capture_stack_fast(&trace, 1 + skip);
  // The labels current here (a task's or a plain thread's): one TLS load, no lock.
  const std::uint32_t site = g_sites.intern(trace, static_cast<std::uint32_t>(base::current_label_set()));
  const std::int64_t rate = g_rate.load(std::memory_order_relaxed);
  const float w = rate <= 1 ? 1.0f : static_cast<float>(sample_weight(usable, static_cast<std::uint64_t>(rate)));
  bool had_old = false;
  BlockRecord old;
  if (!g_sampled_blocks.insert(reinterpret_cast<std::uintptr_t>(p), BlockRecord{site, w}, &had_old, &old)) {
    g_dropped_samples.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // An old record at this address is a block whose free was not seen (freed from a signal
  // handler that interrupted a hook): its size is unknown now, so take back this size.
  if (had_old) g_sites.add_free(old.site, units_of(old.weight), bytes_of(old.weight, usable));
  g_sites.add_alloc(site, units_of(w), bytes_of(w, usable));
}

void record_free(const HookGuard& guard, void* p, std::size_t usable) noexcept {
  if (!guard.entered() || p == nullptr) return;
  BlockRecord rec;
  if (g_sampled_blocks.remove(reinterpret_cast<std::uintptr_t>(p), &rec))
    g_sites.add_free(rec.site, units_of(rec.weight), bytes_of(rec.weight, usable));
}

TrackerStats tracker_stats() noexcept {
  TrackerStats s;
  s.dropped_samples = g_dropped_samples.load(std::memory_order_relaxed);
  s.dropped_stacks = g_sites.dropped_stacks();
  s.live_samples = g_sampled_blocks.live();
  s.sites = g_sites.sites();
  s.table_bytes = g_sites.mapped_bytes() + g_sampled_blocks.mapped_bytes();
  unwind::FastCaptureCounters c = unwind::fast_capture_counters();
  s.fp_walks = c.fp_walks;
  s.unwinder_fallbacks = c.fallbacks;
  return s;
}

const StackTable& site_table() noexcept { return g_sites; }

void after_fork_in_child() noexcept {
  g_sampled_blocks.reset_locks_after_fork();
  g_sites.reset_after_fork();
  reset_counter_owners_after_fork();
}

namespace {

// Start-up: read LEAKWATCH_HEAP_RATE, learn which modules lack frame pointers, warm libunwind
// (its first call takes 0.2-0.5 ms and allocates), and make fork children usable. Runs before the
// program's own constructors (priority 101); allocations made before it are sampled at the
// default rate with frame-pointer stacks only.
__attribute__((constructor(101))) void heap_start() {
  UntrackedScope untracked;
  if (const char* env = std::getenv("LEAKWATCH_HEAP_RATE")) {
    if (auto v = base::parse_int64(env); v && *v >= 0)
      set_sample_rate(*v);
    else
      base::log_write("LEAKWATCH_HEAP_RATE=%s is not a byte count; keeping %lld", env,
                      static_cast<long long>(sample_rate()));
  }
  // LEAKWATCH_HEAP_SEED fixes the start-up thread's sampling gaps (reproducible test runs).
  if (const char* env = std::getenv("LEAKWATCH_HEAP_SEED")) {
    if (auto v = base::parse_int64(env)) seed_thread_sampler(static_cast<std::uint64_t>(*v));
  }
  unwind::note_frameless_modules();
  unwind::warm_up();
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
}

}  // namespace

}  // namespace lw::heap

namespace lw::heap {
bool interposer_active() noexcept { return LW_HEAP_INTERPOSE != 0; }
}  // namespace lw::heap
