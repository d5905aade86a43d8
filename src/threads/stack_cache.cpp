#include "src/threads/stack_cache.hpp"

#include "src/base/self_scope.hpp"

#include <algorithm>
#include <atomic>
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
  base::SelfScope self;  // the cache's entries are allocated and freed only here and in keep_only()
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[tid];
  e.in = in;
  e.cpu_ns = cpu_ns;
  e.stack = stack;
}

void StackCache::keep_only(const std::vector<int>& live) {
  base::SelfScope self;
  const std::unordered_set<int> keep(live.begin(), live.end());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

namespace {
// Never destroyed: threads may capture during exit. Replaced (the old one left as it is) in a
// forked child.
std::atomic<StackCache*> g_cache{nullptr};
}  // namespace

StackCache& stack_cache() {
  StackCache* c = g_cache.load(std::memory_order_acquire);
  if (c != nullptr) return *c;
  auto* fresh = new StackCache();
  if (!g_cache.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) {
    delete fresh;
    return *c;
  }
  return *fresh;
}

void reset_stack_cache_in_child() noexcept {
  // The child has one thread and has not returned from fork(): nothing else uses the cache now.
  // An allocation here could meet a malloc lock held by a parent's thread, so the new cache is
  // made on first use instead.
  g_cache.store(nullptr, std::memory_order_release);
}

}  // namespace lw::os_threads
