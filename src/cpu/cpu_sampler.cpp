// Why per-thread timers: a process-wide ITIMER_PROF is delivered to whichever thread the kernel
// picks, loses ticks once more than a couple of cores are busy and skews between threads (Go moved
// to per-thread timers in 1.18 for these reasons). A timer on each thread's own CPU clock fires
// exactly for the CPU time that thread used.
//
// Why the handler can walk the stack: unwind::handler_unwind() uses the C++ runtime's unwinder,
// which finds unwind tables with glibc's lock-free _dl_find_object, so it takes no lock a thread
// interrupted in malloc, dlopen or an exception throw could hold. Where that is not safe it keeps
// only the interrupted pc. Nothing in the handler allocates; the sample goes into the ring.
//
// Threads created while sampling make their own timer as they start (the thread registry's start
// hook, base::run_thread_start_hook()) and hand it to the collector through a fixed table; threads
// the registry did not start (created before it was loaded, or by raw clone) get theirs at the
// collector's next look at /proc/self/task (every 500 ms). Timers of threads that exited stop by
// themselves (their clock is dead) and are deleted at that look.
#include "src/cpu/cpu_sampler.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <set>
#include <thread>
#include <ucontext.h>

#include "src/base/clock.hpp"
#include "src/base/current_labels.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/thread_role.hpp"
#include "src/base/thread_start_hook.hpp"
#include "src/cpu/sample_ring.hpp"
#include "src/threads/proc_task.hpp"
#include "src/unwind/handler_unwind.hpp"

namespace lw::cpu {
namespace {

// 4,096 slots (~2.1 MB) drained every 100 ms hold 40,960 samples a second: 400 busy threads at
// 100 Hz. The collector wakes rarely, so it takes little from the threads it samples.
constexpr std::size_t kRingSlots = 4096;
constexpr auto kDrainEvery = std::chrono::milliseconds(100);
constexpr int kLookEvery = 5;  // drains between two looks at /proc/self/task (500 ms)

std::atomic<SampleRing*> g_ring{nullptr};
std::atomic<bool> g_handler_installed{false};
std::atomic<long> g_period_ns{0};  // the running sampling's tick; 0 when none

// Adopted is a timer a starting thread made for itself, waiting for the collector to take it.
struct Adopted {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 ready for the collector
  int tid = 0;
  timer_t id{};
};
constexpr std::size_t kAdoptSlots = 1024;
Adopted g_adopt[kAdoptSlots];
std::atomic<int> g_hooks_running{0};

// arm() makes a CPU-time timer for `tid` ticking every `period_ns`.
bool arm(int tid, long period_ns, timer_t* out) noexcept {
  sigevent sev {};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGPROF;
  sev._sigev_un._tid = tid;
  timer_t id{};
  if (timer_create(os_threads::thread_cpu_clock(tid), &sev, &id) != 0) return false;
  itimerspec spec{};
  spec.it_interval.tv_sec = period_ns / 1'000'000'000L;
  spec.it_interval.tv_nsec = period_ns % 1'000'000'000L;
  spec.it_value = spec.it_interval;
  if (timer_settime(id, 0, &spec, nullptr) != 0) {
    timer_delete(id);
    return false;
  }
  *out = id;
  return true;
}

// on_thread_start() runs on every thread the registry starts: while a sampling runs, the thread
// arms its own timer at once and leaves it in g_adopt. Never allocates (timer_create with
// SIGEV_THREAD_ID is one system call).
void on_thread_start() noexcept {
  g_hooks_running.fetch_add(1, std::memory_order_acq_rel);
  const long period = g_period_ns.load(std::memory_order_acquire);
  timer_t id{};
  const int tid = static_cast<int>(syscall(SYS_gettid));
  if (period > 0 && arm(tid, period, &id)) {
    bool kept = false;
    for (std::size_t i = 0; i < kAdoptSlots && !kept; ++i) {
      int expected = 0;
      if (g_adopt[i].state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
        g_adopt[i].tid = tid;
        g_adopt[i].id = id;
        g_adopt[i].state.store(2, std::memory_order_release);
        kept = true;
      }
    }
    if (!kept) timer_delete(id);  // the table is full: the collector's next look arms it
  }
  g_hooks_running.fetch_sub(1, std::memory_order_acq_rel);
}

void on_sigprof(int, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  SampleRing* ring = g_ring.load(std::memory_order_acquire);
  if (ring != nullptr && info != nullptr && info->si_code == SI_TIMER) {
    CpuSample s;
    s.tid = static_cast<int>(syscall(SYS_gettid));
    s.label_set = static_cast<std::uint32_t>(base::current_label_set());  // one TLS load
    if (!unwind::handler_unwind(&s.stack, context)) {
      const auto* uc = static_cast<const ucontext_t*>(context);
      s.stack.pc[0] = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]) + 1;
      s.stack.depth = 1;
    }
    ring->push(s);
  }
  errno = saved_errno;
}

