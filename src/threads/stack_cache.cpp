#include "src/threads/stack_cache.hpp"

#include <algorithm>
#include <unordered_set>

namespace lw::os_threads {

bool BlockedIn::operator==(const BlockedIn& o) const {
  return wait_seq == o.wait_seq && syscall == o.syscall && std::equal(args, args + 6, o.args);
}

bool StackCache::lookup(int tid, const BlockedIn& in, std::uint64_t* cpu_ns, std::vector<std::uintptr_t>* stack) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(tid);
  if (it == entries_.end()) return false;
  const Entry& e = it->second;
  // A reused tid starts a new CPU clock below the cached one.
  if (!(e.in == in) || *cpu_ns < e.cpu_ns || *cpu_ns - e.cpu_ns >= kMaxRunNs) return false;
  *cpu_ns = e.cpu_ns;
  *stack = e.stack;
  return true;
}

void StackCache::store(int tid, const BlockedIn& in, std::uint64_t cpu_ns, const std::vector<std::uintptr_t>& stack) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[tid];
  e.in = in;
  e.cpu_ns = cpu_ns;
  e.stack = stack;
}

void StackCache::keep_only(const std::vector<int>& live) {
  const std::unordered_set<int> keep(live.begin(), live.end());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

void StackCache::lock_for_fork() { mu_.lock(); }
void StackCache::unlock_after_fork() { mu_.unlock(); }

StackCache& stack_cache() {
  static StackCache* cache = new StackCache();  // never destroyed: threads may capture during exit
  return *cache;
}

}  // namespace lw::os_threads
