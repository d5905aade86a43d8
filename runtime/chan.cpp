// chan.cpp: channels, select, and the proof that a task blocked on channels can never wake.
//
// A channel is a ChanCore guarded by one spin lock (runtime/spin_lock.hpp): a ring buffer, FIFO queues of blocked receivers
// and senders (ChanWaiter records on the waiters' own stacks) and the list of live handles. A
// waiter is handed its value directly by the party that wakes it (no second lock round), and a
// select enqueues one waiter per case, all sharing the task's Parker: the first party to claim()
// the Parker wins, the others find it claimed and drop that waiter. select locks its channels in
// address order (no deadlock) and polls cases in random order (Go's fairness).
//
// Leak proof (docs/runtime.md has the argument). A handle belongs to the task whose stack slot
// holds it (closures live there too) or to "anyone" (heap, globals, plain threads). Starting from
// a channel, collect every task that holds a handle of it or waits on it; each must be blocked
// forever on channels only (published with publish_blocked: no timeout, no default), and their
// channels join the set, until closure. If the walk completes, nothing outside the set can touch
// any of its channels and nothing inside can run: every task in it is leaked. The walk reads each
// channel under its lock and each task through a seqlock, then re-reads every version: unchanged
// versions mean all were in that state together at one instant, and the state is then permanent.
// Proofs run when the last outside handle goes away (handle destroyed while the channel has
// waiters) and when a task parks on channels whose handles all belong to blocked tasks; a cheap
// pre-check under the channel lock keeps the common case (a runnable peer holds a handle) at a
// few loads. Channels are freed under the proof lock, so a proof never touches a freed core.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <random>
#include <unordered_set>
#include <vector>

#include "leakwatch/chan.hpp"
#include "leakwatch/select.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/spin_lock.hpp"
#include "runtime/task_cancelled.hpp"
#include "src/base/clock.hpp"
#include "src/base/log.hpp"

namespace lw::detail {

struct ChanWaiter {
  rt::Parker* parker = nullptr;
  void* elem = nullptr;   // recv: destination; send: source
  int case_index = 0;
  bool ok = false;        // recv: got a value; send: value taken (false: channel closed)
  bool queued = false;
  ChanWaiter* prev = nullptr;
  ChanWaiter* next = nullptr;
};

struct WaitList {
  ChanWaiter* head = nullptr;
  ChanWaiter* tail = nullptr;
  void push(ChanWaiter* w) {
    w->prev = tail;
    w->next = nullptr;
    w->queued = true;
    if (tail) tail->next = w; else head = w;
    tail = w;
  }
  void remove(ChanWaiter* w) {
    if (!w->queued) return;
    if (w->prev) w->prev->next = w->next; else head = w->next;
    if (w->next) w->next->prev = w->prev; else tail = w->prev;
    w->queued = false;
  }
  // pop_claimed() pops waiters until one is claimed by the caller.
  ChanWaiter* pop_claimed() {
    while (ChanWaiter* w = head) {
      remove(w);
      if (rt::claim(w->parker)) return w;
    }
    return nullptr;
  }
};

struct ChanCore {
  rt::SpinLock mu;
  const ElemOps* ops = nullptr;
  std::size_t cap = 0;
  unsigned char* buf = nullptr;  // cap slots of ops->size bytes
  std::size_t stride = 0;
  std::size_t head = 0;           // Guarded by mu.
  std::size_t count = 0;          // Guarded by mu.
  bool closed = false;            // Guarded by mu.
  WaitList recvq, sendq;          // Guarded by mu.
  ChanHandle* handles = nullptr;  // Guarded by mu.
  std::size_t nhandles = 0;       // Guarded by mu.
  bool poisoned = false;          // Guarded by mu: used by reference; never in a proof
  // Bumped under mu at every change the proof reads (bump(): a plain load and store, since only
  // the lock holder writes it; the proof reads it under mu too).
  std::atomic<std::uint64_t> version{0};

