// scheduler.cpp: workers, run queues, parking, timers, the poller, spawn/exit and run().
//
// Design. Each worker thread owns a FIFO run queue plus a "run next" slot (a task readied by the
// running task runs next on the same worker, as in Go, which keeps channel ping-pong on one core);
// idle workers steal half a queue at a time, spin briefly, then sleep on a condition variable.
// Tasks readied from outside a worker (the poller, plain threads, yield) go to a global queue.
//
// A task that parks or exits switches directly into the next task of its worker (run-next, then
// the queue), so a hand-off costs one context switch, not two (task -> worker -> task). What must
// happen after a task switched away (check its canary, release ctx_busy, publish it as parked,
// requeue or recycle it) is recorded in Worker::prev and done by whichever context resumes next
// on that thread (complete_switch()): the worker loop, the task switched into, or a new task's
// entry. Rejected: always returning to the worker's own stack (the previous design): simpler,
// but twice the switches, and the worker loop's queue checks on every hand-off.
//
// Run-next tasks are not counted in `queued` and wake no sleeper: the readying task usually parks
// within nanoseconds and hands its worker over. An idle worker therefore goes to sleep during a
// ping-pong instead of being woken (a futex) at every hand-off and stealing half of the pair.
// Liveness when the readying task does not park: a sleeper that saw some run-next occupied sleeps
// with a 1 ms timeout and then takes the task if that worker started no task in between. Rejected:
// counting run-next in `queued` (the previous design): the idle worker never slept, rescanned at
// every hand-off and bounced the pair between cores; stealing run-next at once (same problem).
// Every 61st task start takes the global queue, then the local queue, before run-next (Go's
// schedtick % 61), so a pair switching directly into each other cannot starve other tasks.
//
// Spawn backpressure: a task that spawns while its worker has more than kSpawnBacklog tasks
// queued yields. Rejected: Go's unbounded queue: when the spawner outruns the workers, every new
// task lands on a never-used, cold stack slot (page faults and cache misses on both cores; 200 MB
// of stacks for the 1M-spawn benchmark against 6 MB now, and 3-4x slower).
//
// Locks on the switch path are spin locks (spin_lock.hpp: channel, run queues, registry): each
// is held for a few instructions, and a std::mutex costs ~50 more instructions per use here.
//
// Parking is lock-free between waiter and waker: a waiter resets its Parker (claimed = false,
// park_state = kParking) before enqueueing it anywhere; a waker must win claim() and then calls
// wake(), which either finds the task parked (requeues it) or still parking (marks it woken early;
// the worker requeues it after the switch). Rejected: holding the primitive's lock across the
// switch and releasing it from the worker (Go's parkunlock): it serializes the primitive with the
// scheduler and does not cover timers and the poller, which hold no primitive lock.
//
// Timers and fd readiness are handled by one poller thread blocked in epoll_wait with the next
// timer's deadline as timeout, so idle workers never spin and no worker blocks in epoll.
// Rejected: polling from idle workers (Go's netpoll in findrunnable): simpler to get right with one
// thread, at the cost of one extra thread hop for timer and I/O wake-ups.
//
// Shutdown: when main returns, every remaining task is woken with kFiredCancel at its blocking
// point and unwinds (TaskCancelled), so destructors run and no memory is left behind.
#include "runtime/scheduler.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "runtime/dump_signal.hpp"
#include "runtime/frame_walk.hpp"
#include "runtime/spin_lock.hpp"
#include "runtime/sync_internal.hpp"
#include "runtime/task_cancelled.hpp"
#include "src/base/check.hpp"
#include "src/base/clock.hpp"
#include "src/base/contention_event.hpp"
#include "src/base/current_labels.hpp"
#include "src/base/current_task.hpp"
#include "src/base/log.hpp"
#include "src/base/task_stacks.hpp"
#include "src/base/thread_role.hpp"

namespace lw::rt {

struct Worker;

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& o) : opt(o), pool(o.stack_size) {}

  RuntimeOptions opt;
  StackPool pool;
  std::vector<std::unique_ptr<Worker>> workers;

  SpinLock gq_mu;
  Task* gq_head = nullptr;  // Guarded by gq_mu.
  Task* gq_tail = nullptr;  // Guarded by gq_mu.
  std::atomic<std::uint32_t> gq_len{0};  // written under gq_mu; a lock-free emptiness hint
  std::atomic<std::int64_t> queued{0};  // tasks on the FIFO queues and the global queue (not run-next)

  std::mutex sleep_mu;
  std::condition_variable sleep_cv;
  std::atomic<int> sleepers{0};
  // push_global() calls under way. A plain thread waking a task (a close() from a feeder thread)
  // may still be signalling sleepers after that task ran and main returned: run() waits for none
  // before freeing the runtime.
  std::atomic<int> pushers{0};
  std::atomic<int> deep_sleepers{0};  // sleepers without a timeout (they saw no run-next occupied)
  std::atomic<bool> workers_stop{false};

  // A spin lock: every spawn and exit takes it for a few instructions (a std::mutex costs ~50
  // more instructions per use here). run() waits on reg_cv (condition_variable_any) only at
  // main's exit and shutdown.
  SpinLock reg_mu;
  std::condition_variable_any reg_cv;
  Task* reg_head = nullptr;   // Guarded by reg_mu.
  std::size_t live = 0;       // Guarded by reg_mu.
  bool main_done = false;     // Guarded by reg_mu.
  bool main_failed = false;   // Guarded by reg_mu.
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<bool> stopping{false};

  // Park stamps (set in run(), then immutable). When base's clock is the system clock and the
  // kernel's clocksource is the TSC, a park stores the raw TSC (negated, so it cannot be mistaken
  // for a wall time) instead of calling clock_gettime (17 ns against 44 ns on the project's VM,
  // at every park); registry_snapshot() converts it to wall time once and stores the result, so
  // every later snapshot sees the same value. tsc0/mono0 anchor the TSC rate.
  bool tsc_stamps = false;
  std::uint64_t tsc0 = 0;
  std::int64_t mono0 = 0;

  // Timers: deadline -> entry living on the waiter's stack. Guarded by timer_mu.
  struct TimerEntry {
    Parker* parker;
    bool armed;
    std::multimap<std::int64_t, TimerEntry*>::iterator it;
  };
  std::mutex timer_mu;
  std::multimap<std::int64_t, TimerEntry*> timers;

  // Poller.
  int epfd = -1;
  int evfd = -1;
  std::thread poller;
  std::atomic<bool> poller_stop{false};
  std::mutex fd_mu;
  std::unordered_map<int, Parker*> fd_waiters;  // Guarded by fd_mu.
};

