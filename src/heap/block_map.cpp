// Matching a sampled block's free without a global lock.
//
// Rejected alternatives: a header in front of sampled blocks (free cannot tell a headed block
// from a plain one without a lookup anyway, and aligned/usable-size semantics get subtle); a
// separate mimalloc heap or arena for sampled blocks (heaps are per thread in mimalloc 2.0.9 and
// their blocks migrate at thread exit; arenas are experimental there); one global hash table
// under one lock (every sampled free from every thread would serialize on it at rate 1).
// Chosen: a 64-way sharded open-addressing map (linear probing, backward-shift deletion) behind a
// counting filter that answers "certainly not sampled" for almost every free with one load.
// Shards grow by doubling (a fresh mapping, rehashed under the shard lock) so that at rate 1 the
// table stays as small as the live set: a fixed 32 MiB table spread a few thousand entries over
// as many pages and cost a cache and TLB miss per malloc and per free (measured: ~5x slower).
#include "src/heap/block_map.hpp"

#include <sched.h>
#include <sys/mman.h>

namespace lw::heap {
namespace {

std::size_t slot_of(std::uintptr_t addr, std::uint32_t mask) noexcept {
  return static_cast<std::size_t>(((addr >> 4) * 0xc2b2ae3d27d4eb4full) >> 32) & mask;
}

}  // namespace

std::uint64_t BlockMap::mapped_bytes() const noexcept { return mapped_.load(std::memory_order_relaxed); }

void BlockMap::lock_contended(Shard& s) noexcept {
  for (int spins = 0;; ++spins) {
    if (!s.locked.load(std::memory_order_relaxed) &&
        !s.locked.exchange(true, std::memory_order_acquire))
      return;
    if (spins > 64) sched_yield();
  }
}

bool BlockMap::grow(Shard& s) noexcept {
  std::uint32_t cap = s.capacity == 0 ? kInitialCapacity : s.capacity * 2;
  if (cap > shard_capacity_) return false;
  std::size_t bytes = std::size_t{cap} * sizeof(Entry);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  auto* fresh = static_cast<Entry*>(p);
  const std::uint32_t mask = cap - 1;
  for (std::uint32_t i = 0; i < s.capacity; ++i) {
    const Entry& e = s.entries[i];
    if (e.addr == 0) continue;
    std::size_t j = slot_of(e.addr, mask);
    while (fresh[j].addr != 0) j = (j + 1) & mask;
    fresh[j] = e;
  }
  if (s.entries != nullptr) {
    munmap(s.entries, std::size_t{s.capacity} * sizeof(Entry));
    mapped_.fetch_sub(std::size_t{s.capacity} * sizeof(Entry), std::memory_order_relaxed);
  }
  s.entries = fresh;
  s.capacity = cap;
  mapped_.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

bool BlockMap::insert(std::uintptr_t addr, const BlockRecord& rec, bool* had_old,
                      BlockRecord* replaced) noexcept {
  *had_old = false;
  Shard& s = shards_[shard_index(addr)];
  lock(s);
  // Keep the load factor at most 1/2 (short probe runs and backward shifts: measured 776 -> 757
  // instructions per malloc+free at rate 1 against 3/4); at the cap, refuse (lookups need empty
  // slots to stop at).
  const std::uint32_t size = s.size.load(std::memory_order_relaxed);
  if ((size + 1) * 2 > s.capacity && !grow(s)) {
    unlock(s);
    return false;
  }
  Entry* e = s.entries;
  const std::uint32_t mask = s.capacity - 1;
  std::size_t i = slot_of(addr, mask);
  while (e[i].addr != 0 && e[i].addr != addr) i = (i + 1) & mask;
  if (e[i].addr == addr) {
    *had_old = true;
    *replaced = BlockRecord{e[i].site, e[i].weight};
  } else {
    s.size.store(size + 1, std::memory_order_relaxed);
    filter_add(addr);
  }
  e[i] = Entry{addr, rec.site, rec.weight};
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
  const std::uint32_t mask = s.capacity - 1;
  std::size_t i = slot_of(addr, mask);
  while (e[i].addr != 0 && e[i].addr != addr) i = (i + 1) & mask;
  if (e[i].addr == 0) {
    unlock(s);
    return false;
  }
  *out = BlockRecord{e[i].site, e[i].weight};
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
  s.size.store(s.size.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  filter_sub(addr);
  unlock(s);
  return true;
}

std::uint64_t BlockMap::live() const noexcept {
  std::uint64_t n = 0;
  for (const Shard& s : shards_) n += s.size.load(std::memory_order_relaxed);
  return n;
}

void BlockMap::reset_locks_after_fork() noexcept {
  for (Shard& s : shards_) s.locked.store(false, std::memory_order_relaxed);
}

}  // namespace lw::heap
