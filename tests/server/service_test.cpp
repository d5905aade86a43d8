// The HTTP transport on a real socket, read with curl: token, HEAD, size limits, named threads,
// concurrent requests, stop().
#include <doctest/doctest.h>

#include <dirent.h>

#include <fstream>
#include <set>
#include <sstream>

#include "src/server/http_service.hpp"
#include "src/snapshot/codec.hpp"
#include "tests/integration/run_command.hpp"
#include "tests/server/test_snapshot.hpp"

using lw::test::run_command;

namespace {

std::unique_ptr<lw::server::HttpService> start_service(std::string token = {}) {
  lw::server::ServiceOptions o;
  o.router.source = [](lw::server::CaptureDepth) { return lw::server::test::sample_snapshot(); };
  o.router.token = std::move(token);
  auto s = lw::server::HttpService::start(std::move(o));
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
}

TEST_CASE("a busy port is an error, not a crash") {
  auto first = start_service();
  lw::server::ServiceOptions o;
  o.address.port = first->port();
  auto second = lw::server::HttpService::start(std::move(o));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find(std::to_string(first->port())) != std::string::npos);
}
