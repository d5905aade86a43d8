// http_service.hpp: the debug server's HTTP transport: cpp-httplib on its own named threads
// ("lw-http" accepts, "lw-http-N" serve), feeding every request to a Router. No httplib type leaves
// this file's .cpp. Thread-safe: start() once, stop() from any thread (idempotent; also run by the
// destructor). Allocates.
#pragma once

#include <memory>
#include <string>

#include "leakwatch/result.hpp"
#include "src/server/listen_address.hpp"
#include "src/server/router.hpp"

namespace lw::server {

struct ServiceOptions {
  ListenAddress address;
  RouterOptions router;   // router.wait is set by the service (interrupted by stop())
  int threads = 4;        // connections served at once; a keep-alive connection holds one
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

  // stop() stops accepting, interrupts delta profiles waiting, and joins every thread.
  void stop();

  struct Impl;

 private:
  explicit HttpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lw::server
