// sync.hpp: lw::Mutex and lw::WaitGroup, Go's sync.Mutex and sync.WaitGroup for tasks. Thread-safe;
// never allocate. Blocking parks the calling task (wait reasons "sync.Mutex.Lock",
// "sync.WaitGroup.Wait"); on a plain thread it blocks the thread.
//
// A Mutex is unlocked by the task (or thread) that locked it: the leak proof relies on it (waiters
// on a mutex whose owner exited can never wake). Unlike Go, an unlock from anyone else is reported
// and ignored.
#pragma once

#include <cstdint>

namespace lw {
namespace detail {

struct WaitNode;

// SyncState is the untyped state shared by Mutex and WaitGroup. Guarded by `lock`.
struct SyncState {
  std::uint32_t lock = 0;          // a spin lock held for a few instructions
  std::int64_t count = 0;          // Mutex: 1 when locked; WaitGroup: the counter
  void* owner = nullptr;           // Mutex: the owning task (or thread parker)
  std::uint64_t owner_id = 0;      // Mutex: the owning task's id
  WaitNode* head = nullptr;        // waiters, FIFO
  WaitNode* tail = nullptr;
  void* next_held = nullptr;       // Mutex: next in the owner's list of held mutexes
  bool owner_gone = false;         // Mutex: owner exited while holding it
};

}  // namespace detail

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex();

  // lock() takes the mutex, parking until it is handed over (FIFO, no barging).
  void lock();
  // try_lock() takes the mutex if it is free. Never blocks.
  bool try_lock();
  // unlock() releases it, handing it to the first waiter. Unlocking an unlocked mutex, or one held
  // by someone else, is reported and ignored (Go treats the first as fatal; we never take the
  // watched program down).
  void unlock();

 private:
  detail::SyncState s_;
};

class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // add() adds `n` (may be negative) to the counter; at zero every waiter wakes. Throws SyncError
  // when the counter would go negative (Go panics), leaving it unchanged.
  void add(std::int64_t n);
  void done() { add(-1); }
  // wait() blocks until the counter is zero.
  void wait();

 private:
  detail::SyncState s_;
};

}  // namespace lw
