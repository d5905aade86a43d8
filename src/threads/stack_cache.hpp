// stack_cache.hpp: the stacks of threads that have not run since their stack was last taken. A
// thread blocked in the same call (the same published wait, or the same system call with the same
// arguments) that gained almost no CPU time since cannot have a different stack, so it is not
// signalled again: a dump of a process full of idle threads costs little more than reading /proc,
// and a thread that is stuck for good keeps a CPU time that does not move (the stack signal's own
// few microseconds would otherwise count as "it ran"). Thread-safe (one lock); allocates.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace lw::os_threads {

// kMaxRunNs: CPU time a thread may gain between two captures and still count as not having run
// (the stack signal's handler, signal delivery and return cost a few microseconds of it).
inline constexpr std::uint64_t kMaxRunNs = 50'000;

// BlockedIn says what a thread was blocked in; `wait_seq` for a published pthread wait (else 0),
// the syscall and its arguments otherwise.
struct BlockedIn {
  std::uint32_t wait_seq = 0;
  long syscall = -1;
  std::uint64_t args[6] = {};
  bool operator==(const BlockedIn& o) const;
};

class StackCache {
 public:
  // lookup() returns the cached stack of `tid` when it is still blocked in `in` and has run less
  // than kMaxRunNs since; `cpu_ns` is then set to the CPU time it had when the stack was taken.
  bool lookup(int tid, const BlockedIn& in, std::uint64_t* cpu_ns, std::vector<std::uintptr_t>* stack);
  // store() remembers a fresh stack of a blocked thread, with its CPU time after the capture.
  void store(int tid, const BlockedIn& in, std::uint64_t cpu_ns, const std::vector<std::uintptr_t>& stack);
  // keep_only() forgets every thread not in `live` (bounded by the live threads).
  void keep_only(const std::vector<int>& live);

 private:
  struct Entry {
    BlockedIn in;
    std::uint64_t cpu_ns = 0;
    std::vector<std::uintptr_t> stack;
  };
  std::mutex mu_;
  std::unordered_map<int, Entry> entries_;  // Guarded by mu_.
};

// stack_cache() is the process's cache.
StackCache& stack_cache();
// reset_stack_cache_in_child() gives a forked child a fresh, empty cache: another thread of the
// parent may have been inside the old one (its lock held, its map half changed), so the child
// leaves it alone for good. Call only in a fork's child handler.
void reset_stack_cache_in_child() noexcept;

}  // namespace lw::os_threads
