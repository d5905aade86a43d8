// block_map.hpp: the live sampled blocks, by address, so a free can find the site and the
// estimate its allocation added. Thread-safe; never allocates (one lazily committed mapping).
//
// Frees of unsampled blocks (nearly all of them at the default rate) are turned away by a
// counting filter without touching the map: one relaxed load of a byte counter (16 KiB in all, so
// it stays in L1/L2) indexed by the block's 4 KiB page number. A counter that reaches 255 stays
// there (it only costs lookups, never a missed free). Only frees whose page holds (or collides with a page that holds) a live
// sampled block take the lock of one of kShards shards. A full shard refuses the insert (the
// caller counts the sample as dropped and does not record it at all).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace lw::heap {

// BlockRecord is what a sampled allocation added to its site, to be taken back at free: the site
// and the sample's weight (1/p). The figures are recomputed from the weight and the block's
// usable size, the same way at allocation and at free, so they cancel exactly.
struct BlockRecord {
  std::uint32_t site = 0;
  float weight = 1.0f;
};

class BlockMap {
 public:
  // kShards shards of at most `shard_capacity` (a power of two) entries each. A shard starts at
  // kInitialCapacity entries and doubles when half full, so memory (and cache footprint) follows
  // the number of live samples.
  static constexpr std::size_t kShards = 64;
  static constexpr std::uint32_t kInitialCapacity = 256;
  explicit constexpr BlockMap(std::uint32_t shard_capacity) noexcept : shard_capacity_(shard_capacity) {}
  BlockMap(const BlockMap&) = delete;
  BlockMap& operator=(const BlockMap&) = delete;

  // insert() records `addr`. If addr is already present (its free was not seen, e.g. freed from a
  // signal handler inside a hook), the old record is replaced and returned in *replaced.
  // Returns false when the shard is full.
  bool insert(std::uintptr_t addr, const BlockRecord& rec, bool* had_old, BlockRecord* replaced) noexcept;

  // maybe_contains() is the lock-free filter: false means addr is certainly not recorded.
  bool maybe_contains(std::uintptr_t addr) const noexcept {
    return filter_[filter_index(addr)].load(std::memory_order_relaxed) != 0;
  }

  // remove() takes addr out and returns its record; false when it is not recorded.
  bool remove(std::uintptr_t addr, BlockRecord* out) noexcept;

  std::uint64_t live() const noexcept;
  std::uint64_t mapped_bytes() const noexcept;

  // reset_locks_after_fork() releases every shard lock (the child has only the forking thread; a
  // lock held by another thread at fork would otherwise stay held forever).
  void reset_locks_after_fork() noexcept;

 private:
  struct Entry {
    std::uintptr_t addr;  // 0 = empty
    std::uint32_t site;
    float weight;
  };
  struct alignas(64) Shard {
    std::atomic<bool> locked{false};
    std::atomic<std::uint32_t> size{0};  // written under locked; read racily by live()
    std::uint32_t capacity = 0;  // guarded by locked; 0 until the first insert
    Entry* entries = nullptr;    // guarded by locked
  };
  static constexpr std::size_t kFilterSize = std::size_t{1} << 14;
  static constexpr std::uint8_t kSticky = 255;

  // A block's shard and filter counter both come from its 4 KiB page number: the counter from
  // its low 14 bits, the shard from the low 6 of those, so each counter belongs to one shard and
  // changes only under that shard's lock (plain stores, no locked instructions). Low page bits
  // rather than a multiplicative hash: mimalloc hands out neighbouring pages, which then fall on
  // distinct counters and shards, and the free path saves the multiply.
  static std::size_t filter_index(std::uintptr_t addr) noexcept {
    return static_cast<std::size_t>(addr >> 12) & (kFilterSize - 1);
  }
  // Called under the lock of the block's shard, the only writer of this counter.
  void filter_add(std::uintptr_t addr) noexcept {
    std::atomic<std::uint8_t>& c = filter_[filter_index(addr)];
    const std::uint8_t v = c.load(std::memory_order_relaxed);
    if (v != kSticky) c.store(static_cast<std::uint8_t>(v + 1), std::memory_order_relaxed);
  }
  void filter_sub(std::uintptr_t addr) noexcept {
    std::atomic<std::uint8_t>& c = filter_[filter_index(addr)];
    const std::uint8_t v = c.load(std::memory_order_relaxed);
    if (v != kSticky && v != 0) c.store(static_cast<std::uint8_t>(v - 1), std::memory_order_relaxed);
  }
  static std::size_t shard_index(std::uintptr_t addr) noexcept {
    return static_cast<std::size_t>(addr >> 12) & (kShards - 1);
  }
  // lock(): one exchange when the shard is free (the common case); lock_contended() spins.
  static void lock(Shard& s) noexcept {
    if (!s.locked.exchange(true, std::memory_order_acquire)) [[likely]] return;
    lock_contended(s);
  }
  static void lock_contended(Shard& s) noexcept;
  static void unlock(Shard& s) noexcept { s.locked.store(false, std::memory_order_release); }
  bool grow(Shard& s) noexcept;  // caller holds the lock

  std::uint32_t shard_capacity_;
  Shard shards_[kShards];
  std::atomic<std::uint8_t> filter_[kFilterSize]{};
  std::atomic<std::uint64_t> mapped_{0};
};

}  // namespace lw::heap
