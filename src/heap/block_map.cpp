// Matching a sampled block's free without a global lock.
//
// Rejected alternatives: a header in front of sampled blocks (free cannot tell a headed block
// from a plain one without a lookup anyway, and aligned/usable-size semantics get subtle); a
// separate mimalloc heap or arena for sampled blocks (heaps are per thread in mimalloc 2.0.9 and
// their blocks migrate at thread exit; arenas are experimental there); one global hash table
// under one lock (every sampled free from every thread would serialize on it at rate 1).
// Chosen: a 64-way sharded open-addressing map (linear probing, backward-shift deletion) behind a
// counting filter that answers "certainly not sampled" for almost every free with one load.
#include "src/heap/block_map.hpp"

#include <sched.h>
#include <sys/mman.h>

namespace lw::heap {
namespace {

std::size_t slot_of(std::uintptr_t addr, std::uint32_t mask) noexcept {
  return static_cast<std::size_t>(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

}  // namespace

std::uint64_t BlockMap::mapped_bytes() const noexcept { return mapped_.load(std::memory_order_relaxed); }

void BlockMap::lock(Shard& s) noexcept {
  for (int spins = 0;; ++spins) {
    if (!s.locked.load(std::memory_order_relaxed) &&
        !s.locked.exchange(true, std::memory_order_acquire))
      return;
    if (spins > 64) sched_yield();
  }
}

BlockMap::Entry* BlockMap::entries_of(Shard& s) noexcept {
  if (s.entries == nullptr) {
    std::size_t bytes = std::size_t{shard_capacity_} * sizeof(Entry);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return nullptr;
    s.entries = static_cast<Entry*>(p);
    mapped_.fetch_add(bytes, std::memory_order_relaxed);
  }
  return s.entries;
}

bool BlockMap::insert(std::uintptr_t addr, const BlockRecord& rec, bool* had_old,
                      BlockRecord* replaced) noexcept {
  *had_old = false;
  Shard& s = shards_[shard_index(addr)];
  lock(s);
  Entry* e = entries_of(s);
  const std::uint32_t mask = shard_capacity_ - 1;
  // Keep the load factor under 3/4 so probe sequences stay short.
  if (e == nullptr) {
    unlock(s);
    return false;
  }
  std::size_t i = slot_of(addr, mask);
  while (e[i].addr != 0 && e[i].addr != addr) i = (i + 1) & mask;
  if (e[i].addr == addr) {
    *had_old = true;
    *replaced = BlockRecord{e[i].site, e[i].units, e[i].bytes};
  } else {
    if (s.size + 1 > shard_capacity_ / 4 * 3) {
      unlock(s);
      return false;
    }
    ++s.size;
    live_.fetch_add(1, std::memory_order_relaxed);
    filter_[filter_index(addr)].fetch_add(1, std::memory_order_relaxed);
  }
  e[i] = Entry{addr, rec.site, rec.units, rec.bytes};
  unlock(s);
  return true;
}

bool BlockMap::remove(std::uintptr_t addr, BlockRecord* out) noexcept {
  Shard& s = shards_[shard_index(addr)];
  lock(s);
  Entry* e = s.entries;
  if (e == nullptr) {
    unlock(s);
    return false;
  }
  const std::uint32_t mask = shard_capacity_ - 1;
  std::size_t i = slot_of(addr, mask);
  while (e[i].addr != 0 && e[i].addr != addr) i = (i + 1) & mask;
  if (e[i].addr == 0) {
    unlock(s);
    return false;
  }
  *out = BlockRecord{e[i].site, e[i].units, e[i].bytes};
  // Backward-shift deletion: move later entries of the probe run into the hole.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; e[j].addr != 0; j = (j + 1) & mask) {
    std::size_t home = slot_of(e[j].addr, mask);
    // e[j] may move to the hole if its home is not cyclically within (hole, j].
    bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      e[hole] = e[j];
      hole = j;
    }
  }
  e[hole].addr = 0;
  --s.size;
  live_.fetch_sub(1, std::memory_order_relaxed);
  filter_[filter_index(addr)].fetch_sub(1, std::memory_order_relaxed);
  unlock(s);
  return true;
}

void BlockMap::reset_locks_after_fork() noexcept {
  for (Shard& s : shards_) s.locked.store(false, std::memory_order_relaxed);
}

}  // namespace lw::heap
