// The HTTP transport on a real socket, read with curl: token, HEAD, size limits, named threads,
// concurrent requests, stop().
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <fstream>
#include <set>
#include <sstream>

#include "src/server/debug_service.hpp"
#include "src/snapshot/codec.hpp"
#include "tests/integration/raw_http.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/server/test_snapshot.hpp"

using lw::test::run_command;

namespace {

std::unique_ptr<lw::http::HttpService> start_service(std::string token = {}) {
  lw::server::ServiceOptions o;
  o.router.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  o.token = std::move(token);
  auto s = lw::server::start_debug_service(std::move(o));
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(*s);
}

std::string status_of(const std::string& curl_args) {
  return run_command("curl -s -o /dev/null -w '%{http_code}' " + curl_args).output;
}

std::set<std::string> thread_names() {
  std::set<std::string> names;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(in, name);
    names.insert(name);
  }
  closedir(dir);
  return names;
}

}  // namespace

TEST_CASE("the service binds loopback on a chosen port and enforces the token") {
  auto service = start_service("tok-123");
  CHECK(service->host() == "127.0.0.1");
  CHECK(service->port() > 0);
  const std::string url = service->url();
  CHECK(url == "http://127.0.0.1:" + std::to_string(service->port()));
  CHECK(status_of("'" + url + "/metrics'") == "401");
  CHECK(status_of("-H 'Authorization: Bearer nope' '" + url + "/metrics'") == "401");
  CHECK(status_of("-H 'Authorization: Bearer tok-123' '" + url + "/metrics'") == "200");
  CHECK(status_of("-X POST -d 0x1 '" + url + "/debug/pprof/symbol'") == "401");
  auto body = run_command("curl -s -H 'Authorization: Bearer tok-123' -d 0x1 '" + url + "/debug/pprof/symbol'");
  CHECK(body.output == "num_symbols: 1\n");
}

