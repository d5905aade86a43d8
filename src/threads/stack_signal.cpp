// The handshake runs through one 32-bit word, so that the futex can wait on it: the low 3 bits are
// the phase, the rest a token naming the request. The handler acts only on a request whose token
// matches its signal's value and whose phase is kRequested, in one compare-and-swap; a signal that
// arrives late (it was blocked, or the capturer gave up) finds another token or phase and returns
// at once. A capturer that gives up takes its request back with a compare-and-swap too, so exactly
// one of the two sides decides each request's fate.
//
// Rejected: unwinding inside the handler. libunwind's DWARF look-ups take the loader's lock
// (dl_iterate_phdr), which the interrupted thread may hold: the handler would deadlock. A
// frame-pointer walk is safe there but loses most frames of code built without frame pointers
// (Debian's glibc and most distribution binaries). ptrace would stop the whole process and cannot
// attach to threads of its own process. Reading /proc/PID/task/TID/stack gives kernel stacks only.
#include "src/threads/stack_signal.hpp"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/unwind/capture.hpp"

namespace lw::os_threads {
namespace {

enum Phase : std::uint32_t { kIdle = 0, kRequested = 1, kCopying = 2, kStopped = 3, kReleased = 4 };

constexpr std::uint32_t word(std::uint32_t token, Phase p) { return token << 3 | p; }
constexpr Phase phase_of(std::uint32_t w) { return static_cast<Phase>(w & 7u); }

std::atomic<int> g_signal{0};
std::atomic<std::uint32_t> g_word{0};  // the handshake
ucontext_t g_context;                  // written by the handler between kCopying and kStopped
std::atomic<std::int64_t> g_longest_stop_ns{0};
std::atomic<std::uint64_t> g_captured{0};
std::atomic<std::uint64_t> g_failed{0};
std::uint32_t g_next_token = 0;        // guarded by g_capture_mu
std::mutex g_capture_mu;

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

void on_stack_signal(int, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (info != nullptr && info->si_code == SI_QUEUE && info->si_pid == getpid()) {
    const auto token = static_cast<std::uint32_t>(info->si_value.sival_int);
    std::uint32_t expected = word(token, kRequested);
    if (g_word.compare_exchange_strong(expected, word(token, kCopying), std::memory_order_acquire)) {
      const std::int64_t start = mono_ns();
      std::memcpy(&g_context, context, sizeof g_context);
      g_word.store(word(token, kStopped), std::memory_order_release);
      futex_wake(&g_word);
      for (;;) {
        const std::uint32_t w = g_word.load(std::memory_order_acquire);
        if (w == word(token, kReleased)) {
          g_word.store(word(token, kIdle), std::memory_order_release);
          futex_wake(&g_word);
          break;
        }
        const std::int64_t left = kHandlerMaxStopNs - (mono_ns() - start);
        if (left <= 0) {
          // The capturer is late: leave (it will see kIdle and drop what it read).
          std::uint32_t stopped = word(token, kStopped);
          if (g_word.compare_exchange_strong(stopped, word(token, kIdle), std::memory_order_acq_rel)) break;
          continue;  // released just now
        }
        futex_wait(&g_word, w, left);
      }
      const std::int64_t stood = mono_ns() - start;
      std::int64_t longest = g_longest_stop_ns.load(std::memory_order_relaxed);
      while (stood > longest && !g_longest_stop_ns.compare_exchange_weak(longest, stood, std::memory_order_relaxed)) {
      }
    }
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

void fail(char* why, std::size_t size, const char* fmt, long a = 0) noexcept {
  if (why != nullptr && size > 0) std::snprintf(why, size, fmt, a);
  g_failed.fetch_add(1, std::memory_order_relaxed);
}

// signal_blocked() reads the thread's blocked mask from /proc (SigBlk: a hex mask, signal N at bit
// N-1). Unknown counts as not blocked: the timeout still bounds the wait.
bool signal_blocked(int tid, int sig) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return false;
  char line[256];
  bool blocked = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "SigBlk:", 7) != 0) continue;
    const unsigned long long mask = std::strtoull(line + 7, nullptr, 16);
    blocked = (mask >> (sig - 1)) & 1u;
    break;
  }
  std::fclose(f);
  return blocked;
}

}  // namespace

