#include "src/snapshot/capture_threads.hpp"

#include "src/threads/thread_list.hpp"
#include "src/threads/thread_table.hpp"

namespace lw::snapshot {
namespace {

ThreadState to_model(lw::ThreadState s) {
  switch (s) {
    case lw::ThreadState::kRunning: return ThreadState::kRunning;
    case lw::ThreadState::kWaiting: return ThreadState::kWaiting;
    case lw::ThreadState::kSyscall: return ThreadState::kSyscall;
    case lw::ThreadState::kStopped: return ThreadState::kStopped;
    case lw::ThreadState::kExited: return ThreadState::kExited;
  }
  return ThreadState::kRunning;
}

JoinState to_model(lw::ThreadJoin j) {
  switch (j) {
    case lw::ThreadJoin::kJoinable: return JoinState::kJoinable;
    case lw::ThreadJoin::kDetached: return JoinState::kDetached;
    case lw::ThreadJoin::kJoined: return JoinState::kJoined;
    case lw::ThreadJoin::kUnknown: return JoinState::kUnknown;
  }
  return JoinState::kUnknown;
}

StackId intern(StackInterner* stacks, const std::vector<std::uintptr_t>& pcs) {
  std::vector<std::uint64_t> v(pcs.begin(), pcs.end());
  return stacks->intern(v);
}

}  // namespace

void capture_threads(Snapshot* out, StackInterner* stacks, const ThreadCaptureOptions& options) {
  os_threads::ListOptions list;
  list.stacks = options.stacks;
  list.leaked_stacks = options.leaked_stacks;
  list.describe_descriptors = options.describe_descriptors;
  std::vector<lw::ThreadInfo> live = os_threads::list_threads(list);
  out->threads.reserve(out->threads.size() + live.size());
  std::uint64_t leaked = 0, running = 0;
  for (lw::ThreadInfo& t : live) {
    ThreadRecord r;
    r.tid = t.tid;
    r.name = std::move(t.name);
    r.runtime_worker = t.runtime_worker;
    r.internal = t.internal;
    r.state = to_model(t.state);
    r.wait_reason = std::move(t.wait_reason);
    r.wait_since_unix_ns = t.wait_since_unix_ns;
    r.wait_object = t.wait_object;
    r.wait_detail = std::move(t.wait_detail);
    r.timed_wait = t.timed_wait;
    r.creator_tid = t.creator_tid;
    r.creator_task = static_cast<std::uint64_t>(t.creator_task);
    r.start_time_unix_ns = t.start_time_unix_ns;
    r.exit_time_unix_ns = t.exit_time_unix_ns;
    r.join = to_model(t.join);
    r.cpu_ns = t.cpu_ns;
    r.stack_id = intern(stacks, t.stack);
    r.stack_error = std::move(t.stack_error);
    r.create_stack_id = intern(stacks, t.create_stack);
    r.labels = std::move(t.labels);
    r.leaked = t.leaked;
    r.leak_reason = std::move(t.leak_reason);
    if (r.leaked && !r.internal) ++leaked;
    if (r.state != ThreadState::kExited) ++running;
    out->threads.push_back(std::move(r));
  }
  // Creation sites are copied out under the table lock into fixed-size traces, then interned.
  std::vector<std::pair<unwind::StackTrace, std::int64_t>> sites;
  sites.reserve(os_threads::kMaxCreateSites);
  os_threads::for_each_site(
      [](const os_threads::CreateSite& site, void* arg) {
        auto* v = static_cast<std::vector<std::pair<unwind::StackTrace, std::int64_t>>*>(arg);
        if (v->size() < v->capacity()) v->emplace_back(site.stack, site.count.load(std::memory_order_relaxed));
      },
      &sites);
  for (const auto& [trace, count] : sites) {
    ThreadCreateSite c;
    c.stack_id = stacks->intern(std::vector<std::uint64_t>(trace.pc, trace.pc + trace.depth));
    c.count = count;
    out->thread_creates.push_back(c);
  }
  out->threads_created = os_threads::table_counters().created;
  out->leaked_threads = leaked;
  out->threads_tracked = true;
  out->mem.num_threads = running;
}

}  // namespace lw::snapshot
