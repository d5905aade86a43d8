// sync_internal.hpp: what the scheduler needs from the mutex code (sync.cpp). Thread-safe.
#pragma once

#include "leakwatch/sync.hpp"
#include "runtime/task.hpp"

namespace lw::detail {

// WaitNode is one waiter on a Mutex or WaitGroup; lives on the waiter's stack. Guarded by the
// SyncState's lock.
struct WaitNode {
  rt::Parker* parker = nullptr;
  WaitNode* next = nullptr;
  bool queued = false;
  std::int64_t since_ns = 0;  // monotonic, when queued while the mutex profile was on; else 0
};

}  // namespace lw::detail

namespace lw::rt {

// release_held_mutexes() runs when task `t` exits: every mutex it still holds can never be
// unlocked, so its waiters (now and later) are marked leaked.
void release_held_mutexes(Task* t) noexcept;
// mark_waiters_of_held_mutexes() marks leaked the waiters of every mutex held by leaked task `t`.
void mark_waiters_of_held_mutexes(Task* t) noexcept;
// prove_lock_cycle() follows `t` (parked on a lw::Mutex, its ctx_busy held by the caller) to the
// mutex's owner, what that owner waits for, and so on; a chain that closes into a cycle of parked
// tasks is a deadlock, and every task on the cycle is marked leaked. Returns whether `t` was
// marked. Never blocks (it gives up on a task it cannot pin); never allocates.
bool prove_lock_cycle(Task* t) noexcept;

}  // namespace lw::rt
