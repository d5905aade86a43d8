// Clients that try to starve or bloat the debug server of a real program (tests/fixtures/
// server_basic): a header flood, a Range amplification, slow and idle connections while /metrics
// is probed, descriptor exhaustion under a low RLIMIT_NOFILE, pipelined requests. Each case is
// bounded in time, uses loopback only, and prints its figure (docs/http.md quotes them).
//
// LW_HOSTILE_TARGET=program runs the same clients against another program that prints the
// fixture's lines (tools/bench/server/mhd_peer): that is how docs/http.md compares transports.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/integration/fixture_process.hpp"
#include "tests/integration/raw_http.hpp"

using namespace std::chrono_literals;
using lw::test::FixtureProcess;
using Clock = std::chrono::steady_clock;

namespace {

// target() is the program under test: server_basic, or the one LW_HOSTILE_TARGET names.
std::string target() {
  const char* other = std::getenv("LW_HOSTILE_TARGET");
  return other != nullptr && *other != '\0' ? other : LW_SERVER_BASIC;
}

long status_kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

void raise_own_fd_limit(rlim_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

struct Flood {
  std::size_t sent = 0;
  std::string answer;
  double seconds = 0;
};

// flood() sends `prefix`, then header lines of 7,000 bytes until `total` bytes are sent, the
// server ends the connection, or 10 s pass, reading whatever the server answers meanwhile.
Flood flood(int port, const std::string& prefix, std::size_t total) {
  Flood f;
  const auto start = Clock::now();
  int fd = lw::test::connect_loopback(port);
  REQUIRE(fd >= 0);
  std::string block;
  while (block.size() < (1u << 20)) block += "X-Fill: " + std::string(7000, 'f') + "\r\n";
  std::string first = prefix + block;
  std::size_t at = 0;  // position in the block being sent
  bool in_prefix = true;
  char buf[16384];
  while (f.sent < total && Clock::now() - start < 10s) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (poll(&p, 1, 1000) <= 0) break;
    if (p.revents & POLLIN) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      f.answer.append(buf, static_cast<std::size_t>(n));
    }
    if (p.revents & (POLLERR | POLLHUP)) break;
    if (p.revents & POLLOUT) {
      const std::string& src = in_prefix ? first : block;
      ssize_t n = send(fd, src.data() + at, src.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) break;
      f.sent += static_cast<std::size_t>(n);
      at += static_cast<std::size_t>(n);
      if (at == src.size()) {
        at = 0;
        in_prefix = false;
      }
    }
  }
  // Whatever is still to come of the answer.
  while (Clock::now() - start < 12s) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 500) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    f.answer.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return f;
}

// SlowClients holds `n` connections that each send a request head one byte every 2 s, and open a
// new one whenever the server drops theirs, for as long as the object lives.
class SlowClients {
 public:
  SlowClients(int port, int n) : port_(port), fds_(static_cast<std::size_t>(n), -1) {
    for (int& fd : fds_) fd = open_one();
    thread_ = std::thread([this] {
      while (!stop_) {
        for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(100ms);
        for (int& fd : fds_) {
          if (fd < 0 || send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
            if (fd >= 0) close(fd);
            fd = open_one();
            ++reconnects_;
          }
        }
      }
    });
  }
  ~SlowClients() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_)
      if (fd >= 0) close(fd);
  }
  int reconnects() const { return reconnects_; }

 private:
  int open_one() {
    int fd = lw::test::connect_loopback(port_);
    if (fd >= 0) {
      const char head[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      (void)!send(fd, head, sizeof head - 1, MSG_NOSIGNAL);
    }
    return fd;
  }

  int port_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<int> reconnects_{0};
  std::thread thread_;
};

// probe() sends `count` /metrics requests, 100 ms apart, each allowed 1 s; how many got a whole
// 200 answer in time.
int probe(int port, int count) {
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    if (lw::test::probe_metrics(port, 1000ms)) ++ok;
    std::this_thread::sleep_for(100ms);
  }
  return ok;
}

}  // namespace

