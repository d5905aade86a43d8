// Each slot's handshake runs through one 32-bit word, so that a futex can wait on it: the low 3
// bits are the phase, the rest a serial naming the request. The signal's value carries the slot
// index and the serial. The handler acts only on a request whose serial and phase (kRequested)
// match, in one compare-and-swap; a signal that arrives late (it was blocked, or the capturer gave
// up) finds another serial or phase and returns at once. A capturer that gives up takes its
// request back with a compare-and-swap too, so exactly one of the two sides decides each request's
// fate. A handler leaves as soon as its slot names another request, so slots are reused freely.
//
// Blocked signals: the kernel shows each thread's blocked mask in /proc/self/task/TID/status, but
// rendering that file costs more than the rest of a thread's capture. So it is read only for a
// thread that has not answered within 2 ms, or that blocked the signal at an earlier capture (such
// a thread is not signalled again while it blocks: real-time signals queue, and each would stay
// pending in it).
//
// Rejected: unwinding inside the handler. libunwind's DWARF look-ups take the loader's lock
// (dl_iterate_phdr), which the interrupted thread may hold: the handler would deadlock. A
// frame-pointer walk is safe there but loses most frames of code built without frame pointers
// (Debian's glibc and most distribution binaries). ptrace would stop the whole process and cannot
// attach to threads of its own process. Reading /proc/PID/task/TID/stack gives kernel stacks only.
#include "src/threads/stack_signal.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/threads/stack_cache.hpp"
#include "src/unwind/capture.hpp"
#include "src/unwind/handler_unwind.hpp"

