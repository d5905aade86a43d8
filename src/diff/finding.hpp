// finding.hpp: one verdict of the differ: what kind of leak, where (function names, innermost
// first), the figures behind it and how confident the differ is. Plain value; allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lw::diff {

enum class FindingKind : std::uint8_t {
  kHeapGrowth,       // a heap site whose in-use bytes keep growing
  kStuckTasks,       // tasks parked at the same place, never switched in, for --stuck-after
  kTaskGrowth,       // the number of tasks created at one site keeps rising
  kLeakedTasks,      // tasks the runtime proved can never wake
  kHeapAllocGrowth,  // the process's HeapAlloc keeps growing
  kTaskCountGrowth,  // the process's task count keeps rising
  kLeakedThreads,    // OS threads the target proved can never wake (deadlock, orphaned mutex)
  kStuckThreads,     // threads in the same wait, on the same stack, gaining no CPU time, for --stuck-after
  kThreadGrowth,     // the number of live threads created at one site keeps rising
  kUnjoinedThreads,  // threads that exited while joinable and were never joined
  kProfileGrowth,    // a custom profile's live keys at one stack keep rising (unclosed connections, files)
};
std::string_view to_string(FindingKind k);

struct Finding {
  FindingKind kind = FindingKind::kHeapGrowth;
  std::string target;
  std::string instance_id;
  std::vector<std::string> frames;         // the site: allocation, blocking or creation stack
  std::vector<std::string> create_frames;  // tasks, threads: where they were created
  std::int64_t site_stack = 0;             // heap_growth: the site's stack id in the store (its series)
  std::string wait_reason;                 // tasks: Go's words ("chan receive", ...); threads: the
                                           // wait ("condition wait") or syscall ("read")
  std::string profile;                     // profile_growth: the custom profile's name
  std::int64_t count = 0;                  // tasks/threads in the group, or at the site now
  double bytes_per_minute = 0;             // heap kinds: the fitted growth rate
  double tasks_per_minute = 0;             // task growth kinds
  double threads_per_minute = 0;           // thread_growth, and stuck/leaked threads that pile up
  double keys_per_minute = 0;              // profile_growth
  std::int64_t first_value = 0;            // bytes or tasks at the first point of the window
  std::int64_t last_value = 0;             // ... and at the last
  std::int64_t span_ns = 0;                // window length, how long stuck tasks/threads did not
                                           // move, or how long unjoined threads have been gone
  std::int64_t points = 0;                 // snapshots the verdict rests on
  std::int64_t from_snapshot = 0;
  std::int64_t to_snapshot = 0;
  std::vector<std::uint64_t> ids;          // up to 10 of the group: task ids, or tids for threads
  std::string detail;                      // leaked tasks/threads: the target's proof
  double confidence = 0;                   // 0..1, see docs/detection.md
};

}  // namespace lw::diff
