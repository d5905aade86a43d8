// mem_counters.hpp: exact allocation counters (MemStats' Mallocs, Frees, TotalAlloc, HeapAlloc),
// kept per thread and merged on read. Thread-safe; never allocates.
//
// Each thread owns one CounterSlot from a fixed table and bumps it with plain relaxed stores (no
// locked instruction on the hot path). Counts are cumulative, so a slot released at thread exit
// keeps its totals and the next thread that claims it adds on top: nothing is lost when threads
// exit. When every slot is owned, threads share slot 0 with atomic adds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/heap/thread_state.hpp"

namespace lw::heap {

struct alignas(64) CounterSlot {
  std::atomic<std::uint64_t> mallocs{0};      // written only by the owner (slot 0: atomic adds)
  std::atomic<std::uint64_t> frees{0};        // idem
  std::atomic<std::uint64_t> alloc_bytes{0};  // usable bytes of every allocation; idem
  std::atomic<std::uint64_t> free_bytes{0};   // usable bytes of every free; idem
  std::atomic<bool> owned{false};             // claimed by a live thread (CAS)
};

inline constexpr std::size_t kCounterSlots = 1024;

// CounterTotals is the sum over every slot.
struct CounterTotals {
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t alloc_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t threads = 0;  // slots owned by live threads (threads that have allocated)
};

// claim_slot() gives the calling thread its slot (slot 0 when the table is full). Allocates
// nothing, but registers a pthread key destructor on first use.
CounterSlot* claim_slot() noexcept;

// read_counters() merges every slot. Concurrent counts may or may not be included.
CounterTotals read_counters() noexcept;

// reset_counter_owners_after_fork() keeps only the calling thread's slot owned (the child has no
// other threads). Call in the fork child.
void reset_counter_owners_after_fork() noexcept;

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n, bool shared) noexcept {
  if (shared)
    c.fetch_add(n, std::memory_order_relaxed);
  else
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// The slot table (slot 0 is shared by threads that have no slot of their own).
extern CounterSlot g_counter_slots[kCounterSlots];
inline CounterSlot* shared_slot() noexcept { return &g_counter_slots[0]; }

// count_alloc() / count_free() add one allocation / free of `usable` bytes for this thread.
inline void count_alloc(std::uint64_t usable) noexcept {
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr) s = claim_slot();
  bool shared = s == shared_slot();
  bump(s->mallocs, 1, shared);
  bump(s->alloc_bytes, usable, shared);
}

inline void count_free(std::uint64_t usable) noexcept {
  CounterSlot* s = tls_heap.slot;
  if (s == nullptr) s = claim_slot();
  bool shared = s == shared_slot();
  bump(s->frees, 1, shared);
  bump(s->free_bytes, usable, shared);
}

}  // namespace lw::heap
