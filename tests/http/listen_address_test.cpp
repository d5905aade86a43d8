#include <doctest/doctest.h>

#include "src/http/listen_address.hpp"

using lw::http::parse_listen_address;

TEST_CASE("listen addresses default to loopback") {
  auto a = parse_listen_address(":6060");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6060);
  auto b = parse_listen_address("0");
  REQUIRE(b.ok());
  CHECK(b->host == "127.0.0.1");
  CHECK(b->port == 0);
  auto c = parse_listen_address("0.0.0.0:80");
  REQUIRE(c.ok());
  CHECK(c->host == "0.0.0.0");
  auto d = parse_listen_address("[::1]:7000");
  REQUIRE(d.ok());
  CHECK(d->host == "::1");
}

TEST_CASE("bad listen addresses are rejected with the reason") {
  CHECK_FALSE(parse_listen_address("host:").ok());
  CHECK_FALSE(parse_listen_address("host:65536").ok());
  CHECK_FALSE(parse_listen_address("host:-1").ok());
  CHECK_FALSE(parse_listen_address("::1:80").ok());
  auto e = parse_listen_address("localhost:http");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("0 to 65535") != std::string::npos);
}
