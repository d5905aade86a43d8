// model.hpp: the Snapshot value, the one contract between the process being watched and the
// analysis side (store, differ, CLI). Plain structs: no locks, no third-party types. Building one
// allocates; it is made on the HTTP/analysis path, never on a hot path.
//
// Stacks are raw return addresses (innermost first) interned by id; `locations` symbolizes each
// distinct address once, in the target process, so the analysis side never needs the binary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lw::snapshot {

inline constexpr std::uint32_t kFormatVersion = 1;

using StackId = std::uint64_t;  // 0 means "no stack".

// TaskState is a task's scheduling state, as the runtime's registry reports it.
enum class TaskState : std::uint8_t {
  kRunnable,  // on a run queue, waiting for a worker
  kRunning,   // executing on a worker thread
  kWaiting,   // parked on a primitive; wait_reason and wait_since say on what and since when
  kSyscall,   // inside a blocking call made outside the runtime's poller
  kDead,      // finished; kept only until its record is reclaimed
};
std::string_view to_string(TaskState s);
bool task_state_from_string(std::string_view s, TaskState* out);

// Location is one distinct code address and what it resolves to.
struct Location {
  std::uint64_t address = 0;  // the return address as captured (symbolized at address - 1)
  std::string function;       // demangled; empty when unknown
  std::string file;
  std::int64_t line = 0;
  std::uint64_t mapping_start = 0;  // start of the Mapping that holds it, 0 when unknown
};

struct Stack {
  StackId id = 0;
  std::vector<std::uint64_t> pcs;  // return addresses, innermost first
};

// Mapping is one executable region of the process, from /proc/self/maps.
struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t limit = 0;
  std::uint64_t offset = 0;
  std::string file;
  std::string build_id;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// HeapSite aggregates the sampled allocations of one call stack under one label set (the labels
// current at allocation, with_labels or a task's; empty for none). Figures are estimates of the
// true totals (unbiased per sample; exact when sample_rate is 1).
struct HeapSite {
  StackId stack_id = 0;
  std::int64_t alloc_objects = 0;
  std::int64_t alloc_bytes = 0;
  std::int64_t inuse_objects = 0;
  std::int64_t inuse_bytes = 0;
  Labels labels = {};  // "= {}": brace-initialized sites may leave it out without a warning
};

struct HeapProfile {
  std::int64_t sample_rate = 0;   // mean bytes between samples; 1 = every allocation
  std::uint64_t dropped_samples = 0;  // samples that could not be recorded (table full)
  std::vector<HeapSite> sites;
};

// ContentionSite is one (stack, labels)'s total in the block or mutex profile: events (scaled up
// for sampling, as Go does) that waited there, or made others wait, and the delay in all.
struct ContentionSite {
  StackId stack_id = 0;
  std::int64_t count = 0;
  std::int64_t delay_ns = 0;
  std::vector<std::pair<std::string, std::string>> labels = {};  // the waiter's (block) or unlocker's (mutex) labels
};

// ContentionProfile is the block or mutex profile since start. `rate`: the block profile's rate
// in ns, the mutex profile's fraction n; 0 while off. `dropped_events` counts events added to
// the overflow site (no room for their stack) or lost (raised while one was being recorded).
struct ContentionProfile {
  std::int64_t rate = 0;
  std::vector<ContentionSite> sites;
  std::uint64_t dropped_events = 0;  // events kept without their stack (table full) or not at all
};

// TaskRecord is one task as the registry saw it at capture time.
struct TaskRecord {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;      // 0 for the first task
  TaskState state = TaskState::kRunnable;
  std::string wait_reason;          // Go's words: "chan receive", "select", "sleep", ...; empty if not waiting
  std::int64_t wait_since_unix_ns = 0;  // when it parked (exact, stamped at park); 0 if not waiting
  std::uint64_t wait_object = 0;    // identity of the primitive it waits on; 0 if none
  std::uint64_t switch_count = 0;   // times it has been switched in
  StackId stack_id = 0;             // its current stack
  StackId create_stack_id = 0;      // the stack of the go() call that created it
  Labels labels;
  bool leaked = false;              // proven never to wake
  std::string leak_reason;          // why the proof holds, when leaked
};