namespace lw::os_threads {
namespace {

// kUnwound: the thread walked its own stack into the slot and went on (handler_unwind.hpp); the
// other phases are the fallback, in which it waits while the capturer walks its saved context.
enum Phase : std::uint32_t { kIdle = 0, kRequested = 1, kCopying = 2, kStopped = 3, kReleased = 4, kUnwound = 5 };

constexpr std::uint32_t kSerialMask = 0xffffff;  // 24 bits: the signal value also holds the slot
constexpr std::uint32_t word(std::uint32_t serial, Phase p) { return serial << 3 | p; }
constexpr Phase phase_of(std::uint32_t w) { return static_cast<Phase>(w & 7u); }
constexpr std::uint32_t serial_of(std::uint32_t w) { return w >> 3; }

struct Slot {
  std::atomic<std::uint32_t> word{0};  // the handshake
  std::atomic<int> in_handler{0};      // tid of the thread standing in the handler for this slot
  ucontext_t context;                  // written by the handler between kCopying and kStopped
  unwind::StackTrace trace;            // written by the handler between kCopying and kUnwound
};

static_assert(kStackSlots == 32, "the signal value keeps the slot in 5 bits");

std::atomic<int> g_signal{0};
Slot g_slots[kStackSlots];
std::atomic<std::int64_t> g_longest_stop_ns{0};
std::atomic<std::uint64_t> g_captured{0};
// Answers: every handler that has saved its context bumps g_answers, and wakes the capturer only
// when it sleeps (g_capturer_asleep): while it unwinds one thread of a batch the others' answers
// cost no system call. Both are seq_cst: the handler's bump and the capturer's flag store, each
// followed by the other's load, so one of them always sees the other.
std::atomic<std::uint32_t> g_answers{0};
std::atomic<bool> g_capturer_asleep{false};
std::atomic<bool> g_handler_unwind{false};  // set at install when handler_unwind_ready()
std::atomic<std::uint64_t> g_failed{0};
std::mutex g_capture_mu;
std::uint32_t g_serial = 0;      // guarded by g_capture_mu
// Threads known to block the signal: a fixed set, since nothing may allocate under the capture
// lock (fork waits for that lock while a sanitizer's allocator lock may already be held).
constexpr std::size_t kMaxBlockedTids = 4096;
struct BlockedTids {
  int tid[kMaxBlockedTids];
  std::size_t n = 0;
  bool contains(int t) const noexcept { return std::find(tid, tid + n, t) != tid + n; }
  void insert(int t) noexcept {
    if (n < kMaxBlockedTids && !contains(t)) tid[n++] = t;
  }
  void erase(int t) noexcept {
    int* at = std::find(tid, tid + n, t);
    if (at != tid + n) *at = tid[--n];
  }
};
BlockedTids g_blocked_tids;  // guarded by g_capture_mu

std::int64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void futex_wait(std::atomic<std::uint32_t>* w, std::uint32_t expected, std::int64_t timeout_ns) noexcept {
  if (timeout_ns <= 0) return;
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* w) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void note_stop(std::int64_t stood) noexcept {
  std::int64_t longest = g_longest_stop_ns.load(std::memory_order_relaxed);
  while (stood > longest && !g_longest_stop_ns.compare_exchange_weak(longest, stood, std::memory_order_relaxed)) {
  }
}

void on_stack_signal(int, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (info != nullptr && info->si_code == SI_QUEUE && info->si_pid == getpid()) {
    const auto value = static_cast<std::uint32_t>(info->si_value.sival_int);
    Slot& slot = g_slots[value % kStackSlots];
    const std::uint32_t serial = value / kStackSlots;
    std::uint32_t expected = word(serial, kRequested);
    if (slot.word.load(std::memory_order_relaxed) != expected) {  // late: the request was given up
      errno = saved_errno;
      return;
    }
    const std::int64_t start = mono_ns();
    // While it stands here the signal is blocked in this thread: the capturer must not take that
    // for "blocks the signal" (in_our_handler()). Cleared only if still ours.
    const int self = static_cast<int>(gettid());
    slot.in_handler.store(self, std::memory_order_release);
    // The walk runs before the slot is claimed (it may be withdrawn meanwhile): after the claim
    // only a copy stands between this thread and the capturer.
    unwind::StackTrace own;
    const bool walked = g_handler_unwind.load(std::memory_order_relaxed) && unwind::handler_unwind(&own, context);
    if (walked && slot.word.compare_exchange_strong(expected, word(serial, kCopying), std::memory_order_acquire)) {
      slot.trace.depth = own.depth;
      std::memcpy(slot.trace.pc, own.pc, own.depth * sizeof own.pc[0]);
      slot.word.store(word(serial, kUnwound), std::memory_order_release);
      g_answers.fetch_add(1, std::memory_order_seq_cst);
      if (g_capturer_asleep.load(std::memory_order_seq_cst)) futex_wake(&g_answers);
      note_stop(mono_ns() - start);
    } else if (!walked && slot.word.compare_exchange_strong(expected, word(serial, kCopying), std::memory_order_acquire)) {
      std::memcpy(&slot.context, context, sizeof slot.context);
      slot.word.store(word(serial, kStopped), std::memory_order_release);
      g_answers.fetch_add(1, std::memory_order_seq_cst);
      if (g_capturer_asleep.load(std::memory_order_seq_cst)) futex_wake(&g_answers);
      for (;;) {
        const std::uint32_t w = slot.word.load(std::memory_order_acquire);
        if (w != word(serial, kStopped)) break;  // released, or the slot is another request's now
        const std::int64_t left = kHandlerMaxStopNs - (mono_ns() - start);
        if (left <= 0) {
          // The capturer is late: leave (it sees kIdle and drops what it read).
          std::uint32_t stopped = word(serial, kStopped);
          slot.word.compare_exchange_strong(stopped, word(serial, kIdle), std::memory_order_acq_rel);
          break;
        }
        futex_wait(&slot.word, w, left);
      }
      note_stop(mono_ns() - start);
    }
    int mine = self;
    slot.in_handler.compare_exchange_strong(mine, 0, std::memory_order_acq_rel);
  }
  errno = saved_errno;
}

int parse_stack_signal(const char* v) noexcept {
  const int fallback = SIGRTMAX - 7;
  if (v == nullptr || *v == '\0') return fallback;
  if (std::strcmp(v, "off") == 0 || std::strcmp(v, "0") == 0 || std::strcmp(v, "none") == 0) return 0;
  int base = 0, sign = 1;
  const char* rest = v;
  if (std::strncmp(v, "SIGRTMIN", 8) == 0) {
    base = SIGRTMIN;
    rest = v + 8;
  } else if (std::strncmp(v, "SIGRTMAX", 8) == 0) {
    base = SIGRTMAX;
    rest = v + 8;
  }
  if (base != 0 && *rest == '\0') return base;
  if (base != 0) {
    if (*rest == '-') sign = -1;
    else if (*rest != '+') rest = nullptr;
    if (rest != nullptr) ++rest;
  }
  auto n = rest != nullptr ? base::parse_int64(rest) : std::nullopt;
  const long long sig = n ? base + sign * *n : -1;
  if (sig < SIGRTMIN || sig > SIGRTMAX) {
    base::log_write("LEAKWATCH_STACK_SIGNAL=%s is not a real-time signal (%d..%d); using %d", v, SIGRTMIN,
                    SIGRTMAX, fallback);
    return fallback;
  }
  return static_cast<int>(sig);
}

void fail(StackResult* r, const char* fmt, long a = 0) noexcept {
  r->ok = false;
  r->trace.depth = 0;
  std::snprintf(r->why, sizeof r->why, fmt, a);
  g_failed.fetch_add(1, std::memory_order_relaxed);
}

// signal_blocked() reads the thread's blocked mask (SigBlk: hex, signal N at bit N-1) and whether
// the signal is already pending for it (SigPnd). Unknown counts as not blocked.
bool signal_blocked(int tid, int sig, bool* pending) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  auto mask_of = [&](const char* key) -> unsigned long long {
    const char* at = std::strstr(buf, key);
    return at != nullptr ? std::strtoull(at + std::strlen(key), nullptr, 16) : 0;
  };
  const unsigned long long bit = 1ull << (sig - 1);
  if (pending != nullptr) *pending = (mask_of("\nSigPnd:") & bit) != 0;
  return (mask_of("\nSigBlk:") & bit) != 0;
}

// in_our_handler() says whether `tid` still stands in the handler for an earlier request (the
// signal is blocked there until it returns, which is no reason to call it blocked).
bool in_our_handler(int tid) noexcept {
  for (const Slot& s : g_slots)
    if (s.in_handler.load(std::memory_order_acquire) == tid) return true;
  return false;
}

bool handler_is_ours(int sig) noexcept {
  struct sigaction now {};
  return sigaction(sig, nullptr, &now) == 0 && (now.sa_flags & SA_SIGINFO) != 0 &&
         now.sa_sigaction == on_stack_signal;
}

// Pending is one request of a batch.
struct Pending {
  int tid = 0;
  StackResult* out = nullptr;
  Slot* slot = nullptr;
  std::uint32_t serial = 0;
  bool done = false;
  bool status_checked = false;
};

// ask() sends one request; false (with out filled) when it could not be sent.
bool ask(Pending& p, int sig, std::size_t slot_index) {
  const std::uint32_t serial = (++g_serial) & kSerialMask;
  p.slot = &g_slots[slot_index];
  p.serial = serial;
  p.slot->word.store(word(serial, kRequested), std::memory_order_release);
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = static_cast<int>(serial * kStackSlots + slot_index);
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), p.tid, sig, &info) == 0) return true;
  const int err = errno;
  p.slot->word.store(word(serial, kIdle), std::memory_order_release);
  p.done = true;
  if (err == ESRCH) fail(p.out, "thread exited");
  else fail(p.out, "cannot signal the thread (errno %ld)", err);
  return false;
}

