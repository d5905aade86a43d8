// spin_lock.hpp: SpinLock, the lock of a channel. Thread-safe; never allocates, never makes a
// syscall on the uncontended path. A BasicLockable (std::lock_guard / std::unique_lock work).
//
// For critical sections of a few dozen instructions (a channel's queues and buffer): lock is one
// exchange, unlock one release store, against a std::mutex's two atomic read-modify-writes. A
// waiter spins with `pause` on a plain load (no cache-line ping-pong while the holder works) and
// calls sched_yield() every 128 spins, so a holder preempted by the OS on a loaded machine gets
// its core back instead of the waiter burning its whole time slice.
#pragma once

#include <sched.h>

#include <atomic>

namespace lw::rt {

class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 128) {
          __builtin_ia32_pause();
        } else {
          sched_yield();
          spins = 0;
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace lw::rt
