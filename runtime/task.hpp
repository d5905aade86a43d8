// task.hpp: one task (Task) and one waiting party (Parker). Internal to the runtime.
// A Task lives at the top of its own pooled stack slot, next to its closure, so a parked task
// costs about one page. Fields say who writes them; atomics are read by the registry and the leak
// proof from other threads. Nothing here allocates.
//
// TaskState, who owns the task's stack, and which queue it is on:
//   kRunnable  on a worker's run queue (or the global queue); no thread runs it
//   kRunning   a worker thread is executing it; that worker holds ctx_busy
//   kWaiting   parked: referenced only from the wait queue of what it waits on (a channel, mutex,
//              wait group, the timer set or the poller); wait_reason/wait_since/wait_object valid
//   kDead      finished; its slot is back in the pool once the worker has switched away
#pragma once

#include <atomic>
#include <cstdint>

#include "leakwatch/runtime.hpp"
#include "runtime/fiber.hpp"
#include "runtime/stack_pool.hpp"
#include "runtime/wait_reason.hpp"

namespace lw::detail {
struct SyncState;
}

namespace lw::rt {

class Runtime;
struct Task;

inline constexpr int kCreateFrames = 16;
inline constexpr int kMaxProofChans = 4;  // a select over more channels is never used in a proof

// Wake causes stored in Parker::fired besides a case index.
inline constexpr int kFiredTimeout = -2;
inline constexpr int kFiredCancel = -3;

// Parker is one party that can wait: a task, or a plain thread (task == nullptr).
struct Parker {
  Task* task = nullptr;
  // claimed: the first waker to flip it false->true owns the wake-up; reset by the waiter itself
  // at the start of each wait.
  std::atomic<bool> claimed{false};
  std::atomic<std::uint32_t> thread_flag{0};  // plain threads: 1 once woken (futex word)
  std::atomic<int> fired{-1};                 // which case / cause woke it; written by the claimer
};

enum class ParkState : std::uint8_t { kRunning, kParking, kParked, kWokenEarly };
enum class AfterSwitch : std::uint8_t { kPark, kYield, kExit };

struct Task {
  // Set at spawn, then immutable.
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  Runtime* rt = nullptr;
  StackSlot slot;
  const detail::TaskBody* body = nullptr;
  void* closure = nullptr;
  std::uint32_t create_depth = 0;
  std::uintptr_t create_pcs[kCreateFrames] = {};

  // Saved context. sp is written by the worker right after the task switched away.
  FiberContext fiber;
  // Held by the worker running the task and by a dumper walking its saved stack.
  std::atomic<bool> ctx_busy{false};

  // Scheduling.
  std::atomic<ParkState> park_state{ParkState::kRunning};
  AfterSwitch after = AfterSwitch::kPark;  // written by the task, read by its worker after the switch
  struct Worker* fiber_owner = nullptr;    // the worker running it; written by that worker
  Task* run_next = nullptr;                // run-queue link; guarded by the queue's lock
  Parker parker;
  std::atomic<bool> cancel{false};

  // Registry view (read racily by tasks(); each field is atomic).
  std::atomic<std::uint8_t> state{0};             // lw::TaskState
  std::atomic<WaitReason> wait_reason{WaitReason::kNone};
  std::atomic<std::int64_t> wait_since{0};        // wall ns
  std::atomic<std::uint64_t> wait_object{0};
  std::atomic<std::uint64_t> switches{0};
  // The task's current label set (a base::LabelSetId): set at spawn, then changed by with_labels
  // on the task itself; the runtime makes it the thread's current set when it switches the task in.
  std::atomic<std::uint32_t> label_set{0};
  // In a blocking call (lw::BlockingCall): where the caller's frame chain starts, and the flag a
  // reader holds while it walks that chain (the call's destructor waits for it).
  std::atomic<std::uintptr_t> sys_pc{0};
  std::atomic<std::uintptr_t> sys_fp{0};
  std::atomic<bool> sys_walk{false};

  // Leak proof inputs: the channels this task is blocked on forever. block_seq is odd while the
  // set is published; the proof reads seq, the set, seq again (a seqlock). Written by the task.
  std::atomic<std::uint64_t> block_seq{0};
  std::atomic<std::uint8_t> n_wait_chans{0};
  std::atomic<void*> wait_chans[kMaxProofChans] = {};
  std::atomic<bool> leaked{false};
  std::atomic<const char*> leak_reason{nullptr};
  std::atomic<std::uint64_t> leak_detail{0};

  // Mutexes this task holds (intrusive via SyncState::next_held). Written only by this task.
  detail::SyncState* held = nullptr;

  // Registry list; guarded by Runtime::reg_mu_.
  Task* reg_prev = nullptr;
  Task* reg_next = nullptr;
};

}  // namespace lw::rt
