// Counts are kept as heap::StackTable keeps object counts, in 1/kObjectUnit units, because Go's
// unbiasing makes a sampled short wait count rate/delay events (a fraction of events per call is
// common at a coarse rate); delays are whole nanoseconds. The table's alloc_* figures carry them:
// units in alloc_units, nanoseconds in alloc_bytes (free_* stay zero).
//
// The recorder runs on the thread that waited or unlocked, inside a pthread hook or a task's
// park path; base turns away an event raised while one is being recorded.
#include "src/cpu/contention_profile.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "leakwatch/contention_profile.hpp"
#include "src/base/clock.hpp"
#include "src/base/contention_event.hpp"
#include "src/base/current_labels.hpp"
#include "src/base/label_sets.hpp"
#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/base/self_scope.hpp"
#include "src/heap/stack_table.hpp"
#include "src/unwind/handler_unwind.hpp"

namespace lw::cpu {
namespace {

using base::ContentionProfile;

constinit heap::StackTable g_block_sites(kContentionStacks);
constinit heap::StackTable g_mutex_sites(kContentionStacks);
// Events whose stack could not be walked (no lock-free unwinder, or a walk that stopped at once):
// dropped and counted rather than kept at an empty stack no one could act on.
std::atomic<std::uint64_t> g_unwalked[2];

heap::StackTable& sites_of(ContentionProfile which) noexcept {
  return which == ContentionProfile::kBlock ? g_block_sites : g_mutex_sites;
}

void record(ContentionProfile which, std::int64_t delay_ns, std::int64_t rate, int skip) noexcept {
  // The lock-free DWARF walk, never libunwind: this runs inside pthread hooks, where libunwind's
  // loader-lock look-ups could wait on a thread (in dlopen) that waits for the lock this thread
  // just took. A frame-pointer walk would do, but lose the callers of code built without frame
  // pointers (std::thread::join in libstdc++), which is most of what sits under a wait. Where the
  // walk is not safe (unwind tables registered by hand) the event keeps no stack.
  unwind::StackTrace trace;
  if (!unwind::walk_own_stack(&trace, skip + 1)) {
    g_unwalked[static_cast<int>(which)].fetch_add(1, std::memory_order_relaxed);
    return;
  }
  heap::StackTable& table = sites_of(which);
  const std::uint32_t site = table.intern(trace, static_cast<std::uint32_t>(base::current_label_set()));
  // Go's scaling (runtime/mprof.go saveblockevent): a block event shorter than the rate was taken
  // with probability delay/rate, so it stands for rate/delay events and rate nanoseconds; a mutex
  // event was taken with probability 1/n, so it stands for n events and n times its delay.
  double events = 1;
  double delay = static_cast<double>(delay_ns);
  if (which == ContentionProfile::kBlock && delay_ns < rate) {
    events = static_cast<double>(rate) / static_cast<double>(delay_ns);
    delay = static_cast<double>(rate);
  } else if (which == ContentionProfile::kMutex) {
    events = static_cast<double>(rate);
    delay *= static_cast<double>(rate);
  }
  table.add_alloc(site, static_cast<std::uint64_t>(events * heap::kObjectUnit), static_cast<std::uint64_t>(delay));
}

void reset_in_child() noexcept {
  g_block_sites.reset_after_fork();
  g_mutex_sites.reset_after_fork();
}

void install_recorder() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)unwind::handler_unwind_ready();  // the unwinder's one-time set-up, here rather than in a hook
    base::set_contention_recorder(record);
    pthread_atfork(nullptr, nullptr, reset_in_child);
  });
}

void add_sites(const heap::StackTable& table, snapshot::ContentionProfile* out, snapshot::StackInterner* stacks) {
  table.for_each([&](const unwind::StackTrace& t, std::uint32_t label_set, const heap::SiteFigures& f) {
    snapshot::ContentionSite site;
    site.labels = base::label_set(base::LabelSetId{label_set});
    site.stack_id = stacks->intern(std::vector<std::uint64_t>(t.pc, t.pc + t.depth));
    site.count = static_cast<std::int64_t>((f.alloc_units + heap::kObjectUnit / 2) / heap::kObjectUnit);
    site.delay_ns = static_cast<std::int64_t>(f.alloc_bytes);
    if (site.count == 0 && site.delay_ns > 0) site.count = 1;
    out->sites.push_back(site);
  });
}

}  // namespace

void add_contention(snapshot::Snapshot* s, snapshot::StackInterner* stacks) {
  base::SelfScope self;
  s->block.rate = base::block_profile_rate();
  s->mutex.rate = base::mutex_profile_fraction();
  add_sites(g_block_sites, &s->block, stacks);
  add_sites(g_mutex_sites, &s->mutex, stacks);
  // Events lost to re-entry are not told apart by profile; they are rare, and counted with the block profile's.
  s->block.dropped_events = g_block_sites.dropped_stacks() + base::contention_dropped() +
                            g_unwalked[0].load(std::memory_order_relaxed);
  s->mutex.dropped_events = g_mutex_sites.dropped_stacks() + g_unwalked[1].load(std::memory_order_relaxed);
}

void contention_from_environment() {
  auto read = [](const char* name, std::int64_t max, auto apply) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return;
    auto n = base::parse_int64(v);
    if (!n || *n < 0 || *n > max) {
      base::log_write("%s=%s: must be a whole number from 0 to %lld; ignored", name, v, static_cast<long long>(max));
      return;
    }
    apply(*n);
  };
  read("LEAKWATCH_BLOCK_RATE", std::int64_t{3600} * base::kNanosPerSecond,
       [](std::int64_t n) { set_block_profile_rate(n); });
  read("LEAKWATCH_MUTEX_FRACTION", 1'000'000'000, [](std::int64_t n) { set_mutex_profile_fraction(static_cast<int>(n)); });
}

}  // namespace lw::cpu

namespace lw {

void set_block_profile_rate(std::int64_t rate_ns) noexcept {
  if (rate_ns > 0) cpu::install_recorder();
  base::g_block_rate_ns.store(rate_ns > 0 ? rate_ns : 0, std::memory_order_relaxed);
}

int set_mutex_profile_fraction(int n) noexcept {
  const auto previous = static_cast<int>(base::mutex_profile_fraction());
  if (n < 0) return previous;
  if (n > 0) cpu::install_recorder();
  base::g_mutex_fraction.store(n, std::memory_order_relaxed);
  return previous;
}

}  // namespace lw
