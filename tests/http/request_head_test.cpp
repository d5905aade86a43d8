// RequestHeadParser under its budgets, fed whole and byte by byte; parse_target; the Host rule.
#include <doctest/doctest.h>

#include <string>

#include "src/http/host_rule.hpp"
#include "src/http/request_head.hpp"

using lw::http::HeadState;
using lw::http::RequestHeadParser;

namespace {

// feed_all() feeds `text` in pieces of `step` bytes; the parser, and how many bytes it used.
RequestHeadParser feed_all(const std::string& text, std::size_t step, std::size_t* used = nullptr,
                           lw::http::HeadLimits limits = {}) {
  RequestHeadParser p(limits);
  std::size_t at = 0;
  while (at < text.size() && p.state() == HeadState::kNeedMore) {
    std::size_t n = p.feed(std::string_view(text).substr(at, step));
    at += n;
    if (n == 0) break;
  }
  if (used != nullptr) *used = at;
  return p;
}

}  // namespace

TEST_CASE("a request head is read the same whole or byte by byte, and the rest is left") {
  const std::string head =
      "\r\nGET /debug/pprof/heap?debug=1 HTTP/1.1\r\nhost: 127.0.0.1:6060\r\nAUTHORIZATION:  Bearer x \r\n"
      "Accept-Encoding: gzip\r\naccept-encoding: br\r\nContent-Length: 3\r\nConnection: keep-alive, Close\r\n"
      "Expect: 100-continue\nX-Other: y\r\n\r\n";
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, head.size() + 10}) {
    std::size_t used = 0;
    RequestHeadParser p = feed_all(head + "abcGET", step, &used);
    REQUIRE_MESSAGE(p.state() == HeadState::kDone, std::string(p.error_text()));
    CHECK(used == head.size());
    const auto& h = p.head();
    CHECK(h.method == "GET");
    CHECK(h.target == "/debug/pprof/heap?debug=1");
    CHECK(h.http11);
    CHECK(h.host == "127.0.0.1:6060");
    CHECK(h.authorization == "Bearer x");
    CHECK(h.accept_encoding == "gzip, br");
    CHECK(h.content_length == 3);
    CHECK(h.connection_close);
    CHECK(h.expect_continue);
  }
}

TEST_CASE("budgets: request line 414, one field or all fields 431, field count 431") {
  CHECK(feed_all("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n", 100).error_status() == 414);
  CHECK(feed_all("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n", 100).error_status() == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 3; ++i) many += "X-Fill: " + std::string(7000, 'f') + "\r\n";
  std::size_t used = 0;
  RequestHeadParser p = feed_all(many, 512, &used);
  CHECK(p.error_status() == 431);
  CHECK(used <= 16 * 1024 + 512);  // refused within one piece of the budget, not at the end
  std::string count = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 65; ++i) count += "X: y\r\n";
  CHECK(feed_all(count, 1000).error_status() == 431);
}

TEST_CASE("malformed heads are 400 (505 for another HTTP version)") {
  CHECK(feed_all("GET / HTTP/1.1\r\n\r\n", 100).error_status() == 400);  // no Host in 1.1
  CHECK(feed_all("GET / HTTP/1.0\r\n\r\n", 100).state() == HeadState::kDone);
  CHECK(feed_all("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 100).error_status() == 505);
  CHECK(feed_all("GET /\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("GET  / HTTP/1.1\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100)
            .error_status() == 400);
  CHECK(feed_all("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 100).error_status() == 400);
  CHECK(feed_all("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 100)
            .error_status() == 400);
}

TEST_CASE("parse_target decodes the path and the query") {
  auto t = lw::http::parse_target("/debug/pprof/%68eap?debug=1&x=a+b%2Bc&flag");
  REQUIRE(t.ok);
  CHECK(t.path == "/debug/pprof/heap");
  CHECK(t.raw_query == "debug=1&x=a+b%2Bc&flag");
  REQUIRE(t.params.size() == 3);
  CHECK(t.params[1].second == "a b+c");
  CHECK(t.params[2].first == "flag");
  CHECK_FALSE(lw::http::parse_target("http://evil/").ok);
  CHECK_FALSE(lw::http::parse_target("/a%2").ok);
  CHECK_FALSE(lw::http::parse_target("/a%00b").ok);
}

TEST_CASE("the Host rule accepts loopback names only") {
  for (const char* ok : {"127.0.0.1", "127.0.0.1:6060", "127.9.8.7:1", "localhost", "LOCALHOST:80", "[::1]",
                         "[::1]:6060"})
    CHECK_MESSAGE(lw::http::is_loopback_host_header(ok), ok);
  for (const char* bad : {"evil.example", "evil.example:6060", "127.0.0.1.evil.example", "localhost.evil",
                          "128.0.0.1", "[::2]:80", "[::1]x", "127.0.0.1:", "127.0.0.1:abc", "0x7f.0.0.1", "",
                          "10.0.0.1:6060"})
    CHECK_MESSAGE(!lw::http::is_loopback_host_header(bad), bad);
  CHECK(lw::http::is_loopback_address("127.0.0.1"));
  CHECK(lw::http::is_loopback_address("::1"));
  CHECK_FALSE(lw::http::is_loopback_address("0.0.0.0"));
}
