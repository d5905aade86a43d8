// thread_info.hpp: what leakwatch knows about every OS thread of the process, and Go-style text
// dumps of it. Thread-safe. threads() and the dumps allocate, read /proc, and take each other
// thread's stack with a signal (a few microseconds per thread, one thread at a time; a thread that
// blocks the signal or does not answer is listed without a stack): call them from diagnostics
// paths, not from hot loops.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "leakwatch/runtime.hpp"

namespace lw {

// ThreadState: what an OS thread is doing (docs/threads.md has the table).
enum class ThreadState : std::uint8_t {
  kRunning,  // on a CPU or ready to run
  kWaiting,  // in a pthread wait leakwatch saw begin (wait_reason, exact wait_since)
  kSyscall,  // blocked in a system call (wait_reason is its name, e.g. "read")
  kStopped,  // stopped or traced
  kExited,   // exited while joinable and not joined yet
};

// ThreadJoin: what the program did with a thread it created.
enum class ThreadJoin : std::uint8_t { kJoinable, kDetached, kJoined, kUnknown };

// ThreadInfo is one OS thread.
struct ThreadInfo {
  std::int64_t tid = 0;
  std::string name;
  ThreadState state = ThreadState::kRunning;
  std::string wait_reason;              // "mutex lock", "condition wait", ..., or a syscall's name
  std::int64_t wait_since_unix_ns = 0;  // exact start of a pthread wait; 0 when unknown
  std::uint64_t wait_object = 0;        // the mutex/condition/... address; a syscall's fd + 1
  std::string wait_detail;              // "held by thread 17401", "socket:[123] a->b", "pipe:[9]"
  bool timed_wait = false;
  std::int64_t creator_tid = 0;         // 0: unknown (main thread, or created before the tracker)
  TaskId creator_task{};                // TaskId{0}: not created from a task
  std::int64_t start_time_unix_ns = 0;  // 0: unknown
  std::int64_t exit_time_unix_ns = 0;   // kExited only
  ThreadJoin join = ThreadJoin::kUnknown;
  std::uint64_t cpu_ns = 0;             // user + system CPU time
  std::vector<std::uintptr_t> stack;         // innermost first; empty when unavailable
  std::string stack_error;                   // why `stack` is empty
  std::vector<std::uintptr_t> create_stack;  // the pthread_create call, innermost first
  Labels labels;                        // set by with_labels on this thread, outside tasks
  bool internal = false;                // one of leakwatch's own threads
  bool runtime_worker = false;          // a worker of leakwatch's task runtime
  bool leaked = false;                  // proven never to wake (docs/threads.md)
  std::string leak_reason;
};

// threads() returns every thread of the process, exited-but-unjoined ones included. With
// `with_stacks` false it skips the signals (cheap: /proc and the registry only).
std::vector<ThreadInfo> threads(bool with_stacks = true);

// threads_created() counts the threads started through pthread_create since the tracker loaded.
std::uint64_t threads_created() noexcept;

// write_thread_dump() writes every thread in the goroutine dump's shape: debug <= 1 grouped by
// stack, debug >= 2 each thread with its state, wait, stack and creator. Leaves out leakwatch's
// own threads.
void write_thread_dump(std::ostream& os, int debug);

}  // namespace lw