// ThreadState is an OS thread's state at capture time (docs/threads.md has the table).
enum class ThreadState : std::uint8_t {
  kRunning,  // on a CPU or ready to run (/proc state R)
  kWaiting,  // inside an interposed pthread wait: wait_reason, wait_object and wait_since are exact
  kSyscall,  // blocked in a system call (/proc state S or D): `syscall` names it
  kStopped,  // stopped or traced (/proc state T or t)
  kExited,   // gone, but kept: exited while joinable and not yet joined (its stack is not freed)
};
std::string_view to_string(ThreadState s);
bool thread_state_from_string(std::string_view s, ThreadState* out);

// JoinState is what the program did with a thread it created.
enum class JoinState : std::uint8_t {
  kJoinable,  // nobody has joined or detached it yet
  kDetached,  // pthread_detach, or created detached
  kJoined,    // pthread_join (or a successful try/timed join) returned for it
  kUnknown,   // not created through pthread_create while the tracker was loaded (main, pre-existing)
};
std::string_view to_string(JoinState s);
bool join_state_from_string(std::string_view s, JoinState* out);

// ThreadRecord is one OS thread as the thread registry and /proc saw it at capture time.
struct ThreadRecord {
  std::int64_t tid = 0;
  std::string name;                  // as the kernel has it now (renames included)
  bool runtime_worker = false;       // a worker of leakwatch's task runtime
  bool internal = false;             // one of leakwatch's own threads (server, dump): left out of user views
  ThreadState state = ThreadState::kRunning;
  std::string wait_reason;           // kWaiting: "mutex lock", "condition wait", "rwlock read", "rwlock write",
                                     // "thread join", "semaphore wait", "barrier wait"; kSyscall: the
                                     // syscall's name ("read", "epoll_wait", "futex"); else empty
  std::int64_t wait_since_unix_ns = 0;  // kWaiting: exact start of the wait; 0 when not known
  std::uint64_t wait_object = 0;     // kWaiting: address of the mutex/condition/...; kSyscall: the fd + 1, or 0
  std::string wait_detail;           // what the object is: "socket:[1234] 127.0.0.1:40000->127.0.0.1:80",
                                     // "pipe:[99]", a path; for mutexes "held by thread 17401"; else empty
  bool timed_wait = false;           // the wait has a timeout (never proven leaked)
  std::int64_t creator_tid = 0;      // the thread that called pthread_create; 0: unknown
  std::uint64_t creator_task = 0;    // the task that called it, when created from a task; else 0
  std::int64_t start_time_unix_ns = 0;  // 0: unknown (existed before the tracker)
  std::int64_t exit_time_unix_ns = 0;   // kExited only
  JoinState join = JoinState::kUnknown;
  std::uint64_t cpu_ns = 0;          // user + system CPU time so far (/proc utime + stime)
  StackId stack_id = 0;              // current stack, innermost first; 0 when unavailable
  std::string stack_error;           // why there is no stack ("thread blocks signal 61", "no answer in 50 ms")
  StackId create_stack_id = 0;       // the pthread_create call that made it; 0: unknown
  Labels labels;
  bool leaked = false;               // proven never to wake (docs/threads.md: deadlock, orphaned mutex, join)
  std::string leak_reason;
};

// thread_record() is a ThreadRecord with only its identity set (tests and /proc-only captures).
inline ThreadRecord thread_record(std::int64_t tid, std::string name, bool runtime_worker = false) {
  ThreadRecord t;
  t.tid = tid;
  t.name = std::move(name);
  t.runtime_worker = runtime_worker;
  return t;
}

// ThreadCreateSite counts every thread ever created at one creation stack (Go's threadcreate
// profile), exited ones included.
struct ThreadCreateSite {
  StackId stack_id = 0;
  std::int64_t count = 0;
};

