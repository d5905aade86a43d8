// self_scope.hpp: marking leakwatch's own work on a thread, so that the memory it allocates is
// counted apart from the program's (MemStats' self_bytes, never HeapAlloc or the heap profile).
// Leakwatch's own threads hold a scope for their whole life; capture and symbolization code holds
// one while it runs on a program thread. The depth lives in initial-exec TLS, so the allocation
// hooks read it with one load. Per-thread; never allocates.
#pragma once

#include <cstdint>

namespace lw::base {

inline thread_local std::uint32_t tls_self_work __attribute__((tls_model("initial-exec"))) = 0;

// in_self_work() is true while the calling thread does leakwatch's own work.
inline bool in_self_work() noexcept { return tls_self_work != 0; }

// SelfScope marks the calling thread's work as leakwatch's while it lives. Nests.
class SelfScope {
 public:
  SelfScope() noexcept { ++tls_self_work; }
  ~SelfScope() { --tls_self_work; }
  SelfScope(const SelfScope&) = delete;
  SelfScope& operator=(const SelfScope&) = delete;
};

}  // namespace lw::base
