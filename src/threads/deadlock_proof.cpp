// Why one reading suffices: every edge A -> B says "A is inside an untimed blocking call whose
// release needs B". The waits' sequence numbers are read before and (by `confirm`) after the owners
// are read, so each member was inside the same call all along; an owner that is blocked all along
// cannot have released its lock meanwhile. So at the moment the last owner was read, every edge of
// the cycle held at once: none of its members can ever make progress. The same holds for a chain
// ending at an exited owner or at a proven thread.
//
// glibc's lock layouts (x86-64, glibc 2.36; nptl/pthread_mutex_lock.c records the owner for every
// mutex kind): pthread_mutex_t has __owner at byte 8 and __kind at byte 16; pthread_rwlock_t has
// __cur_writer at byte 24 and __shared at byte 28.
#include "src/threads/deadlock_proof.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace lw::os_threads {
namespace {

constexpr int kMutexKindMask = 3;
constexpr int kMutexErrorcheck = 2;
constexpr int kMutexRobust = 16, kMutexPrioInherit = 32, kMutexPrioProtect = 64, kMutexPshared = 128;
constexpr int kOwnerInconsistent = 0x7fffffff;

bool read_self(std::uint64_t address, void* out, std::size_t n) noexcept {
  iovec local{out, n};
  iovec remote{reinterpret_cast<void*>(address), n};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string who(const WaitNode& n) { return "thread " + std::to_string(n.tid) + " \"" + n.name + "\""; }

std::string what(const WaitNode& n) {
  switch (n.wait.kind) {
    case WaitKind::kMutexLock: return "mutex " + hex(n.wait.object);
    case WaitKind::kRwlockRead:
    case WaitKind::kRwlockWrite: return "rwlock " + hex(n.wait.object);
    default: return "";
  }
}

// edge_of() is the tid `n` waits for, or 0 when its wait proves nothing.
int edge_of(const WaitNode& n) {
  if (n.wait.timed) return 0;
  if (n.wait.kind == WaitKind::kThreadJoin) return n.joined_tid;
  if (n.wait.kind == WaitKind::kMutexLock || n.wait.kind == WaitKind::kRwlockRead ||
      n.wait.kind == WaitKind::kRwlockWrite) {
    if (!n.owner.provable || n.owner.tid == 0) return 0;
    if (n.owner.tid == n.tid && n.owner.errorcheck) return 0;
    return n.owner.tid;
  }
  return 0;
}

std::string step_text(const WaitNode& n, const std::map<int, const WaitNode*>& by_tid) {
  const int to = edge_of(n);
  auto it = by_tid.find(to);
  const std::string target = it != by_tid.end() ? who(*it->second) : "thread " + std::to_string(to);
  if (n.wait.kind == WaitKind::kThreadJoin) return who(n) + " joins " + target;
  return who(n) + " waits for " + what(n) + " held by " + target;
}

}  // namespace

LockOwner read_lock_owner(WaitKind kind, std::uint64_t object) noexcept {
  LockOwner o;
  if (object == 0) return o;
  if (kind == WaitKind::kMutexLock) {
    int fields[5];  // __lock __count __owner __nusers __kind
    if (!read_self(object, fields, sizeof fields)) return o;
    const int k = fields[4];
    o.tid = fields[2] == kOwnerInconsistent ? 0 : fields[2];
    o.provable = (k & (kMutexRobust | kMutexPrioInherit | kMutexPrioProtect | kMutexPshared)) == 0;
    o.errorcheck = (k & kMutexKindMask) == kMutexErrorcheck;
    return o;
  }
  if (kind == WaitKind::kRwlockRead || kind == WaitKind::kRwlockWrite) {
    int fields[8];
    if (!read_self(object, fields, sizeof fields)) return o;
    o.tid = fields[6];
    o.provable = fields[7] == 0;
    return o;
  }
  return o;
}

std::vector<Proof> prove_leaks(const std::vector<WaitNode>& nodes, const std::vector<int>& alive,
                               bool (*confirm)(const std::vector<const WaitNode*>&, void*), void* arg) {
  std::map<int, const WaitNode*> by_tid;
  for (const WaitNode& n : nodes) by_tid[n.tid] = &n;
  const std::set<int> live(alive.begin(), alive.end());
  std::map<int, std::string> proven;

  // Cycles: each node has at most one edge, so walking from each node either ends or loops.
  std::set<int> visited;
  for (const WaitNode& start : nodes) {
    std::vector<const WaitNode*> path;
    std::map<int, std::size_t> on_path;
    const WaitNode* n = &start;
    while (n != nullptr && !visited.count(n->tid)) {
      visited.insert(n->tid);
      on_path[n->tid] = path.size();
      path.push_back(n);
      const int to = edge_of(*n);
      if (to == 0) break;
      auto loop = on_path.find(to);
      if (loop != on_path.end()) {
        std::vector<const WaitNode*> cycle(path.begin() + static_cast<std::ptrdiff_t>(loop->second), path.end());
        if (confirm(cycle, arg)) {
          std::string reason = "deadlock: ";
          for (std::size_t i = 0; i < cycle.size(); ++i) reason += (i ? "; " : "") + step_text(*cycle[i], by_tid);
          for (const WaitNode* m : cycle) proven[m->tid] = reason;
        }
        break;
      }
      auto next = by_tid.find(to);
      n = next != by_tid.end() ? next->second : nullptr;
    }
  }

  // Owners that exited without unlocking: only lock edges, and only to a tid this process had.
  for (const WaitNode& n : nodes) {
    const int to = edge_of(n);
    if (to == 0 || proven.count(n.tid) || n.wait.kind == WaitKind::kThreadJoin) continue;
    if (live.count(to) || !was_exited_tid(to)) continue;
    std::vector<const WaitNode*> one{&n};
    if (confirm(one, arg))
      proven[n.tid] = who(n) + " waits for " + what(n) + " held by thread " + std::to_string(to) +
                      ", which exited without unlocking it";
  }

  // To a fixed point: a wait on a proven thread is proven too.
  for (bool changed = true; changed;) {
    changed = false;
    for (const WaitNode& n : nodes) {
      const int to = edge_of(n);
      if (to == 0 || proven.count(n.tid) || !proven.count(to)) continue;
      std::vector<const WaitNode*> one{&n};
      if (!confirm(one, arg)) continue;
      proven[n.tid] = step_text(n, by_tid) + ", which can never wake";
      changed = true;
    }
  }

  std::vector<Proof> out;
  for (auto& [tid, reason] : proven) out.push_back({tid, std::move(reason)});
  return out;
}

}  // namespace lw::os_threads