// withdraw() takes back a request the thread has not answered; false when it answered meanwhile.
bool withdraw(Pending& p) {
  std::uint32_t requested = word(p.serial, kRequested);
  return p.slot->word.compare_exchange_strong(requested, word(p.serial, kIdle), std::memory_order_acq_rel);
}

// take_unwound() keeps the stack a thread walked itself; the slot is free again.
void take_unwound(Pending& p) {
  p.out->trace.depth = p.slot->trace.depth;
  std::memcpy(p.out->trace.pc, p.slot->trace.pc, p.slot->trace.depth * sizeof p.slot->trace.pc[0]);
  p.slot->word.store(word(p.serial, kIdle), std::memory_order_release);
  p.done = true;
  p.out->ok = true;
  g_captured.fetch_add(1, std::memory_order_relaxed);
}

// collect() unwinds a stopped thread and lets it go.
void collect(Pending& p) {
  unwind::capture_context_stack(&p.out->trace, &p.slot->context);
  std::uint32_t stopped = word(p.serial, kStopped);
  const bool still_stopped =
      p.slot->word.compare_exchange_strong(stopped, word(p.serial, kReleased), std::memory_order_acq_rel);
  futex_wake(&p.slot->word);
  p.done = true;
  if (!still_stopped) return fail(p.out, "thread resumed before its stack was read");
  p.out->ok = true;
  g_captured.fetch_add(1, std::memory_order_relaxed);
}