struct Worker {
  Runtime* rt = nullptr;
  int index = 0;
  std::thread thread;
  FiberContext ctx;
  SpinLock mu;
  Task* head = nullptr;     // Guarded by mu.
  Task* tail = nullptr;     // Guarded by mu.
  // The run-next slot, lock-free: filled only by the worker's own thread (exchange), emptied by
  // it or by an idle worker taking a stale task (exchange with null).
  std::atomic<Task*> runnext{nullptr};
  // Lock-free hint for thieves, written under mu: how many tasks the FIFO queue holds. A thief
  // skips a worker whose hint says there is nothing for it instead of taking its lock (an idle
  // worker would otherwise bounce the busy worker's lock line at every hand-off). Stale reads
  // only delay a steal; `queued` stays exact.
  std::atomic<std::uint32_t> fifo_len{0};
  // Tasks started on this worker so far. Written only by the worker thread; read by idle
  // workers to tell whether a task sitting in run-next is stuck behind a long-running task.
  std::atomic<std::uint64_t> ticks{0};
  // Owned by the worker thread:
  Task* prev = nullptr;         // the task that just switched away; its after-switch work is due
  Worker* watch = nullptr;      // idle: a worker whose run-next was occupied before a timed sleep
  std::uint64_t watch_tick = 0; //   and its `ticks` then
  std::uint64_t rng = 0;
  // Stack slots cached by this worker: spawns on it take one, tasks finishing on it give theirs
  // back, and whole batches move to and from the pool, so a spawn or exit takes no shared lock.
  static constexpr std::uint32_t kSlotCache = 64;
  static constexpr std::uint32_t kSlotBatch = 32;
  std::uint32_t nslots = 0;
  std::uint32_t slots[kSlotCache];
};

namespace {

std::atomic<Runtime*> g_rt{nullptr};
std::mutex g_run_mu;
std::atomic<std::uint64_t> g_leaked_total{0};

thread_local Worker* tls_worker __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Task* tls_task __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Parker tls_thread_parker;

inline void cpu_relax() noexcept { __builtin_ia32_pause(); }

Task* task_at_slot(const StackSlot& s) noexcept {
  auto top = reinterpret_cast<std::uintptr_t>(s.hi) - sizeof(Task);
  return reinterpret_cast<Task*>(top & ~std::uintptr_t{63});
}

void futex_wake(std::atomic<std::uint32_t>* w) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void futex_wait(std::atomic<std::uint32_t>* w, std::int64_t rel_ns) noexcept {
  timespec ts{rel_ns / base::kNanosPerSecond, rel_ns % base::kNanosPerSecond};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAIT_PRIVATE, 0,
          rel_ns >= 0 ? &ts : nullptr, nullptr, 0);
}

void notify_sleeper(Runtime* rt) noexcept {
  if (rt->sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> g(rt->sleep_mu); }
    rt->sleep_cv.notify_one();
  }
}

