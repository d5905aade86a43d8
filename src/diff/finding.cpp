#include "src/diff/finding.hpp"

namespace lw::diff {

std::string_view to_string(FindingKind k) {
  switch (k) {
    case FindingKind::kHeapGrowth: return "heap_growth";
    case FindingKind::kStuckTasks: return "stuck_tasks";
    case FindingKind::kTaskGrowth: return "task_growth";
    case FindingKind::kLeakedTasks: return "leaked_tasks";
    case FindingKind::kHeapAllocGrowth: return "heap_alloc_growth";
    case FindingKind::kTaskCountGrowth: return "task_count_growth";
    case FindingKind::kLeakedThreads: return "leaked_threads";
    case FindingKind::kStuckThreads: return "stuck_threads";
    case FindingKind::kThreadGrowth: return "thread_growth";
    case FindingKind::kUnjoinedThreads: return "unjoined_threads";
    case FindingKind::kProfileGrowth: return "profile_growth";
  }
  return "unknown";
}

}  // namespace lw::diff
