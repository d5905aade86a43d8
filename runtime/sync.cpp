// sync.cpp: Mutex and WaitGroup. Each keeps its state in a SyncState guarded by a spin lock held
// for a few instructions (never across a park). Mutex hands itself directly to the first waiter
// (FIFO): no barging, so a waiter cannot starve, at the cost of Go's fast path under contention.
// Rejected: a std::mutex inside lw::Mutex: it would block the worker thread, not park the task.
//
// Ownership is what makes the exited-owner proof sound: only the owner unlocks, so once the owner
// task is gone (or proven leaked) no one will ever unlock, and every waiter is leaked.
#include <atomic>
#include <type_traits>

#include "leakwatch/runtime.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/sync_internal.hpp"
#include "runtime/task_cancelled.hpp"
#include "src/base/clock.hpp"
#include "src/base/contention_event.hpp"
#include "src/base/log.hpp"

namespace lw::detail {
namespace {

// A task's wait object is the Mutex's address; its state is the Mutex's only member.
static_assert(std::is_standard_layout_v<Mutex>);

class SpinGuard {
 public:
  explicit SpinGuard(SyncState* s) : lock_(s->lock) {
    while (lock_.exchange(1, std::memory_order_acquire) != 0) __builtin_ia32_pause();
  }
  ~SpinGuard() { unlock(); }
  void unlock() {
    if (held_) lock_.store(0, std::memory_order_release);
    held_ = false;
  }

 private:
  std::atomic_ref<std::uint32_t> lock_;
  bool held_ = true;
};

void enqueue(SyncState* s, WaitNode* n) {
  n->next = nullptr;
  n->queued = true;
  if (s->tail) s->tail->next = n; else s->head = n;
  s->tail = n;
}

void remove(SyncState* s, WaitNode* n) {
  if (!n->queued) return;
  WaitNode* prev = nullptr;
  for (WaitNode* x = s->head; x; prev = x, x = x->next) {
    if (x == n) {
      if (prev) prev->next = x->next; else s->head = x->next;
      if (s->tail == x) s->tail = prev;
      break;
    }
  }
  n->queued = false;
}

// charge_waiters() is the delay an unlock ends: how long `first` (the waiter it hands over to) and
// the waiters queued from `rest` on have waited since they were last charged, Go's mutex profile
// event. The others' clocks restart now, so the next unlock charges only what comes after.
// Waiters queued while the profile was off (since_ns 0) are not counted.
std::int64_t charge_waiters(const WaitNode* first, WaitNode* rest) {
  const std::int64_t now = base::now_ns();
  std::int64_t sum = first->since_ns > 0 ? now - first->since_ns : 0;
  for (WaitNode* x = rest; x; x = x->next) {
    if (x->since_ns <= 0) continue;
    sum += now - x->since_ns;
    x->since_ns = now;
  }
  return sum;
}

// pop_claimed() removes waiters from the front until one is claimed by us.
WaitNode* pop_claimed(SyncState* s) {
  while (WaitNode* n = s->head) {
    s->head = n->next;
    if (!s->head) s->tail = nullptr;
    n->queued = false;
    if (rt::claim(n->parker)) return n;
  }
  return nullptr;
}

void add_held(rt::Task* t, SyncState* s) {
  if (t == nullptr) return;
  s->next_held = t->held;
  t->held = s;
}

void remove_held(rt::Task* t, SyncState* s) {
  if (t == nullptr) return;
  SyncState** link = &t->held;
  while (*link && *link != s) link = reinterpret_cast<SyncState**>(&(*link)->next_held);
  if (*link) *link = static_cast<SyncState*>(s->next_held);
  s->next_held = nullptr;
}

constexpr const char* kOwnerExited = "waits for a sync.Mutex whose owner task %llu exited holding it";
constexpr const char* kOwnerLeaked = "waits for a sync.Mutex held by leaked task %llu";
constexpr const char* kLockCycle =
    "deadlock: holds a sync.Mutex that the next task of a lock-order cycle waits for, and waits for one "
    "held by task %llu";

// Marks leaked every task waiting on `s` (collected under the lock, marked after it).
void mark_waiters(SyncState* s, const char* reason) {
  rt::Task* found[64];
  std::uint64_t owner_id;
  int n = 0;
  {
    SpinGuard g(s);
    owner_id = s->owner_id;
    for (WaitNode* w = s->head; w && n < 64; w = w->next)
      if (w->parker->task) found[n++] = w->parker->task;
  }
  for (int i = 0; i < n; ++i) rt::mark_leaked(found[i], reason, owner_id);
}

}  // namespace
}  // namespace lw::detail

