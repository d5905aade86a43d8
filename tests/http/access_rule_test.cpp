// The access rule every server on the transport applies before its handler: the token, then the
// Host rule on loopback.
#include <doctest/doctest.h>

#include "src/http/access_rule.hpp"

using lw::http::AccessRule;
using lw::http::refusal;
using lw::http::Request;
using lw::http::token_matches;

namespace {

Request get(const char* path, const char* host = "") {
  Request r;
  r.method = "GET";
  r.path = path;
  r.host = host;
  return r;
}

AccessRule rule_of(const char* token, bool loopback_hosts_only) {
  AccessRule rule;
  rule.token = token;
  rule.loopback_hosts_only = loopback_hosts_only;
  return rule;
}

}  // namespace

TEST_CASE("the token guards every path, known or not") {
  AccessRule rule = rule_of("s3cret", false);
  for (const char* path : {"/metrics", "/debug/pprof/", "/nope", "/"}) {
    Request r = get(path);
    auto denied = refusal(r, rule);
    REQUIRE(denied.has_value());
    CHECK(denied->status == 401);
    CHECK(denied->header("WWW-Authenticate").find("Bearer") != std::string::npos);
    for (const char* wrong : {"Bearer wrong!", "Basic s3cret", "Bearer s3cret ", "s3cret"}) {
      r.authorization = wrong;
      CHECK_MESSAGE(refusal(r, rule).has_value(), wrong);
    }
    r.authorization = "Bearer s3cret";
    CHECK_FALSE(refusal(r, rule).has_value());
  }
  CHECK_FALSE(refusal(get("/"), AccessRule{}).has_value());  // no token: open
  CHECK(token_matches("Bearer abc", "abc"));
  CHECK(token_matches("bearer abc", "abc"));  // the scheme in any case
  CHECK(token_matches("BEARER abc", "abc"));
  CHECK_FALSE(token_matches("Bearer ABC", "abc"));  // the token exactly
  CHECK_FALSE(token_matches("Bearer abcd", "abc"));
  CHECK_FALSE(token_matches("Bearer ab", "abc"));
  CHECK_FALSE(token_matches("", "abc"));
  CHECK_FALSE(token_matches("Bearer ", ""));
}

TEST_CASE("a loopback server answers only Host names of loopback") {
  AccessRule rule = rule_of("", true);
  for (const char* host : {"127.0.0.1:8080", "localhost", "[::1]:1", ""}) {
    Request r = get("/", host);
    CHECK_MESSAGE(!refusal(r, rule).has_value(), host);
  }
  for (const char* host : {"evil.example", "127.0.0.1.nip.io:80"}) {
    Request r = get("/", host);
    auto denied = refusal(r, rule);
    REQUIRE_MESSAGE(denied.has_value(), host);
    CHECK(denied->status == 403);
  }
  // The Host rule comes first: a rebinding page learns nothing, not even that a token is needed.
  CHECK(refusal(get("/", "evil.example"), rule_of("t", true))->status == 403);
}
