// deadlock_proof.hpp: threads that can never wake, proven from the wait-for graph. Pure given its
// inputs (the mutex owners are read through read_lock_owner(), which never faults). Allocates.
//
// A thread waiting (untimed) on a mutex or for a rwlock's writer has an edge to the owner glibc
// records in the lock; one waiting in pthread_join has an edge to the joined thread. A cycle of
// edges is a deadlock: every member is leaked. So is a waiter whose mutex owner exited without
// unlocking it (a non-robust mutex is never released then), and, to a fixed point, a thread whose
// edge leads to a leaked thread. Timed waits, robust, priority and process-shared locks, and locks
// whose owner is unknown (rwlock readers) are never proven.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/threads/thread_table.hpp"

namespace lw::os_threads {

// LockOwner is what glibc keeps in a lock: the owner's tid (0: none known) and whether the lock's
// kind allows a proof.
struct LockOwner {
  int tid = 0;
  bool provable = false;
  bool errorcheck = false;  // a relock by the owner fails with EDEADLK instead of blocking
};

// read_lock_owner() reads the owner of the mutex (kMutexLock) or rwlock (kRwlockRead/Write) at
// `object` with process_vm_readv, so a lock freed meanwhile yields {} instead of a fault.
LockOwner read_lock_owner(WaitKind kind, std::uint64_t object) noexcept;

// WaitNode is one thread's published wait, read once.
struct WaitNode {
  int tid = 0;
  std::string name;
  WaitView wait;
  LockOwner owner;     // filled for lock waits
  int joined_tid = 0;  // filled for join waits: the thread being joined (0: unknown)
};

// Proof is one proven thread and why.
struct Proof {
  int tid = 0;
  std::string reason;
};

// prove_leaks() finds the proven threads. `alive` lists the live tids; `confirm` is called with the
// nodes of each candidate proof and must return true only when every one of them still shows the
// same wait (the same seq): each edge was then true throughout, so the cycle existed at one instant.
std::vector<Proof> prove_leaks(const std::vector<WaitNode>& nodes, const std::vector<int>& alive,
                               bool (*confirm)(const std::vector<const WaitNode*>&, void*), void* arg);

}  // namespace lw::os_threads