namespace lw::rt {

void release_held_mutexes(Task* t) noexcept {
  while (detail::SyncState* s = t->held) {
    t->held = static_cast<detail::SyncState*>(s->next_held);
    {
      detail::SpinGuard g(s);
      s->owner_gone = true;
      s->next_held = nullptr;
    }
    base::log_write("task %llu exited holding a lw::Mutex; its waiters can never run",
                    static_cast<unsigned long long>(t->id));
    if (!stopping()) detail::mark_waiters(s, detail::kOwnerExited);
  }
}

void mark_waiters_of_held_mutexes(Task* t) noexcept {
  for (detail::SyncState* s = t->held; s; s = static_cast<detail::SyncState*>(s->next_held))
    detail::mark_waiters(s, detail::kOwnerLeaked);
}

// The walk behind prove_lock_cycle(). Each task on the chain is pinned (its ctx_busy held) before
// its wait is read, so it cannot run while the chain is read: its wait object is the mutex it
// stays parked on (alive, since its lock() call has not returned), and the owner read under that
// mutex's spin lock cannot change, for only the owner unlocks and every owner on the chain is
// pinned. A waiter already chosen by an unlock or a cancel (parker claimed) or one that owns what
// it waits for (just handed over) ends the walk. A pin we cannot take (the task runs, or another
// reader holds it) ends it too: no proof this time, maybe the next.
bool prove_lock_cycle(Task* first) noexcept {
  constexpr int kMaxChain = 16;
  Task* chain[kMaxChain];
  std::uint64_t ids[kMaxChain];
  int n = 0;
  chain[n] = first;
  ids[n++] = first->id;
  int cycle_from = -1;
  for (Task* t = first;;) {
    if (t->leaked.load(std::memory_order_acquire)) break;  // its waiters are marked already
    if (static_cast<TaskState>(t->state.load(std::memory_order_acquire)) != TaskState::kWaiting ||
        t->wait_reason.load(std::memory_order_relaxed) != WaitReason::kMutexLock ||
        t->parker.claimed.load(std::memory_order_acquire))
      break;
    auto* s = reinterpret_cast<detail::SyncState*>(t->wait_object.load(std::memory_order_relaxed));
    if (s == nullptr) break;
    void* owner = nullptr;
    std::uint64_t owner_id = 0;
    {
      detail::SpinGuard g(s);
      if (s->count != 0 && !s->owner_gone) {
        owner = s->owner;
        owner_id = s->owner_id;
      }
    }
    Task* next = owner != nullptr ? static_cast<Parker*>(owner)->task : nullptr;
    if (next == nullptr || next == t) break;  // free, a plain thread's, or just handed to t
    for (int i = 0; i < n; ++i)
      if (chain[i] == next && ids[i] == owner_id) cycle_from = i;
    if (cycle_from >= 0 || n == kMaxChain) break;
    if (next->ctx_busy.exchange(true, std::memory_order_acquire)) break;
    chain[n] = next;
    ids[n++] = owner_id;
    if (next->id != owner_id) break;  // the owner's slot went to a newer task
    t = next;
  }
  if (cycle_from >= 0) {
    // Every member gets the cycle's reason first; only then are waiters outside it marked (as
    // waiting on a leaked owner), which mark_leaked() would otherwise do member by member.
    for (int i = cycle_from; i < n; ++i) {
      bool expected = false;
      if (!chain[i]->leaked.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
      chain[i]->leak_reason.store(detail::kLockCycle, std::memory_order_relaxed);
      chain[i]->leak_detail.store(ids[i + 1 < n ? i + 1 : cycle_from], std::memory_order_relaxed);
      add_leaked(1);
    }
    for (int i = cycle_from; i < n; ++i) mark_waiters_of_held_mutexes(chain[i]);
  }
  for (int i = 1; i < n; ++i) chain[i]->ctx_busy.store(false, std::memory_order_release);
  return cycle_from >= 0 && first->leaked.load(std::memory_order_acquire);
}

}  // namespace lw::rt

namespace lw {

using detail::SpinGuard;
using detail::WaitNode;

Mutex::~Mutex() {
  rt::Task* t = rt::current_task_ptr();
  if (s_.count != 0 && !s_.owner_gone && t && s_.owner == &t->parker && s_.owner_id == t->id)
    detail::remove_held(t, &s_);
}

bool Mutex::try_lock() {
  rt::Parker* p = rt::current_parker();
  SpinGuard g(&s_);
  if (s_.count != 0) return false;
  s_.count = 1;
  s_.owner = p;
  s_.owner_id = p->task ? p->task->id : 0;
  detail::add_held(p->task, &s_);
  return true;
}

void Mutex::lock() {
  rt::Parker* p = rt::current_parker();
  rt::Task* t = p->task;
  SpinGuard g(&s_);
  if (s_.count == 0) {
    s_.count = 1;
    s_.owner = p;
    s_.owner_id = t ? t->id : 0;
    detail::add_held(t, &s_);
    return;
  }
  // Parkers live in pooled task slots: a later task may reuse a finished owner's Parker, so the
  // owner is identified by Parker and task id together.
  bool self_deadlock = !s_.owner_gone && s_.owner == p && s_.owner_id == (t ? t->id : 0);
  rt::begin_wait(p);
  WaitNode node{p};
  if (base::mutex_profile_fraction() > 0) node.since_ns = base::now_ns();
  detail::enqueue(&s_, &node);
  const char* doom = nullptr;
  if (self_deadlock) {
    doom = "waits for a sync.Mutex it already holds (task %llu)";
  } else if (s_.owner_gone) {
    doom = detail::kOwnerExited;
  } else if (auto* owner = static_cast<rt::Parker*>(s_.owner); owner->task && owner->task->leaked.load()) {
    doom = detail::kOwnerLeaked;
  }
  std::uint64_t owner_id = s_.owner_id;
  g.unlock();
  if (self_deadlock)
    base::log_write("task %llu locks a lw::Mutex it already holds: it can never wake",
                    static_cast<unsigned long long>(t ? t->id : 0));
  if (doom && t && !rt::stopping()) rt::mark_leaked(t, doom, owner_id);
  int fired = rt::wait(p, rt::WaitReason::kMutexLock, this, -1);
  if (fired == rt::kFiredCancel) {
    SpinGuard g2(&s_);
    detail::remove(&s_, &node);
    throw rt::TaskCancelled{};
  }
  // unlock() handed the mutex to us (owner already set); record it in our held list.
  detail::add_held(t, &s_);
}

void Mutex::unlock() {
  rt::Parker* p = rt::current_parker();
  rt::Parker* next = nullptr;
  std::int64_t contention_ns = 0;  // the waiters' delay this unlock ends, when sampled (Go's mutex profile)
  {
    SpinGuard g(&s_);
    if (s_.count == 0 || s_.owner_gone || s_.owner != p || s_.owner_id != (p->task ? p->task->id : 0)) {
      bool unlocked = s_.count == 0;
      std::uint64_t owner = s_.owner_id;
      g.unlock();
      base::log_write(unlocked ? "unlock of an unlocked lw::Mutex %p: ignored"
                               : "lw::Mutex %p unlocked by a task or thread that does not hold it: ignored",
                      static_cast<void*>(this));
      (void)owner;
      return;
    }
    detail::remove_held(p->task, &s_);
    if (WaitNode* n = detail::pop_claimed(&s_)) {
      next = n->parker;
      s_.owner = next;
      s_.owner_id = next->task ? next->task->id : 0;
      if (base::mutex_profile_fraction() > 0) [[unlikely]] {
        const std::int64_t delay_ns = detail::charge_waiters(n, s_.head);
        if (base::mutex_sampled()) contention_ns = delay_ns;
      }
    } else {
      s_.count = 0;
      s_.owner = nullptr;
      s_.owner_id = 0;
    }
  }
  if (next) rt::wake(next, 0);
  if (contention_ns > 0) {
    base::mutex_event(contention_ns, 0);
    asm volatile("" ::: "memory");  // not a tail call: the event's stack starts in this frame
  }
}

void WaitGroup::add(std::int64_t n) {
  WaitNode* woken = nullptr;
  {
    SpinGuard g(&s_);
    if (s_.count + n < 0) throw SyncError("sync: negative WaitGroup counter");
    s_.count += n;
    if (s_.count == 0) {
      while (WaitNode* w = detail::pop_claimed(&s_)) {
        w->next = woken;
        woken = w;
      }
    }
  }
  while (woken) {
    WaitNode* next = woken->next;
    rt::wake(woken->parker, 0);  // `woken` may be gone once woken
    woken = next;
  }
}

void WaitGroup::wait() {
  rt::Parker* p = rt::current_parker();
  SpinGuard g(&s_);
  if (s_.count == 0) return;
  rt::begin_wait(p);
  WaitNode node{p};
  detail::enqueue(&s_, &node);
  g.unlock();
  int fired = rt::wait(p, rt::WaitReason::kWaitGroupWait, this, -1);
  if (fired == rt::kFiredCancel) {
    SpinGuard g2(&s_);
    detail::remove(&s_, &node);
    throw rt::TaskCancelled{};
  }
}

}  // namespace lw
