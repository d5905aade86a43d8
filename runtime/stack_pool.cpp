// stack_pool.cpp: see stack_pool.hpp. Rejected: one mmap per stack (7-10 us each here, and one
// mapping each toward vm.max_map_count) and Boost's protected_fixedsize_stack (a guard per stack,
// which asserts at ~32,700 stacks). A pooled slot costs a free-list pop (~60 ns with the lock).
#include "runtime/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "src/base/log.hpp"

namespace lw::rt {

StackPool::StackPool(std::size_t stack_size) {
  page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t usable = (stack_size + page_ - 1) / page_ * page_;
  if (usable < 4 * page_) usable = 4 * page_;
  slot_size_ = usable + page_;
  arena_bytes_ = slot_size_ * kSlotsPerArena;
}

StackPool::~StackPool() {
  for (std::size_t i = 0; i < arena_count_.load(); ++i) munmap(arenas_[i], arena_bytes_);
}

bool StackPool::grow() noexcept {
  std::size_t n = arena_count_.load(std::memory_order_relaxed);
  if (n == kMaxArenas) return false;
  void* p = mmap(nullptr, arena_bytes_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    base::log_write("cannot reserve %zu bytes for task stacks", arena_bytes_);
    return false;
  }
  arenas_[n] = static_cast<char*>(p);
  if (n == 0) {
    for (std::size_t i = 0; i < kGuardedSlots && i < kSlotsPerArena; ++i)
      mprotect(arenas_[0] + i * slot_size_, page_, PROT_NONE);
  }
  arena_count_.store(n + 1, std::memory_order_release);
  return true;
}

StackSlot StackPool::acquire() noexcept {
  std::uint32_t index;
  if (acquire_batch(&index, 1) == 0) return {};
  return slot_at(index);
}

void StackPool::release(const StackSlot& s) noexcept { release_batch(&s.index, 1); }

std::size_t StackPool::acquire_batch(std::uint32_t* out, std::size_t n) noexcept {
  std::size_t k = 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    while (k < n && !free_.empty()) {
      out[k++] = free_.back();
      free_.pop_back();
    }
    while (k < n) {
      if (next_fresh_ >= arena_count_.load(std::memory_order_relaxed) * kSlotsPerArena && !grow()) break;
      out[k++] = next_fresh_++;
    }
    // Reserve room so release_batch() never allocates.
    if (free_.capacity() < next_fresh_) free_.reserve(next_fresh_ * 2);
  }
  in_use_.fetch_add(k, std::memory_order_relaxed);
  return k;
}

void StackPool::release_batch(const std::uint32_t* idx, std::size_t n) noexcept {
  in_use_.fetch_sub(n, std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(mu_);
  // Reverse order: the first of the batch is handed out again first.
  for (std::size_t i = n; i > 0; --i) free_.push_back(idx[i - 1]);
}

StackSlot StackPool::slot_at(std::uint32_t index) const noexcept {
  char* slot = arenas_[index / kSlotsPerArena] + (index % kSlotsPerArena) * slot_size_;
  return {slot + page_, slot + slot_size_, index};
}

bool StackPool::slot_of(const void* addr, StackSlot* out) const noexcept {
  auto a = reinterpret_cast<const char*>(addr);
  std::size_t n = arena_count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i) {
    const char* base = arenas_[i];
    if (a >= base && a < base + arena_bytes_) {
      std::size_t k = static_cast<std::size_t>(a - base) / slot_size_;
      char* slot = arenas_[i] + k * slot_size_;
      *out = {slot + page_, slot + slot_size_, static_cast<std::uint32_t>(i * kSlotsPerArena + k)};
      return true;
    }
  }
  return false;
}

bool StackPool::canary_intact(const StackSlot& s) noexcept {
  static_assert(kCanaryBytes == 64);
  std::uint64_t v[8];
  std::memcpy(v, s.lo, sizeof v);
  return ((v[0] | v[1]) | (v[2] | v[3]) | (v[4] | v[5]) | (v[6] | v[7])) == 0;
}

std::uint64_t StackPool::in_use_bytes() const noexcept {
  return in_use_.load(std::memory_order_relaxed) * slot_size_;
}
std::uint64_t StackPool::reserved_bytes() const noexcept {
  return arena_count_.load(std::memory_order_relaxed) * arena_bytes_;
}

}  // namespace lw::rt
