// The lighter depths call the capture parts directly rather than capture_snapshot() with options:
// the mappings and per-thread names that capture_snapshot() always reads cost more than the rest
// of a /metrics scrape put together, and /metrics serves Prometheus every few seconds.
#include "src/server/snapshot_source.hpp"

#include <sys/resource.h>

#include <cstdint>

#include "src/base/clock.hpp"
#include "src/cpu/capture_custom_profiles.hpp"
#include "src/cpu/contention_profile.hpp"
#include "src/server/proc_stats.hpp"
#include "src/snapshot/capture.hpp"
#include "src/snapshot/capture_heap.hpp"
#include "src/snapshot/capture_tasks.hpp"
#include "src/snapshot/capture_threads.hpp"
#include "src/snapshot/stack_interner.hpp"

namespace lw::server {

const char* to_string(CaptureDepth d) {
  switch (d) {
    case CaptureDepth::kCounters: return "counters";
    case CaptureDepth::kLive: return "live";
    case CaptureDepth::kProcess: return "process";
    case CaptureDepth::kFull: return "full";
  }
  return "?";
}

snapshot::Snapshot capture_this_process(CaptureDepth depth) {
  if (depth == CaptureDepth::kFull) {
    snapshot::Snapshot s = snapshot::capture_snapshot();
    snapshot::StackInterner stacks(&s);
    cpu::add_contention(&s, &stacks);
    cpu::capture_custom_profiles(&s);
    snapshot::symbolize_stacks(&s);  // only the contention and custom profiles' new addresses
    return s;
  }
  snapshot::Snapshot s;
  s.time_unix_ns = base::wall_now_ns();
  snapshot::StackInterner stacks(&s);
  if (depth != CaptureDepth::kProcess) cpu::add_contention(&s, &stacks);  // the index's counts
  snapshot::capture_heap(&s, &stacks);
  snapshot::capture_tasks(&s, &stacks);
  snapshot::ThreadCaptureOptions threads;
  threads.stacks = false;
  threads.leaked_stacks = depth == CaptureDepth::kLive;
  threads.describe_descriptors = false;
  snapshot::capture_threads(&s, &stacks, threads);
  cpu::capture_custom_profiles(&s);
  if (depth == CaptureDepth::kProcess) {
    s.process = snapshot::read_process_info();
    s.mem.rss = read_proc_stats().resident_bytes;
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) == 0) s.mem.max_rss = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  }
  return s;
}

}  // namespace lw::server
