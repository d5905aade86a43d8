// thread_table.hpp: the registry of OS threads: one ThreadSlot per thread the process created
// through pthread_create while the tracker was loaded (plus the main thread and the threads found
// in /proc/self/task at start-up), and the table of creation sites. Thread-safe. Never calls
// malloc: slots and sites live in memory mapped once per chunk (mmap), so the pthread hooks can use
// the table from any thread, before main and inside malloc alike. A full table bumps a dropped_*
// counter and the thread goes untracked.
//
// Life of a slot: acquire() (in the creator, state kCreating) -> mark_started() (in the new thread)
// -> mark_exited() (the thread's last act) -> released when nobody needs it any more: at exit for a
// detached thread, at join for a joinable one. A joinable thread that exited and was never joined
// keeps its slot (state kExited): that is the "unjoined thread" the views and the differ report.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "src/unwind/stack_trace.hpp"

namespace lw::os_threads {

// WaitKind is what an interposed blocking call waits for. Each value has one fixed word
// (to_string), the words the thread views and the differ print.
enum class WaitKind : std::uint8_t {
  kNone = 0,
  kMutexLock,      // "mutex lock"
  kConditionWait,  // "condition wait"
  kRwlockRead,     // "rwlock read"
  kRwlockWrite,    // "rwlock write"
  kThreadJoin,     // "thread join": wait_object is the joined thread's pthread_t
  kSemaphoreWait,  // "semaphore wait"
  kBarrierWait,    // "barrier wait"
};
const char* to_string(WaitKind k) noexcept;

enum class SlotState : std::uint8_t {
  kFree = 0,
  kCreating,  // acquired by the creator; the thread may not run yet
  kRunning,   // the thread runs (tid known)
  kExited,    // the thread is gone; the slot stays until joined (joinable) or released
};

enum class SlotJoin : std::uint8_t { kJoinable, kDetached, kJoined, kUnknown };

// ThreadSlot is one thread's record. Fields marked "owner" are written only by the thread itself
// (the creator before the thread starts); readers on other threads load them relaxed and accept a
// value a moment old. The wait fields follow a sequence protocol (begin_wait/end_wait).
struct ThreadSlot {
  std::atomic<SlotState> state{SlotState::kFree};
  std::atomic<SlotJoin> join{SlotJoin::kUnknown};
  std::uint32_t generation = 0;        // bumped at each acquire; guarded by the table lock
  bool main_thread = false;            // owner (set once)
  std::atomic<std::uint8_t> role{0};   // owner: a base::ThreadRole, declared by leakwatch's own threads
  std::atomic<int> tid{0};             // owner: set by mark_started
  std::atomic<pthread_t> handle{0};    // the pthread_t; 0 for threads found in /proc
  std::int64_t creator_tid = 0;        // creator
  std::uint64_t creator_task = 0;      // creator
  std::int64_t start_ns = 0;           // wall clock; 0 unknown (creator)
  std::atomic<std::int64_t> exit_ns{0};
  char exit_name[16] = {};             // owner: the kernel name at exit (the thread is gone after)
  unwind::StackTrace create_stack;     // creator
  std::uint32_t site = 0;              // creation site index + 1; 0 none (creator)
  // owner: the thread's current label set (a base::LabelSetId) outside tasks, published by
  // with_labels (the slot is the thread's label home, base/current_labels.hpp).
  std::atomic<std::uint32_t> label_set{0};

  // The current wait, under a sequence lock: wait_seq is odd while the owner rewrites the fields,
  // and grows by 4 per wait, so two reads with the same even value saw one and the same wait.
  std::atomic<std::uint32_t> wait_seq{0};
  std::atomic<WaitKind> wait_kind{WaitKind::kNone};
  std::atomic<bool> wait_timed{false};
  std::atomic<std::uint64_t> wait_object{0};
  std::atomic<std::int64_t> wait_since_ns{0};
  // The mutex profile's clock for this wait: where the next contended unlock starts charging it
  // (wait_since_ns at first; each unlock that charged it moves it on, by compare-and-swap).
  std::atomic<std::int64_t> charged_since_ns{0};

  // The start routine and argument, kept here between pthread_create and the thread's start, so
  // creating a thread needs no allocation of ours.
  void* (*start_routine)(void*) = nullptr;
  void* start_arg = nullptr;

