// dump_signal.cpp: see dump_signal.hpp. The writer itself (capture + text) lives in the capture
// layer, which the runtime may not include; it registers with set_dump_writer().
//
// Rate. A dump costs a capture of every task and thread and a few KiB to MiB of text, so a signal
// flood (a `while kill -USR1` loop, a supervisor that retries) must not turn into a disk flood: at
// most one dump a second. Signals that arrive inside the second are coalesced into the next dump,
// written when the second is over, so the last request is always answered with a fresh state; its
// header says how many requests it stood for ("skipped N signals"). Rejected: dropping signals that
// come too soon (the user who sends two a moment apart would see the older state only), and a
// bound on the file's size (a long-running program's dumps would then stop for good).
//
// The handler counts (a lock-free atomic) and writes one byte to a non-blocking pipe to wake the
// thread; a full pipe already holds a wake-up, so EAGAIN is ignored and the handler never blocks.
#include "runtime/dump_signal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/scheduler.hpp"
#include "src/base/clock.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/thread_role.hpp"
#include "src/base/parse.hpp"

namespace lw::rt {
namespace {

constexpr long long kMinDumpIntervalNs = 1'000'000'000;

int g_pipe[2] = {-1, -1};
std::atomic<void (*)(int)> g_writer{nullptr};
std::atomic<unsigned long> g_dumps{0};
// Signals received and not yet answered by a dump. Incremented by the handler before it writes its
// wake-up byte; taken (exchanged to 0) by the dump thread after it drains the pipe, so a count is
// never left without a byte behind it.
std::atomic<unsigned long> g_signals{0};
static_assert(std::atomic<unsigned long>::is_always_lock_free);

void on_signal(int) {
  int saved = errno;
  g_signals.fetch_add(1, std::memory_order_relaxed);
  char b = 1;
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &b, 1);
  errno = saved;
}

int parse_signal(const char* s) {
  if (s == nullptr || *s == '\0') return SIGUSR1;
  std::string v(s);
  if (v == "off" || v == "0" || v == "none") return 0;
  if (v.rfind("SIG", 0) == 0) v = v.substr(3);
  if (v == "USR1") return SIGUSR1;
  if (v == "USR2") return SIGUSR2;
  if (v == "QUIT") return SIGQUIT;
  if (v == "HUP") return SIGHUP;
  auto n = base::parse_int64(v);
  if (n && *n > 0 && *n < NSIG) return static_cast<int>(*n);
  base::log_write("LEAKWATCH_DUMP_SIGNAL=%s is not a signal; using SIGUSR1", s);
  return SIGUSR1;
}

long long monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleep_ns(long long ns) noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void drain_pipe() noexcept {
  char buf[256];
  while (::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
}

}  // namespace

std::string dump_header(long long wall_ns, int pid, unsigned long skipped) {
  time_t secs = static_cast<time_t>(wall_ns / 1'000'000'000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  char line[160];
  int n = std::snprintf(line, sizeof line, "leakwatch dump %s.%06lldZ pid %d", stamp,
                        (wall_ns % 1'000'000'000) / 1000, pid);
  std::string header(line, static_cast<std::size_t>(n));
  if (skipped > 0) {
    std::snprintf(line, sizeof line, " (skipped %lu signal%s: at most one dump a second)", skipped,
                  skipped == 1 ? "" : "s");
    header += line;
  }
  return header + "\n\n";
}

namespace {

void dump_thread(std::string file) {
  pthread_setname_np(pthread_self(), "lw-dump");
  base::set_thread_role(base::ThreadRole::kInternal);
  base::SelfScope own_memory;  // the dumps' text is leakwatch's memory, not the program's
  long long last_dump_ns = 0;  // monotonic; 0: none yet
  for (;;) {
    pollfd p{g_pipe[0], POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((p.revents & POLLIN) == 0) return;  // the pipe is gone
    drain_pipe();
    if (g_signals.load(std::memory_order_relaxed) == 0) continue;  // answered by the last dump
    if (last_dump_ns != 0) {
      long long wait = last_dump_ns + kMinDumpIntervalNs - monotonic_ns();
      if (wait > 0) sleep_ns(wait);
      drain_pipe();  // signals of the wait are counted in g_signals: this dump answers them
    }
    unsigned long requests = g_signals.exchange(0, std::memory_order_relaxed);
    if (requests == 0) continue;
    last_dump_ns = monotonic_ns();
    void (*writer)(int) = g_writer.load(std::memory_order_acquire);
    if (writer == nullptr) {
      base::log_write("task dump requested, but this program does not link the dump writer");
      continue;
    }
    int fd = 2;
    if (!file.empty()) {
      fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) {
        base::log_write("cannot open LEAKWATCH_DUMP_FILE %s: %s", file.c_str(), std::strerror(errno));
        continue;
      }
    }
    std::string header = dump_header(base::wall_now_ns(), static_cast<int>(getpid()), requests - 1);
    if (!base::write_all(fd, header.data(), header.size())) base::log_write("cannot write the task dump");
    writer(fd);
    if (fd != 2) ::close(fd);
    g_dumps.fetch_add(1, std::memory_order_release);
  }
}

}  // namespace

void set_dump_writer(void (*writer)(int fd)) noexcept { g_writer.store(writer, std::memory_order_release); }

unsigned long dump_requests() noexcept { return g_dumps.load(std::memory_order_acquire); }

void start_dump_signal_once() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    int sig = parse_signal(std::getenv("LEAKWATCH_DUMP_SIGNAL"));
    if (sig == 0) return;
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) return;
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
    const char* file = std::getenv("LEAKWATCH_DUMP_FILE");
    std::thread(dump_thread, std::string(file ? file : "")).detach();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, nullptr);
  });
}

}  // namespace lw::rt
