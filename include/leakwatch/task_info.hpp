// task_info.hpp: what the runtime's registry knows about each task, and Go-style text dumps of it.
// Thread-safe. tasks() and the dumps allocate and hold the registry for the copy (spawns and exits
// wait meanwhile); call them from diagnostics paths, not from hot loops.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "leakwatch/runtime.hpp"

namespace lw {

// TaskState: who has the task now (docs/runtime.md has the full table).
enum class TaskState : std::uint8_t {
  kRunnable,  // on a run queue, waiting for a worker
  kRunning,   // executing on a worker
  kWaiting,   // parked on a primitive, timer or fd
  kSyscall,   // inside a lw::BlockingCall: a call that blocks its worker (blocking.hpp)
  kDead,      // finished (never listed by tasks())
};

// TaskInfo is one task as the registry saw it.
struct TaskInfo {
  TaskId id{};
  TaskId parent{};                       // TaskId{0}: started from a plain thread (or task 1)
  TaskState state = TaskState::kRunnable;
  std::string wait_reason;               // Go's words ("chan receive"); empty unless waiting
  std::int64_t wait_since_unix_ns = 0;   // stamped when it parked or entered a blocking call; else 0
  std::uint64_t wait_object = 0;         // address of the channel/mutex/... it waits on
  std::uint64_t switch_count = 0;        // times it was switched in
  std::vector<std::uintptr_t> stack;         // return addresses, innermost first (empty: running elsewhere)
  std::vector<std::uintptr_t> create_stack;  // the go() call that created it, innermost first
  Labels labels;
  bool leaked = false;                   // proven never to wake
  std::string leak_reason;
};

// tasks() returns a record for every live task (none when no run() is active).
std::vector<TaskInfo> tasks();

// leaked_task_count() counts the tasks proven leaked since the process started (monotonic).
std::uint64_t leaked_task_count() noexcept;

// write_task_dump() writes Go's goroutine text: debug <= 1 aggregated, debug >= 2 every task with
// its wait reason, exact wait time and creator. Symbolizes with debug info when present.
void write_task_dump(std::ostream& os, int debug);
// write_task_leak_dump() is the `goroutineleak` view: only the tasks proven never to wake.
void write_task_leak_dump(std::ostream& os, int debug);

}  // namespace lw
