// dump_signal.cpp: see dump_signal.hpp. The writer itself (capture + text) lives in the capture
// layer, which the runtime may not include; it registers with set_dump_writer().
#include "runtime/dump_signal.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/scheduler.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/thread_role.hpp"
#include "src/base/parse.hpp"

namespace lw::rt {
namespace {

int g_pipe[2] = {-1, -1};
std::atomic<void (*)(int)> g_writer{nullptr};
std::atomic<unsigned long> g_dumps{0};

void on_signal(int) {
  int saved = errno;
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

void dump_thread(std::string file) {
  pthread_setname_np(pthread_self(), "lw-dump");
  base::set_thread_role(base::ThreadRole::kInternal);
  base::SelfScope own_memory;  // the dumps' text is leakwatch's memory, not the program's
  for (;;) {
    char b;
    ssize_t n = ::read(g_pipe[0], &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
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
    if (pipe2(g_pipe, O_CLOEXEC) != 0) return;
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
