// stack_pool.hpp: task stacks, reserved in large arenas and reused. Thread-safe (a mutex around
// the free list, taken once per slot or once per batch of slots; lookups are lock-free). acquire() never calls mmap except when an arena is full
// (one mmap per kSlotsPerArena stacks); pages are committed by the kernel only when touched, so a
// parked task costs about one page of RSS whatever its reserved size.
//
// Slot layout, low to high: [gap page][usable stack ... ][task-owned area: closure + Task]. The
// gap is never touched; for the first kGuardedSlots slots it is PROT_NONE (a real guard page). A
// guard for every stack would cost two memory mappings each and hit vm.max_map_count (65530) at
// ~32k tasks, so the rest rely on the zero canary at the bottom of the usable stack, checked at
// every switch (docs/runtime.md).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace lw::rt {

inline constexpr std::size_t kSlotsPerArena = 1024;
inline constexpr std::size_t kMaxArenas = 4096;
inline constexpr std::size_t kGuardedSlots = 256;
inline constexpr std::size_t kCanaryBytes = 64;

struct StackSlot {
  char* lo = nullptr;   // lowest usable byte (above the gap)
  char* hi = nullptr;   // one past the highest byte of the slot
  std::uint32_t index = 0;
};

class StackPool {
 public:
  explicit StackPool(std::size_t stack_size);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // acquire() returns a free slot, or lo == nullptr when the OS refused memory.
  StackSlot acquire() noexcept;
  // release() returns a slot for reuse. Its touched pages stay committed (reuse is free).
  void release(const StackSlot& s) noexcept;
  // acquire_batch() hands out up to `n` slot indices under one lock, most recently released
  // first (warm pages); returns how many (0: the OS refused memory). release_batch() takes them
  // back. For per-worker caches (scheduler.cpp), so a spawn does not take the pool's lock.
  std::size_t acquire_batch(std::uint32_t* out, std::size_t n) noexcept;
  void release_batch(const std::uint32_t* idx, std::size_t n) noexcept;
  // slot_at() is the slot with this index (one that was handed out).
  StackSlot slot_at(std::uint32_t index) const noexcept;
  // slot_of() finds the slot holding `addr`; false when addr is in no slot. Lock-free.
  bool slot_of(const void* addr, StackSlot* out) const noexcept;
  // canary_intact() is false once something wrote into the lowest kCanaryBytes of the stack.
  static bool canary_intact(const StackSlot& s) noexcept;

  std::size_t slot_size() const noexcept { return slot_size_; }
  std::uint64_t in_use_bytes() const noexcept;
  std::uint64_t reserved_bytes() const noexcept;

 private:
  bool grow() noexcept;  // maps one more arena; requires mu_

  std::size_t page_;
  std::size_t slot_size_;        // gap + usable, page-aligned
  std::size_t arena_bytes_;
  char* arenas_[kMaxArenas] = {};        // written once before arena_count_ is raised
  std::atomic<std::size_t> arena_count_{0};
  std::mutex mu_;
  std::vector<std::uint32_t> free_;      // Guarded by mu_.
  std::uint32_t next_fresh_ = 0;         // Guarded by mu_: first never-used slot index
  std::atomic<std::uint64_t> in_use_{0};  // slots handed out (tasks and worker caches)
};

}  // namespace lw::rt