void run_batch(Pending* batch, std::size_t n, int sig, std::int64_t timeout_ns) {
  std::size_t sent = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Pending& p = batch[i];
    if (g_blocked_tids.contains(p.tid)) {
      bool pending = false;
      if (signal_blocked(p.tid, sig, &pending) || pending) {
        p.done = true;
        fail(p.out, "thread blocks signal %ld", sig);
        continue;
      }
      g_blocked_tids.erase(p.tid);
    }
    if (ask(p, sig, i)) ++sent;
  }
  const std::int64_t start = mono_ns();
  std::size_t left = sent;
  while (left > 0) {
    const std::uint32_t seen = g_answers.load(std::memory_order_seq_cst);
    bool progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      Pending& p = batch[i];
      if (p.done) continue;
      const std::uint32_t w = p.slot->word.load(std::memory_order_acquire);
      if (w == word(p.serial, kUnwound)) {
        take_unwound(p);
        --left;
        progress = true;
      } else if (w == word(p.serial, kStopped)) {
        collect(p);
        --left;
        progress = true;
      } else if (phase_of(w) == kIdle || serial_of(w) != p.serial) {
        p.done = true;  // the handler gave up on us
        fail(p.out, "thread left the handler early");
        --left;
      }
    }
    if (left == 0 || progress) continue;
    const std::int64_t waited = mono_ns() - start;
    for (std::size_t i = 0; i < n; ++i) {
      Pending& p = batch[i];
      if (p.done || phase_of(p.slot->word.load(std::memory_order_acquire)) != kRequested) continue;
      if (!p.status_checked && waited > 2'000'000 && !in_our_handler(p.tid)) {
        p.status_checked = true;
        // Blocked and still pending: the thread masks it. Blocked but not pending: the signal was
        // delivered and the thread stands at the entry of our handler, preempted before it says
        // so (the handler runs with its signal masked); a loaded machine shows that.
        bool pending = false;
        if (signal_blocked(p.tid, sig, &pending) && pending && !in_our_handler(p.tid) && withdraw(p)) {
          p.done = true;
          fail(p.out, "thread blocks signal %ld", sig);
          g_blocked_tids.insert(p.tid);
          --left;
        }
      } else if (waited > timeout_ns && withdraw(p)) {
        p.done = true;
        fail(p.out, "no answer within %ld ms", static_cast<long>(timeout_ns / 1'000'000));
        --left;
      }
    }
    // Sleep until the next answer (briefly: timeouts and withdrawn requests are polled).
    if (left == 0) break;
    g_capturer_asleep.store(true, std::memory_order_seq_cst);
    if (g_answers.load(std::memory_order_seq_cst) == seen) futex_wait(&g_answers, seen, 200'000);
    g_capturer_asleep.store(false, std::memory_order_relaxed);
  }
}

}  // namespace

// A fork while a capture runs would leave the child's capture lock held for good: fork waits for
// the capture to end instead (a few hundred milliseconds at most; nothing under that lock
// allocates, so a sanitizer that locks its allocator before the fork handlers run cannot deadlock
// with it). The stack cache is not held across fork (its users allocate under its lock): the child
// starts a fresh one.
const bool kCaptureAtFork = [] {
  pthread_atfork([] { g_capture_mu.lock(); }, [] { g_capture_mu.unlock(); },
                 [] {
                   reset_stack_cache_in_child();
                   g_capture_mu.unlock();
                 });
  return true;
}();

void install_stack_signal() noexcept {
  (void)kCaptureAtFork;
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer defers signal handlers to its own safe points and hands them a context saved
  // at delivery, no longer the thread's: stacks of other threads are unavailable in that build.
  return;
#endif
  static std::once_flag once;
  std::call_once(once, [] {
    const int sig = parse_stack_signal(std::getenv("LEAKWATCH_STACK_SIGNAL"));
    if (sig == 0) return;
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0) return;
    if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) {
      base::log_write("signal %d is in use by the program: other threads' stacks are unavailable "
                      "(set LEAKWATCH_STACK_SIGNAL to a free real-time signal)", sig);
      return;
    }
    g_handler_unwind.store(unwind::handler_unwind_ready(), std::memory_order_relaxed);
    struct sigaction sa {};
    sa.sa_sigaction = on_stack_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    if (sigaction(sig, &sa, nullptr) == 0) g_signal.store(sig, std::memory_order_release);
  });
}

int stack_signal() noexcept { return g_signal.load(std::memory_order_acquire); }

void use_handler_unwind(bool on) noexcept {
  install_stack_signal();
  g_handler_unwind.store(on && unwind::handler_unwind_ready(), std::memory_order_relaxed);
}

void capture_thread_stacks(const int* tids, std::size_t n, StackResult* out, std::int64_t timeout_ns) {
  if (n == 0) return;  // nothing to ask: never wait behind another capture for it
  const int self = static_cast<int>(gettid());
  const int sig = stack_signal();
  const bool ours = sig != 0 && handler_is_ours(sig);
  std::lock_guard<std::mutex> lock(g_capture_mu);
  Pending batch[kStackSlots];
  std::size_t used = 0;
  auto flush = [&] {
    run_batch(batch, used, sig, timeout_ns);
    used = 0;
  };
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = StackResult{};
    if (tids[i] == self) {
      unwind::capture_stack(&out[i].trace, 0);
      out[i].ok = true;
      g_captured.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (sig == 0) {
      fail(&out[i], "no stack signal installed");
      continue;
    }
    if (!ours) {
      fail(&out[i], "the program replaced the handler of signal %ld", sig);
      continue;
    }
    batch[used] = Pending{};
    batch[used].tid = tids[i];
    batch[used].out = &out[i];
    if (++used == kStackSlots) flush();
  }
  if (used > 0) flush();
}

StackSignalCounters stack_signal_counters() noexcept {
  StackSignalCounters c;
  c.captured = g_captured.load(std::memory_order_relaxed);
  c.failed = g_failed.load(std::memory_order_relaxed);
  c.longest_stop_ns = g_longest_stop_ns.load(std::memory_order_relaxed);
  return c;
}

}  // namespace lw::os_threads
