// capture_heap_profile.cpp (capture module; the file name carries the "capture" prefix the
// layering test classifies modules by).
// Heap profiles written to files: from code (lw::write_heap_profile) and on a signal.
//
// The signal path: LEAKWATCH_HEAP_PROFILE_SIGNAL (a number or a name such as SIGUSR2) and
// LEAKWATCH_HEAP_PROFILE_FILE (a path; "%p" becomes the pid and "%n" a sequence number) are read
// once at start-up (LEAKWATCH_HEAP_PROFILE_DEBUG=1 writes Go's legacy text instead). The handler only writes one byte to a pipe (async-signal-safe); a thread
// started at start-up reads the pipe and does the work (capture, symbolization, protobuf, gzip all
// allocate and take locks, so none of it may run in the handler). Rejected: capturing in the
// handler (deadlocks when the signal lands inside malloc or the symbolizer), and sigwait on a
// dedicated thread (needs the signal blocked in every other thread, which a preloaded library
// cannot arrange for threads the program creates).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include "leakwatch/heap.hpp"
#include "src/base/log.hpp"
#include "src/base/parse.hpp"
#include "src/heap/hook_guard.hpp"
#include "src/profile/gzip.hpp"
#include "src/profile/heap_text.hpp"
#include "src/profile/pprof_builder.hpp"
#include "src/snapshot/capture.hpp"

namespace lw {
namespace {

Result<void> write_file_atomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = base::write_all(fd, data.data(), data.size());
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp.c_str());
    return make_error("cannot write " + tmp + ": " + std::strerror(saved));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return make_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
  return {};
}

int g_pipe[2] = {-1, -1};
int g_debug = 0;  // LEAKWATCH_HEAP_PROFILE_DEBUG; written once at start-up
std::string* g_path_pattern = nullptr;  // written once at start-up, before the thread starts

void on_signal(int) {
  int saved = errno;
  char b = 1;
  [[maybe_unused]] ssize_t n = write(g_pipe[1], &b, 1);
  errno = saved;
}

std::string expand(const std::string& pattern, unsigned long seq) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      char c = pattern[i + 1];
      if (c == 'p') {
        out += std::to_string(getpid());
        ++i;
        continue;
      }
      if (c == 'n') {
        out += std::to_string(seq);
        ++i;
        continue;
      }
    }
    out += pattern[i];
  }
  return out;
}

void* profile_thread(void*) {
  unsigned long seq = 0;
  while (true) {
    char b;
    ssize_t n = read(g_pipe[0], &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    std::string path = expand(*g_path_pattern, seq++);
    Result<void> r = write_heap_profile(path, g_debug);
    if (r)
      base::log_write("heap profile written to %s", path.c_str());
    else
      base::log_write("heap profile: %s", r.error().message.c_str());
  }
}

int parse_signal(const char* s) {
  std::string_view v(s);
  if (auto n = base::parse_int64(v); n && *n > 0 && *n < NSIG) return static_cast<int>(*n);
  if (v.substr(0, 3) == "SIG") v.remove_prefix(3);
  struct Named {
    const char* name;
    int sig;
  };
  static const Named kNames[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP},
                                 {"PROF", SIGPROF}, {"URG", SIGURG},   {"WINCH", SIGWINCH}};
  for (const Named& n : kNames)
    if (v == n.name) return n.sig;
  return 0;
}

// Start-up (after the heap tracker's own constructor): arm the signal if asked to.
__attribute__((constructor(110))) void heap_profile_signal_start() {
  const char* sig_env = std::getenv("LEAKWATCH_HEAP_PROFILE_SIGNAL");
  if (sig_env == nullptr || *sig_env == '\0') return;
  heap::UntrackedScope untracked;
  int sig = parse_signal(sig_env);
  if (sig == 0) {
    base::log_write("LEAKWATCH_HEAP_PROFILE_SIGNAL=%s is not a signal; heap profiles on signal are off", sig_env);
    return;
  }
  if (const char* d = std::getenv("LEAKWATCH_HEAP_PROFILE_DEBUG"))
    if (auto v = base::parse_int64(d); v && *v > 0) g_debug = 1;
  const char* file = std::getenv("LEAKWATCH_HEAP_PROFILE_FILE");
  g_path_pattern = new std::string(file != nullptr && *file != '\0' ? file : "leakwatch-heap.%p.%n.pb.gz");
  if (pipe2(g_pipe, O_CLOEXEC) != 0) {
    base::log_write("heap profile signal: pipe: %s", std::strerror(errno));
    return;
  }
  pthread_t t;
  if (pthread_create(&t, nullptr, profile_thread, nullptr) != 0) {
    base::log_write("heap profile signal: cannot start its thread");
    return;
  }
  pthread_detach(t);
  pthread_setname_np(t, "lw-heapprof");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0)
    base::log_write("heap profile signal: sigaction: %s", std::strerror(errno));
}

}  // namespace

Result<void> write_heap_profile(const std::string& path, int debug) {
  heap::UntrackedScope untracked;
  snapshot::CaptureOptions options;
  options.tasks = false;
  snapshot::Snapshot s = snapshot::capture_snapshot(options);
  if (debug > 0) {
    std::ostringstream text;
    profile::write_heap_text(text, s);
    return write_file_atomically(path, text.str());
  }
  std::string pb = profile::heap_pprof(s, profile::HeapView::kInuse);
  return write_file_atomically(path, profile::gzip(pb));
}

}  // namespace lw
