// access_rule.hpp: who a server answers, decided before any handler runs: on a loopback address
// only Host names of loopback (host_rule.hpp: the DNS-rebinding defence), and with a token only
// requests that carry "Authorization: Bearer <token>". Pure functions; thread-safe; allocate only
// the answers they return.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/http/http_message.hpp"

namespace lw::http {

struct AccessRule {
  std::string token;                 // non-empty: every path requires the bearer token
  bool loopback_hosts_only = false;  // set by the service when it listens on loopback
};

// refusal() is the answer for a request the rule turns away (403 for a foreign Host, 401 without
// the token), or nothing when the request may be served. A request without Host (HTTP/1.0)
// passes the Host rule: browsers always send one.
std::optional<Response> refusal(const Request& req, const AccessRule& rule);

// unauthorized() is the 401 answer; the transport sends it as soon as a wrong Authorization line
// is read, before the rest of the request.
Response unauthorized();

// token_matches() compares the Authorization header against "Bearer <token>" (the scheme in any
// case, RFC 9110 section 11.1) in time that does not depend on where the tokens differ. An empty
// token never matches.
bool token_matches(std::string_view authorization, std::string_view token);

}  // namespace lw::http
