// scheduler.hpp: the runtime: workers, run queues, parking, timers, the poller and the registry.
// Thread-safe. The switch path (park, wake, run) never allocates; spawn allocates only to intern
// a new label set.
//
// Internal API for the primitives (chan.cpp, sync.cpp) and for capture: a waiting party is a
// Parker; a primitive enqueues the Parker under its own lock, then calls wait(); a waker that
// dequeues it calls claim() and, if it won, wake().
#pragma once

#include <cstdint>
#include <vector>

#include "leakwatch/task_info.hpp"
#include "runtime/task.hpp"

namespace lw::rt {

// current_task_ptr() is the running task on this thread, or null on a plain thread.
Task* current_task_ptr() noexcept;
// current_parker() is the Parker of the calling task or plain thread.
Parker* current_parker() noexcept;

// begin_wait() resets the caller's parker for a new wait. Call before enqueueing it anywhere.
void begin_wait(Parker* p) noexcept;
// unpublish_blocked() ends a published "blocked forever" state (odd block_seq), once.
inline void unpublish_blocked(Task* t) noexcept {
  std::uint64_t s = t->block_seq.load(std::memory_order_acquire);
  if (s & 1) t->block_seq.compare_exchange_strong(s, s + 1, std::memory_order_seq_cst);
}
// claim() makes the caller the one waker of `p`'s current wait; false if someone else was first.
// A claimed task is no longer blocked: its published wait set is withdrawn at once, before the
// waker releases the primitive's lock, so a leak proof never sees a woken task as blocked.
inline bool claim(Parker* p) noexcept {
  bool expected = false;
  if (!p->claimed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
  if (p->task) unpublish_blocked(p->task);
  return true;
}
// wake() resumes the party of a parker the caller claimed, reporting `fired` to it.
void wake(Parker* p, int fired) noexcept;
// wait() blocks the caller until woken, or until `deadline_ns` (monotonic, base::now_ns(); < 0 =
// none) or shutdown; returns Parker::fired. Tasks park with `reason`/`object` in the registry.
int wait(Parker* p, WaitReason reason, const void* object, std::int64_t deadline_ns) noexcept;

// publish_blocked() records that the current task is about to block forever on these channels
// (for the leak proof); clear_blocked() withdraws it after the wait.
void publish_blocked(Task* t, void* const* chans, int n) noexcept;
void clear_blocked(Task* t) noexcept;

// owner_of() is the task whose stack slot holds `addr`, or null (heap, globals, plain threads).
Task* owner_of(const void* addr) noexcept;

// runtime_active() is true while run() is running.
bool runtime_active() noexcept;
// stopping() is true once run()'s main task returned (leak proofs stop then).
bool stopping() noexcept;

// kick_timers() makes the poller re-read the clock now (tests advancing a ManualClock).
void kick_timers() noexcept;

// fd waits through the poller.
Result<void> wait_fd(int fd, bool writable);

// registry_snapshot() copies every live task's record (what lw::tasks() returns). The registry is
// held in short batches; `longest_hold_ns`, when given, receives the longest (what a spawn or an
// exit may have waited).
std::vector<TaskInfo> registry_snapshot(std::int64_t* longest_hold_ns = nullptr);

struct StackStats {
  std::uint64_t inuse = 0;
  std::uint64_t sys = 0;
  std::uint64_t tasks = 0;
};
StackStats stack_stats() noexcept;

// set_dump_writer() sets what the dump signal runs (writes the full dump to fd). Set by the capture
// layer, which the runtime may not call directly.
void set_dump_writer(void (*writer)(int fd)) noexcept;

// leaked_total() counts tasks ever proven leaked; add_leaked() is called by the proof.
std::uint64_t leaked_total() noexcept;
void add_leaked(std::uint64_t n) noexcept;

// mark_leaked() marks `t` leaked for `reason` (a static string) with a detail value. Returns true
// the first time. Also marks the waiters of mutexes `t` holds.
bool mark_leaked(Task* t, const char* reason, std::uint64_t detail) noexcept;

}  // namespace lw::rt
