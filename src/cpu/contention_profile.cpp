// Counts are kept as heap::StackTable keeps object counts, in 1/kObjectUnit units, because Go's
// unbiasing makes a sampled short wait count rate/delay events (a fraction of events per call is
// common at a coarse rate); delays are whole nanoseconds. The table's alloc_* figures carry them:
// units in alloc_units, nanoseconds in alloc_bytes (free_* stay zero).
//
// The recorder runs on the thread that waited or unlocked, inside a pthread hook or a task's
// park path; base turns away an event raised while one is being recorded.
#include "src/cpu/contention_profile.hpp"

#include <pthread.h>

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <vector>

#include "leakwatch/contention_profile.hpp"
#include "src/base/clock.hpp"
#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/base/self_scope.hpp"
#include "src/heap/stack_table.hpp"
#include "src/profile/contention_text.hpp"
#include "src/profile/pprof_builder.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/stack_interner.hpp"
#include "src/unwind/fast_capture.hpp"

namespace lw::cpu {
namespace {

using base::ContentionProfile;

constinit heap::StackTable g_block_sites(kContentionStacks);
constinit heap::StackTable g_mutex_sites(kContentionStacks);

heap::StackTable& sites(ContentionProfile which) noexcept {
  return which == ContentionProfile::kBlock ? g_block_sites : g_mutex_sites;
}

void record(ContentionProfile which, std::int64_t delay_ns, std::int64_t rate, int skip) noexcept {
  unwind::StackTrace trace;
  unwind::capture_stack_fast(&trace, skip + 1);
  heap::StackTable& table = sites(which);
  const std::uint32_t site = table.intern(trace);
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
    unwind::note_frameless_modules();
    base::set_contention_recorder(record);
    pthread_atfork(nullptr, nullptr, reset_in_child);
  });
}

// snapshot_of() turns one table into records whose stacks live in the returned snapshot.
snapshot::Snapshot snapshot_of(ContentionProfile which, std::vector<profile::ContentionRecord>* out) {
  snapshot::Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  s.process = snapshot::read_process_info();
  s.mappings = snapshot::read_mappings();
  snapshot::StackInterner stacks(&s);
  sites(which).for_each([&](const unwind::StackTrace& t, const heap::SiteFigures& f) {
    std::vector<std::uint64_t> pcs(t.pc, t.pc + t.depth);
    profile::ContentionRecord r;
    r.stack_id = stacks.intern(pcs);
    r.count = static_cast<std::int64_t>((f.alloc_units + heap::kObjectUnit / 2) / heap::kObjectUnit);
    r.delay_ns = static_cast<std::int64_t>(f.alloc_bytes);
    if (r.count == 0 && r.delay_ns > 0) r.count = 1;
    out->push_back(r);
  });
  snapshot::symbolize_stacks(&s);
  return s;
}

}  // namespace

std::string contention_proto(ContentionProfile which) {
  base::SelfScope self;
  std::vector<profile::ContentionRecord> records;
  snapshot::Snapshot s = snapshot_of(which, &records);
  return profile::contention_pprof(s, records);
}

std::string contention_text(ContentionProfile which) {
  base::SelfScope self;
  std::vector<profile::ContentionRecord> records;
  snapshot::Snapshot s = snapshot_of(which, &records);
  std::ostringstream os;
  profile::write_contention_text(os, s, records, which == ContentionProfile::kMutex, base::mutex_profile_fraction());
  return os.str();
}

std::size_t contention_stacks(ContentionProfile which) noexcept { return sites(which).sites(); }

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