// CustomSample is the live keys of one custom profile that were added at one stack.
struct CustomSample {
  StackId stack_id = 0;
  std::int64_t count = 0;
};

// CustomProfile is one lw::Profile (Go's pprof.NewProfile) as it was at capture time.
struct CustomProfile {
  std::string name;
  std::int64_t count = 0;          // live keys (the sum of the samples' counts)
  std::uint64_t dropped_adds = 0;  // adds not recorded since it was made (its bounds were reached)
  std::vector<CustomSample> samples;
};

// MemStats mirrors Go's runtime.MemStats where the meaning is the same. Bytes unless named.
struct MemStats {
  std::uint64_t alloc = 0;          // bytes of live heap objects (= heap_alloc)
  std::uint64_t total_alloc = 0;    // cumulative bytes allocated
  std::uint64_t sys = 0;            // bytes obtained from the OS
  std::uint64_t mallocs = 0;        // cumulative allocations
  std::uint64_t frees = 0;          // cumulative frees
  std::uint64_t heap_alloc = 0;
  std::uint64_t heap_sys = 0;
  std::uint64_t heap_idle = 0;
  std::uint64_t heap_inuse = 0;
  std::uint64_t heap_released = 0;
  std::uint64_t heap_objects = 0;
  std::uint64_t stack_inuse = 0;    // task stacks in use
  std::uint64_t stack_sys = 0;      // task stacks reserved from the OS
  std::uint64_t num_tasks = 0;
  std::uint64_t num_threads = 0;
  std::uint64_t rss = 0;            // resident set size now
  std::uint64_t max_rss = 0;        // peak resident set size
  std::uint64_t self_bytes = 0;     // heap bytes the tracker itself holds (not in heap_alloc)
};

// ProcessInfo identifies one run of one program: a restart gives a new instance_id.
struct ProcessInfo {
  std::int64_t pid = 0;
  std::int64_t start_time_unix_ns = 0;
  std::string instance_id;          // stable for the life of the process
  std::string executable;
  std::vector<std::string> cmdline;
};

struct Snapshot {
  std::uint32_t format_version = kFormatVersion;
  std::int64_t time_unix_ns = 0;        // when capture began
  std::int64_t capture_pause_ns = 0;    // longest single hold of the task registry (spawns/exits wait)
  ProcessInfo process;
  MemStats mem;
  HeapProfile heap;
  std::vector<TaskRecord> tasks;
  std::vector<ThreadRecord> threads;
  std::vector<Stack> stacks;
  std::vector<Location> locations;
  std::vector<Mapping> mappings;
  std::uint64_t leaked_tasks = 0;       // tasks proven leaked since start (monotonic)
  std::vector<ThreadCreateSite> thread_creates;
  std::uint64_t threads_created = 0;    // threads created through pthread_create since start (monotonic)
  std::uint64_t leaked_threads = 0;     // threads proven leaked at capture time
  bool threads_tracked = false;         // the thread registry was present (false: only tid/name from /proc)
  ContentionProfile block;              // Go's block profile (waits, at the waiter's stack)
  ContentionProfile mutex;              // Go's mutex profile (contention, at the unlocker's stack)
  std::uint64_t dropped_label_sets = 0;  // label sets not interned since start: the table was full (monotonic)
  std::vector<CustomProfile> custom_profiles;  // by name
  std::uint64_t dropped_custom_profiles = 0;   // lw::Profile objects made while the table was full (monotonic)
};

// find_stack() / find_location() look up by id / address; nullptr when absent. Linear: build an
// index (SnapshotIndex) when calling them in a loop.
const Stack* find_stack(const Snapshot& s, StackId id);
const Location* find_location(const Snapshot& s, std::uint64_t address);

// find_custom_profile() is the custom profile called `name`; nullptr when absent.
const CustomProfile* find_custom_profile(const Snapshot& s, std::string_view name);

}  // namespace lw::snapshot
