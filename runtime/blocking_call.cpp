// lw::BlockingCall: the "in a blocking call" state (Go's _Gsyscall).
//
// The task keeps running on its worker, so the registry cannot take its stack from a saved
// context. Instead the constructor records where its caller's frame chain starts (the return
// address into the caller and the caller's frame pointer): the caller and everything above it
// stay untouched until the destructor runs, whatever the blocking call does below. A reader
// walks that chain under the task's sys_walk flag; the destructor first leaves the state, then
// takes sys_walk once, so it never returns (and lets the task reuse those frames) while a walk
// is under way. Rejected: copying the stack at entry (a walk per call even when nobody looks,
// and 16 more words in every Task).
#include "leakwatch/blocking.hpp"

#include "leakwatch/task_info.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/task.hpp"
#include "src/base/clock.hpp"

namespace lw {

[[gnu::noinline]] BlockingCall::BlockingCall() noexcept : task_(rt::current_task_ptr()) {
  auto* t = static_cast<rt::Task*>(task_);
  if (t == nullptr) return;
  auto* fp = static_cast<std::uintptr_t*>(__builtin_frame_address(0));
  t->sys_fp.store(fp[0], std::memory_order_relaxed);  // the caller's frame pointer
  t->sys_pc.store(fp[1], std::memory_order_relaxed);  // the return address into the caller
  t->wait_since.store(base::wall_now_ns(), std::memory_order_relaxed);
  t->state.store(static_cast<std::uint8_t>(TaskState::kSyscall), std::memory_order_seq_cst);
}

BlockingCall::~BlockingCall() {
  auto* t = static_cast<rt::Task*>(task_);
  if (t == nullptr) return;
  t->state.store(static_cast<std::uint8_t>(TaskState::kRunning), std::memory_order_seq_cst);
  while (t->sys_walk.exchange(true, std::memory_order_acquire)) __builtin_ia32_pause();
  t->sys_walk.store(false, std::memory_order_release);
}

}  // namespace lw
