// MemStats from our own counters first: mimalloc 2.0.9 has no JSON stats, and the "rss" its
// mi_process_info reports on Linux is committed memory, not resident memory. So the live and
// cumulative figures come from the hooks' per-thread counters (exact), heap_sys from mimalloc's
// committed memory, and resident sizes from /proc and getrusage (no allocation: raw read(2) into
// a stack buffer).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <mimalloc.h>

#include "leakwatch/heap.hpp"
#include "src/base/task_stacks.hpp"
#include "src/heap/mem_counters.hpp"
#include "src/heap/mi_blocks.hpp"
#include "src/heap/tracker.hpp"

namespace lw {
namespace {

// read_small() reads a /proc file into buf (NUL-terminated); 0 on failure.
std::size_t read_small(const char* path, char* buf, std::size_t cap) noexcept {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return static_cast<std::size_t>(n);
}

}  // namespace

MemStats read_mem_stats() noexcept {
  MemStats m;
  heap::CounterTotals c = heap::read_counters();
  m.mallocs = c.mallocs;
  m.frees = c.frees < c.mallocs ? c.frees : c.mallocs;
  m.total_alloc = c.alloc_bytes;
  m.heap_alloc = c.alloc_bytes > c.free_bytes ? c.alloc_bytes - c.free_bytes : 0;
  m.alloc = m.heap_alloc;
  m.heap_objects = m.mallocs - m.frees;
  m.heap_inuse = m.heap_alloc;
  const std::uint64_t commit = heap::heap_committed_bytes();
  m.heap_sys = commit > m.heap_inuse ? commit : m.heap_inuse;
  m.self_bytes = c.self_alloc_bytes > c.self_free_bytes ? c.self_alloc_bytes - c.self_free_bytes : 0;
  // mimalloc's committed memory holds leakwatch's blocks too: they are neither idle nor the
  // program's.
  m.heap_idle = m.heap_sys - m.heap_inuse > m.self_bytes ? m.heap_sys - m.heap_inuse - m.self_bytes : 0;
  m.heap_released = 0;
  base::TaskStackFigures stacks = base::read_task_stacks();
  m.stack_inuse = stacks.inuse;
  m.stack_sys = stacks.sys;
  m.num_tasks = stacks.tasks;
  heap::TrackerStats t = heap::tracker_stats();
  m.sys = m.heap_sys + m.stack_sys + t.table_bytes;
  m.heap_sample_rate = heap::sample_rate();
  m.dropped_samples = t.dropped_samples;
  m.dropped_stacks = t.dropped_stacks;
  m.interposed = heap::interposer_active();

  char buf[1024];
  if (read_small("/proc/self/statm", buf, sizeof buf) > 0) {
    char* end = nullptr;
    std::strtoull(buf, &end, 10);
    unsigned long long resident = std::strtoull(end, nullptr, 10);
    m.rss = resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  }
  // /proc/self/stat: field 20 is num_threads; count fields after the ')' closing field 2.
  if (read_small("/proc/self/stat", buf, sizeof buf) > 0) {
    if (const char* close = std::strrchr(buf, ')')) {
      const char* f = close + 2;  // field 3
      for (int field = 3; field < 20 && f != nullptr; ++field) {
        f = std::strchr(f, ' ');
        if (f != nullptr) ++f;
      }
      if (f != nullptr) m.num_threads = std::strtoull(f, nullptr, 10);
    }
  }
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) m.max_rss = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  return m;
}

void set_heap_sample_rate(std::int64_t bytes) noexcept { heap::set_sample_rate(bytes); }
std::int64_t heap_sample_rate() noexcept { return heap::sample_rate(); }

}  // namespace lw
