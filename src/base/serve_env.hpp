// serve_env.hpp: which process of a tree started under the tracker serves HTTP (and takes the
// whole-run CPU profile), decided from the environment. Shared by every start-up path (libleakwatch.so's, the preload's), so they agree.
// Thread-safe; never allocates (reads getenv and getpid only).
//
// LEAKWATCH_HTTP=ADDR alone: this process serves on ADDR (every process that inherits it tries).
// LEAKWATCH_SERVE_PID=N as well (set by `leakwatch run` in the process it execs): only pid N serves
// on ADDR. Any other process serves on LEAKWATCH_CHILD_HTTP if that is set (`run
// --follow-children` sets HOST:0, one ephemeral port each) and otherwise does not serve. A pid
// survives exec, so `bash -c 'exec prog'` still serves from prog, while bash's forked children,
// which inherit LD_PRELOAD and so heap and thread tracking, stay quiet.
#pragma once

namespace lw::base {

struct ServePlan {
  const char* address = nullptr;  // where to listen; nullptr: do not serve
  bool descendant = false;        // a descendant serving on LEAKWATCH_CHILD_HTTP (announces its pid)
};

// serve_plan_from_environment() reads LEAKWATCH_HTTP, LEAKWATCH_SERVE_PID, LEAKWATCH_CHILD_HTTP.
// A malformed LEAKWATCH_SERVE_PID is reported once on stderr and read as "serve here".
ServePlan serve_plan_from_environment() noexcept;

// serve_pid_is_this_process() is true when LEAKWATCH_SERVE_PID is unset (every process that
// inherits the variables acts on them) or names this process. A malformed value is reported once
// on stderr and read as unset.
bool serve_pid_is_this_process() noexcept;

// cpu_profile_path_from_environment() is LEAKWATCH_CPUPROFILE when this process is to take the
// whole-run CPU profile (set, not empty, and serve_pid_is_this_process()), else nullptr.
const char* cpu_profile_path_from_environment() noexcept;

// claim_auto_server() returns true the first time it is called in the process, false after. The
// start-up code calls it before starting a server: when both libleakwatch.so and the preload library
// are loaded (a linked program under `leakwatch run`), this exported symbol binds to one definition,
// so only one of them starts a server.
bool claim_auto_server() noexcept;

}  // namespace lw::base
