// thread_state.hpp: the heap tracker's per-thread state, in initial-exec TLS (no __tls_get_addr
// call, which may allocate) so it is usable from the very first malloc of the process.
// Each field is read and written only by its own thread (signal handlers on that thread included).
// Never allocates.
#pragma once

#include <cstdint>

namespace lw::heap {

struct CounterSlot;

struct ThreadState {
  std::int64_t countdown = 0;     // bytes left until the next sample (first: the hooks read it)
  CounterSlot* slot = nullptr;    // this thread's own MemStats counters; null: none (yet), see
                                  // mem_counters.hpp (the hooks' fast path needs it non-null)
  std::uint32_t in_hook = 0;      // > 0 while a hook of this thread is recording (re-entrancy)
  std::uint64_t rng = 0;          // xorshift64* state; 0 = not seeded yet
  bool on_shared_slot = false;    // the slot table was full: this thread counts in slot 0
};

inline thread_local ThreadState tls_heap __attribute__((tls_model("initial-exec")));

}  // namespace lw::heap