// install_handler() installs on_sigprof once; it stays installed (a tick still in flight after a
// stop must not meet SIGPROF's default action, which ends the process).
Result<void> install_handler() {
  if (g_handler_installed.load(std::memory_order_acquire)) return {};
  struct sigaction old {};
  if (sigaction(SIGPROF, nullptr, &old) != 0) return make_error("cannot read SIGPROF's handler");
  if ((old.sa_flags & SA_SIGINFO) != 0 || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
    return make_error("SIGPROF already has a handler in this program (another profiler?)");
  (void)unwind::handler_unwind_ready();  // the unwinder's one-time set-up, outside any handler
  struct sigaction sa {};
  sa.sa_sigaction = on_sigprof;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  if (sigaction(SIGPROF, &sa, nullptr) != 0) return make_error("cannot install the SIGPROF handler");
  g_handler_installed.store(true, std::memory_order_release);
  return {};
}

// Session is one sampling: its timers, its counts and its collecting thread.
struct Session {
  int hz = kDefaultHz;
  SampleRing* ring = nullptr;
  std::map<int, timer_t> timers;  // by tid; the collector's (and stop's, after the join)
  Sampled out;
  int collector_tid = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // guarded by mu
  std::thread collector;
};

std::mutex g_session_mu;  // guards g_session
Session* g_session = nullptr;

bool add_timer(Session* s, int tid) {
  timer_t id{};
  if (!arm(tid, 1'000'000'000L / s->hz, &id)) return false;
  s->timers.emplace(tid, id);
  ++s->out.threads_timed;
  return true;
}

// adopt() takes the timers starting threads made (a thread already timed keeps its first one).
void adopt(Session* s) {
  for (Adopted& a : g_adopt) {
    if (a.state.load(std::memory_order_acquire) != 2) continue;
    if (s->timers.emplace(a.tid, a.id).second) {
      ++s->out.threads_timed;
      os_threads::ProcThread p;
      if (os_threads::read_proc_thread(a.tid, &p, false)) s->out.thread_names[a.tid] = p.name;
    } else {
      timer_delete(a.id);
    }
    a.state.store(0, std::memory_order_release);
  }
}

// look() gives every new thread a timer and a name, and deletes the timers of threads gone.
void look(Session* s) {
  const std::vector<int> live = os_threads::list_thread_ids();
  const std::set<int> alive(live.begin(), live.end());
  for (auto it = s->timers.begin(); it != s->timers.end();) {
    if (alive.count(it->first) != 0) {
      ++it;
      continue;
    }
    timer_delete(it->second);
    it = s->timers.erase(it);
  }
  for (int tid : live) {
    if (tid == s->collector_tid || s->timers.count(tid) != 0) continue;
    os_threads::ProcThread p;
    if (!os_threads::read_proc_thread(tid, &p, false)) continue;
    if (add_timer(s, tid)) s->out.thread_names[tid] = p.name;
  }
}

void drain(Session* s) {
  CpuSample sample;
  while (s->ring->pop(&sample)) {
    SampleKey key;
    key.pcs.assign(sample.stack.pc, sample.stack.pc + sample.stack.depth);
    key.tid = sample.tid;
    key.label_set = sample.label_set;
    ++s->out.counts[key];
  }
}

void collect(Session* s) {
  base::set_thread_role(base::ThreadRole::kInternal);
  base::SelfScope own_memory;
  s->collector_tid = static_cast<int>(syscall(SYS_gettid));
  pthread_setname_np(pthread_self(), "lw-cpu");
  std::unique_lock<std::mutex> lock(s->mu);
  for (int round = 0; !s->stop; ++round) {
    lock.unlock();
    adopt(s);
    if (round % kLookEvery == 0) look(s);
    drain(s);
    lock.lock();
    s->cv.wait_for(lock, kDrainEvery, [s] { return s->stop; });
  }
}

// A child forked while a profile runs inherits none of its timers nor its collector, but would
// inherit the start hook and the ring: its new threads would arm timers nobody drains or deletes.
// The child starts with no profile (the parent's session is left as it is, never touched again).
void forget_sampling_in_child() {
  base::set_thread_start_hook(nullptr);
  g_period_ns.store(0, std::memory_order_relaxed);
  g_ring.store(nullptr, std::memory_order_relaxed);
  for (Adopted& a : g_adopt) a.state.store(0, std::memory_order_relaxed);
  g_hooks_running.store(0, std::memory_order_relaxed);
  new (&g_session_mu) std::mutex();  // another thread of the parent may have held it
  g_session = nullptr;
}

const bool kForgetInChild = [] {
  pthread_atfork(nullptr, nullptr, forget_sampling_in_child);
  return true;
}();

}  // namespace

Result<void> start_sampling(int hz) {
  (void)kForgetInChild;
  if (hz < 1 || hz > kMaxHz) return make_error("hz must be from 1 to " + std::to_string(kMaxHz));
  base::SelfScope self;
  std::lock_guard<std::mutex> lock(g_session_mu);
  if (g_session != nullptr) return make_error("cpu profiling already in use");
  if (auto h = install_handler(); !h) return h;
  auto* s = new Session();
  s->hz = hz;
  s->out.hz = hz;
  s->ring = SampleRing::create(kRingSlots);
  if (s->ring == nullptr) {
    delete s;
    return make_error("cannot map the CPU sample ring");
  }
  s->out.start_unix_ns = base::wall_now_ns();
  g_ring.store(s->ring, std::memory_order_release);
  g_period_ns.store(1'000'000'000L / hz, std::memory_order_release);
  // The collector blocks every signal: SIGPROF ticks belong to the threads that use the CPU.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  s->collector = std::thread(collect, s);
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  base::set_thread_start_hook(on_thread_start);  // after the collector: it is not sampled
  g_session = s;
  return {};
}

Result<Sampled> stop_sampling() {
  base::SelfScope self;
  Session* s = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_session_mu);
    if (g_session == nullptr) return make_error("cpu profiling is not running");
    s = g_session;
    g_session = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->stop = true;
  }
  s->cv.notify_all();
  s->collector.join();
  // No starting thread may arm a timer after the last adoption: unhook, wait out the hooks in
  // progress, adopt what they left.
  base::set_thread_start_hook(nullptr);
  g_period_ns.store(0, std::memory_order_release);
  while (g_hooks_running.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  adopt(s);
  for (auto& [tid, id] : s->timers) timer_delete(id);
  s->timers.clear();
  s->out.duration_ns = base::wall_now_ns() - s->out.start_unix_ns;
  g_ring.store(nullptr, std::memory_order_release);
  // A handler that loaded the ring just before may still be pushing: give it time to finish
  // before the ring is drained for the last time and unmapped.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  drain(s);
  s->out.dropped = s->ring->dropped();
  SampleRing::destroy(s->ring);
  Sampled out = std::move(s->out);
  delete s;
  return out;
}

bool sampling() noexcept {
  std::lock_guard<std::mutex> lock(g_session_mu);
  return g_session != nullptr;
}

}  // namespace lw::cpu
