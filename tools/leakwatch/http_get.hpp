// http_get.hpp: one HTTP/1.1 GET over a plain TCP connection with a single deadline for all of
// it (resolving a numeric host, connecting, sending, the response head, the whole body) and a cap
// on the body: on the bytes received and, for a gzip body, on the bytes it inflates to (inflate
// stops as soon as the cap is crossed). Content-Length, chunked and read-to-close bodies. The
// CLI's only HTTP client. Thread-safe (no shared state: one call per thread may run at once);
// allocates the response (BodyBuffer) and a few KiB per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "leakwatch/result.hpp"
#include "tools/leakwatch/body_buffer.hpp"

namespace lw::cli {

struct HttpGetOptions {
  std::int64_t timeout_ns = 10'000'000'000;  // the deadline for the whole request, from the call
  std::size_t max_body_bytes = std::size_t{256} << 20;  // received, and once inflated
  std::string bearer_token;                  // "Authorization: Bearer <token>" when not empty
  std::string_view body_name = "response";   // names the body in the cap's error ("snapshot")
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  BodyBuffer body;  // decoded: inflated when the server sent Content-Encoding: gzip
};

// http_get() GETs `path` from `authority` ("host:port", "[::1]:port"; port 80 when absent).
// `Accept-Encoding: gzip` is sent and a gzip body is inflated as it streams in. Errors start with
// the authority and say what happened: "127.0.0.1:6061: connection refused", "...: timed out
// after 2s", "...: malformed HTTP response (...)", "...: snapshot larger than 256 MiB". A non-2xx
// status is not an error here: its body is kept (cut at 4 KiB) for the caller to quote.
Result<HttpResponse> http_get(std::string_view authority, std::string_view path, const HttpGetOptions& options);

// size_text() is "256 MiB", "64 KiB" or "1000 bytes": a cap as a person reads it.
std::string size_text(std::size_t bytes);

}  // namespace lw::cli
