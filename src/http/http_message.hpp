// http_message.hpp: the request and response the router works on, free of any HTTP library type,
// so every endpoint can be tested without a socket. Plain values; not thread-safe; allocate.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lw::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Request is what the transport parsed. `params` are the decoded query parameters in order (a
// name may repeat); `raw_query` is the undecoded text after '?', which /symbol reads as Go does.
struct Request {
  std::string method;  // "GET", "HEAD", "POST", ...
  std::string path;    // decoded, without the query
  std::vector<std::pair<std::string, std::string>> params;
  std::string raw_query;
  std::string authorization;    // the Authorization header, empty if absent
  std::string accept_encoding;  // the Accept-Encoding header, empty if absent
  std::string body;
  std::string host;  // the Host header, empty if absent (last, so positional initializers keep working)

  // param() returns the first value of `name`, or nullptr when absent.
  const std::string* param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return &v;
    return nullptr;
  }
};

// Response is what the transport writes back. The transport sets Content-Length and drops the
// body for HEAD.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  HeaderList headers;
  std::string body;

  // header() returns the value of `name` (exact case), or "" when absent.
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return {};
  }
};

}  // namespace lw::http