  ThreadSlot* next_live = nullptr;     // guarded by the table lock
  ThreadSlot* prev_live = nullptr;     // guarded by the table lock
};

// WaitView is one consistent read of a slot's wait.
struct WaitView {
  WaitKind kind = WaitKind::kNone;
  bool timed = false;
  std::uint64_t object = 0;
  std::int64_t since_ns = 0;
  std::uint32_t seq = 0;  // identifies this wait: the same seq later means it never ended
};

// begin_wait() publishes that `slot`'s thread is about to block. Owner only; never allocates.
void begin_wait(ThreadSlot* slot, WaitKind kind, const void* object, bool timed) noexcept;
// end_wait() withdraws it. Owner only.
void end_wait(ThreadSlot* slot) noexcept;
// read_wait() reads the published wait; kind kNone when there is none (or it changed meanwhile).
WaitView read_wait(const ThreadSlot& slot) noexcept;

// CreateSite is one distinct creation stack and how many threads were created there.
struct CreateSite {
  unwind::StackTrace stack;
  std::atomic<std::int64_t> count{0};
};

// TableCounters are the registry's monotonic counters.
struct TableCounters {
  std::uint64_t created = 0;        // threads started through pthread_create
  std::uint64_t dropped_slots = 0;  // threads left untracked: the slot table was full
  std::uint64_t dropped_sites = 0;  // creations counted without a site: the site table was full
};

inline constexpr std::size_t kMaxSlots = 16384;     // budget: ~13 MiB of address space at most
inline constexpr std::size_t kMaxCreateSites = 1024;

// acquire_slot() takes a free slot for a thread about to be created, or nullptr (table full;
// counted). Never allocates malloc memory.
ThreadSlot* acquire_slot() noexcept;
// release_slot() returns it to the free list.
void release_slot(ThreadSlot* slot) noexcept;
// link_live() / unlink_live() put a slot on / take it off the list readers walk.
void link_live(ThreadSlot* slot) noexcept;
void unlink_live(ThreadSlot* slot) noexcept;

// mark_exited() is a thread's last act: the slot is released at once when the thread is detached,
// and kept as kExited (still listed) while it is joinable. mark_detached() / mark_joined() record
// what the program did with `handle`, releasing the slot of a thread that has already exited.
// All three decide under the table lock, so an exit racing a detach releases the slot once.
void mark_exited(ThreadSlot* slot) noexcept;
void mark_detached(pthread_t handle) noexcept;
void mark_joined(pthread_t handle) noexcept;

// publish_handle() sets the slot's pthread_t from the creator once pthread_create returned, unless
// the slot has been released (and perhaps reused) meanwhile: `generation` is the one
// acquire_slot() gave. So a pthread_detach right after creation always finds its thread.
void publish_handle(ThreadSlot* slot, std::uint32_t generation, pthread_t handle) noexcept;

// note_create_site() counts one creation at `stack` and returns the site's index + 1 (0: table full).
std::uint32_t note_create_site(const unwind::StackTrace& stack) noexcept;
void count_created() noexcept;

// find_by_handle() is the live slot whose thread is `handle`, or nullptr. find_by_tid() likewise.
ThreadSlot* find_by_handle(pthread_t handle) noexcept;
ThreadSlot* find_by_tid(int tid) noexcept;

// for_each_live() calls fn(slot, arg) for every slot on the live list, under the table lock: fn
// must be short and must not allocate or call into the table.
void for_each_live(void (*fn)(const ThreadSlot&, void*), void* arg) noexcept;

// try_for_each_live() is for_each_live() when the table lock is free at once, else false: for
// callers that may run while this thread holds it (a fork handler's pthread calls).
bool try_for_each_live(void (*fn)(const ThreadSlot&, void*), void* arg) noexcept;

// for_each_site() calls fn for every creation site with a non-zero count.
void for_each_site(void (*fn)(const CreateSite&, void*), void* arg) noexcept;

TableCounters table_counters() noexcept;

// note_exited_tid() remembers that `tid` was a thread of this process that exited (a bounded ring;
// the orphaned-mutex proof needs it). was_exited_tid() asks.
void note_exited_tid(int tid) noexcept;
bool was_exited_tid(int tid) noexcept;

// LW_THREAD_HOOK puts a hook in its own section, so the frames it leaves in a stack can be told
// apart by address (in_hook_code) and dropped from what the views show.
#define LW_THREAD_HOOK __attribute__((section("lw_thread_hooks")))
bool in_hook_code(std::uintptr_t pc) noexcept;

// The calling thread's slot (initial-exec TLS: no allocation to reach it); null for threads the
// tracker did not see start.
inline thread_local ThreadSlot* tls_slot __attribute__((tls_model("initial-exec"))) = nullptr;

}  // namespace lw::os_threads
