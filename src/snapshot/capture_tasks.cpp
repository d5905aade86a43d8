// capture_tasks.cpp: the runtime's registry into Snapshot task records. The runtime holds its
// registry in short batches while it copies the records (the longest hold is the snapshot's
// capture_pause_ns); stacks are interned here, after the registry is released.
#include "src/snapshot/capture_tasks.hpp"

#include <algorithm>

#include "leakwatch/task_info.hpp"
#include "runtime/scheduler.hpp"

namespace lw::snapshot {
namespace {

TaskState to_model(lw::TaskState s) {
  switch (s) {
    case lw::TaskState::kRunnable: return TaskState::kRunnable;
    case lw::TaskState::kRunning: return TaskState::kRunning;
    case lw::TaskState::kWaiting: return TaskState::kWaiting;
    case lw::TaskState::kSyscall: return TaskState::kSyscall;
    case lw::TaskState::kDead: return TaskState::kDead;
  }
  return TaskState::kRunnable;
}

StackId intern(StackInterner* stacks, const std::vector<std::uintptr_t>& pcs) {
  std::vector<std::uint64_t> v(pcs.begin(), pcs.end());
  return stacks->intern(v);
}

}  // namespace

void capture_tasks(Snapshot* out, StackInterner* stacks) {
  std::int64_t longest_hold_ns = 0;
  std::vector<lw::TaskInfo> live = rt::registry_snapshot(&longest_hold_ns);
  out->capture_pause_ns = std::max(out->capture_pause_ns, longest_hold_ns);
  out->tasks.reserve(out->tasks.size() + live.size());
  for (lw::TaskInfo& t : live) {
    TaskRecord r;
    r.id = static_cast<std::uint64_t>(t.id);
    r.parent_id = static_cast<std::uint64_t>(t.parent);
    r.state = to_model(t.state);
    r.wait_reason = std::move(t.wait_reason);
    r.wait_since_unix_ns = t.wait_since_unix_ns;
    r.wait_object = t.wait_object;
    r.switch_count = t.switch_count;
    r.stack_id = intern(stacks, t.stack);
    r.create_stack_id = intern(stacks, t.create_stack);
    r.labels = std::move(t.labels);
    r.leaked = t.leaked;
    r.leak_reason = std::move(t.leak_reason);
    out->tasks.push_back(std::move(r));
  }
  rt::StackStats st = rt::stack_stats();
  out->leaked_tasks = rt::leaked_total();
  out->mem.num_tasks = live.size();
  out->mem.stack_inuse = st.inuse;
  out->mem.stack_sys = st.sys;
}

}  // namespace lw::snapshot
