// mhd_peer: libmicrohttpd configured as one would embed it in a watched program, for the transport
// comparison in docs/http.md ("Choosing the transport"). It serves a fixed /metrics body of the
// size leakwatch's is, and prints the lines the hostile-client suite reads from its fixture, so
//   LW_HOSTILE_TARGET=build/tools/bench/server/mhd_peer build/tests/fixtures/server_basic/server_hostile_test
// runs the same clients against it. Settings: internal epoll thread, 4 worker threads, at most 64
// connections, 32 KiB of memory per connection (headers included), 2 s connection timeout.
// With SERVER_BASIC_OPENS=1 it opens /dev/null every 2 ms and reports failures at exit.
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string g_body;

MHD_Result answer(void*, MHD_Connection* c, const char* url, const char*, const char*, const char*, size_t*,
                  void** state) {
  if (*state == nullptr) {  // first call: headers only
    static int marker;
    *state = &marker;
    return MHD_YES;
  }
  bool metrics = std::strcmp(url, "/metrics") == 0;
  const std::string& text = metrics ? g_body : *new std::string("404 page not found\n");
  MHD_Response* r = MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  MHD_Result rc = MHD_queue_response(c, metrics ? 200 : 404, r);
  MHD_destroy_response(r);
  if (!metrics) delete &text;
  return rc;
}

}  // namespace

int main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  for (int i = 0; i < 60; ++i)
    g_body += "# HELP go_goroutines Number of goroutines that currently exist.\ngo_goroutines " + std::to_string(i) + "\n";
  g_body += "process_start_time_seconds 1.7e9\n";

  std::atomic<bool> opening{std::getenv("SERVER_BASIC_OPENS") != nullptr};
  std::atomic<long> opens{0}, failures{0};
  std::thread opener;
  if (opening)
    opener = std::thread([&] {
      while (opening) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) ++failures;
        else close(fd);
        ++opens;
        usleep(2000);
      }
    });

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr, &answer, nullptr,
      MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_CONNECTION_LIMIT, 64u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(32 * 1024), MHD_OPTION_CONNECTION_TIMEOUT, 2u,
      MHD_OPTION_END);
  if (d == nullptr) {
    std::fprintf(stderr, "mhd_peer: cannot start\n");
    return 1;
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  std::fprintf(stderr, "leakwatch: debug server listening on http://127.0.0.1:%u\n", info->port);
  std::printf("server_basic: ready pid=%d marker=0 server=mhd\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  MHD_stop_daemon(d);
  if (opener.joinable()) {
    opening = false;
    opener.join();
    std::printf("server_basic: opens=%ld open_failures=%ld\n", opens.load(), failures.load());
  }
  return 0;
}
