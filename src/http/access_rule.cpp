#include "src/http/access_rule.hpp"

#include "src/http/host_rule.hpp"
#include "src/http/response_wire.hpp"

namespace lw::http {

std::optional<Response> refusal(const Request& req, const AccessRule& rule) {
  if (rule.loopback_hosts_only && !req.host.empty() && !is_loopback_host_header(req.host))
    return error_response(403, "forbidden: this server answers only Host names of loopback (127.0.0.1, localhost, [::1])");
  if (!rule.token.empty() && !token_matches(req.authorization, rule.token)) return unauthorized();
  return std::nullopt;
}

Response unauthorized() {
  Response r = error_response(401, "unauthorized: send \"Authorization: Bearer <token>\"");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"leakwatch\"");
  return r;
}

bool token_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  // Fold every byte of the longer input in, so the time taken says nothing about the prefix that
  // matched; only the lengths (not secret in any useful way) shape it.
  const std::size_t expected_len = kScheme.size() + token.size();
  const std::size_t n = authorization.size() > expected_len ? authorization.size() : expected_len;
  unsigned diff = authorization.size() == expected_len ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char want = i < kScheme.size()       ? static_cast<unsigned char>(kScheme[i])
                         : i < expected_len        ? static_cast<unsigned char>(token[i - kScheme.size()])
                                                   : 0;
    unsigned char got = i < authorization.size() ? static_cast<unsigned char>(authorization[i]) : 0;
    if (i < kScheme.size() && got >= 'A' && got <= 'Z') got = static_cast<unsigned char>(got - 'A' + 'a');
    diff |= static_cast<unsigned>(want ^ got);
  }
  return diff == 0 && !token.empty();
}

}  // namespace lw::http
