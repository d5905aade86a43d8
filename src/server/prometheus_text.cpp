// Only families whose meaning matches Go's are given Go's names: go_memstats_lookups_total,
// go_memstats_next_gc_bytes, go_gc_duration_seconds and friends describe a garbage collector we do
// not have, so they are left out rather than published as zeros a dashboard would misread.
// Every task and thread state is always published (0 included) so series do not appear and vanish.
// Thread families count the user's threads only (leakwatch's own threads and the task runtime's
// workers are left out, as in the thread views); go_threads stays the process's whole count.
#include "src/server/prometheus_text.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#include "leakwatch/version.hpp"
#include "src/profile/thread_text.hpp"

namespace lw::server {
namespace {

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void family(const char* name, const char* type, const char* help) {
    *out_ += "# HELP ";
    *out_ += name;
    *out_ += ' ';
    *out_ += help;
    *out_ += "\n# TYPE ";
    *out_ += name;
    *out_ += ' ';
    *out_ += type;
    *out_ += '\n';
  }
  void sample(const char* name, const char* labels, double v) {
    *out_ += name;
    *out_ += labels;
    *out_ += ' ';
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_->append(buf, r.ptr);
    *out_ += '\n';
  }
  void sample(const char* name, const char* labels, std::uint64_t v) {
    *out_ += name;
    *out_ += labels;
    *out_ += ' ';
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_->append(buf, r.ptr);
    *out_ += '\n';
  }
  void one(const char* name, const char* type, const char* help, std::uint64_t v) {
    family(name, type, help);
    sample(name, "", v);
  }
  void one(const char* name, const char* type, const char* help, double v) {
    family(name, type, help);
    sample(name, "", v);
  }

 private:
  std::string* out_;
};

}  // namespace

