// The transport with a handler of its own, on a real socket read by curl: what every server built
// on it gets whatever it serves (the access rule, the inline path, the tick thread, thread names).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "src/http/http_service.hpp"

#include <unistd.h>
#include "tests/integration/run_command.hpp"

using lw::test::run_command;

namespace {

struct EchoHandler final : lw::http::Handler {
  std::atomic<int>* ticks;
  explicit EchoHandler(std::atomic<int>* t) : ticks(t) {}
  lw::http::Response handle(const lw::http::Request& req) override {
    lw::http::Response r;
    r.body = req.method + " " + req.path + "\n";
    return r;
  }
  void tick() override { ticks->fetch_add(1); }
};

std::string curl(const std::string& args) { return run_command("curl -s " + args).output; }

bool has_thread_named(const std::string& name) {
  auto r = run_command("cat /proc/" + std::to_string(getpid()) + "/task/*/comm");
  return ("\n" + r.output).find("\n" + name + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("a handler of its own gets the access rule, named threads and its tick") {
  std::atomic<int> ticks{0};
  lw::http::ServiceOptions o;
  o.token = "tok";
  o.threads = 2;
  o.name = "lw-test";
  o.tick_every = std::chrono::milliseconds(50);
  o.make_handler = [&ticks](const lw::http::ServiceContext& c) {
    CHECK(c.loopback);
    CHECK(c.wait);
    return std::make_unique<EchoHandler>(&ticks);
  };
  auto s = lw::http::HttpService::start(std::move(o));
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  const std::string url = (*s)->url();
  CHECK(curl("-o /dev/null -w '%{http_code}' " + url + "/a") == "401");
  CHECK(curl("-H 'Authorization: Bearer tok' " + url + "/a/b") == "GET /a/b\n");
  CHECK(curl("-o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok' -H 'Host: evil.example' " + url + "/") == "403");
  CHECK(curl("-D - -o /dev/null -H 'Authorization: Bearer tok' " + url + "/").find("X-Content-Type-Options: nosniff") !=
        std::string::npos);
  for (int i = 0; i < 100 && ticks.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(ticks.load() >= 2);
  CHECK(has_thread_named("lw-test"));
  CHECK(has_thread_named("lw-test-0"));
  CHECK(has_thread_named("lw-test-1"));
  CHECK(has_thread_named("lw-test-tick"));
  (*s)->stop();
  CHECK_FALSE(has_thread_named("lw-test-tick"));
}

TEST_CASE("a service without a handler is refused at start") {
  lw::http::ServiceOptions o;
  auto s = lw::http::HttpService::start(std::move(o));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("no handler") != std::string::npos);
}
