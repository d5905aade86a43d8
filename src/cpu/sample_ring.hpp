// sample_ring.hpp: the CPU profiler's hand-off from signal handlers to the collecting thread. A
// bounded multi-producer, single-consumer ring in one mmap'd block: a handler claims a slot with a
// compare-and-swap on the head and publishes it with the slot's sequence number (no lock, no
// allocation: async-signal-safe); the collector takes published slots in order. A full ring drops
// the sample and counts it. Thread-safe as described; allocates only in create().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::cpu {

// CpuSample is one tick of one thread: where it was and the labels of the code it ran.
struct CpuSample {
  int tid = 0;
  std::uint32_t label_set = 0;  // a base::LabelSetId: the task's or plain thread's labels then
  unwind::StackTrace stack;
};

class SampleRing {
 public:
  // create() maps a ring of `capacity` slots (a power of two); null when mmap fails.
  static SampleRing* create(std::size_t capacity) noexcept;
  // destroy() unmaps it; no handler may be using it any more.
  static void destroy(SampleRing* ring) noexcept;

  // push() copies `s` into the next free slot; false (and one more drop) when the ring is full.
  // Async-signal-safe.
  bool push(const CpuSample& s) noexcept;
  // pop() moves the oldest published sample into `out`; false when there is none. One consumer.
  bool pop(CpuSample* out) noexcept;

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<std::uint64_t> seq;
    CpuSample sample;
  };
  SampleRing() = default;

  std::size_t mask_ = 0;
  std::size_t bytes_ = 0;
  alignas(64) std::atomic<std::uint64_t> head_{0};  // next position to claim (producers)
  alignas(64) std::uint64_t tail_ = 0;              // next position to read (the consumer only)
  std::atomic<std::uint64_t> dropped_{0};
  Slot* slots_ = nullptr;
};

}  // namespace lw::cpu
