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
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      if (next_fresh_ >= arena_count_.load(std::memory_order_relaxed) * kSlotsPerArena && !grow())
        return {};
      index = next_fresh_++;
      // Reserve room so release() never allocates.
      if (free_.capacity() < next_fresh_) free_.reserve(next_fresh_ * 2);
    }
  }
  in_use_.fetch_add(1, std::memory_order_relaxed);
  char* slot = arenas_[index / kSlotsPerArena] + (index % kSlotsPerArena) * slot_size_;
  return {slot + page_, slot + slot_size_, index};
}

void StackPool::release(const StackSlot& s) noexcept {
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(mu_);
  free_.push_back(s.index);
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
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < kCanaryBytes; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.lo + i, 8);
    acc |= v;
  }
  return acc == 0;
}

std::uint64_t StackPool::in_use_bytes() const noexcept {
  return in_use_.load(std::memory_order_relaxed) * slot_size_;
}
std::uint64_t StackPool::reserved_bytes() const noexcept {
  return arena_count_.load(std::memory_order_relaxed) * arena_bytes_;
}

}  // namespace lw::rt
