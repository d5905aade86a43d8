// metrics_target: an idle service for the /metrics load check. Run with LEAKWATCH_HTTP set; prints
// "metrics_target: ready pid=<pid>" and serves until SIGTERM or SIGINT.
#include <leakwatch/leakwatch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>

int main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::printf("metrics_target: ready pid=%d server=%s\n", static_cast<int>(getpid()),
              lw::auto_debug_server() != nullptr ? lw::auto_debug_server()->url().c_str() : "none");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