TEST_CASE("the service answers HEAD without a body and rejects oversized requests") {
  auto service = start_service();
  const std::string url = service->url();
  auto head = run_command("curl -s -I '" + url + "/metrics'");
  CHECK(head.output.find("HTTP/1.1 200") == 0);
  CHECK(head.output.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(head.output.find("go_goroutines") == std::string::npos);

  CHECK(status_of("-X PUT '" + url + "/metrics'") == "405");
  CHECK(status_of("-X DELETE '" + url + "/debug/pprof/symbol'") == "405");
  CHECK(status_of("-X FOO '" + url + "/metrics'") == "405");  // a well-formed unknown method
  CHECK(status_of("'" + url + "/debug/pprof/heap?debug=9'") == "400");
  CHECK(status_of("'" + url + "/debug/pprof/nope'") == "404");

  std::string dir = lw::test::make_temp_dir("service");
  {
    std::ofstream big(dir + "/big");
    for (int i = 0; i < 20000; ++i) big << "0x1234+";
  }
  CHECK(status_of("--data-binary @'" + dir + "/big' '" + url + "/debug/pprof/symbol'") == "413");
  CHECK(status_of("'" + url + "/debug/pprof/symbol?" + std::string(10000, 'a') + "'") == "414");
  CHECK(status_of("-H 'X-Big: " + std::string(9000, 'b') + "' '" + url + "/metrics'") == "431");
  // Still serving after all that.
  CHECK(status_of("'" + url + "/debug/vars'") == "200");
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("the service runs on named threads and concurrent requests get whole answers") {
  auto service = start_service();
  std::set<std::string> names = thread_names();
  CHECK(names.count("lw-http") == 1);
  CHECK(names.count("lw-http-0") == 1);
  CHECK(names.count("lw-http-3") == 1);
  CHECK(names.count("lw-http-live") == 1);

  const std::string expected = lw::snapshot::encode(lw::server::test::sample_snapshot());
  std::string dir = lw::test::make_temp_dir("concurrent");
  std::ostringstream cmd;
  for (int i = 0; i < 12; ++i)
    cmd << "curl -s -o '" << dir << "/out" << i << "' '" << service->url() << "/debug/leakwatch/snapshot' & ";
  cmd << "wait";
  REQUIRE(run_command(cmd.str()).exit_code == 0);
  for (int i = 0; i < 12; ++i) {
    std::ifstream in(dir + "/out" + std::to_string(i), std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(got == expected);
  }
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("stop() closes the port and joins the threads") {
  auto service = start_service();
  const std::string url = service->url();
  CHECK(status_of("'" + url + "/metrics'") == "200");
  service->stop();
  service->stop();  // idempotent
  CHECK(status_of("'" + url + "/metrics'") == "000");
  CHECK(thread_names().count("lw-http") == 0);
  CHECK(thread_names().count("lw-http-live") == 0);
}

TEST_CASE("a busy port is an error, not a crash") {
  auto first = start_service();
  lw::server::ServiceOptions o;
  o.address.port = first->port();
  auto second = lw::server::start_debug_service(std::move(o));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find(std::to_string(first->port())) != std::string::npos);
}

namespace {

std::string headers_of(const std::string& curl_args) {
  return run_command("curl -s -o /dev/null -D - " + curl_args).output;
}

}  // namespace

TEST_CASE("on loopback only Host names of loopback are served (DNS rebinding)") {
  auto service = start_service();
  REQUIRE(service->loopback());
  const std::string url = "'" + service->url() + "/metrics'";
  const std::string port = std::to_string(service->port());
  CHECK(status_of(url) == "200");
  for (const std::string& host : std::vector<std::string>{"localhost", "localhost:" + port, "127.0.0.1", "127.0.0.1:" + port, "[::1]:" + port})
    CHECK_MESSAGE(status_of("-H 'Host: " + host + "' " + url) == "200", host);
  for (const std::string& host : std::vector<std::string>{"evil.example", "evil.example:" + port, "127.0.0.1.nip.io:" + port})
    CHECK_MESSAGE(status_of("-H 'Host: " + host + "' " + url) == "403", host);
  CHECK(headers_of("-H 'Host: evil.example' " + url).find("X-Content-Type-Options: nosniff") != std::string::npos);
}

TEST_CASE("the bearer scheme is read in any case; the token is exact") {
  auto service = start_service("tok-123");
  const std::string url = "'" + service->url() + "/metrics'";
  CHECK(status_of("-H 'Authorization: bearer tok-123' " + url) == "200");
  CHECK(status_of("-H 'Authorization: BEARER tok-123' " + url) == "200");
  CHECK(status_of("-H 'Authorization: bearer TOK-123' " + url) == "401");
}

TEST_CASE("Accept-Encoding: gzip;q=0 gets the snapshot uncompressed") {
  auto service = start_service();
  const std::string url = "'" + service->url() + "/debug/leakwatch/snapshot'";
  CHECK(headers_of("-H 'Accept-Encoding: gzip' " + url).find("Content-Encoding: gzip") != std::string::npos);
  CHECK(headers_of("-H 'Accept-Encoding: gzip;q=0' " + url).find("Content-Encoding") == std::string::npos);
  CHECK(headers_of("-H 'Accept-Encoding: gzip;q=0, *' " + url).find("Content-Encoding") == std::string::npos);
}

TEST_CASE("every answer carries nosniff, the transport's own errors too") {
  auto service = start_service("tok-123");
  const std::string url = service->url();
  const std::string auth = "-H 'Authorization: Bearer tok-123' ";
  std::string dir = lw::test::make_temp_dir("nosniff");
  {
    std::ofstream big(dir + "/big");
    big << std::string(70000, '1');
  }
  struct Case {
    std::string args;
    const char* status;
  };
  for (const Case& c : std::vector<Case>{
           {"'" + url + "/metrics'", "401"},
           {auth + "--data-binary @'" + dir + "/big' '" + url + "/debug/pprof/symbol'", "413"},
           {auth + "'" + url + "/debug/pprof/symbol?" + std::string(10000, 'a') + "'", "414"},
           {auth + "-H 'X-Big: " + std::string(9000, 'b') + "' '" + url + "/metrics'", "431"},
           {auth + "-H 'Content-Length: abc' '" + url + "/metrics'", "400"},
           {auth + "'" + url + "/nope'", "404"},
       }) {
    std::string h = headers_of(c.args);
    CHECK_MESSAGE(h.find(std::string("HTTP/1.1 ") + c.status) == 0, h);
    CHECK_MESSAGE(h.find("X-Content-Type-Options: nosniff") != std::string::npos, h);
  }
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("POST /symbol takes a form body up to 64 KiB") {
  auto service = start_service();
  std::string dir = lw::test::make_temp_dir("symbol_post");
  {
    std::ofstream body(dir + "/body");
    for (int i = 0; i < 6000; ++i) body << "0x1+";  // 24,000 bytes; curl sends Expect: 100-continue
    body << std::string(65536 - 24000 - 3, '0') << "x1";
  }
  auto r = run_command("curl -s -w ' %{http_code}' -d @'" + dir + "/body' '" + service->url() + "/debug/pprof/symbol'");
  CHECK(r.output == "num_symbols: 1\n 200");
  run_command("rm -rf '" + dir + "'");
}

TEST_CASE("a request not in within the deadline gets 408; an idle connection is closed") {
  lw::server::ServiceOptions o;
  o.router.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  o.limits.request_deadline_ms = 400;
  o.limits.idle_timeout_ms = 300;
  auto s = lw::server::start_debug_service(std::move(o));
  REQUIRE(s.ok());
  const int port = lw::test::port_of((*s)->url());
  // One header byte every 100 ms would take 3 s; the deadline ends it first.
  auto start = std::chrono::steady_clock::now();
  int fd = lw::test::connect_loopback(port);
  REQUIRE(fd >= 0);
  (void)!send(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ", 43, MSG_NOSIGNAL);
  std::string got;
  for (int i = 0; i < 30 && got.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)!send(fd, "a", 1, MSG_NOSIGNAL);
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  CHECK(lw::test::status_of_response(got) == 408);
  CHECK(took < 1.0);
  // Idle: nothing sent, the server closes (recv sees the end) after about idle_timeout_ms.
  fd = lw::test::connect_loopback(port);
  start = std::chrono::steady_clock::now();
  char c;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(recv(fd, &c, 1, 0) == 0);
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(took < 1.0);
  close(fd);
}

TEST_CASE("with every connection being answered, one more is refused at once, not queued") {
  lw::server::ServiceOptions o;
  o.router.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  o.limits.max_connections = 2;
  o.threads = 2;
  auto s = lw::server::start_debug_service(std::move(o));
  REQUIRE(s.ok());
  const int port = lw::test::port_of((*s)->url());
  std::vector<int> busy;
  for (int i = 0; i < 2; ++i) {  // two delta profiles hold both connections for 5 s
    busy.push_back(lw::test::connect_loopback(port));
    const char req[] = "GET /debug/pprof/heap?seconds=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!send(busy.back(), req, sizeof req - 1, MSG_NOSIGNAL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  std::string r = lw::test::exchange(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                     std::chrono::milliseconds(3000));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(lw::test::status_of_response(r) == 503);
  CHECK(r.find("Retry-After: 1") != std::string::npos);
  CHECK(took < 0.5);
  (*s)->stop();  // ends the waiting deltas
  for (int fd : busy) close(fd);
}

namespace {

// loop_cpu_ticks() is the CPU time (clock ticks) the "lw-http" thread of this process has used.
long loop_cpu_ticks() {
  DIR* dir = opendir("/proc/self/task");
  long ticks = -1;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::string base = std::string("/proc/self/task/") + e->d_name;
    std::ifstream comm(base + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name != "lw-http") continue;
    std::ifstream stat(base + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::atol(f.c_str());
      if (i == 15) stime = std::atol(f.c_str());
    }
    ticks = utime + stime;
  }
  closedir(dir);
  return ticks;
}

}  // namespace

TEST_CASE("a client that resets while a worker answers it costs the loop nothing") {
  auto service = start_service();
  const int port = service->port();
  int fd = lw::test::connect_loopback(port);
  REQUIRE(fd >= 0);
  const char req[] = "GET /debug/pprof/heap?seconds=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  linger reset{1, 0};  // close() sends a reset
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(fd);
  const long before = loop_cpu_ticks();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const long used = loop_cpu_ticks() - before;
  CHECK(before >= 0);
  CHECK(used <= 10);  // ticks of 10 ms: a spinning loop would use ~100
  CHECK(status_of("'" + service->url() + "/metrics'") == "200");
}
