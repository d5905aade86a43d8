// debug_server.hpp: lw::DebugServer, the HTTP endpoint that serves this process's profiles the way
// Go's net/http/pprof does (/debug/pprof/*), plus /metrics (Prometheus), /debug/vars (expvar) and
// /debug/leakwatch/snapshot. See docs/http.md for every endpoint.
//
// Thread-safe: start() and stop() may be called from any thread. The server runs on its own named
// threads ("lw-http", "lw-http-N") and allocates there, never on the caller's hot paths.
//
// Setting LEAKWATCH_HTTP=host:port (and optionally LEAKWATCH_TOKEN) starts one automatically at
// program start in any program linked with leakwatch or preloaded with libleakwatch_preload.so.
#pragma once

#include <memory>
#include <string>

#include "leakwatch/result.hpp"

namespace lw {

struct DebugServerOptions {
  // address is "host:port", ":port" or "port"; the host defaults to 127.0.0.1 (loopback only).
  // Port 0 lets the system pick a free port (read it back with DebugServer::port()).
  std::string address = "127.0.0.1:0";
  // token, when not empty, is required on every request as "Authorization: Bearer <token>".
  std::string token;
  // threads is how many requests are answered at once (the worker threads "lw-http-N"). Open
  // connections are budgeted apart from it (at most 64, and at most RLIMIT_NOFILE / 8): an idle or
  // slow connection holds no thread.
  int threads = 4;
  // max_profile_seconds bounds ?seconds=N of delta profiles (at least 1).
  int max_profile_seconds = 300;
};

class DebugServer {
 public:
  // start() binds the address and serves in the background. Errors: the address does not parse, or
  // cannot be bound (in use, not local).
  static Result<std::unique_ptr<DebugServer>> start(const DebugServerOptions& options = {});

  // ~DebugServer() stops the server (see stop()).
  ~DebugServer();
  DebugServer(const DebugServer&) = delete;
  DebugServer& operator=(const DebugServer&) = delete;

  // port() is the port it listens on (the chosen one when 0 was asked).
  int port() const;
  // url() is "http://host:port", e.g. "http://127.0.0.1:6060".
  std::string url() const;

  // stop() stops accepting connections, ends requests waiting on a delta profile, and returns when
  // every server thread has finished. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit DebugServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// auto_debug_server() is the server started from LEAKWATCH_HTTP, or nullptr when none was asked
// for or it could not start (the reason was printed to stderr).
DebugServer* auto_debug_server();

}  // namespace lw
