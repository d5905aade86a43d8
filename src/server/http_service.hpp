// http_service.hpp: the debug server's HTTP/1.1 transport: one epoll loop thread ("lw-http")
// that accepts, reads and writes every connection without ever blocking on one, and a fixed pool
// of worker threads ("lw-http-0".."lw-http-N-1") that run the Router. Every resource a client can
// make it hold has a budget (ServerLimits; docs/http.md lists them). Thread-safe: start() once,
// stop() from any thread (idempotent; also run by the destructor). Allocates, within the budgets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "leakwatch/result.hpp"
#include "src/server/listen_address.hpp"
#include "src/server/request_head.hpp"
#include "src/server/router.hpp"

namespace lw::server {

// ServerLimits: what one client, or all of them together, can make the server hold.
struct ServerLimits {
  HeadLimits head;                          // request line 8 KiB (414), header fields 16 KiB / 64 (431)
  std::size_t max_body = kMaxSymbolBody;    // a request body (POST /symbol); more: 413
  int max_connections = 64;                 // open at once; lowered to RLIMIT_NOFILE / 8
  std::int64_t idle_timeout_ms = 2000;      // a connection with no byte of a request in that time
  std::int64_t request_deadline_ms = 10000; // first byte of a request to its last: 408 after
  std::int64_t write_deadline_ms = 10000;   // a whole response written: closed after
  int max_requests_per_connection = 100;
  // max_held_response_bytes: responses built and not yet sent, all connections together. Past it,
  // new requests other than /metrics get 503 until slow readers drain or time out.
  std::size_t max_held_response_bytes = 32 * 1024 * 1024;
};

struct ServiceOptions {
  ListenAddress address;
  RouterOptions router;  // router.wait and router.loopback_hosts_only are set by the service
  int threads = 4;       // worker threads: requests answered at once (1..64)
  ServerLimits limits;
};

class HttpService {
 public:
  // start() binds, then serves on background threads. The bound port is known when it returns.
  static Result<std::unique_ptr<HttpService>> start(ServiceOptions options);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // host() / port() are where it listens (port() is the chosen one when 0 was asked).
  const std::string& host() const;
  int port() const;
  // url() is "http://host:port" (IPv6 hosts in brackets).
  std::string url() const;
  // max_connections() is the connection budget in force (after the RLIMIT_NOFILE cap).
  int max_connections() const;
  // loopback() is true when the listening address is a loopback one (the Host rule applies).
  bool loopback() const;

  // stop() stops accepting, interrupts delta profiles waiting, closes every connection and joins
  // every thread.
  void stop();

  struct Impl;

 private:
  explicit HttpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lw::server
