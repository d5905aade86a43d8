// thread_role.hpp: how leakwatch's own threads say so. A thread's kernel name is no guide: Linux
// names a new thread after its creator, so a program's thread started from a runtime worker is
// called "lw-worker-0" too. So each of leakwatch's threads declares its role once at start; the
// thread registry (src/threads, which code below it may not include) installs the sink that
// records it. Thread-safe; never allocates.
#pragma once

#include <cstdint>

namespace lw::base {

enum class ThreadRole : std::uint8_t {
  kUser = 0,        // the program's own thread (the default)
  kInternal,        // one of leakwatch's threads: debug server, dump writer, poller
  kRuntimeWorker,   // a worker of leakwatch's task runtime
};

using ThreadRoleSink = void (*)(ThreadRole role) noexcept;

// set_thread_role_sink() installs the function that records a role for the calling thread.
void set_thread_role_sink(ThreadRoleSink sink) noexcept;

// set_thread_role() declares the calling thread's role (a no-op without a sink).
void set_thread_role(ThreadRole role) noexcept;

}  // namespace lw::base
