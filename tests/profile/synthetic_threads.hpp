// synthetic_threads.hpp: the profile writers' synthetic snapshot with a tracked thread table:
// threads in every state, with and without stacks, two proven leaked, one created by a task, one
// of leakwatch's own and a runtime worker, and the creation sites they came from. For tests
// only; allocates.
#pragma once

#include "tests/profile/synthetic_snapshot.hpp"

namespace lw::test {

// Return addresses of the threads' stacks (symbolized at address - 1).
enum ThreadPc : std::uint64_t {
  kFutexWait = 0x7f0000002010,
  kCondWait = 0x7f0000002020,
  kThreadProxy = 0x7f0000002030,
  kStartThread = 0x7f0000002040,
  kRead = 0x7f0000002050,
  kLockWait = 0x7f0000002060,
  kStdStart = 0x7f0000003010,
  kQueuePop = 0x403020,
  kWorkerLoop = 0x403030,
  kDrainPipe = 0x403040,
  kMutexHook = 0x403050,
  kFlush = 0x403060,
  kSpin = 0x403070,
  kCreateHook = 0x403080,
  kPoolStart = 0x403090,
  kSpawnHelper = 0x4030a0,
};

inline constexpr snapshot::StackId kPoolWaitStack = 20;
inline constexpr snapshot::StackId kPoolCreateStack = 30;
inline constexpr snapshot::StackId kTaskCreateStack = 31;

inline snapshot::Snapshot synthetic_thread_snapshot() {
  using namespace snapshot;
  Snapshot s = synthetic_snapshot();
  auto loc = [&](std::uint64_t a, std::string f, std::string file, std::int64_t line) {
    std::uint64_t start = a >= 0x7f0000000000 ? 0x7f0000000000 : 0x400000;
    s.locations.push_back({a, std::move(f), std::move(file), line, start});
  };
  loc(kFutexWait, "__futex_abstimed_wait_common", "", 0);
  loc(kCondWait, "pthread_cond_wait", "", 0);
  loc(kThreadProxy, "execute_native_thread_routine", "", 0);
  loc(kStartThread, "start_thread", "", 0);
  loc(kRead, "read", "", 0);
  loc(kLockWait, "__lll_lock_wait", "", 0);
  loc(kStdStart,
      "std::thread::_M_start_thread(std::unique_ptr<std::thread::_State, "
      "std::default_delete<std::thread::_State> >, void (*)())",
      "", 0);
  loc(kQueuePop, "WorkQueue::pop()", "/src/queue.cpp", 55);
  loc(kWorkerLoop, "worker_loop(int)", "/src/worker_pool.cpp", 20);
  loc(kDrainPipe, "drain_pipe(int)", "/src/pipe.cpp", 14);
  loc(kMutexHook, "lw::threads::contended_lock(pthread_mutex_t*)", "/src/threads/interpose.cpp",
      80);
  loc(kFlush, "Journal::flush()", "/src/journal.cpp", 91);
  loc(kSpin, "spin_forever()", "/src/spin.cpp", 3);
  loc(kCreateHook, "pthread_create", "/src/threads/interpose.cpp", 40);
  loc(kPoolStart, "WorkerPool::start(int)", "/src/worker_pool.cpp", 9);
  loc(kSpawnHelper, "spawn_helper()", "/src/helper.cpp", 7);

  s.stacks.push_back({kPoolWaitStack,
                      {kFutexWait, kCondWait, kQueuePop, kWorkerLoop, kThreadProxy, kStartThread}});
  s.stacks.push_back({21, {kRead, kDrainPipe, kThreadProxy, kStartThread}});
  s.stacks.push_back({22, {kLockWait, kMutexHook, kFlush, kThreadProxy, kStartThread}});
  s.stacks.push_back({23, {kSpin, kThreadProxy, kStartThread}});
  s.stacks.push_back({24, {kSpin, kMain}});
  s.stacks.push_back({kPoolCreateStack, {kCreateHook, kStdStart, kPoolStart, kMain}});
  s.stacks.push_back({kTaskCreateStack, {kCreateHook, kStdStart, kSpawnHelper, kEntry}});

  constexpr std::int64_t kSec = 1'000'000'000;
  auto thread = [&](std::int64_t tid, std::string name, ThreadState state, StackId stack) {
    ThreadRecord t = thread_record(tid, std::move(name));
    t.state = state;
    t.stack_id = stack;
    t.join = JoinState::kJoinable;
    t.start_time_unix_ns = kSnapshotTime - 600 * kSec;
    t.cpu_ns = 1'000'000;
    s.threads.push_back(std::move(t));
    return &s.threads.back();
  };
  auto created_by_pool = [](ThreadRecord* t) {
    t->create_stack_id = kPoolCreateStack;
    t->creator_tid = 100;
  };
  s.threads.clear();
  s.threads.reserve(10);

  ThreadRecord* main_thread = thread(100, "svc", ThreadState::kRunning, 24);
  main_thread->join = JoinState::kUnknown;
  main_thread->start_time_unix_ns = 0;

  for (std::int64_t tid : {101, 102}) {
    ThreadRecord* t =
        thread(tid, "pool-" + std::to_string(tid - 101), ThreadState::kWaiting, kPoolWaitStack);
    t->wait_reason = "condition wait";
    t->wait_since_unix_ns = kSnapshotTime - (3 * 60 + 20) * kSec;
    t->wait_object = 0x55550000a000;
    t->labels = {{"pool", "io"}};
    created_by_pool(t);
  }

  ThreadRecord* reader = thread(103, "pipe reader", ThreadState::kSyscall, 21);
  reader->wait_reason = "read";
  reader->wait_object = 7 + 1;
  reader->wait_detail = "pipe:[99]";
  created_by_pool(reader);

  ThreadRecord* journal = thread(104, "journal", ThreadState::kWaiting, 22);
  journal->wait_reason = "mutex lock";
  journal->wait_since_unix_ns = kSnapshotTime - 45 * kSec;
  journal->wait_object = 0x55550000b000;
  journal->wait_detail = "held by thread 105";
  journal->leaked = true;
  journal->leak_reason = "deadlock: thread 104 waits for thread 105, which waits for thread 104";
  created_by_pool(journal);

  ThreadRecord* blocked = thread(105, "helper", ThreadState::kWaiting, 0);
  blocked->wait_reason = "mutex lock";
  blocked->wait_since_unix_ns = kSnapshotTime - 45 * kSec;
  blocked->wait_detail = "held by thread 104";
  blocked->stack_error = "thread blocks signal 61";
  blocked->leaked = true;
  blocked->leak_reason = "deadlock: thread 105 waits for thread 104, which waits for thread 105";
  blocked->create_stack_id = kTaskCreateStack;
  blocked->creator_tid = 4243;
  blocked->creator_task = 5;
  blocked->labels = {{"stage", "produce"}};

  ThreadRecord* finished = thread(106, "finished", ThreadState::kExited, 0);
  finished->stack_error = "thread has exited";
  finished->exit_time_unix_ns = kSnapshotTime - 30 * kSec;
  created_by_pool(finished);

  ThreadRecord* stopped = thread(107, "stopped", ThreadState::kStopped, 23);
  stopped->join = JoinState::kUnknown;

  ThreadRecord* http = thread(108, "lw-http", ThreadState::kSyscall, 23);
  http->wait_reason = "accept";
  http->internal = true;

  ThreadRecord* worker = thread(4243, "lw-worker-0", ThreadState::kRunning, 23);
  worker->runtime_worker = true;

  s.thread_creates = {{kPoolCreateStack, 7}, {kTaskCreateStack, 1}, {0, 2}};
  s.threads_created = 10;
  s.leaked_threads = 2;
  s.threads_tracked = true;
  s.mem.num_threads = s.threads.size();
  return s;
}

}  // namespace lw::test
