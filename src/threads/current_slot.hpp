// current_slot.hpp: the calling thread's slot, registering the thread on first use when the
// tracker did not see it start (the main thread, threads from before the tracker was loaded,
// threads made with clone). Per-thread; never calls malloc (slots are the table's mmap'd memory).
#pragma once

#include "src/base/contention_event.hpp"
#include "src/threads/thread_table.hpp"
#include "src/threads/wait_profile.hpp"

namespace lw::os_threads {

// current_slot() returns the calling thread's slot, or nullptr when the table is full.
ThreadSlot* current_slot() noexcept;

// WaitScope publishes a wait for its lifetime (ended on return and on unwinding alike: pthread
// cancellation and pthread_exit unwind through the hooks), and reports it to the block profile
// when that is on. Does nothing without a slot.
class WaitScope {
 public:
  WaitScope(WaitKind kind, const void* object, bool timed) noexcept : slot_(current_slot()) {
    if (slot_ != nullptr) begin_wait(slot_, kind, object, timed);
  }
  ~WaitScope() {
    if (slot_ == nullptr) return;
    const std::int64_t since_ns = slot_->wait_since_ns.load(std::memory_order_relaxed);
    end_wait(slot_);
    if (base::block_profile_rate() > 0) [[unlikely]] report_block_wait(since_ns);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  ThreadSlot* slot_;
};

}  // namespace lw::os_threads
