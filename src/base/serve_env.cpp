// serve_env.cpp: see serve_env.hpp. Rejected: the first server unsetting LEAKWATCH_HTTP from its
// own environment, so that children find nothing to serve. It breaks `bash -c 'exec prog'` (bash
// reads and removes the variable, then prog, the program the user asked for, has no server) and
// edits the program's environ behind its back. A pid names the process whatever it execs.
#include "src/base/serve_env.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "src/base/log.hpp"
#include "src/base/parse.hpp"

namespace lw::base {
namespace {

const char* non_empty_env(const char* name) noexcept {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

bool serve_pid_is_this_process() noexcept {
  const char* serve_pid = non_empty_env("LEAKWATCH_SERVE_PID");
  if (serve_pid == nullptr) return true;
  auto pid = parse_int64(serve_pid);
  if (!pid || *pid <= 0) {
    static std::atomic<bool> reported{false};  // every start-up path asks; say it once
    if (!reported.exchange(true, std::memory_order_relaxed))
      log_write("LEAKWATCH_SERVE_PID=%s is not a pid; serving as if it were unset", serve_pid);
    return true;
  }
  return *pid == static_cast<long long>(getpid());
}

ServePlan serve_plan_from_environment() noexcept {
  ServePlan plan;
  if (serve_pid_is_this_process()) {
    plan.address = non_empty_env("LEAKWATCH_HTTP");
    return plan;
  }
  plan.address = non_empty_env("LEAKWATCH_CHILD_HTTP");
  plan.descendant = plan.address != nullptr;
  return plan;
}

const char* cpu_profile_path_from_environment() noexcept {
  const char* path = non_empty_env("LEAKWATCH_CPUPROFILE");
  return path != nullptr && serve_pid_is_this_process() ? path : nullptr;
}

bool claim_auto_server() noexcept {
  // Only start-up code (constructors, before main) calls this; a forked child never runs it again.
  static std::atomic<bool> claimed{false};
  return !claimed.exchange(true, std::memory_order_acq_rel);
}

}  // namespace lw::base