  void bump() { version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  void* slot(std::size_t i) { return buf + ((head + i) % cap) * stride; }
  bool has_waiters() const { return recvq.head || sendq.head; }
};

struct HandleAccess {
  static ChanCore* core(const ChanHandle& h) { return h.core_; }
  static void* owner(const ChanHandle& h) { return h.owner_; }
  static ChanHandle* next(const ChanHandle& h) { return h.next_; }
  // move_to_front() relinks `h` first in c's handle list. Requires c->mu.
  static void move_to_front(ChanCore* c, ChanHandle* h);
};

void HandleAccess::move_to_front(ChanCore* c, ChanHandle* h) {
  if (c->handles == h) return;
  h->prev_->next_ = h->next_;
  if (h->next_) h->next_->prev_ = h->prev_;
  h->prev_ = nullptr;
  h->next_ = c->handles;
  c->handles->prev_ = h;
  c->handles = h;
}

}  // namespace lw::detail

namespace lw::rt {
namespace {

using detail::ChanCore;
using detail::ChanHandle;
using detail::ChanWaiter;
using detail::HandleAccess;

std::mutex g_proof_mu;  // held by a running proof and by whoever frees a ChanCore

constexpr const char* kChanLeak =
    "blocked on channels that only blocked tasks can reach (channel %#llx)";
constexpr const char* kNilLeak = "blocked forever on a nil channel or an empty select (%llu)";

// precheck() is the cheap test run under c->mu: could a proof from `c` succeed? True when every
// handle belongs to a task that is blocked forever (or is `self`, about to be).
// The handle that failed the test moves to the front of the list, so the next check (typically
// the next park on this channel) fails at the first handle again: with 100k tasks parked on one
// channel held by one running task, each park costs O(1), not O(handles).
bool precheck(ChanCore* c, Task* self) {
  if (c->poisoned) return false;
  for (ChanHandle* h = c->handles; h; h = HandleAccess::next(*h)) {
    auto* o = static_cast<Task*>(HandleAccess::owner(*h));
    if (o == nullptr || (o != self && (o->block_seq.load(std::memory_order_acquire) & 1) == 0)) {
      HandleAccess::move_to_front(c, h);
      return false;
    }
  }
  return true;
}

// prove_from() runs the fixed point described at the top of the file, starting at `start`.
void prove_from(ChanCore* start) {
  if (stopping()) return;
  std::lock_guard<std::mutex> proof(g_proof_mu);
  std::vector<std::pair<ChanCore*, std::uint64_t>> chans{{start, 0}};
  std::vector<std::pair<Task*, std::uint64_t>> tasks;
  std::unordered_set<Task*> seen;
  std::unordered_set<ChanCore*> seen_chans{start};
  auto add_task = [&](Task* t) {
    if (!seen.insert(t).second) return true;
    std::uint64_t seq = t->block_seq.load(std::memory_order_acquire);
    if ((seq & 1) == 0) return false;
    int n = t->n_wait_chans.load(std::memory_order_relaxed);
    void* cs[kMaxProofChans];
    for (int i = 0; i < n; ++i) cs[i] = t->wait_chans[i].load(std::memory_order_relaxed);
    if (t->block_seq.load(std::memory_order_acquire) != seq || n == 0) return false;
    tasks.emplace_back(t, seq);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<ChanCore*>(cs[i]);
      if (seen_chans.insert(c).second) chans.emplace_back(c, 0);
    }
    return true;
  };
  for (std::size_t i = 0; i < chans.size(); ++i) {
    ChanCore* c = chans[i].first;
    std::vector<Task*> found;
    {
      std::lock_guard<rt::SpinLock> g(c->mu);
      if (c->poisoned) return;
      chans[i].second = c->version.load(std::memory_order_relaxed);
      for (ChanHandle* h = c->handles; h; h = HandleAccess::next(*h)) {
        auto* o = static_cast<Task*>(HandleAccess::owner(*h));
        if (o == nullptr) return;  // a handle anyone may use
        found.push_back(o);
      }
      for (auto* q : {&c->recvq, &c->sendq})
        for (ChanWaiter* w = q->head; w; w = w->next) {
          if (w->parker->task == nullptr) return;  // a plain thread: not tracked
          found.push_back(w->parker->task);
        }
    }
    for (Task* t : found)
      if (!add_task(t)) return;
  }
  // Validate: every version unchanged means the whole set was in this state at one instant.
  for (auto& [c, v] : chans) {
    std::lock_guard<rt::SpinLock> g(c->mu);
    if (c->version.load(std::memory_order_relaxed) != v) return;
  }
  for (auto& [t, seq] : tasks)
    if (t->block_seq.load(std::memory_order_acquire) != seq) return;
  for (auto& [t, seq] : tasks) mark_leaked(t, kChanLeak, reinterpret_cast<std::uint64_t>(start));
}

// check_byref() reports (once per channel) a handle used by a task whose stack does not hold it.
// Requires c->mu.
void check_byref(ChanCore* c, const ChanHandle* h, Task* self) {
  void* owner = HandleAccess::owner(*h);
  if (owner == nullptr || owner == self || c->poisoned) return;
  c->poisoned = true;
  c->bump();
  auto* o = static_cast<Task*>(owner);
  base::log_write("task %llu uses a lw::Chan handle that lives on task %llu's stack (captured by "
                  "reference?); share channels by value. Channel %p is left out of leak proofs",
                  static_cast<unsigned long long>(self ? self->id : 0),
                  static_cast<unsigned long long>(o->id), static_cast<void*>(c));
}

[[noreturn]] void block_forever(WaitReason reason) {
  Parker* p = current_parker();
  Task* t = p->task;
  begin_wait(p);
  if (t && !stopping()) mark_leaked(t, kNilLeak, 0);
  for (;;) {
    int fired = wait(p, reason, nullptr, -1);
    if (fired == kFiredCancel) throw TaskCancelled{};
    begin_wait(p);
  }
}

thread_local std::minstd_rand tls_rng{std::random_device{}()};

}  // namespace
}  // namespace lw::rt