void push_global(Runtime* rt, Task* t) noexcept {
  rt->pushers.fetch_add(1, std::memory_order_acquire);
  t->state.store(static_cast<std::uint8_t>(TaskState::kRunnable), std::memory_order_relaxed);
  {
    std::lock_guard<SpinLock> g(rt->gq_mu);
    t->run_next = nullptr;
    if (rt->gq_tail) rt->gq_tail->run_next = t; else rt->gq_head = t;
    rt->gq_tail = t;
    rt->gq_len.store(rt->gq_len.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  rt->queued.fetch_add(1, std::memory_order_seq_cst);
  notify_sleeper(rt);
  rt->pushers.fetch_sub(1, std::memory_order_release);
}

// push_local() puts `t` in the calling worker's run-next slot; the previous occupant goes to the
// tail of the worker's queue. Only the worker's own thread calls it.
//
// A task in run-next is not counted in `queued` and does not wake a sleeping worker: it was
// readied by the running task, which usually parks soon and hands the worker over to it (a
// ping-pong pair then stays on one worker and never pays a futex). The exceptions: a worker
// sleeping without a timeout (deep_sleepers) is told, so that it switches to timed sleeps and can
// take the task if this worker never switches again (idle(): the run-next watch). The exchange
// into `runnext` and the load of deep_sleepers are a Dekker pair with idle().
void push_local(Worker* w, Task* t) noexcept {
  t->state.store(static_cast<std::uint8_t>(TaskState::kRunnable), std::memory_order_relaxed);
  Task* old = w->runnext.exchange(t, std::memory_order_seq_cst);
  Runtime* rt = w->rt;
  if (old) {
    {
      std::lock_guard<SpinLock> g(w->mu);
      old->run_next = nullptr;
      if (w->tail) w->tail->run_next = old; else w->head = old;
      w->tail = old;
      w->fifo_len.store(w->fifo_len.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    rt->queued.fetch_add(1, std::memory_order_seq_cst);
    notify_sleeper(rt);
  } else if (rt->deep_sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> g(rt->sleep_mu); }
    rt->sleep_cv.notify_all();
  }
}

void push(Runtime* rt, Task* t) noexcept {
  Worker* w = tls_worker;
  if (w != nullptr && w->rt == rt) push_local(w, t); else push_global(rt, t);
}

// pop_fifo() takes the head of w's queue (any thread); counted in `queued`.
Task* pop_fifo(Worker* w) noexcept {
  if (w->fifo_len.load(std::memory_order_relaxed) == 0) return nullptr;
  Task* t = nullptr;
  {
    std::lock_guard<SpinLock> g(w->mu);
    if (w->head) {
      t = w->head;
      w->head = t->run_next;
      if (!w->head) w->tail = nullptr;
      w->fifo_len.store(w->fifo_len.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }
  }
  if (t) w->rt->queued.fetch_sub(1, std::memory_order_seq_cst);
  return t;
}

// take_own() takes the calling worker's next task: run-next first, then the queue head; `fair`
// takes the queue head first, so a pair handing the worker back and forth through run-next
// cannot starve the queue. Only the owner thread calls it.
Task* take_own(Worker* w, bool fair) noexcept {
  Task* t = fair ? pop_fifo(w) : nullptr;
  if (!t && w->runnext.load(std::memory_order_relaxed) != nullptr)
    t = w->runnext.exchange(nullptr, std::memory_order_acquire);
  if (!t) t = pop_fifo(w);
  return t;
}

// steal_from() takes half of another worker's queue (at most 32; never its run-next: see
// idle()): it returns the first task and moves the rest to the thief's own queue, so a worker
// that keeps producing tasks (a spawn loop) is visited once per batch, not once per task.
Task* steal_from(Worker* w, Worker* v) noexcept {
  std::uint32_t len = v->fifo_len.load(std::memory_order_relaxed);
  if (len == 0) return nullptr;
  Task* first = nullptr;
  Task* last = nullptr;
  std::uint32_t k = 0;
  {
    std::lock_guard<SpinLock> g(v->mu);
    std::uint32_t want = std::min<std::uint32_t>(32, (v->fifo_len.load(std::memory_order_relaxed) + 1) / 2);
    first = v->head;
    for (Task* t = first; t && k < want; t = t->run_next) {
      last = t;
      ++k;
    }
    if (k > 0) {
      v->head = last->run_next;
      if (!v->head) v->tail = nullptr;
      last->run_next = nullptr;
      v->fifo_len.store(v->fifo_len.load(std::memory_order_relaxed) - k, std::memory_order_relaxed);
    }
  }
  if (k == 0) return nullptr;
  if (k > 1) {
    std::lock_guard<SpinLock> g(w->mu);
    if (w->tail) w->tail->run_next = first->run_next; else w->head = first->run_next;
    w->tail = last;
    w->fifo_len.store(w->fifo_len.load(std::memory_order_relaxed) + (k - 1), std::memory_order_relaxed);
  }
  first->run_next = nullptr;
  w->rt->queued.fetch_sub(1, std::memory_order_seq_cst);
  return first;
}

// steal_runnext() takes another worker's run-next task (idle(): it has been waiting there while
// its worker ran one task for a whole timed sleep).
Task* steal_runnext(Worker* v) noexcept { return v->runnext.exchange(nullptr, std::memory_order_acquire); }

Task* take_global(Runtime* rt) noexcept {
  if (rt->gq_len.load(std::memory_order_relaxed) == 0) return nullptr;
  Task* t = nullptr;
  {
    std::lock_guard<SpinLock> g(rt->gq_mu);
    if (rt->gq_head) {
      t = rt->gq_head;
      rt->gq_head = t->run_next;
      if (!rt->gq_head) rt->gq_tail = nullptr;
      rt->gq_len.store(rt->gq_len.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }
  }
  if (t) rt->queued.fetch_sub(1, std::memory_order_seq_cst);
  return t;
}

// A spawn that finds more than this many tasks on its worker's queue yields (detail::spawn).
constexpr std::uint32_t kSpawnBacklog = 32;

// fair_turn() is true once every 61 task starts on `w` (Go's schedtick % 61): that start takes
// the global queue first, then the local queue before run-next, so neither a busy local queue nor
// a pair switching directly into each other starves the rest.
bool fair_turn(const Worker* w) noexcept { return (w->ticks.load(std::memory_order_relaxed) + 1) % 61 == 0; }

Task* find_work(Worker* w) noexcept {
  Runtime* rt = w->rt;
  bool fair = fair_turn(w);
  Task* t = fair ? take_global(rt) : nullptr;
  if (!t) t = take_own(w, fair);
  if (!t) t = take_global(rt);
  if (!t) {
    std::size_t n = rt->workers.size();
    w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    std::size_t start = static_cast<std::size_t>(w->rng >> 33) % n;
    for (std::size_t i = 0; i < n && !t; ++i) {
      Worker* v = rt->workers[(start + i) % n].get();
      if (v != w) t = steal_from(w, v);
    }
  }
  return t;
}

// idle() returns a task found after spinning, or null after sleeping (or when told to stop).
//
// Run-next tasks are left to their worker (stealing one would only bounce a ping-pong pair
// between cores, as Go's runqsteal avoids too), but not forever: a sleeper that saw a worker's
// run-next occupied sleeps with a timeout instead of indefinitely, and takes the task if that
// worker has not started another task in the meantime (its task runs without parking).
Task* idle(Worker* w) noexcept {
  Runtime* rt = w->rt;
  // Spin briefly first: a task readied within microseconds is picked up without a futex round
  // trip. Bounded, so an idle runtime does not burn CPU.
  std::int64_t seen = rt->queued.load(std::memory_order_relaxed);
  for (int i = 0; i < 2000; ++i) {
    std::int64_t q = rt->queued.load(std::memory_order_relaxed);
    if (q > seen || rt->workers_stop.load(std::memory_order_relaxed)) return nullptr;
    seen = q;
    cpu_relax();
  }
  if (Task* t = find_work(w)) return t;
  if (Worker* v = w->watch) {
    w->watch = nullptr;
    if (v->ticks.load(std::memory_order_relaxed) == w->watch_tick && v->runnext.load(std::memory_order_relaxed))
      if (Task* t = steal_runnext(v)) return t;
  }
  std::unique_lock<std::mutex> lk(rt->sleep_mu);
  rt->sleepers.fetch_add(1, std::memory_order_seq_cst);
  rt->deep_sleepers.fetch_add(1, std::memory_order_seq_cst);
  bool deep = true;
  for (auto& vp : rt->workers) {
    Worker* v = vp.get();
    if (v != w && v->runnext.load(std::memory_order_seq_cst) != nullptr) {
      w->watch = v;
      w->watch_tick = v->ticks.load(std::memory_order_relaxed);
      deep = false;
      rt->deep_sleepers.fetch_sub(1, std::memory_order_seq_cst);
      break;
    }
  }
  if (rt->queued.load(std::memory_order_seq_cst) == 0 && !rt->workers_stop.load()) {
    if (deep) rt->sleep_cv.wait(lk); else rt->sleep_cv.wait_for(lk, std::chrono::milliseconds(1));
  }
  if (deep) rt->deep_sleepers.fetch_sub(1, std::memory_order_seq_cst);
  rt->sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return nullptr;
}

// acquire_slot() / release_slot(): a stack slot through the calling worker's cache (`w` may be
// null: a plain thread goes to the pool directly).
StackSlot acquire_slot(Runtime* rt, Worker* w) noexcept {
  if (w == nullptr) return rt->pool.acquire();
  if (w->nslots == 0) {
    w->nslots = static_cast<std::uint32_t>(rt->pool.acquire_batch(w->slots, Worker::kSlotBatch));
    if (w->nslots == 0) return {};
  }
  return rt->pool.slot_at(w->slots[--w->nslots]);
}

void release_slot(Runtime* rt, Worker* w, const StackSlot& s) noexcept {
  if (w == nullptr) return rt->pool.release(s);
  if (w->nslots == Worker::kSlotCache) {
    // Give back the older half; the most recently used (warmest) slots stay here.
    rt->pool.release_batch(w->slots, Worker::kSlotBatch);
    std::memmove(w->slots, w->slots + Worker::kSlotBatch, (Worker::kSlotCache - Worker::kSlotBatch) * sizeof w->slots[0]);
    w->nslots -= Worker::kSlotBatch;
  }
  w->slots[w->nslots++] = s.index;
}

void finish_task(Runtime* rt, Worker* w, Task* t) noexcept {
  bool last = false;
  {
    std::lock_guard<SpinLock> g(rt->reg_mu);
    if (t->reg_prev) t->reg_prev->reg_next = t->reg_next; else rt->reg_head = t->reg_next;
    if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
    --rt->live;
    if (t->id == 1) rt->main_done = true;
    last = rt->live == 0 || t->id == 1;
  }
  if (last) rt->reg_cv.notify_all();
  t->state.store(static_cast<std::uint8_t>(TaskState::kDead), std::memory_order_relaxed);
  fiber_release(&t->fiber);
  StackSlot slot = t->slot;
  t->~Task();
  release_slot(rt, w, slot);
}

// begin_run() makes `t` the task running on `w` (called on w's thread just before switching
// into it, from the worker's stack or from the task switching away).
void begin_run(Worker* w, Task* t) noexcept {
  while (t->ctx_busy.exchange(true, std::memory_order_acquire)) cpu_relax();
  t->state.store(static_cast<std::uint8_t>(TaskState::kRunning), std::memory_order_relaxed);
  // Only the worker starting the task writes `switches` (a plain store, no locked add).
  t->switches.store(t->switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  t->fiber_owner = w;
  w->ticks.store(w->ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  tls_task = t;
  base::set_current_task_id(t->id);
  base::switch_label_home(&t->label_set);
}

// complete_switch() does what must happen after a task switched away (its context is saved
// now): check its stack canary, release ctx_busy, then requeue, publish as parked, or recycle it.
// It runs in whichever context resumed on the worker's thread: the worker's own loop, or the
// task the leaving one switched into directly.
void complete_switch(Worker* w) noexcept {
  Task* t = w->prev;
  if (t == nullptr) return;
  w->prev = nullptr;
  if (!StackPool::canary_intact(t->slot)) {
    base::log_write("stack overflow in task %llu (stack of %zu bytes): aborting",
                    static_cast<unsigned long long>(t->id), w->rt->opt.stack_size);
    base::fatal("task stack overflow", __FILE__, __LINE__);
  }
  AfterSwitch after = t->after;
  t->ctx_busy.store(false, std::memory_order_release);
  switch (after) {
    case AfterSwitch::kYield:
      push_global(w->rt, t);
      break;
    case AfterSwitch::kPark: {
      ParkState expected = ParkState::kParking;
      if (!t->park_state.compare_exchange_strong(expected, ParkState::kParked, std::memory_order_acq_rel)) {
        // Woken while it was still switching out.
        t->park_state.store(ParkState::kRunning, std::memory_order_relaxed);
        push_local(w, t);
      }
      break;
    }
    case AfterSwitch::kExit:
      finish_task(w->rt, w, t);
      break;
  }
}

// switch_away() leaves the calling task `t` (t->after says why). A parking or exiting task
// switches directly into the next task of its worker (run-next, then the queue) when there is one,
// which halves the switches of a hand-off; otherwise, and for a yield or a fair turn, it switches
// to the worker's loop. Returns when `t` is resumed, possibly on another worker.
[[gnu::always_inline]] inline void switch_away(Task* t) noexcept {
  Worker* w = t->fiber_owner;
  AfterSwitch after = t->after;
  Task* next = nullptr;
  if (after != AfterSwitch::kYield && !fair_turn(w)) next = take_own(w, false);
  w->prev = t;
  FiberContext* to;
  if (next != nullptr) {
    begin_run(w, next);
    to = &next->fiber;
  } else {
    tls_task = nullptr;
    base::set_current_task_id(0);
    base::switch_label_home(nullptr);
    to = &w->ctx;
  }
  if (after == AfterSwitch::kExit) fiber_exit(&t->fiber, to);
  fiber_switch(&t->fiber, to);
  complete_switch(t->fiber_owner);
}

void run_task(Worker* w, Task* t) noexcept {
  begin_run(w, t);
  fiber_switch(&w->ctx, &t->fiber);
  complete_switch(w);
}

void worker_main(Worker* w) {
  char name[16];
  std::snprintf(name, sizeof name, "lw-worker-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  base::set_thread_role(base::ThreadRole::kRuntimeWorker);
  tls_worker = w;
  fiber_init_thread(&w->ctx);
  w->rng = static_cast<std::uint64_t>(w->index) * 0x9E3779B97F4A7C15ULL + 1;
  Runtime* rt = w->rt;
  for (;;) {
    Task* t = find_work(w);
    if (t) {
      run_task(w, t);
      continue;
    }
    if (rt->workers_stop.load()) break;
    if (Task* stolen = idle(w)) run_task(w, stolen);
  }
  rt->pool.release_batch(w->slots, w->nslots);
  w->nslots = 0;
  tls_worker = nullptr;
}

std::int64_t clock_ns(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * base::kNanosPerSecond + ts.tv_nsec;
}

// use_tsc_stamps() is true when parks may stamp with the TSC: base's wall clock reads the system
// clock (a clock injected for tests before run() falls outside the bracket of two raw reads, and
// then stamps keep following it exactly) and the kernel keeps time with the TSC itself (so it is
// invariant and synchronized across cores).
bool use_tsc_stamps() noexcept {
  std::int64_t a = clock_ns(CLOCK_REALTIME);
  std::int64_t v = base::wall_now_ns();
  std::int64_t b = clock_ns(CLOCK_REALTIME);
  if (v < a || v > b) return false;
  char src[32] = {};
  int fd = ::open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, src, sizeof src - 1);
  ::close(fd);
  return n >= 3 && std::strncmp(src, "tsc", 3) == 0 && (n == 3 || src[3] == '\n');
}

// StampConversion turns raw TSC park stamps into wall time: now's wall time minus the TSC ticks
// elapsed since the stamp, at the rate measured since run() started (CLOCK_MONOTONIC over TSC).
struct StampConversion {
  bool ready = false;
  std::uint64_t tsc_now = 0;
  std::int64_t wall_now = 0;
  double ns_per_tick = 0;

  static StampConversion now(const Runtime* rt) noexcept {
    StampConversion c;
    c.ready = true;
    c.wall_now = clock_ns(CLOCK_REALTIME);
    std::int64_t mono = clock_ns(CLOCK_MONOTONIC);
    c.tsc_now = __rdtsc();
    std::uint64_t ticks = c.tsc_now - rt->tsc0;
    c.ns_per_tick = ticks > 0 ? static_cast<double>(mono - rt->mono0) / static_cast<double>(ticks) : 0;
    return c;
  }
  std::int64_t wall_of(std::uint64_t tsc) const noexcept {
    std::uint64_t ago = tsc_now > tsc ? tsc_now - tsc : 0;
    return wall_now - static_cast<std::int64_t>(static_cast<double>(ago) * ns_per_tick);
  }
};

void kick_poller(Runtime* rt) noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(rt->evfd, &one, sizeof one);
}

void poller_main(Runtime* rt) {
  pthread_setname_np(pthread_self(), "lw-netpoll");
  base::set_thread_role(base::ThreadRole::kInternal);
  epoll_event evs[64];
  while (!rt->poller_stop.load()) {
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> g(rt->timer_mu);
      if (!rt->timers.empty()) {
        std::int64_t d = rt->timers.begin()->first - base::now_ns();
        timeout_ms = d <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>((d + 999'999) / 1'000'000, 1'000'000));
      }
    }
    int n = epoll_wait(rt->epfd, evs, 64, timeout_ms);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == rt->evfd) {
        std::uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(rt->evfd, &v, sizeof v);
        continue;
      }
      std::lock_guard<std::mutex> g(rt->fd_mu);
      auto it = rt->fd_waiters.find(fd);
      if (it != rt->fd_waiters.end()) {
        Parker* p = it->second;
        rt->fd_waiters.erase(it);
        if (claim(p)) wake(p, 0);
      }
    }
    std::int64_t now = base::now_ns();
    std::lock_guard<std::mutex> g(rt->timer_mu);
    while (!rt->timers.empty() && rt->timers.begin()->first <= now) {
      Runtime::TimerEntry* e = rt->timers.begin()->second;
      rt->timers.erase(rt->timers.begin());
      e->armed = false;
      if (claim(e->parker)) wake(e->parker, kFiredTimeout);
    }
  }
}

[[noreturn]] void task_entry(void* arg) {
  Task* t = static_cast<Task*>(arg);
  complete_switch(t->fiber_owner);
  char what[256] = {};
  bool cancelled = false;
  bool ok = run_guarded(t->body->invoke, t->closure, what, sizeof what, &cancelled);
  t->body->destroy(t->closure);
  if (!ok) {
    base::log_write("task %llu ended with an uncaught exception: %s",
                    static_cast<unsigned long long>(t->id), what);
    if (t->id == 1) {
      std::lock_guard<SpinLock> g(t->rt->reg_mu);
      t->rt->main_failed = true;
    }
  }
  release_held_mutexes(t);
  t->after = AfterSwitch::kExit;
  switch_away(t);
  std::abort();  // a finished task is never resumed
}

}  // namespace

Task* current_task_ptr() noexcept {
  Task* t;
  // Read the thread pointer afresh: a task may resume on another thread, and the compiler may
  // otherwise reuse a TLS address computed before a switch.
  asm volatile("" ::: "memory");
  t = tls_task;
  return t;
}

Parker* current_parker() noexcept {
  Task* t = current_task_ptr();
  return t ? &t->parker : &tls_thread_parker;
}

void begin_wait(Parker* p) noexcept {
  p->fired.store(-1, std::memory_order_relaxed);
  p->thread_flag.store(0, std::memory_order_relaxed);
  if (p->task) p->task->park_state.store(ParkState::kParking, std::memory_order_relaxed);
  p->claimed.store(false, std::memory_order_release);
}

void wake(Parker* p, int fired) noexcept {
  p->fired.store(fired, std::memory_order_relaxed);
  Task* t = p->task;
  if (t == nullptr) {
    p->thread_flag.store(1, std::memory_order_release);
    futex_wake(&p->thread_flag);
    return;
  }
  for (;;) {
    ParkState s = t->park_state.load(std::memory_order_acquire);
    if (s == ParkState::kParking) {
      if (t->park_state.compare_exchange_weak(s, ParkState::kWokenEarly, std::memory_order_acq_rel)) return;
    } else if (s == ParkState::kParked) {
      if (t->park_state.compare_exchange_weak(s, ParkState::kRunning, std::memory_order_acq_rel)) {
        push(t->rt, t);
        return;
      }
    } else {
      LW_CHECK(false, "wake() of a task that is not waiting");
    }
  }
}

namespace {

// blocks_in_profile() says which waits the block profile counts: Go's (channels, select, mutex,
// wait group), not sleeps, descriptor waits or yields.
bool blocks_in_profile(WaitReason r) noexcept {
  return r == WaitReason::kChanSend || r == WaitReason::kChanReceive || r == WaitReason::kSelect ||
         r == WaitReason::kMutexLock || r == WaitReason::kWaitGroupWait;
}

}  // namespace

int wait(Parker* p, WaitReason reason, const void* object, std::int64_t deadline_ns) noexcept {
  Task* t = p->task;
  Runtime* rt = t ? t->rt : g_rt.load(std::memory_order_acquire);
  // The block profile's clock starts here, only while the profile is on; a task woken before it
  // parked did not block and is not counted.
  const std::int64_t block_start =
      base::block_profile_rate() > 0 && blocks_in_profile(reason) ? base::now_ns() : 0;
  bool blocked = t == nullptr;
  Runtime::TimerEntry timer{p, false, {}};
  if (deadline_ns >= 0 && rt != nullptr) {
    std::lock_guard<std::mutex> g(rt->timer_mu);
    timer.armed = true;
    timer.it = rt->timers.emplace(deadline_ns, &timer);
    if (timer.it == rt->timers.begin()) kick_poller(rt);
  }
  if (t == nullptr) {
    // A plain thread: futex on its flag.
    while (p->thread_flag.load(std::memory_order_acquire) == 0) {
      std::int64_t rel = -1;
      if (deadline_ns >= 0 && rt == nullptr) {
        rel = deadline_ns - base::now_ns();
        if (rel <= 0) {
          if (claim(p)) {
            p->fired.store(kFiredTimeout, std::memory_order_relaxed);
            break;
          }
          rel = 1'000'000;
        }
      }
      futex_wait(&p->thread_flag, rel);
    }
  } else {
    if (t->cancel.load(std::memory_order_acquire) && claim(p)) {
      p->fired.store(kFiredCancel, std::memory_order_relaxed);
      t->park_state.store(ParkState::kWokenEarly, std::memory_order_release);
    }
    t->wait_reason.store(reason, std::memory_order_relaxed);
    t->wait_object.store(reinterpret_cast<std::uint64_t>(object), std::memory_order_relaxed);
    t->wait_since.store(rt->tsc_stamps ? -static_cast<std::int64_t>(__rdtsc()) : base::wall_now_ns(),
                        std::memory_order_relaxed);
    if (t->park_state.load(std::memory_order_acquire) == ParkState::kWokenEarly) {
      t->park_state.store(ParkState::kRunning, std::memory_order_relaxed);
    } else {
      t->state.store(static_cast<std::uint8_t>(TaskState::kWaiting), std::memory_order_relaxed);
      t->after = AfterSwitch::kPark;
      switch_away(t);
      blocked = true;
    }
    t->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
    t->wait_object.store(0, std::memory_order_relaxed);
    t->wait_since.store(0, std::memory_order_relaxed);
  }
  if (timer.armed || deadline_ns >= 0) {
    if (rt != nullptr) {
      std::lock_guard<std::mutex> g(rt->timer_mu);
      if (timer.armed) rt->timers.erase(timer.it);
      timer.armed = false;
    }
  }
  const int fired = p->fired.load(std::memory_order_relaxed);
  if (block_start != 0 && blocked && fired != kFiredCancel) base::block_event(base::now_ns() - block_start, 0);
  return fired;
}

void publish_blocked(Task* t, void* const* chans, int n) noexcept {
  if (t == nullptr) return;
  int k = n > kMaxProofChans ? 0 : n;
  for (int i = 0; i < k; ++i) t->wait_chans[i].store(chans[i], std::memory_order_relaxed);
  t->n_wait_chans.store(static_cast<std::uint8_t>(k), std::memory_order_relaxed);
  t->block_seq.fetch_add(1, std::memory_order_seq_cst);  // now odd
}

void clear_blocked(Task* t) noexcept {
  if (t == nullptr) return;
  unpublish_blocked(t);  // usually done already by the waker's claim()
}

Task* owner_of(const void* addr) noexcept {
  Task* cur = current_task_ptr();
  auto a = reinterpret_cast<const char*>(addr);
  if (cur && a >= cur->slot.lo && a < cur->slot.hi) return cur;
  Runtime* rt = g_rt.load(std::memory_order_acquire);
  if (rt == nullptr) return nullptr;
  StackSlot s;
  if (!rt->pool.slot_of(addr, &s)) return nullptr;
  return task_at_slot(s);
}

bool runtime_active() noexcept { return g_rt.load(std::memory_order_acquire) != nullptr; }
bool stopping() noexcept {
  Runtime* rt = g_rt.load(std::memory_order_acquire);
  return rt == nullptr || rt->stopping.load(std::memory_order_acquire);
}

void kick_timers() noexcept {
  if (Runtime* rt = g_rt.load(std::memory_order_acquire)) kick_poller(rt);
}

Result<void> wait_fd(int fd, bool writable) {
  Task* t = current_task_ptr();
  if (t == nullptr) return make_error("lw::wait_readable/wait_writable: not called from a task");
  Runtime* rt = t->rt;
  Parker* p = &t->parker;
  begin_wait(p);
  {
    std::lock_guard<std::mutex> g(rt->fd_mu);
    if (!rt->fd_waiters.emplace(fd, p).second)
      return make_error("fd " + std::to_string(fd) + " already has a waiting task");
    epoll_event ev{};
    ev.events = (writable ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT;
    ev.data.fd = fd;
    if (epoll_ctl(rt->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 &&
        (errno != ENOENT || epoll_ctl(rt->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)) {
      int err = errno;
      rt->fd_waiters.erase(fd);
      return make_error("cannot poll fd " + std::to_string(fd) + ": " + std::strerror(err));
    }
  }
  int fired = wait(p, WaitReason::kIOWait, reinterpret_cast<const void*>(static_cast<std::uintptr_t>(fd)), -1);
  if (fired == kFiredCancel) {
    std::lock_guard<std::mutex> g(rt->fd_mu);
    auto it = rt->fd_waiters.find(fd);
    if (it != rt->fd_waiters.end() && it->second == p) rt->fd_waiters.erase(it);
    epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, nullptr);
    throw TaskCancelled{};
  }
  return {};
}

namespace {

// RawTask is one task's record as copied while the registry is held: plain words, a reference to
// its label set id, and where its pcs sit in the shared buffer. Strings and vectors are built
// after the registry is released, so spawns and exits wait only for the copy and the stack walk.
struct RawTask {
  std::uint64_t id = 0, parent = 0, switches = 0, wait_object = 0, leak_detail = 0;
  std::int64_t wait_since = 0;
  std::uint32_t label_set = 0;
  const char* leak_reason = nullptr;
  std::uint32_t create_at = 0, create_n = 0, stack_at = 0, stack_n = 0;
  TaskState state = TaskState::kRunnable;
  WaitReason reason = WaitReason::kNone;
  bool leaked = false;
};

// copy_task() appends `t`'s record to `raw` and its creation and current stacks to `pcs`.
// Called with reg_mu held.
void copy_task(Runtime* rt, Task* t, Task* self, StampConversion* conv, std::vector<RawTask>* raw,
               std::vector<std::uintptr_t>* pcs) {
  RawTask& r = raw->emplace_back();
  r.id = t->id;
  r.parent = t->parent_id;
  r.switches = t->switches.load(std::memory_order_relaxed);
  r.label_set = t->label_set.load(std::memory_order_relaxed);
  if (t->leaked.load(std::memory_order_acquire)) {
    r.leaked = true;
    r.leak_reason = t->leak_reason.load(std::memory_order_relaxed);
    r.leak_detail = t->leak_detail.load(std::memory_order_relaxed);
  }
  r.create_at = static_cast<std::uint32_t>(pcs->size());
  r.create_n = t->create_depth;
  pcs->insert(pcs->end(), t->create_pcs, t->create_pcs + t->create_depth);
  r.stack_at = static_cast<std::uint32_t>(pcs->size());
  std::uintptr_t at[64];
  int n = 0;
  if (t == self) {
    // The caller's own stack: a frame-pointer walk bounded by its slot. Rejected: libunwind
    // here (its per-thread cache on worker threads trips TSan at thread exit, and it is slower).
    n = walk_frames(reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)),
                    reinterpret_cast<std::uintptr_t>(t->slot.lo), reinterpret_cast<std::uintptr_t>(t->slot.hi),
                    at, 64);
    r.state = TaskState::kRunning;
  } else if (!t->ctx_busy.exchange(true, std::memory_order_acquire)) {
    // Not running anywhere: its saved context and stack are stable while we hold ctx_busy.
    r.state = static_cast<TaskState>(t->state.load(std::memory_order_relaxed));
    if (r.state == TaskState::kRunning) r.state = TaskState::kRunnable;
    if (r.switches == 0) {
      // Never ran: show its entry point, as Go shows a new goroutine's function.
      at[n++] = reinterpret_cast<std::uintptr_t>(t->body->invoke) + 1;
    } else {
      auto sp = reinterpret_cast<std::uintptr_t>(t->fiber.sp);
      auto lo = reinterpret_cast<std::uintptr_t>(t->slot.lo);
      auto hi = reinterpret_cast<std::uintptr_t>(t->slot.hi);
      if (sp >= lo && sp + kSavedRipOffset + 8 <= hi) {
        at[n++] = load_word(sp + kSavedRipOffset);
        n += walk_frames(load_word(sp + kSavedRbpOffset), lo, hi, at + n, 63);
      }
    }
    if (r.state == TaskState::kWaiting) {
      r.reason = t->wait_reason.load(std::memory_order_relaxed);
      std::int64_t since = t->wait_since.load(std::memory_order_relaxed);
      if (since < 0) {
        // A raw TSC stamp: convert it once and store it (the task cannot run while we hold
        // ctx_busy), so every later snapshot reports the same wall time.
        if (!conv->ready) *conv = StampConversion::now(rt);
        std::int64_t wall = conv->wall_of(static_cast<std::uint64_t>(-since));
        if (t->wait_since.compare_exchange_strong(since, wall, std::memory_order_relaxed)) since = wall;
      }
      r.wait_since = since;
      r.wait_object = t->wait_object.load(std::memory_order_relaxed);
      if (r.reason == WaitReason::kMutexLock && !r.leaked && prove_lock_cycle(t)) {
        r.leaked = true;
        r.leak_reason = t->leak_reason.load(std::memory_order_relaxed);
        r.leak_detail = t->leak_detail.load(std::memory_order_relaxed);
      }
    }
    t->ctx_busy.store(false, std::memory_order_release);
  } else if (!t->sys_walk.exchange(true, std::memory_order_acquire)) {
    // Running; if inside a lw::BlockingCall, its caller's frames stay put until the call's
    // destructor, which waits for sys_walk.
    r.state = static_cast<TaskState>(t->state.load(std::memory_order_seq_cst));
    if (r.state == TaskState::kSyscall) {
      auto lo = reinterpret_cast<std::uintptr_t>(t->slot.lo);
      auto hi = reinterpret_cast<std::uintptr_t>(t->slot.hi);
      at[n++] = t->sys_pc.load(std::memory_order_relaxed);
      n += walk_frames(t->sys_fp.load(std::memory_order_relaxed), lo, hi, at + n, 63);
      r.wait_since = t->wait_since.load(std::memory_order_relaxed);
    } else {
      r.state = TaskState::kRunning;
    }
    t->sys_walk.store(false, std::memory_order_release);
  } else {
    r.state = TaskState::kRunning;
  }
  pcs->insert(pcs->end(), at, at + n);
  r.stack_n = static_cast<std::uint32_t>(n);
}

// link_marker_before() / unlink_marker() place and remove a reader's marker; reg_mu held.
void link_marker_before(Runtime* rt, Task* marker, Task* t) noexcept {
  marker->reg_next = t;
  marker->reg_prev = t->reg_prev;
  if (t->reg_prev) t->reg_prev->reg_next = marker; else rt->reg_head = marker;
  t->reg_prev = marker;
}

void unlink_marker(Runtime* rt, Task* marker) noexcept {
  if (marker->reg_prev) marker->reg_prev->reg_next = marker->reg_next; else rt->reg_head = marker->reg_next;
  if (marker->reg_next) marker->reg_next->reg_prev = marker->reg_prev;
  marker->reg_prev = marker->reg_next = nullptr;
}

}  // namespace

std::vector<TaskInfo> registry_snapshot(std::int64_t* longest_hold_ns) {
  std::vector<TaskInfo> out;
  Runtime* rt = g_rt.load(std::memory_order_acquire);
  if (rt == nullptr) return out;
  Task* self = current_task_ptr();
  // The registry is read in batches: between two, a marker node (id 0, skipped by every reader)
  // holds the place in the list and the lock is let go, so a spawn or an exit waits for one
  // batch (a stack walk over cold memory costs ~1 us a task), never for the whole registry.
  // Tasks that start during the read may be missed, like tasks that end; every task alive
  // throughout is listed once. Rejected: one hold for the whole list (100 ms at 100k tasks).
  constexpr int kBatch = 256;
  constexpr std::size_t kWordsPerTask = kCreateFrames + 64;
  auto marker = std::make_unique<Task>();
  std::vector<RawTask> raw;
  std::vector<std::uintptr_t> pcs;
  StampConversion conv;  // taken afresh for each batch: the read may last a while
  std::unique_lock<SpinLock> lk(rt->reg_mu);
  const std::size_t expected = rt->live + kBatch;
  lk.unlock();
  raw.reserve(expected);  // sized once up front: growing means copying, and unmapping the old buffer
  pcs.reserve(expected * 32);
  lk.lock();
  base::Nanos held_since = base::now_ns();
  std::int64_t longest = 0;
  Task* t = rt->reg_head;
  while (t != nullptr) {
    if (raw.capacity() - raw.size() < kBatch || pcs.capacity() - pcs.size() < kBatch * kWordsPerTask) {
      link_marker_before(rt, marker.get(), t);
      longest = std::max<std::int64_t>(longest, base::now_ns() - held_since);
      lk.unlock();  // grow outside the lock: the marker keeps the place
      raw.reserve(2 * raw.capacity() + kBatch);
      pcs.reserve(2 * pcs.capacity() + kBatch * kWordsPerTask);
      lk.lock();
      held_since = base::now_ns();
      t = marker->reg_next;
      unlink_marker(rt, marker.get());
      if (t == nullptr) break;
    }
    conv.ready = false;
    for (int n = 0; t != nullptr && n < kBatch; t = t->reg_next) {
      if (t->id == 0) continue;  // another reader's marker
      copy_task(rt, t, self, &conv, &raw, &pcs);
      ++n;
    }
    if (t == nullptr) break;
    link_marker_before(rt, marker.get(), t);
    longest = std::max<std::int64_t>(longest, base::now_ns() - held_since);
    lk.unlock();
    // The lock is not fair: step aside for a few microseconds, long enough for a spawn or exit
    // spinning on it (or between two of its yields) to get in. Rejected: yield() alone, which
    // returns at once when our core has nothing else to run, so a waiter could starve for the
    // whole read; sleep_for(), which sleeps 60 us or more and made a 100k-task dump 30% slower.
    const base::Nanos resume_at = base::now_ns() + 5'000;
    while (base::now_ns() < resume_at) cpu_relax();
    lk.lock();
    held_since = base::now_ns();
    t = marker->reg_next;
    unlink_marker(rt, marker.get());
  }
  longest = std::max<std::int64_t>(longest, base::now_ns() - held_since);
  lk.unlock();
  if (longest_hold_ns != nullptr) *longest_hold_ns = longest;
  out.reserve(raw.size());
  for (RawTask& r : raw) {
    TaskInfo& info = out.emplace_back();
    info.id = TaskId{r.id};
    info.parent = TaskId{r.parent};
    info.state = r.state;
    info.switch_count = r.switches;
    info.create_stack.assign(pcs.data() + r.create_at, pcs.data() + r.create_at + r.create_n);
    info.stack.assign(pcs.data() + r.stack_at, pcs.data() + r.stack_at + r.stack_n);
    info.labels = base::label_set(base::LabelSetId{r.label_set});
    if (r.state == TaskState::kWaiting) {
      info.wait_reason = std::string(to_string(r.reason));
      info.wait_since_unix_ns = r.wait_since;
      info.wait_object = r.wait_object;
    } else if (r.state == TaskState::kSyscall) {
      info.wait_since_unix_ns = r.wait_since;
    }
    if (r.leaked) {
      info.leaked = true;
      char buf[160];
      std::snprintf(buf, sizeof buf, r.leak_reason ? r.leak_reason : "", static_cast<unsigned long long>(r.leak_detail));
      info.leak_reason = buf;
    }
  }
  return out;
}

StackStats stack_stats() noexcept {
  StackStats s;
  Runtime* rt = g_rt.load(std::memory_order_acquire);
  if (rt == nullptr) return s;
  s.inuse = rt->pool.in_use_bytes();
  s.sys = rt->pool.reserved_bytes();
  std::lock_guard<SpinLock> g(rt->reg_mu);
  s.tasks = rt->live;
  return s;
}

std::uint64_t leaked_total() noexcept { return g_leaked_total.load(std::memory_order_relaxed); }
void add_leaked(std::uint64_t n) noexcept { g_leaked_total.fetch_add(n, std::memory_order_relaxed); }

bool mark_leaked(Task* t, const char* reason, std::uint64_t detail) noexcept {
  bool expected = false;
  if (!t->leaked.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
  t->leak_reason.store(reason, std::memory_order_relaxed);
  t->leak_detail.store(detail, std::memory_order_relaxed);
  add_leaked(1);
  mark_waiters_of_held_mutexes(t);
  return true;
}

}  // namespace lw::rt

namespace lw {

using rt::Runtime;
using rt::Task;

TaskId current_task() noexcept {
  Task* t = rt::current_task_ptr();
  return TaskId{t ? t->id : 0};
}

std::vector<TaskInfo> tasks() { return rt::registry_snapshot(); }
std::uint64_t leaked_task_count() noexcept { return rt::leaked_total(); }

void yield() {
  Task* t = rt::current_task_ptr();
  if (t == nullptr) {
    std::this_thread::yield();
    return;
  }
  if (t->cancel.load(std::memory_order_acquire)) throw rt::TaskCancelled{};
  t->after = rt::AfterSwitch::kYield;
  rt::switch_away(t);
}

void sleep_for(std::chrono::nanoseconds d) {
  Task* t = rt::current_task_ptr();
  if (t == nullptr) {
    std::this_thread::sleep_for(d);
    return;
  }
  if (d.count() <= 0) return yield();
  rt::Parker* p = &t->parker;
  rt::begin_wait(p);
  int fired = rt::wait(p, rt::WaitReason::kSleep, nullptr, base::now_ns() + d.count());
  if (fired == rt::kFiredCancel) throw rt::TaskCancelled{};
}

Result<void> wait_readable(int fd) { return rt::wait_fd(fd, false); }
Result<void> wait_writable(int fd) { return rt::wait_fd(fd, true); }

namespace detail {

TaskId spawn(const Labels* labels, const TaskBody& body, void* src) {
  Runtime* r = rt::g_rt.load(std::memory_order_acquire);
  if (r == nullptr) throw std::logic_error("lw::go called while no lw::run is active");
  // The caller's current labels (a task's or a plain thread's), plus the ones given. Interned
  // before anything is taken, so a failure here leaves nothing to undo.
  const base::LabelSetId inherited = base::current_label_set();
  const base::LabelSetId label_set = labels != nullptr ? base::merge_label_set(inherited, *labels) : inherited;
  rt::Worker* w = rt::tls_worker;
  if (w != nullptr && w->rt != r) w = nullptr;
  rt::StackSlot slot = rt::acquire_slot(r, w);
  if (slot.lo == nullptr) throw std::bad_alloc();
  Task* t = ::new (rt::task_at_slot(slot)) Task;
  t->slot = slot;
  t->rt = r;
  std::size_t align = std::max<std::size_t>(body.align, 16);
  auto closure_at = (reinterpret_cast<std::uintptr_t>(t) - body.size) & ~(align - 1);
  auto stack_hi = (closure_at - 64) & ~std::uintptr_t{15};
  if (stack_hi < reinterpret_cast<std::uintptr_t>(slot.lo) + 16 * 1024) {
    t->~Task();
    rt::release_slot(r, w, slot);
    throw std::length_error("lw::go: closure too large for the task stack");
  }
  t->closure = reinterpret_cast<void*>(closure_at);
  t->body = &body;
  try {
    body.move_to(t->closure, src);
  } catch (...) {
    t->~Task();
    // Re-read the worker: a throwing move constructor may have parked and moved us elsewhere.
    asm volatile("" ::: "memory");
    w = rt::tls_worker;
    rt::release_slot(r, w != nullptr && w->rt == r ? w : nullptr, slot);
    throw;
  }
  Task* parent = rt::current_task_ptr();
  t->parent_id = parent ? parent->id : 0;
  t->label_set.store(static_cast<std::uint32_t>(label_set), std::memory_order_relaxed);
  // Creation stack: a frame-pointer walk from here (go() is inlined into its caller).
  {
    auto fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    std::uintptr_t lo = fp, hi = fp + 8 * 1024 * 1024;
    if (parent) {
      lo = reinterpret_cast<std::uintptr_t>(parent->slot.lo);
      hi = reinterpret_cast<std::uintptr_t>(parent->slot.hi);
    }
    t->create_depth = static_cast<std::uint32_t>(rt::walk_frames(fp, lo, hi, t->create_pcs, rt::kCreateFrames));
  }
  t->parker.task = t;
  rt::fiber_make(&t->fiber, slot.lo, stack_hi - reinterpret_cast<std::uintptr_t>(slot.lo), rt::task_entry, t);
  {
    std::lock_guard<rt::SpinLock> g(r->reg_mu);
    t->id = r->next_id.fetch_add(1, std::memory_order_relaxed);
    t->reg_next = r->reg_head;
    if (r->reg_head) r->reg_head->reg_prev = t;
    r->reg_head = t;
    ++r->live;
  }
  TaskId id{t->id};
  rt::push(r, t);
  // Backpressure: a task that spawns faster than the workers finish tasks lets its worker's queue
  // drain before going on (it yields; shutdown cancellation is not checked here, a spawn is no
  // blocking point). Otherwise the queue grows without bound, every new task lands on a cold,
  // never-touched stack slot (page faults, cache misses on both sides), and memory grows.
  if (parent != nullptr) {
    asm volatile("" ::: "memory");
    rt::Worker* cw = rt::tls_worker;
    if (cw != nullptr && cw->fifo_len.load(std::memory_order_relaxed) > rt::kSpawnBacklog) {
      parent->after = rt::AfterSwitch::kYield;
      rt::switch_away(parent);
    }
  }
  return id;
}

}  // namespace detail

int run(std::function<void()> main, RuntimeOptions options) {
  std::unique_lock<std::mutex> run_lock(rt::g_run_mu, std::try_to_lock);
  if (!run_lock.owns_lock()) throw std::logic_error("lw::run is already active");
  // MemStats (heap module) reads StackInuse/StackSys through base, below the runtime.
  base::set_task_stack_reader([]() noexcept {
    rt::StackStats st = rt::stack_stats();
    return base::TaskStackFigures{st.inuse, st.sys, st.tasks};
  });
  if (options.workers <= 0) options.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto r = std::make_unique<Runtime>(options);
  r->tsc_stamps = rt::use_tsc_stamps();
  r->mono0 = rt::clock_ns(CLOCK_MONOTONIC);
  r->tsc0 = __rdtsc();
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  r->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  LW_CHECK(r->epfd >= 0 && r->evfd >= 0, "cannot create the runtime's epoll/eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = r->evfd;
  epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev);
  rt::g_rt.store(r.get(), std::memory_order_release);
  rt::start_dump_signal_once();
  r->poller = std::thread(rt::poller_main, r.get());
  for (int i = 0; i < options.workers; ++i) {
    auto w = std::make_unique<rt::Worker>();
    w->rt = r.get();
    w->index = i;
    r->workers.push_back(std::move(w));
  }
  for (auto& w : r->workers) w->thread = std::thread(rt::worker_main, w.get());

  detail::spawn(nullptr, detail::kTaskBody<std::function<void()>>, &main);
  // The calling thread only waits for the main task now: it is the runtime's until run()
  // returns, and the program's work shows in the tasks (as Go's main goroutine), not in this wait.
  base::set_thread_role(base::ThreadRole::kRuntimeWorker);
  {
    std::unique_lock<rt::SpinLock> lk(r->reg_mu);
    r->reg_cv.wait(lk, [&] { return r->main_done; });
  }
  // Unwind what is left: wake every task at its blocking point with a cancellation.
  r->stopping.store(true, std::memory_order_release);
  for (;;) {
    std::unique_lock<rt::SpinLock> lk(r->reg_mu);
    if (r->live == 0) break;
    for (Task* t = r->reg_head; t; t = t->reg_next) {
      t->cancel.store(true, std::memory_order_seq_cst);
      if (t->park_state.load(std::memory_order_acquire) == rt::ParkState::kParked && rt::claim(&t->parker))
        rt::wake(&t->parker, rt::kFiredCancel);
    }
    r->reg_cv.wait_for(lk, std::chrono::milliseconds(2));
  }
  r->workers_stop.store(true);
  {
    std::lock_guard<std::mutex> g(r->sleep_mu);
  }
  r->sleep_cv.notify_all();
  for (auto& w : r->workers) w->thread.join();
  r->poller_stop.store(true);
  rt::kick_poller(r.get());
  r->poller.join();
  rt::g_rt.store(nullptr, std::memory_order_release);
  while (r->pushers.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  close(r->epfd);
  close(r->evfd);
  bool failed;
  {
    std::lock_guard<rt::SpinLock> g(r->reg_mu);
    failed = r->main_failed;
  }
  base::set_thread_role(base::ThreadRole::kUser);
  return failed ? 1 : 0;
}

}  // namespace lw
