// stack_table.hpp: the bounded table of sampled call stacks ("sites") and their per-site
// allocation figures. A site is one stack under one label set (base/label_sets.hpp): the same
// stack allocating under two label sets is two sites. Thread-safe and lock-free: insertion claims a slot with one CAS; figures are
// relaxed atomics. Never allocates: the table is one lazily committed anonymous mapping.
//
// When the table is full (or a probe sequence is too long) a sample goes to the overflow site
// (index 0, an empty stack) and dropped_stacks is bumped, so totals stay right even when stacks
// are lost.
#pragma once

#include <atomic>
#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::heap {

// Object counts are kept in 1/kObjectUnit units so that fractional sample weights add up
// without rounding bias; bytes are whole bytes.
inline constexpr std::uint64_t kObjectUnit = 1024;

struct SiteFigures {
  std::uint64_t alloc_units = 0;  // estimated objects allocated, in 1/kObjectUnit
  std::uint64_t alloc_bytes = 0;  // estimated bytes allocated
  std::uint64_t free_units = 0;
  std::uint64_t free_bytes = 0;
};

class StackTable {
 public:
  static constexpr std::uint32_t kOverflowSite = 0;

  // `capacity` (a power of two) slots, index 0 being the overflow site.
  // Constant-initialized, so hooks may use a global table before any constructor has run. The
  // mapping is never unmapped (hooks may still run during exit).
  explicit constexpr StackTable(std::uint32_t capacity) noexcept : capacity_(capacity) {}
  StackTable(const StackTable&) = delete;
  StackTable& operator=(const StackTable&) = delete;

  // intern() returns the site index of this stack under `label_set` (a base::LabelSetId), adding
  // it the first time; kOverflowSite when the table is full or could not be mapped.
  std::uint32_t intern(const unwind::StackTrace& trace, std::uint32_t label_set = 0) noexcept;

  void add_alloc(std::uint32_t site, std::uint64_t units, std::uint64_t bytes) noexcept;
  void add_free(std::uint32_t site, std::uint64_t units, std::uint64_t bytes) noexcept;

  // for_each() calls fn(trace, label_set, figures) for every site in use (the overflow site included, with
  // an empty trace, when it has figures). fn may allocate (hold an UntrackedScope).
  template <class Fn>
  void for_each(Fn&& fn) const {
    const Slot* slots = mapping_.load(std::memory_order_acquire);
    if (slots == nullptr) return;
    for (std::uint32_t i = 0; i < capacity_; ++i) {
      const Slot& s = slots[i];
      if (s.state.load(std::memory_order_acquire) != kReady) continue;
      if (i != kOverflowSite && s.depth == 0) continue;  // dead entry left by a fork
      SiteFigures f = figures(i);
      if (i == kOverflowSite && f.alloc_units == 0) continue;
      unwind::StackTrace t;
      t.depth = s.depth;
      for (std::uint32_t k = 0; k < s.depth; ++k) t.pc[k] = s.pc[k];
      fn(t, s.label_set, f);
    }
  }

  SiteFigures figures(std::uint32_t site) const noexcept;
  std::uint64_t dropped_stacks() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t sites() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::uint64_t mapped_bytes() const noexcept;

  // reset_after_fork() turns slots left half-claimed by threads that do not exist in the child
  // into dead entries (no stack, never matched). Call in the fork child.
  void reset_after_fork() noexcept;

 private:
  static constexpr std::uint32_t kEmpty = 0, kClaiming = 1, kReady = 2;
  static constexpr std::uint32_t kMaxProbes = 64;

  // A site's figures are split in kStripes cache lines, one picked per thread, so threads that
  // allocate at the same site (at rate 1: every allocation) do not bounce one line between cores.
  static constexpr std::uint32_t kStripes = 4;
  struct alignas(64) Stripe {
    std::atomic<std::uint64_t> alloc_units, alloc_bytes, free_units, free_bytes;
  };
  struct Slot {
    std::atomic<std::uint32_t> state;   // kEmpty -> kClaiming (one CAS winner) -> kReady
    std::uint32_t depth;                // written by the claimer before kReady
    std::uint32_t label_set;            // idem
    std::uint64_t hash;                 // idem
    std::uintptr_t pc[unwind::kMaxFrames];  // idem
    Stripe stripes[kStripes];           // relaxed atomics
  };

  Slot* ensure_mapped() noexcept;

  std::uint32_t capacity_;
  std::atomic<Slot*> mapping_{nullptr};  // set once by ensure_mapped()
  std::atomic<int> map_state_{0};       // 0 unmapped, 1 mapping, 2 mapped, 3 failed
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> used_{0};
};

}  // namespace lw::heap