std::string write_prometheus_text(const snapshot::Snapshot& s, const ProcStats& proc) {
  std::string out;
  out.reserve(6144);
  Writer w(&out);
  const snapshot::MemStats& m = s.mem;

  w.one("go_goroutines", "gauge", "Number of goroutines that currently exist.",
        static_cast<std::uint64_t>(s.tasks.size()));
  w.one("go_threads", "gauge", "Number of OS threads created.", static_cast<std::uint64_t>(proc.threads));

  w.one("go_memstats_alloc_bytes", "gauge", "Number of bytes allocated and still in use.", m.alloc);
  w.one("go_memstats_alloc_bytes_total", "counter", "Total number of bytes allocated, even if freed.",
        m.total_alloc);
  w.one("go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system.", m.sys);
  w.one("go_memstats_mallocs_total", "counter", "Total number of mallocs.", m.mallocs);
  w.one("go_memstats_frees_total", "counter", "Total number of frees.", m.frees);
  w.one("go_memstats_heap_alloc_bytes", "gauge", "Number of heap bytes allocated and still in use.",
        m.heap_alloc);
  w.one("go_memstats_heap_sys_bytes", "gauge", "Number of heap bytes obtained from system.", m.heap_sys);
  w.one("go_memstats_heap_idle_bytes", "gauge", "Number of heap bytes waiting to be used.", m.heap_idle);
  w.one("go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.", m.heap_inuse);
  w.one("go_memstats_heap_released_bytes", "gauge", "Number of heap bytes released to OS.",
        m.heap_released);
  w.one("go_memstats_heap_objects", "gauge", "Number of allocated objects.", m.heap_objects);
  w.one("go_memstats_stack_inuse_bytes", "gauge", "Number of bytes in use by the stack allocator.",
        m.stack_inuse);
  w.one("go_memstats_stack_sys_bytes", "gauge", "Number of bytes obtained from system for stack allocator.",
        m.stack_sys);

  w.family("leakwatch_info", "gauge", "Information about the leakwatch library.");
  out += "leakwatch_info{version=\"";
  out += version_string();
  out += "\"} 1\n";

  std::array<std::uint64_t, 5> by_state{};
  std::uint64_t leaked_now = 0;
  for (const snapshot::TaskRecord& t : s.tasks) {
    auto i = static_cast<std::size_t>(t.state);
    if (i < by_state.size()) ++by_state[i];
    if (t.leaked) ++leaked_now;
  }
  w.family("leakwatch_tasks", "gauge", "Number of tasks by scheduling state.");
  for (auto st : {snapshot::TaskState::kRunnable, snapshot::TaskState::kRunning, snapshot::TaskState::kWaiting,
                  snapshot::TaskState::kSyscall, snapshot::TaskState::kDead}) {
    out += "leakwatch_tasks{state=\"";
    out += to_string(st);
    out += "\"} ";
    out += std::to_string(by_state[static_cast<std::size_t>(st)]);
    out += '\n';
  }
  w.one("leakwatch_leaked_tasks", "gauge", "Number of live tasks proven never to wake.", leaked_now);
  w.one("leakwatch_leaked_tasks_total", "counter", "Total number of tasks proven never to wake since start.",
        s.leaked_tasks);
  std::array<std::uint64_t, 5> threads_by_state{};
  std::uint64_t unjoined = 0;
  std::uint64_t leaked_threads = 0;
  for (const snapshot::ThreadRecord& t : s.threads) {
    if (!profile::is_user_thread(t)) continue;
    auto i = static_cast<std::size_t>(t.state);
    if (i < threads_by_state.size()) ++threads_by_state[i];
    if (t.state == snapshot::ThreadState::kExited && t.join == snapshot::JoinState::kJoinable) ++unjoined;
    if (t.leaked) ++leaked_threads;
  }
  w.family("leakwatch_threads", "gauge", "Number of the program's OS threads by state.");
  for (auto st : {snapshot::ThreadState::kRunning, snapshot::ThreadState::kWaiting, snapshot::ThreadState::kSyscall,
                  snapshot::ThreadState::kStopped, snapshot::ThreadState::kExited}) {
    out += "leakwatch_threads{state=\"";
    out += to_string(st);
    out += "\"} ";
    out += std::to_string(threads_by_state[static_cast<std::size_t>(st)]);
    out += '\n';
  }
  w.one("leakwatch_threads_created_total", "counter", "Total number of threads created through pthread_create since start.",
        s.threads_created);
  w.one("leakwatch_threads_unjoined", "gauge", "Number of joinable threads that have exited and were never joined.",
        unjoined);
  w.one("leakwatch_leaked_threads", "gauge", "Number of the program's threads proven never to wake.", leaked_threads);

  w.one("leakwatch_heap_sample_rate_bytes", "gauge",
        "Mean number of bytes allocated between heap samples (1 = every allocation).",
        static_cast<std::uint64_t>(s.heap.sample_rate < 0 ? 0 : s.heap.sample_rate));
  w.one("leakwatch_heap_sampled_sites", "gauge", "Number of distinct call stacks with sampled allocations.",
        static_cast<std::uint64_t>(s.heap.sites.size()));
  w.one("leakwatch_heap_dropped_samples_total", "counter",
        "Total number of heap samples that could not be recorded.", s.heap.dropped_samples);
  w.one("leakwatch_block_dropped_events_total", "counter",
        "Total number of block profile events kept without their stack or lost.", s.block.dropped_events);
  w.one("leakwatch_mutex_dropped_events_total", "counter",
        "Total number of mutex profile events kept without their stack.", s.mutex.dropped_events);
  w.one("leakwatch_dropped_label_sets_total", "counter",
        "Total number of label sets not applied because the label-set table was full.", s.dropped_label_sets);
  w.one("leakwatch_max_resident_memory_bytes", "gauge", "Peak resident memory size in bytes.", m.max_rss);
  w.one("leakwatch_self_bytes", "gauge",
        "Heap bytes held by leakwatch itself (server, symbolizer, captures), not counted in the program's heap.",
        m.self_bytes);

  w.one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
        proc.cpu_seconds);
  w.one("process_open_fds", "gauge", "Number of open file descriptors.", static_cast<std::uint64_t>(proc.open_fds));
  w.one("process_max_fds", "gauge", "Maximum number of open file descriptors.",
        static_cast<std::uint64_t>(proc.max_fds));
  w.one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", proc.virtual_bytes);
  w.one("process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes.",
        proc.virtual_max_bytes);
  w.one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", proc.resident_bytes);
  w.one("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
        proc.start_time_seconds);
  return out;
}

}  // namespace lw::server
