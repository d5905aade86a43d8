// http_service.hpp: an HTTP/1.1 server built to live inside someone else's process: one epoll loop
// thread ("<name>") that accepts, reads and writes every connection without ever blocking on one,
// and a fixed pool of worker threads ("<name>-0".."<name>-N-1") that run the Handler. Every
// resource a client can make it hold has a budget (ServerLimits; docs/http.md lists them). The
// debug server (src/server/debug_service.hpp) and `leakwatch serve` run on it. Thread-safe:
// start() once, stop() from any thread (idempotent; also run by the destructor). Allocates,
// within the budgets; all of it is marked as leakwatch's own work (base::SelfScope).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "leakwatch/result.hpp"
#include "src/http/listen_address.hpp"
#include "src/http/access_rule.hpp"
#include "src/http/http_message.hpp"
#include "src/http/request_head.hpp"

namespace lw::http {

// ServerLimits: what one client, or all of them together, can make the server hold.
struct ServerLimits {
  HeadLimits head;                          // request line 8 KiB (414), header fields 16 KiB / 64 (431)
  std::size_t max_body = 64 * 1024;         // a request body (POST /symbol); more: 413
  int max_connections = 64;                 // open at once; lowered to RLIMIT_NOFILE / 8
  std::int64_t idle_timeout_ms = 2000;      // a connection with no byte of a request in that time
  std::int64_t request_deadline_ms = 10000; // first byte of a request to its last: 408 after
  std::int64_t write_deadline_ms = 10000;   // a whole response written: closed after
  int max_requests_per_connection = 100;
  // max_held_response_bytes: responses built and not yet sent, all connections together. Past it,
  // new requests other than the inline path get 503 until slow readers drain or time out.
  std::size_t max_held_response_bytes = 32 * 1024 * 1024;
};

// Handler answers the requests the transport has read and the access rule let through.
class Handler {
 public:
  virtual ~Handler() = default;
  // handle() runs on the workers, several at once, and must not throw.
  virtual Response handle(const Request& req) = 0;
  // tick() runs every ServiceOptions::tick_every on a thread of its own, never at start.
  virtual void tick() {}
};

// ServiceContext is what a handler may use of the service it runs in.
struct ServiceContext {
  bool loopback = false;  // the listening address is a loopback one
  // wait() blocks up to `seconds`; false when the service is stopping and the request should end.
  std::function<bool(std::int64_t seconds)> wait;
};

struct ServiceOptions {
  ListenAddress address;
  std::string token;  // non-empty: every request needs "Authorization: Bearer <token>" (401)
  int threads = 4;    // worker threads: requests answered at once (1..64)
  ServerLimits limits;
  std::string name = "lw-http";  // the loop thread's name; the workers' are "<name>-<i>"
  // inline_path: the one path answered on the loop thread, never refused for held bytes: it must
  // be cheap (the debug server's /metrics). Empty: none.
  std::string inline_path;
  std::chrono::milliseconds tick_every{0};  // 0: no tick thread
  std::string tick_thread_name;             // the tick thread's name ("<name>-tick" when empty)
  // make_handler builds the handler once the socket is bound.
  std::function<std::unique_ptr<Handler>(const ServiceContext&)> make_handler;
  // describe: what the server is, for the warning logged when it listens beyond loopback
  // without a token ("debug server").
  std::string describe = "server";
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

  // stop() stops accepting, ends every wait() in progress, closes every connection and joins
  // every thread.
  void stop();

  struct Impl;

 private:
  explicit HttpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lw::http