void install_stack_signal() noexcept {
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
    struct sigaction sa {};
    sa.sa_sigaction = on_stack_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    if (sigaction(sig, &sa, nullptr) == 0) g_signal.store(sig, std::memory_order_release);
  });
}

int stack_signal() noexcept { return g_signal.load(std::memory_order_acquire); }

bool capture_thread_stack(int tid, unwind::StackTrace* out, char* why, std::size_t why_size,
                          std::int64_t timeout_ns) noexcept {
  out->depth = 0;
  if (tid == static_cast<int>(gettid())) {
    unwind::capture_stack(out, 0);
    g_captured.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const int sig = stack_signal();
  if (sig == 0) return fail(why, why_size, "no stack signal installed"), false;
  struct sigaction now {};
  if (sigaction(sig, nullptr, &now) != 0 || (now.sa_flags & SA_SIGINFO) == 0 || now.sa_sigaction != on_stack_signal)
    return fail(why, why_size, "the program replaced the handler of signal %ld", sig), false;
  std::lock_guard<std::mutex> lock(g_capture_mu);
  // A thread still leaving this handler for the previous capture has the signal blocked for a few
  // more instructions: look again before calling it blocked.
  for (int look = 0; signal_blocked(tid, sig); ++look) {
    if (look == 3) return fail(why, why_size, "thread blocks signal %ld", sig), false;
    timespec pause{0, 200'000};
    nanosleep(&pause, nullptr);
  }
  const std::uint32_t token = (++g_next_token) & 0x1fffffffu;
  g_word.store(word(token, kRequested), std::memory_order_release);
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = static_cast<int>(token);
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, &info) != 0) {
    const int err = errno;
    g_word.store(word(token, kIdle), std::memory_order_release);
    if (err == ESRCH) return fail(why, why_size, "thread exited"), false;
    return fail(why, why_size, "cannot signal the thread (errno %ld)", err), false;
  }
  const std::int64_t start = mono_ns();
  for (;;) {
    const std::uint32_t w = g_word.load(std::memory_order_acquire);
    if (w == word(token, kStopped)) break;
    const std::int64_t left = timeout_ns - (mono_ns() - start);
    if (left <= 0) {
      std::uint32_t requested = word(token, kRequested);
      if (g_word.compare_exchange_strong(requested, word(token, kIdle), std::memory_order_acq_rel))
        return fail(why, why_size, "no answer within %ld ms", static_cast<long>(timeout_ns / 1'000'000)), false;
      if (phase_of(g_word.load(std::memory_order_acquire)) == kIdle)
        return fail(why, why_size, "thread left the handler early"), false;
      futex_wait(&g_word, g_word.load(std::memory_order_relaxed), 1'000'000);  // copying: nearly done
      continue;
    }
    futex_wait(&g_word, w, left);
  }
  unwind::capture_context_stack(out, &g_context);
  std::uint32_t stopped = word(token, kStopped);
  const bool still_stopped =
      g_word.compare_exchange_strong(stopped, word(token, kReleased), std::memory_order_acq_rel);
  futex_wake(&g_word);
  // Wait for the handler to leave, so the next request cannot meet this one's handler.
  const std::int64_t leave_start = mono_ns();
  while (still_stopped && g_word.load(std::memory_order_acquire) == word(token, kReleased) &&
         mono_ns() - leave_start < kHandlerMaxStopNs)
    futex_wait(&g_word, word(token, kReleased), 1'000'000);
  if (!still_stopped) {
    out->depth = 0;
    return fail(why, why_size, "thread resumed before its stack was read"), false;
  }
  g_captured.fetch_add(1, std::memory_order_relaxed);
  return true;
}

StackSignalCounters stack_signal_counters() noexcept {
  StackSignalCounters c;
  c.captured = g_captured.load(std::memory_order_relaxed);
  c.failed = g_failed.load(std::memory_order_relaxed);
  c.longest_stop_ns = g_longest_stop_ns.load(std::memory_order_relaxed);
  return c;
}

}  // namespace lw::os_threads
