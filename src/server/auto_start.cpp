// Starting from a constructor lets an unmodified program get a server by environment alone
// (LEAKWATCH_HTTP with LD_PRELOAD, or any program linked with libleakwatch.so). The umbrella
// library links this object whole, so the constructor runs even though nothing references it.
//
// The environment is read once, here (which process of a tree serves: src/base/serve_env.hpp). A
// bad value or a port in use is reported on stderr and the program carries on without a server: a
// debugging aid must never stop the program it watches. The same object is in libleakwatch.so and in
// the server companion that the preload library loads (docs/architecture.md); when both are loaded,
// base::claim_auto_server() lets one of them start.
// The server is stopped from an atexit handler (registered after it starts, so it runs before the
// atexit handlers and static destructors registered earlier), which joins its threads before the
// process tears down what they read.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "leakwatch/debug_server.hpp"
#include "src/base/log.hpp"
#include "src/base/self_scope.hpp"
#include "src/base/parse.hpp"
#include "src/base/serve_env.hpp"
#include "src/cpu/contention_profile.hpp"

namespace lw {
namespace {

// The auto-started server. Written once by the constructor (before main, single-threaded) and
// reset by the atexit handler.
DebugServer* g_auto_server = nullptr;

void stop_auto_server() {
  base::SelfScope self;
  if (g_auto_server != nullptr) g_auto_server->stop();
}

// process_comm() is the kernel's name of this process (/proc/self/comm), "?" if unreadable.
std::string process_comm() {
  char buf[64] = {};
  int fd = ::open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? ::read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) ::close(fd);
  if (n <= 0) return "?";
  std::string comm(buf, static_cast<std::size_t>(n));
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

__attribute__((constructor)) void start_from_environment() {
  cpu::contention_from_environment();  // the profiles' rates, served or not
  const base::ServePlan plan = base::serve_plan_from_environment();
  if (plan.address == nullptr || !base::claim_auto_server()) return;
  const char* address = plan.address;
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
    base::log_write("debug server not started: %s=%s: %s", plan.descendant ? "LEAKWATCH_CHILD_HTTP" : "LEAKWATCH_HTTP",
                    address, server.error().message.c_str());
    return;
  }
  g_auto_server = server->release();
  const char* token_note = options.token.empty() ? "" : " (bearer token required)";
  if (plan.descendant) {  // one line per process of the tree: say which
    base::log_write("pid %d (%s) serving %s%s", static_cast<int>(getpid()), process_comm().c_str(),
                    g_auto_server->url().c_str(), token_note);
  } else {
    base::log_write("debug server listening on %s%s", g_auto_server->url().c_str(), token_note);
  }
  std::atexit(stop_auto_server);
}

}  // namespace

// lw_debug_server_anchor marks a process that has the server linked in (libleakwatch.so): the
// preload library looks it up before loading its server companion, and loads nothing if it is there.
extern "C" __attribute__((visibility("default"))) void lw_debug_server_anchor() {}

DebugServer* auto_debug_server() { return g_auto_server; }

}  // namespace lw
