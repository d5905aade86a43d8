// Starting from a constructor lets an unmodified program get a server by environment alone
// (LEAKWATCH_HTTP with LD_PRELOAD, or any program linked with libleakwatch.so). The umbrella
// library links this object whole, so the constructor runs even though nothing references it.
//
// The environment is read once, here. A bad value or a port in use is reported on stderr and the
// program carries on without a server: a debugging aid must never stop the program it watches.
// The server is stopped from an atexit handler (registered after it starts, so it runs before the
// atexit handlers and static destructors registered earlier), which joins its threads before the
// process tears down what they read.
#include <cstdlib>
#include <memory>

#include "leakwatch/debug_server.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/parse.hpp"

namespace lw {
namespace {

// The auto-started server. Written once by the constructor (before main, single-threaded) and
// reset by the atexit handler.
DebugServer* g_auto_server = nullptr;

void stop_auto_server() {
  base::SelfScope self;
  if (g_auto_server != nullptr) g_auto_server->stop();
}

__attribute__((constructor)) void start_from_environment() {
  const char* address = std::getenv("LEAKWATCH_HTTP");
  if (address == nullptr || *address == '\0') return;
  base::SelfScope self;  // the server's memory is leakwatch's, though this is the program's thread
  DebugServerOptions options;
  options.address = address;
  if (const char* token = std::getenv("LEAKWATCH_TOKEN")) options.token = token;
  if (const char* threads = std::getenv("LEAKWATCH_HTTP_THREADS")) {
    auto n = base::parse_int64(threads);
    if (!n || *n < 1 || *n > 64) {
      base::log_write("LEAKWATCH_HTTP_THREADS=%s: must be a number from 1 to 64; using %d", threads,
                      options.threads);
    } else {
      options.threads = static_cast<int>(*n);
    }
  }
  auto server = DebugServer::start(options);
  if (!server) {
    base::log_write("debug server not started: LEAKWATCH_HTTP=%s: %s", address, server.error().message.c_str());
    return;
  }
  g_auto_server = server->release();
  base::log_write("debug server listening on %s%s", g_auto_server->url().c_str(),
                  options.token.empty() ? "" : " (bearer token required)");
  std::atexit(stop_auto_server);
}

}  // namespace

DebugServer* auto_debug_server() { return g_auto_server; }

}  // namespace lw
