// current_slot.hpp: the calling thread's slot, registering the thread on first use when the
// tracker did not see it start (the main thread, threads from before the tracker was loaded,
// threads made with clone). Per-thread; never calls malloc (slots are the table's mmap'd memory).
#pragma once

#include "src/threads/thread_table.hpp"

namespace lw::os_threads {

// current_slot() returns the calling thread's slot, or nullptr when the table is full.
ThreadSlot* current_slot() noexcept;

// WaitScope publishes a wait for its lifetime (ended on return and on unwinding alike: pthread
// cancellation and pthread_exit unwind through the hooks). Does nothing without a slot.
class WaitScope {
 public:
  WaitScope(WaitKind kind, const void* object, bool timed) noexcept : slot_(current_slot()) {
    if (slot_ != nullptr) begin_wait(slot_, kind, object, timed);
  }
  ~WaitScope() {
    if (slot_ != nullptr) end_wait(slot_);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  ThreadSlot* slot_;
};

}  // namespace lw::os_threads
