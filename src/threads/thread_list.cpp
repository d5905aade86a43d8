// lw::threads(): the registry, /proc and the stack signal put together. Order matters: /proc is
// read before a thread is signalled (the signal itself would show up as its state), and the waits
// are read before and after the lock owners (deadlock_proof.hpp says why that makes a proof).
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "src/threads/thread_list.hpp"

#include "leakwatch/thread_info.hpp"
#include "src/base/call_site.hpp"
#include "src/base/label_sets.hpp"
#include "src/base/thread_role.hpp"
#include "src/threads/deadlock_proof.hpp"
#include "src/threads/proc_task.hpp"
#include "src/threads/stack_cache.hpp"
#include "src/threads/stack_signal.hpp"
#include "src/threads/thread_table.hpp"

namespace lw {
namespace {

using os_threads::SlotJoin;
using os_threads::SlotState;
using os_threads::ThreadSlot;

// SlotCopy is what a reader keeps of one slot, copied under the table lock.
struct SlotCopy {
  const ThreadSlot* slot = nullptr;
  int tid = 0;
  SlotState state = SlotState::kFree;
  SlotJoin join = SlotJoin::kUnknown;
  std::int64_t creator_tid = 0;
  std::uint64_t creator_task = 0;
  std::int64_t start_ns = 0;
  std::int64_t exit_ns = 0;
  pthread_t handle = 0;
  char exit_name[16] = {};
  base::ThreadRole role = base::ThreadRole::kUser;
  std::uint32_t label_set = 0;
  unwind::StackTrace create_stack;
};

struct CopyTarget {
  std::vector<SlotCopy>* out;
  std::size_t room;
};

void copy_slot(const ThreadSlot& s, void* arg) {
  auto* t = static_cast<CopyTarget*>(arg);
  if (t->out->size() >= t->room) return;  // capacity was reserved: never allocate under the lock
  SlotCopy c;
  c.slot = &s;
  c.tid = s.tid.load(std::memory_order_relaxed);
  c.state = s.state.load(std::memory_order_acquire);
  c.join = s.join.load(std::memory_order_relaxed);
  c.creator_tid = s.creator_tid;
  c.creator_task = s.creator_task;
  c.start_ns = s.start_ns;
  c.exit_ns = s.exit_ns.load(std::memory_order_relaxed);
  c.handle = s.handle.load(std::memory_order_relaxed);
  c.role = static_cast<base::ThreadRole>(s.role.load(std::memory_order_relaxed));
  c.label_set = s.label_set.load(std::memory_order_relaxed);
  std::copy(std::begin(s.exit_name), std::end(s.exit_name), c.exit_name);
  c.create_stack = s.create_stack;
  t->out->push_back(c);
}

void count_slot(const ThreadSlot&, void* arg) { ++*static_cast<std::size_t*>(arg); }

std::vector<SlotCopy> copy_slots() {
  std::size_t n = 0;
  os_threads::for_each_live(count_slot, &n);
  std::vector<SlotCopy> out;
  out.reserve(n + 64);
  CopyTarget t{&out, n + 64};
  os_threads::for_each_live(copy_slot, &t);
  return out;
}

ThreadJoin to_join(SlotJoin j) {
  switch (j) {
    case SlotJoin::kJoinable: return ThreadJoin::kJoinable;
    case SlotJoin::kDetached: return ThreadJoin::kDetached;
    case SlotJoin::kJoined: return ThreadJoin::kJoined;
    case SlotJoin::kUnknown: return ThreadJoin::kUnknown;
  }
  return ThreadJoin::kUnknown;
}

std::vector<std::uintptr_t> pcs(const unwind::StackTrace& t) { return {t.pc, t.pc + t.depth}; }

void set_role(ThreadInfo* t, base::ThreadRole role) {
  t->runtime_worker = role == base::ThreadRole::kRuntimeWorker;
  t->internal = role != base::ThreadRole::kUser;
}

// current_pcs() is a current stack without the frames of leakwatch's own hooks (the wrapper a
// wait passes through, the start wrapper every thread begins in): the program's frames remain.
std::vector<std::uintptr_t> current_pcs(const unwind::StackTrace& t) {
  std::vector<std::uintptr_t> out;
  out.reserve(t.depth);
  for (std::uint32_t i = 0; i < t.depth; ++i)
    if (!os_threads::in_hook_code(base::call_site(t.pc[i]))) out.push_back(t.pc[i]);
  return out;
}

// confirm_waits() re-reads each node's wait: the same seq means the same call, never left.
bool confirm_waits(const std::vector<const os_threads::WaitNode*>& nodes, void* arg) {
  auto* slots = static_cast<std::map<int, const ThreadSlot*>*>(arg);
  for (const os_threads::WaitNode* n : nodes) {
    auto it = slots->find(n->tid);
    if (it == slots->end()) return false;
    const os_threads::WaitView now = os_threads::read_wait(*it->second);
    if (now.kind != n->wait.kind || now.seq != n->wait.seq || now.object != n->wait.object) return false;
  }
  return true;
}

}  // namespace

std::uint64_t threads_created() noexcept { return os_threads::table_counters().created; }

std::vector<ThreadInfo> threads(bool with_stacks) {
  os_threads::ListOptions options;
  options.stacks = with_stacks;
  return os_threads::list_threads(options);
}

std::vector<ThreadInfo> os_threads::list_threads(const ListOptions& options) {
  const bool with_stacks = options.stacks;
  os_threads::install_stack_signal();
  const std::vector<int> tids = os_threads::list_thread_ids();
  const std::vector<SlotCopy> slots = copy_slots();
  std::map<int, const SlotCopy*> slot_by_tid;
  std::map<pthread_t, int> tid_by_handle;
  for (const SlotCopy& c : slots) {
    // The live list runs newest first: a stale slot of a thread that reused a tid (one the tracker
    // did not see start leaves its slot behind) never shadows the newer one.
    if (c.tid != 0 && c.state == SlotState::kRunning) slot_by_tid.emplace(c.tid, &c);
    if (c.handle != 0 && c.tid != 0) tid_by_handle.emplace(c.handle, c.tid);
  }

  std::vector<ThreadInfo> out;
  out.reserve(tids.size() + 8);
  std::vector<std::optional<os_threads::BlockedIn>> blocked;  // parallel to out
  blocked.reserve(tids.size() + 8);
  std::vector<os_threads::WaitNode> waits;
  std::map<int, const ThreadSlot*> wait_slots;
  os_threads::DescriptorNames fds;
  for (int tid : tids) {
    auto it = slot_by_tid.find(tid);
    const SlotCopy* slot = it != slot_by_tid.end() ? it->second : nullptr;
    const os_threads::WaitView w = slot != nullptr ? os_threads::read_wait(*slot->slot) : os_threads::WaitView{};
    os_threads::ProcThread p;
    if (!os_threads::read_proc_thread(tid, &p, w.kind == os_threads::WaitKind::kNone)) continue;  // exited
    ThreadInfo t;
    std::optional<os_threads::BlockedIn> here;
    t.tid = tid;
    t.name = p.name;
    t.cpu_ns = p.cpu_ns;
    if (slot != nullptr) {
      set_role(&t, slot->role);
      t.creator_tid = slot->creator_tid;
      t.creator_task = TaskId{slot->creator_task};
      t.start_time_unix_ns = slot->start_ns;
      t.join = to_join(slot->join);
      t.create_stack = pcs(slot->create_stack);
      t.labels = base::label_set(base::LabelSetId{slot->label_set});
    }
    if (p.state == 'T' || p.state == 't') {
      t.state = ThreadState::kStopped;
    } else if (w.kind != os_threads::WaitKind::kNone && p.state != 'R') {
      t.state = ThreadState::kWaiting;
      t.wait_reason = os_threads::to_string(w.kind);
      t.wait_since_unix_ns = w.since_ns;
      t.wait_object = w.object;
      t.timed_wait = w.timed;
      os_threads::WaitNode node;
      node.tid = tid;
      node.name = p.name;
      node.wait = w;
      node.owner = os_threads::read_lock_owner(w.kind, w.object);
      if (node.owner.tid != 0) t.wait_detail = "held by thread " + std::to_string(node.owner.tid);
      if (w.kind == os_threads::WaitKind::kThreadJoin) {
        auto joined = tid_by_handle.find(static_cast<pthread_t>(w.object));
        if (joined != tid_by_handle.end()) {
          node.joined_tid = joined->second;
          t.wait_detail = "thread " + std::to_string(joined->second);
        }
      }
      waits.push_back(std::move(node));
      wait_slots[tid] = slot->slot;
      os_threads::BlockedIn in;
      in.wait_seq = w.seq;
      here = in;
    } else if ((p.state == 'S' || p.state == 'D') && p.syscall >= 0) {
      t.state = ThreadState::kSyscall;
      os_threads::BlockedIn in;
      in.syscall = p.syscall;
      std::copy(std::begin(p.args), std::end(p.args), in.args);
      here = in;
      t.wait_reason = os_threads::syscall_name(p.syscall);
      const int fd = os_threads::syscall_fd(p.syscall, p.args);
      if (fd >= 0 && options.describe_descriptors) {
        t.wait_object = static_cast<std::uint64_t>(fd) + 1;
        t.wait_detail = fds.describe(fd);
      }
    } else if (p.state == 'S' || p.state == 'D') {
      t.state = ThreadState::kSyscall;
      t.wait_reason = "syscall";
    }
    out.push_back(std::move(t));
    blocked.push_back(here);
  }
  // Joinable threads that exited and nobody joined: their stacks and descriptors are still held.
  for (const SlotCopy& c : slots) {
    if (c.state != SlotState::kExited) continue;
    ThreadInfo t;
    t.tid = c.tid;
    t.name = c.exit_name;
    t.state = ThreadState::kExited;
    t.creator_tid = c.creator_tid;
    t.creator_task = TaskId{c.creator_task};
    t.start_time_unix_ns = c.start_ns;
    t.exit_time_unix_ns = c.exit_ns;
    t.join = to_join(c.join);
    t.create_stack = pcs(c.create_stack);
    t.labels = base::label_set(base::LabelSetId{c.label_set});
    set_role(&t, c.role);
    out.push_back(std::move(t));
    blocked.emplace_back();
  }

  const std::vector<os_threads::Proof> proofs = os_threads::prove_leaks(waits, tids, confirm_waits, &wait_slots);
  for (const os_threads::Proof& p : proofs)
    for (ThreadInfo& t : out)
      if (t.tid == p.tid && t.state == ThreadState::kWaiting) {
        t.leaked = true;
        t.leak_reason = p.reason;
      }

  if (with_stacks || options.leaked_stacks) {
    os_threads::StackCache& cache = os_threads::stack_cache();
    std::vector<int> ask;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < out.size(); ++i) {
      ThreadInfo& t = out[i];
      if (t.state == ThreadState::kExited || (!with_stacks && !t.leaked)) continue;
      if (blocked[i] && cache.lookup(static_cast<int>(t.tid), *blocked[i], &t.cpu_ns, &t.stack)) continue;
      ask.push_back(static_cast<int>(t.tid));
      at.push_back(i);
    }
    std::vector<os_threads::StackResult> stacks(ask.size());
    os_threads::capture_thread_stacks(ask.data(), ask.size(), stacks.data(), options.stack_timeout_ns);
    for (std::size_t k = 0; k < ask.size(); ++k) {
      ThreadInfo& t = out[at[k]];
      if (!stacks[k].ok) {
        t.stack_error = stacks[k].why;
        continue;
      }
      t.stack = current_pcs(stacks[k].trace);
      if (!blocked[at[k]]) continue;
      // The CPU time after the signal: the next capture compares against it.
      t.cpu_ns = os_threads::read_thread_cpu_ns(ask[k]);
      cache.store(ask[k], *blocked[at[k]], t.cpu_ns, t.stack);
    }
    if (with_stacks) cache.keep_only(tids);
  }
  return out;
}

}  // namespace lw
