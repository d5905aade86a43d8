// debug_service.hpp: the debug server: the Router (every endpoint) on the HTTP transport, with
// the transport's access rule, /metrics answered on its loop thread, and the live page's history
// sampled every 10 s on a thread of its own ("lw-http-live"). Threads: 2 + `threads`.
#pragma once

#include <memory>
#include <string>

#include "leakwatch/result.hpp"
#include "src/http/http_service.hpp"
#include "src/http/listen_address.hpp"
#include "src/server/router.hpp"

namespace lw::server {

struct ServiceOptions {
  http::ListenAddress address;
  std::string token;    // non-empty: every path requires "Authorization: Bearer <token>"
  RouterOptions router;  // router.wait is set by the service
  int threads = 4;       // worker threads: requests answered at once (1..64)
  http::ServerLimits limits;
};

// start_debug_service() binds and serves on background threads; the port is known when it returns.
Result<std::unique_ptr<http::HttpService>> start_debug_service(ServiceOptions options);

}  // namespace lw::server
