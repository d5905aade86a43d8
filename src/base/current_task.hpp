// current_task.hpp: the thread-local "current task" slot.
// The runtime writes it at every switch; the heap tracker reads it to attribute an allocation to
// a task. Living in base lets the two modules meet without including each other. Never allocates:
// initial-exec TLS needs no __tls_get_addr call (which may malloc in a dlopen'ed library).
#pragma once

#include <cstdint>

namespace lw::base {

// The running task's id on this thread, 0 on a plain thread. Written only by this thread.
inline thread_local std::uint64_t tls_current_task __attribute__((tls_model("initial-exec"))) = 0;

inline std::uint64_t current_task_id() noexcept { return tls_current_task; }
inline void set_current_task_id(std::uint64_t id) noexcept { tls_current_task = id; }

}  // namespace lw::base
