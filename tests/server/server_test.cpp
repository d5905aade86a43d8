#include <doctest/doctest.h>

#include "leakwatch/debug_server.hpp"
#include "tests/integration/run_command.hpp"

TEST_CASE("lw::DebugServer starts from code with an address and a token") {
  auto server = lw::DebugServer::start({.address = ":0", .token = "code-token"});
  REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
  auto& s = *server;
  CHECK(s->port() > 0);
  CHECK(s->url() == "http://127.0.0.1:" + std::to_string(s->port()));
  auto denied = lw::test::run_command("curl -s -o /dev/null -w '%{http_code}' " + s->url() + "/debug/vars");
  CHECK(denied.output == "401");
  auto ok = lw::test::run_command("curl -s -H 'Authorization: Bearer code-token' " + s->url() + "/debug/vars");
  CHECK(ok.output.find("\"memstats\"") != std::string::npos);
  s->stop();
  CHECK(lw::auto_debug_server() == nullptr);  // LEAKWATCH_HTTP is not set for the tests

  lw::DebugServerOptions bad_address;
  bad_address.address = "localhost:http";
  auto bad = lw::DebugServer::start(bad_address);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("0 to 65535") != std::string::npos);
  lw::DebugServerOptions no_threads;
  no_threads.threads = 0;
  CHECK_FALSE(lw::DebugServer::start(no_threads).ok());
  lw::DebugServerOptions no_seconds;
  no_seconds.max_profile_seconds = 0;
  CHECK_FALSE(lw::DebugServer::start(no_seconds).ok());
}