TEST_CASE("a header flood gets 431 after 16 KiB and the target's memory stays put") {
  for (bool with_token : {false, true}) {
    std::vector<std::string> env{"LEAKWATCH_HTTP=127.0.0.1:0"};
    if (with_token) env.push_back("LEAKWATCH_TOKEN=s3cret");
    FixtureProcess app(target(), {"64"}, env, "server_basic: ready");
    REQUIRE_MESSAGE(app.ok(), app.output());
    const int port = lw::test::port_of(app.url());
    const long rss_before = lw::test::rss_kb(app.pid());
    Flood f = flood(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n", 200u << 20);
    const long hwm_after = status_kb(app.pid(), "VmHWM:");
    const long rss_after = lw::test::rss_kb(app.pid());
    std::printf("header flood (token %s): sent %zu bytes in %.2f s before the server closed; answer %d; "
                "target RSS %ld -> %ld KiB, peak %ld KiB (peak growth %ld KiB)\n",
                with_token ? "set" : "unset", f.sent, f.seconds, lw::test::status_of_response(f.answer),
                rss_before, rss_after, hwm_after, hwm_after - rss_before);
    CHECK(lw::test::status_of_response(f.answer) == 431);
    CHECK(f.answer.find("X-Content-Type-Options: nosniff") != std::string::npos);
    CHECK(hwm_after - rss_before <= 32 * 1024);
    CHECK(lw::test::probe_metrics(port, 1000ms) != with_token);  // still serving (401 with a token)
  }
}

TEST_CASE("a wrong token is refused as soon as its header line is in") {
  FixtureProcess app(target(), {"64"}, {"LEAKWATCH_HTTP=127.0.0.1:0", "LEAKWATCH_TOKEN=s3cret"},
                     "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  Flood f = flood(lw::test::port_of(app.url()),
                  "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n", 200u << 20);
  std::printf("wrong token then a flood: sent %zu bytes before the server closed; answer %d\n", f.sent,
              lw::test::status_of_response(f.answer));
  CHECK(lw::test::status_of_response(f.answer) == 401);
  CHECK(f.answer.find("WWW-Authenticate: Bearer") != std::string::npos);
  CHECK(f.answer.find("X-Content-Type-Options: nosniff") != std::string::npos);
}

TEST_CASE("Range is ignored: 2,000 ranges get the body once") {
  FixtureProcess app(target(), {"64"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const int port = lw::test::port_of(app.url());
  const std::string get = "GET /debug/pprof/heap?debug=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  std::string ranges = "Range: bytes=0-";
  for (int i = 1; i < 2000; ++i) ranges += ",0-";
  std::string plain = lw::test::exchange(port, get + "\r\n", 3000ms);
  std::string ranged = lw::test::exchange(port, get + ranges + "\r\n\r\n", 3000ms);
  std::printf("range amplification: %zu range header bytes; plain answer %zu bytes, ranged answer %zu bytes\n",
              ranges.size(), plain.size(), ranged.size());
  CHECK(lw::test::status_of_response(plain) == 200);
  CHECK(lw::test::status_of_response(ranged) == 200);
  // The heap text changes a little between two captures; an amplified answer would be ~2,000x.
  CHECK(ranged.size() <= plain.size() + 1024);
  CHECK(ranged.find("multipart/byteranges") == std::string::npos);
}

TEST_CASE("slow and idle connections do not keep /metrics from answering") {
  raise_own_fd_limit(2048);
  FixtureProcess app(target(), {"64"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const int port = lw::test::port_of(app.url());
  constexpr int kProbes = 20;
  for (int slow : {8, 64}) {
    SlowClients clients(port, slow);
    std::this_thread::sleep_for(200ms);
    int ok = probe(port, kProbes);
    std::printf("%d slow connections (one header byte per 2 s): %d of %d /metrics probes answered within 1 s "
                "(slow clients reconnected %d times)\n", slow, ok, kProbes, clients.reconnects());
    CHECK(ok * 10 >= kProbes * 9);
  }
  {
    std::vector<int> idle;
    for (int i = 0; i < 500; ++i) idle.push_back(lw::test::connect_loopback(port, true));
    std::this_thread::sleep_for(200ms);
    int ok = probe(port, kProbes);
    std::printf("500 idle sockets: %d of %d /metrics probes answered within 1 s; target holds %d descriptors, "
                "RSS %ld KiB\n", ok, kProbes, lw::test::open_fds(app.pid()), lw::test::rss_kb(app.pid()));
    CHECK(ok * 10 >= kProbes * 9);
    for (int fd : idle)
      if (fd >= 0) close(fd);
  }
}

TEST_CASE("64 connections each holding the most the budgets allow stay under the memory ceiling") {
  FixtureProcess app(target(), {"64"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const int port = lw::test::port_of(app.url());
  REQUIRE(lw::test::probe_metrics(port, 1000ms));  // the server's own first-request allocations
  const long rss_before = lw::test::rss_kb(app.pid());
  // Each: a head just under 16 KiB and a 64 KiB body less one byte, then nothing.
  std::string head = "POST /debug/pprof/symbol HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  head += "X-Fill: " + std::string(7000, 'f') + "\r\nX-Fill: " + std::string(7000, 'f') + "\r\n";
  head += "Authorization: Bearer " + std::string(1500, 'a') + "\r\nContent-Length: 65536\r\n\r\n";
  const std::string body(65535, '1');
  std::vector<int> held;
  for (int i = 0; i < 64; ++i) {
    int fd = lw::test::connect_loopback(port);
    REQUIRE(fd >= 0);
    (void)!send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    (void)!send(fd, body.data(), body.size(), MSG_NOSIGNAL);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(500ms);
  const long rss_after = lw::test::rss_kb(app.pid());
  const long hwm = status_kb(app.pid(), "VmHWM:");
  std::printf("64 connections at their budgets (%zu head + %zu body bytes each): target RSS %ld -> %ld KiB "
              "(+%ld KiB), peak %ld KiB\n", head.size(), body.size(), rss_before, rss_after, rss_after - rss_before,
              hwm);
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer keeps shadow memory for every byte the server touches (about 4x here).
  CHECK(rss_after - rss_before <= 32 * 1024);
#else
  CHECK(rss_after - rss_before <= 8 * 1024);
#endif
  for (int fd : held) close(fd);
}

TEST_CASE("under ulimit -n 256, 400 client sockets never make the program's own open() fail") {
  raise_own_fd_limit(2048);
  FixtureProcess app("/bin/sh", {"-c", "ulimit -n 256 && exec " + target() + " 64"},
                     {"LEAKWATCH_HTTP=127.0.0.1:0", "SERVER_BASIC_OPENS=1"}, "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const int port = lw::test::port_of(app.url());
  std::vector<int> clients;
  int most_fds = 0;
  for (int i = 0; i < 400; ++i) {
    clients.push_back(lw::test::connect_loopback(port, true));
    if (i % 50 == 49) {
      int n = lw::test::open_fds(app.pid());
      most_fds = n > most_fds ? n : most_fds;
    }
  }
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    if (lw::test::probe_metrics(port, 1000ms)) ++ok;
    int n = lw::test::open_fds(app.pid());
    most_fds = n > most_fds ? n : most_fds;
    std::this_thread::sleep_for(100ms);
  }
  for (int fd : clients)
    if (fd >= 0) close(fd);
  CHECK(app.terminate() == 0);
  std::string out = app.output();
  std::printf("ulimit -n 256, 400 client sockets: target held at most %d descriptors; %d of 10 /metrics probes "
              "answered; %s\n", most_fds, ok, out.substr(out.find("server_basic: opens=")).c_str());
  CHECK(out.find("open_failures=0\n") != std::string::npos);
  CHECK(most_fds <= 256 / 8 + 16);
  CHECK(ok >= 9);
}

TEST_CASE("pipelined requests are all answered, in order") {
  FixtureProcess app(target(), {"64"}, {"LEAKWATCH_HTTP=127.0.0.1:0"}, "server_basic: ready");
  REQUIRE_MESSAGE(app.ok(), app.output());
  const std::string r = lw::test::exchange(lw::test::port_of(app.url()),
                                           "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                           "GET /debug/vars HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                           "HEAD /debug/pprof/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                                           3000ms);
  std::size_t first = r.find("HTTP/1.1 200"), second = r.find("HTTP/1.1 200", first + 1),
              third = second == std::string::npos ? second : r.find("HTTP/1.1 200", second + 1);
  std::printf("pipelined: 3 requests in one write, %zu response bytes\n", r.size());
  REQUIRE(third != std::string::npos);
  CHECK(r.find("go_goroutines") < second);
  CHECK(r.find("\"memstats\"", second) < third);
  CHECK(r.find("Content-Type: text/html", third) != std::string::npos);
  CHECK(r.find("<html>", third) == std::string::npos);  // HEAD: no body
}
