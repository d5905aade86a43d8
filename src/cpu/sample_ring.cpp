// The sequence-number ring (each slot's seq says whose turn it is: pos for the producer that
// claims position pos, pos + 1 once that sample is published, pos + capacity when the consumer
// has taken it and the slot is free for the next lap). Rejected: a lock (a handler interrupting
// the lock's holder on the same thread would deadlock), and per-thread buffers (threads come and
// go during a profile; one ring of a few MB is bounded and simple).
#include "src/cpu/sample_ring.hpp"

#include <sys/mman.h>

#include <new>

namespace lw::cpu {

SampleRing* SampleRing::create(std::size_t capacity) noexcept {
  if (capacity == 0 || (capacity & (capacity - 1)) != 0) return nullptr;
  const std::size_t bytes = sizeof(SampleRing) + capacity * sizeof(Slot);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  auto* ring = new (mem) SampleRing();
  ring->mask_ = capacity - 1;
  ring->bytes_ = bytes;
  ring->slots_ = reinterpret_cast<Slot*>(static_cast<char*>(mem) + sizeof(SampleRing));
  for (std::size_t i = 0; i < capacity; ++i) new (&ring->slots_[i].seq) std::atomic<std::uint64_t>(i);
  return ring;
}

void SampleRing::destroy(SampleRing* ring) noexcept {
  if (ring == nullptr) return;
  const std::size_t bytes = ring->bytes_;
  ring->~SampleRing();
  munmap(ring, bytes);
}

bool SampleRing::push(const CpuSample& s) noexcept {
  std::uint64_t pos = head_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[pos & mask_];
    const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
    if (seq == pos) {
      if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        slot.sample.tid = s.tid;
        slot.sample.label_set = s.label_set;
        slot.sample.stack.depth = s.stack.depth;
        for (std::uint32_t i = 0; i < s.stack.depth; ++i) slot.sample.stack.pc[i] = s.stack.pc[i];
        slot.seq.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (seq < pos) {
      dropped_.fetch_add(1, std::memory_order_relaxed);  // a lap behind: the ring is full
      return false;
    } else {
      pos = head_.load(std::memory_order_relaxed);  // another producer took pos
    }
  }
}

bool SampleRing::pop(CpuSample* out) noexcept {
  Slot& slot = slots_[tail_ & mask_];
  if (slot.seq.load(std::memory_order_acquire) != tail_ + 1) return false;
  out->tid = slot.sample.tid;
  out->label_set = slot.sample.label_set;
  out->stack.depth = slot.sample.stack.depth;
  for (std::uint32_t i = 0; i < out->stack.depth; ++i) out->stack.pc[i] = slot.sample.stack.pc[i];
  slot.seq.store(tail_ + mask_ + 1, std::memory_order_release);
  ++tail_;
  return true;
}

}  // namespace lw::cpu