namespace lw::detail {

using rt::Parker;
using rt::Task;

void ChanHandle::attach(ChanCore* core) noexcept {
  core_ = core;
  if (!core) return;
  owner_ = rt::owner_of(this);
  std::lock_guard<rt::SpinLock> g(core->mu);
  prev_ = nullptr;
  next_ = core->handles;
  if (next_) next_->prev_ = this;
  core->handles = this;
  ++core->nhandles;
  core->bump();
}

void ChanHandle::detach() noexcept {
  ChanCore* c = core_;
  if (!c) return;
  core_ = nullptr;
  bool last, check = false;
  {
    std::lock_guard<rt::SpinLock> g(c->mu);
    if (prev_) prev_->next_ = next_; else c->handles = next_;
    if (next_) next_->prev_ = prev_;
    last = --c->nhandles == 0;
    c->bump();
    if (!last && c->has_waiters() && !rt::stopping()) check = rt::precheck(c, nullptr);
  }
  prev_ = next_ = nullptr;
  owner_ = nullptr;
  if (last) {
    std::lock_guard<std::mutex> proof(rt::g_proof_mu);
    for (std::size_t i = 0; i < c->count; ++i) c->ops->destroy(c->slot(i));
    ::operator delete(c->buf, std::align_val_t{std::max<std::size_t>(c->ops->align, alignof(std::max_align_t))});
    delete c;
  } else if (check) {
    rt::prove_from(c);
  }
}

ChanHandle::ChanHandle(std::size_t capacity, const ElemOps* ops) {
  auto* c = new ChanCore;
  c->ops = ops;
  c->cap = capacity;
  c->stride = (ops->size + ops->align - 1) / ops->align * ops->align;
  c->buf = static_cast<unsigned char*>(::operator new(
      std::max<std::size_t>(1, capacity * c->stride),
      std::align_val_t{std::max<std::size_t>(ops->align, alignof(std::max_align_t))}));
  attach(c);
}
ChanHandle::ChanHandle(const ChanHandle& o) noexcept { attach(o.core_); }
ChanHandle::ChanHandle(ChanHandle&& o) noexcept {
  // A move is a copy plus dropping the source: the handle's address (its owner) changes.
  ChanCore* c = o.core_;
  attach(c);
  o.detach();
}
ChanHandle& ChanHandle::operator=(const ChanHandle& o) noexcept {
  if (this != &o && core_ != o.core_) {
    ChanCore* c = o.core_;
    detach();
    attach(c);
  }
  return *this;
}
ChanHandle& ChanHandle::operator=(ChanHandle&& o) noexcept {
  if (this != &o) {
    ChanCore* c = o.core_;
    if (c != core_) {
      detach();
      attach(c);
    }
    o.detach();
  }
  return *this;
}
ChanHandle::~ChanHandle() { detach(); }

std::size_t ChanHandle::size() const noexcept {
  if (!core_) return 0;
  std::lock_guard<rt::SpinLock> g(core_->mu);
  return core_->count;
}
std::size_t ChanHandle::capacity() const noexcept { return core_ ? core_->cap : 0; }

// park_on() queues the calling task on `queue` of channel `c` (holding `g` on c->mu), publishes
// it as blocked for the leak proof, releases the lock and parks until a partner completes the
// operation or the channel is closed. Returns whether the operation completed (false: closed).
// Throws TaskCancelled when the runtime unwinds the task at shutdown.
static bool park_on(ChanCore* c, WaitList* queue, Parker* p, Task* self, void* elem, rt::WaitReason reason,
                    std::unique_lock<rt::SpinLock>& g) {
  rt::begin_wait(p);
  ChanWaiter me{p, elem};
  queue->push(&me);
  c->bump();
  void* cs[1] = {c};
  rt::publish_blocked(self, cs, 1);
  bool check = self && !rt::stopping() && rt::precheck(c, self);
  g.unlock();
  if (check) rt::prove_from(c);
  int fired = rt::wait(p, reason, c, -1);
  rt::clear_blocked(self);
  if (fired == rt::kFiredCancel) {
    std::lock_guard<rt::SpinLock> g2(c->mu);
    queue->remove(&me);
    c->bump();
    throw rt::TaskCancelled{};
  }
  return me.ok;
}

void ChanHandle::send_raw(void* elem) const {
  ChanCore* c = core_;
  if (!c) rt::block_forever(rt::WaitReason::kChanSendNil);
  Parker* p = rt::current_parker();
  Task* self = p->task;
  std::unique_lock<rt::SpinLock> g(c->mu);
  rt::check_byref(c, this, self);
  if (c->closed) throw ChanError("send on closed channel");
  if (ChanWaiter* w = c->recvq.pop_claimed()) {
    c->ops->move_to(w->elem, elem);
    w->ok = true;
    Parker* wp = w->parker;
    int idx = w->case_index;
    c->bump();
    g.unlock();
    rt::wake(wp, idx);
    return;
  }
  if (c->count < c->cap) {
    c->ops->move_to(c->slot(c->count), elem);
    ++c->count;
    return;
  }
  if (!park_on(c, &c->sendq, p, self, elem, rt::WaitReason::kChanSend, g))
    throw ChanError("send on closed channel");
}

bool ChanHandle::recv_raw(void* out) const {
  ChanCore* c = core_;
  if (!c) rt::block_forever(rt::WaitReason::kChanReceiveNil);
  Parker* p = rt::current_parker();
  Task* self = p->task;
  std::unique_lock<rt::SpinLock> g(c->mu);
  rt::check_byref(c, this, self);
  if (c->count > 0) {
    void* s = c->slot(0);
    c->ops->move_to(out, s);
    c->ops->destroy(s);
    c->head = (c->head + 1) % c->cap;
    --c->count;
    if (ChanWaiter* w = c->sendq.pop_claimed()) {
      c->ops->move_to(c->slot(c->count), w->elem);
      ++c->count;
      w->ok = true;
      Parker* wp = w->parker;
      int idx = w->case_index;
      c->bump();
      g.unlock();
      rt::wake(wp, idx);
    }
    return true;
  }
  if (ChanWaiter* w = c->sendq.pop_claimed()) {
    c->ops->move_to(out, w->elem);
    w->ok = true;
    Parker* wp = w->parker;
    int idx = w->case_index;
    c->bump();
    g.unlock();
    rt::wake(wp, idx);
    return true;
  }
  if (c->closed) return false;
  return park_on(c, &c->recvq, p, self, out, rt::WaitReason::kChanReceive, g);
}

void ChanHandle::close() const {
  ChanCore* c = core_;
  if (!c) throw ChanError("close of nil channel");
  ChanWaiter* woken = nullptr;
  {
    std::lock_guard<rt::SpinLock> g(c->mu);
    rt::check_byref(c, this, rt::current_task_ptr());
    if (c->closed) throw ChanError("close of closed channel");
    c->closed = true;
    c->bump();
    for (auto* q : {&c->recvq, &c->sendq})
      while (ChanWaiter* w = q->pop_claimed()) {
        w->ok = false;
        w->next = woken;
        woken = w;
      }
  }
  while (woken) {
    ChanWaiter* next = woken->next;
    rt::wake(woken->parker, woken->case_index);
    woken = next;
  }
}

std::size_t select_impl(SelectCase* cases, std::size_t n) {
  Parker* p = rt::current_parker();
  Task* self = p->task;
  std::size_t default_idx = n, timeout_idx = n;
  std::int64_t timeout_ns = -1;
  // Poll order: random permutation of the channel cases.
  std::size_t order[64];
  ChanCore* locks[64];
  std::size_t nch = 0, nlocks = 0;
  if (n > 64) throw std::length_error("lw::select: more than 64 cases");
  for (std::size_t i = 0; i < n; ++i) {
    switch (cases[i].kind) {
      case SelectKind::kDefault: default_idx = i; break;
      case SelectKind::kTimeout:
        if (timeout_idx == n || cases[i].timeout_ns < timeout_ns) timeout_ns = cases[i].timeout_ns;
        timeout_idx = timeout_idx == n ? i : timeout_idx;
        break;
      default:
        if (ChanCore* c = HandleAccess::core(*cases[i].chan)) {
          order[nch++] = i;
          locks[nlocks++] = c;
        }
    }
  }
  if (nch == 0) {
    if (default_idx < n) return default_idx;
    if (timeout_idx < n) {
      sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(timeout_ns, 0)));
      return timeout_idx;
    }
    rt::block_forever(rt::WaitReason::kSelectNoCases);
  }
  for (std::size_t i = nch; i > 1; --i) std::swap(order[i - 1], order[rt::tls_rng() % i]);
  std::sort(locks, locks + nlocks);
  nlocks = static_cast<std::size_t>(std::unique(locks, locks + nlocks) - locks);
  auto lock_all = [&] { for (std::size_t i = 0; i < nlocks; ++i) locks[i]->mu.lock(); };
  auto unlock_all = [&] { for (std::size_t i = nlocks; i > 0; --i) locks[i - 1]->mu.unlock(); };

  lock_all();
  Parker* wake_p = nullptr;
  int wake_idx = 0;
  std::size_t chosen = n;
  bool send_closed = false;
  for (std::size_t k = 0; k < nch && chosen == n; ++k) {
    std::size_t i = order[k];
    SelectCase& sc = cases[i];
    ChanCore* c = HandleAccess::core(*sc.chan);
    rt::check_byref(c, sc.chan, self);
    if (sc.kind == SelectKind::kRecv) {
      if (c->count > 0) {
        void* s = c->slot(0);
        c->ops->move_to(sc.elem, s);
        c->ops->destroy(s);
        c->head = (c->head + 1) % c->cap;
        --c->count;
        if (ChanWaiter* w = c->sendq.pop_claimed()) {
          c->ops->move_to(c->slot(c->count), w->elem);
          ++c->count;
          w->ok = true;
          wake_p = w->parker;
          wake_idx = w->case_index;
        }
        sc.ok = true;
        chosen = i;
      } else if (ChanWaiter* w = c->sendq.pop_claimed()) {
        c->ops->move_to(sc.elem, w->elem);
        w->ok = true;
        wake_p = w->parker;
        wake_idx = w->case_index;
        sc.ok = true;
        chosen = i;
      } else if (c->closed) {
        sc.ok = false;
        chosen = i;
      }
    } else {
      if (c->closed) {
        send_closed = true;
        chosen = i;
      } else if (ChanWaiter* w = c->recvq.pop_claimed()) {
        c->ops->move_to(w->elem, sc.elem);
        w->ok = true;
        wake_p = w->parker;
        wake_idx = w->case_index;
        sc.ok = true;
        chosen = i;
      } else if (c->count < c->cap) {
        c->ops->move_to(c->slot(c->count), sc.elem);
        ++c->count;
        sc.ok = true;
        chosen = i;
      }
    }
    if (chosen != n) c->bump();
  }
  if (chosen != n) {
    unlock_all();
    if (wake_p) rt::wake(wake_p, wake_idx);
    if (send_closed) throw ChanError("send on closed channel");
    return chosen;
  }
  if (default_idx < n) {
    unlock_all();
    return default_idx;
  }
  // Block: one waiter per channel case.
  rt::begin_wait(p);
  ChanWaiter ws[64];
  for (std::size_t k = 0; k < nch; ++k) {
    std::size_t i = order[k];
    ChanCore* c = HandleAccess::core(*cases[i].chan);
    ws[k].parker = p;
    ws[k].elem = cases[i].elem;
    ws[k].case_index = static_cast<int>(i);
    (cases[i].kind == SelectKind::kRecv ? c->recvq : c->sendq).push(&ws[k]);
    c->bump();
  }
  bool forever = timeout_idx == n;
  bool check = false;
  if (forever && self) {
    rt::publish_blocked(self, reinterpret_cast<void* const*>(locks), static_cast<int>(nlocks));
    check = !rt::stopping() && nlocks <= static_cast<std::size_t>(rt::kMaxProofChans);
    for (std::size_t i = 0; check && i < nlocks; ++i) check = rt::precheck(locks[i], self);
  }
  unlock_all();
  if (check) rt::prove_from(locks[0]);
  std::int64_t deadline = forever ? -1 : base::now_ns() + std::max<std::int64_t>(timeout_ns, 0);
  int fired = rt::wait(p, rt::WaitReason::kSelect, locks[0], deadline);
  if (forever) rt::clear_blocked(self);
  lock_all();
  for (std::size_t k = 0; k < nch; ++k) {
    std::size_t i = order[k];
    ChanCore* c = HandleAccess::core(*cases[i].chan);
    (cases[i].kind == SelectKind::kRecv ? c->recvq : c->sendq).remove(&ws[k]);
    c->bump();
  }
  unlock_all();
  if (fired == rt::kFiredCancel) throw rt::TaskCancelled{};
  if (fired == rt::kFiredTimeout) return timeout_idx;
  std::size_t i = static_cast<std::size_t>(fired);
  for (std::size_t k = 0; k < nch; ++k)
    if (ws[k].case_index == fired) cases[i].ok = ws[k].ok;
  if (cases[i].kind == SelectKind::kSend && !cases[i].ok) throw ChanError("send on closed channel");
  return i;
}

}  // namespace lw::detail
