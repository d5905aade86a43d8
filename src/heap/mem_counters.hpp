// mem_counters.hpp: exact allocation counters (MemStats' Mallocs, Frees, TotalAlloc, HeapAlloc),
// kept per thread and merged on read. Thread-safe; never allocates.
//
// Each thread owns one CounterSlot from a fixed table and bumps it with one unlocked add per
// counter (owner_add: the owner is the only writer). Counts are cumulative, so a slot released at
// thread exit keeps its totals and the next thread that claims it adds on top: nothing is lost
// when threads exit. When every slot is owned, threads share slot 0 with atomic adds, on the
// out-of-line count_slow() path: the hooks' inline path only handles a thread's own slot.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/base/self_scope.hpp"
#include "src/heap/thread_state.hpp"

namespace lw::heap {

struct alignas(64) CounterSlot {
  std::atomic<std::uint64_t> mallocs{0};      // written only by the owner (slot 0: atomic adds)
  std::atomic<std::uint64_t> frees{0};        // idem
  std::atomic<std::uint64_t> alloc_bytes{0};  // usable bytes of every allocation; idem
  std::atomic<std::uint64_t> free_bytes{0};   // usable bytes of every free; idem
  // Leakwatch's own blocks (allocated or freed under base::SelfScope), counted apart; idem.
  std::atomic<std::uint64_t> self_alloc_bytes{0};
  std::atomic<std::uint64_t> self_free_bytes{0};
  std::atomic<bool> owned{false};             // claimed by a live thread (CAS)
};

inline constexpr std::size_t kCounterSlots = 1024;

// CounterTotals is the sum over every slot.
struct CounterTotals {
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t alloc_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t self_alloc_bytes = 0;
  std::uint64_t self_free_bytes = 0;
  std::uint64_t threads = 0;  // slots owned by live threads (threads that have allocated)
};

// claim_slot() gives the calling thread a slot of its own (tls_heap.slot), or marks it as
// counting in the shared slot 0 when the table is full (tls_heap.on_shared_slot). Allocates
// nothing, but registers a pthread key destructor on first use.
void claim_slot() noexcept;

// read_counters() merges every slot. Concurrent counts may or may not be included.
CounterTotals read_counters() noexcept;

// reset_counter_owners_after_fork() keeps only the calling thread's slot owned (the child has no
// other threads). Call in the fork child.
void reset_counter_owners_after_fork() noexcept;

// owner_add() adds n to a counter that only the calling thread writes. On x86-64 it is one
// unlocked `add` to memory: readers on other threads see the old or the new value (an aligned
// 8-byte store is atomic), and a signal handler interrupting its own thread cannot fall between a
// load and a store. Elsewhere (and under TSan, which must see the accesses) a relaxed load+store.
inline void owner_add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
  static_assert(sizeof(c) == sizeof(std::uint64_t));
  asm("addq %1, %0" : "+m"(*reinterpret_cast<std::uint64_t*>(&c)) : "er"(n));
#else
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
}

// count_slow() is the out-of-line part of count_alloc/count_free: claims a slot for a thread
// that has none, or adds to the shared slot 0 with atomic adds.
void count_slow(bool is_free, std::uint64_t usable) noexcept;

// count_self() adds one of leakwatch's own allocations (or frees) to slot s: never the
// program's figures. Out of line.
void count_self(CounterSlot* s, bool is_free, std::uint64_t usable) noexcept;

// count_alloc() / count_free() add one allocation / free of `usable` bytes for this thread (to
// the self figures inside a base::SelfScope).
inline void count_alloc(std::uint64_t usable) noexcept {
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr || base::in_self_work()) [[unlikely]]
    return count_slow(false, usable);
  owner_add(s->mallocs, 1);
  owner_add(s->alloc_bytes, usable);
}

inline void count_free(std::uint64_t usable) noexcept {
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr || base::in_self_work()) [[unlikely]]
    return count_slow(true, usable);
  owner_add(s->frees, 1);
  owner_add(s->free_bytes, usable);
}

}  // namespace lw::heap
