// The table is a free list and a live list of slots carved from chunks mapped with mmap, under one
// spin lock. A spin lock rather than a pthread mutex: this module interposes pthread_mutex_lock,
// and the lock must be safe to take inside malloc and before main. Critical sections are a few
// pointer moves; pthread_create and thread exit cost microseconds, so contention is negligible.
// Lookups by handle or tid walk the live list: a join or a capture touches each live thread once,
// and services run hundreds or a few thousand threads, not millions.
//
// fork(): the child keeps only the forking thread. A pthread_atfork handler takes the lock around
// fork (so the child never inherits it held) and, in the child, releases every other slot.
#include "src/threads/thread_table.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "src/base/clock.hpp"
#include "src/base/current_labels.hpp"

namespace lw::os_threads {
namespace {

constexpr std::size_t kChunkSlots = 256;
constexpr std::size_t kMaxChunks = kMaxSlots / kChunkSlots;
constexpr std::size_t kExitedRing = 4096;

class TableLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          __builtin_ia32_pause();
        } else {
          sched_yield();
          spins = 0;
        }
      }
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

struct Guard {
  explicit Guard(TableLock& l) noexcept : lock(l) { lock.lock(); }
  ~Guard() { lock.unlock(); }
  TableLock& lock;
};

// Everything below is guarded by g_lock unless it is atomic.
TableLock g_lock;
ThreadSlot* g_chunks[kMaxChunks] = {};
std::size_t g_chunk_count = 0;
ThreadSlot* g_free = nullptr;   // singly linked through next_live
ThreadSlot* g_live = nullptr;   // doubly linked
CreateSite* g_sites = nullptr;  // kMaxCreateSites entries, mapped at the first creation
std::atomic<std::uint64_t> g_created{0};
std::atomic<std::uint64_t> g_dropped_slots{0};
std::atomic<std::uint64_t> g_dropped_sites{0};
std::atomic<int> g_exited[kExitedRing] = {};
std::atomic<std::uint64_t> g_exited_next{0};

void* map_zeroed(std::size_t bytes) noexcept {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Slots of the newest chunk not handed out yet: [g_fresh, g_fresh_end). A slot is built when it is
// first needed, so a process with a few threads touches a few pages of its chunk, not all 41
// (building the whole chunk at once was a sixth of a preloaded /bin/true's run).
ThreadSlot* g_fresh = nullptr;
ThreadSlot* g_fresh_end = nullptr;

// grow() puts one slot on the free list: the next fresh one, mapping a chunk when none is left.
// Called with g_lock held.
bool grow() noexcept {
  if (g_fresh == g_fresh_end) {
    if (g_chunk_count == kMaxChunks) return false;
    auto* chunk = static_cast<ThreadSlot*>(map_zeroed(kChunkSlots * sizeof(ThreadSlot)));
    if (chunk == nullptr) return false;
    g_chunks[g_chunk_count++] = chunk;
    g_fresh = chunk;
    g_fresh_end = chunk + kChunkSlots;
  }
  ThreadSlot* s = new (g_fresh++) ThreadSlot();
  s->next_live = g_free;
  g_free = s;
  return true;
}

void reset(ThreadSlot* s) noexcept {
  s->state.store(SlotState::kFree, std::memory_order_relaxed);
  s->join.store(SlotJoin::kUnknown, std::memory_order_relaxed);
  s->main_thread = false;
  s->role.store(0, std::memory_order_relaxed);
  s->tid.store(0, std::memory_order_relaxed);
  s->handle.store(0, std::memory_order_relaxed);
  s->creator_tid = 0;
  s->creator_task = 0;
  s->start_ns = 0;
  s->exit_ns.store(0, std::memory_order_relaxed);
  std::memset(s->exit_name, 0, sizeof s->exit_name);
  s->create_stack.depth = 0;
  s->site = 0;
  s->wait_kind.store(WaitKind::kNone, std::memory_order_relaxed);
  s->wait_object.store(0, std::memory_order_relaxed);
  s->wait_since_ns.store(0, std::memory_order_relaxed);
  s->label_set.store(0, std::memory_order_relaxed);
  s->start_routine = nullptr;
  s->start_arg = nullptr;
  s->prev_live = nullptr;
}

void unlink_locked(ThreadSlot* s) noexcept {
  if (s->prev_live != nullptr) s->prev_live->next_live = s->next_live;
  if (g_live == s) g_live = s->next_live;
  if (s->next_live != nullptr) s->next_live->prev_live = s->prev_live;
  s->next_live = s->prev_live = nullptr;
}

// free_locked() moves a slot from the live list to the free list. Called with g_lock held.
void free_locked(ThreadSlot* s) noexcept {
  unlink_locked(s);
  reset(s);
  s->next_live = g_free;
  g_free = s;
}

std::uint64_t hash_stack(const unwind::StackTrace& st) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint32_t i = 0; i < st.depth; ++i) h = (h ^ st.pc[i]) * 1099511628211ull;
  return h ^ st.depth;
}

bool same_stack(const unwind::StackTrace& a, const unwind::StackTrace& b) noexcept {
  return a.depth == b.depth && std::memcmp(a.pc, b.pc, a.depth * sizeof a.pc[0]) == 0;
}

void before_fork() noexcept { g_lock.lock(); }
void after_fork_parent() noexcept { g_lock.unlock(); }
void after_fork_child() noexcept {
  // Only the forking thread lives on in the child.
  ThreadSlot* self = tls_slot;
  for (ThreadSlot* s = g_live; s != nullptr;) {
    ThreadSlot* next = s->next_live;
    if (s != self) free_locked(s);
    s = next;
  }
  if (self != nullptr) self->tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  g_lock.unlock();
}

const bool kAtFork = [] {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  return true;
}();

}  // namespace

extern "C" const char __start_lw_thread_hooks[];
extern "C" const char __stop_lw_thread_hooks[];

bool in_hook_code(std::uintptr_t pc) noexcept {
  return pc >= reinterpret_cast<std::uintptr_t>(__start_lw_thread_hooks) &&
         pc < reinterpret_cast<std::uintptr_t>(__stop_lw_thread_hooks);
}

const char* to_string(WaitKind k) noexcept {
  switch (k) {
    case WaitKind::kNone: return "";
    case WaitKind::kMutexLock: return "mutex lock";
    case WaitKind::kConditionWait: return "condition wait";
    case WaitKind::kRwlockRead: return "rwlock read";
    case WaitKind::kRwlockWrite: return "rwlock write";
    case WaitKind::kThreadJoin: return "thread join";
    case WaitKind::kSemaphoreWait: return "semaphore wait";
    case WaitKind::kBarrierWait: return "barrier wait";
  }
  return "";
}

void begin_wait(ThreadSlot* slot, WaitKind kind, const void* object, bool timed) noexcept {
  // A seqlock: odd while the fields are being written. The acquire half of the first increment
  // keeps the field stores after it; the release of the second keeps them before it. (No fences:
  // ThreadSanitizer does not model them.)
  slot->wait_seq.fetch_add(1, std::memory_order_acq_rel);
  slot->wait_kind.store(kind, std::memory_order_relaxed);
  slot->wait_timed.store(timed, std::memory_order_relaxed);
  slot->wait_object.store(reinterpret_cast<std::uintptr_t>(object), std::memory_order_relaxed);
  const std::int64_t now = base::wall_now_ns();
  slot->wait_since_ns.store(now, std::memory_order_relaxed);
  slot->charged_since_ns.store(now, std::memory_order_relaxed);
  slot->wait_seq.fetch_add(1, std::memory_order_release);
}

void end_wait(ThreadSlot* slot) noexcept {
  slot->wait_seq.fetch_add(1, std::memory_order_acq_rel);
  slot->wait_kind.store(WaitKind::kNone, std::memory_order_relaxed);
  slot->wait_seq.fetch_add(1, std::memory_order_release);
}

WaitView read_wait(const ThreadSlot& slot) noexcept {
  WaitView v;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint32_t before = slot.wait_seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;  // being written: read again
    // Acquire loads keep the second read of the sequence after them.
    v.kind = slot.wait_kind.load(std::memory_order_acquire);
    v.timed = slot.wait_timed.load(std::memory_order_acquire);
    v.object = slot.wait_object.load(std::memory_order_acquire);
    v.since_ns = slot.wait_since_ns.load(std::memory_order_acquire);
    if (slot.wait_seq.load(std::memory_order_relaxed) != before) continue;
    if (v.kind == WaitKind::kNone) return WaitView{};
    v.seq = before;
    return v;
  }
  return WaitView{};
}

ThreadSlot* acquire_slot() noexcept {
  (void)kAtFork;
  Guard g(g_lock);
  if (g_free == nullptr && !grow()) {
    g_dropped_slots.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  ThreadSlot* s = g_free;
  g_free = s->next_live;
  s->next_live = nullptr;
  s->state.store(SlotState::kCreating, std::memory_order_relaxed);
  ++s->generation;
  return s;
}

void release_slot(ThreadSlot* slot) noexcept {
  Guard g(g_lock);
  free_locked(slot);
}

void link_live(ThreadSlot* slot) noexcept {
  Guard g(g_lock);
  slot->prev_live = nullptr;
  slot->next_live = g_live;
  if (g_live != nullptr) g_live->prev_live = slot;
  g_live = slot;
}

void unlink_live(ThreadSlot* slot) noexcept {
  Guard g(g_lock);
  unlink_locked(slot);
}

void publish_handle(ThreadSlot* slot, std::uint32_t generation, pthread_t handle) noexcept {
  Guard g(g_lock);
  if (slot->generation == generation && slot->state.load(std::memory_order_relaxed) != SlotState::kFree)
    slot->handle.store(handle, std::memory_order_relaxed);
}

void mark_exited(ThreadSlot* slot) noexcept {
  // The slot may be reused at once: labels set after this (a thread-local's destructor) go nowhere.
  if (base::tls_label_home == &slot->label_set) base::tls_label_home = nullptr;
  Guard g(g_lock);
  slot->state.store(SlotState::kExited, std::memory_order_release);
  if (slot->join.load(std::memory_order_relaxed) != SlotJoin::kJoinable) free_locked(slot);
}

void mark_detached(pthread_t handle) noexcept {
  Guard g(g_lock);
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live) {
    if (s->handle.load(std::memory_order_relaxed) != handle) continue;
    s->join.store(SlotJoin::kDetached, std::memory_order_relaxed);
    if (s->state.load(std::memory_order_relaxed) == SlotState::kExited) free_locked(s);
    return;
  }
}

void mark_joined(pthread_t handle) noexcept {
  Guard g(g_lock);
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live) {
    if (s->handle.load(std::memory_order_relaxed) != handle) continue;
    if (s->state.load(std::memory_order_relaxed) == SlotState::kExited) {
      free_locked(s);
    } else {
      s->join.store(SlotJoin::kJoined, std::memory_order_relaxed);
    }
    return;
  }
}

std::uint32_t note_create_site(const unwind::StackTrace& stack) noexcept {
  Guard g(g_lock);
  if (g_sites == nullptr) {
    g_sites = static_cast<CreateSite*>(map_zeroed(kMaxCreateSites * sizeof(CreateSite)));
    if (g_sites == nullptr) {
      g_dropped_sites.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
  }
  std::size_t i = hash_stack(stack) % kMaxCreateSites;
  for (std::size_t probes = 0; probes < kMaxCreateSites; ++probes, i = (i + 1) % kMaxCreateSites) {
    CreateSite& site = g_sites[i];
    if (site.count.load(std::memory_order_relaxed) == 0) {
      site.stack = stack;
      site.count.store(1, std::memory_order_release);
      return static_cast<std::uint32_t>(i + 1);
    }
    if (same_stack(site.stack, stack)) {
      site.count.fetch_add(1, std::memory_order_relaxed);
      return static_cast<std::uint32_t>(i + 1);
    }
  }
  g_dropped_sites.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void count_created() noexcept { g_created.fetch_add(1, std::memory_order_relaxed); }

ThreadSlot* find_by_handle(pthread_t handle) noexcept {
  Guard g(g_lock);
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live)
    if (s->handle.load(std::memory_order_relaxed) == handle) return s;
  return nullptr;
}

ThreadSlot* find_by_tid(int tid) noexcept {
  Guard g(g_lock);
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live)
    if (s->tid.load(std::memory_order_relaxed) == tid) return s;
  return nullptr;
}

void for_each_live(void (*fn)(const ThreadSlot&, void*), void* arg) noexcept {
  Guard g(g_lock);
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live) fn(*s, arg);
}

bool try_for_each_live(void (*fn)(const ThreadSlot&, void*), void* arg) noexcept {
  if (!g_lock.try_lock()) return false;
  for (ThreadSlot* s = g_live; s != nullptr; s = s->next_live) fn(*s, arg);
  g_lock.unlock();
  return true;
}

void for_each_site(void (*fn)(const CreateSite&, void*), void* arg) noexcept {
  Guard g(g_lock);
  if (g_sites == nullptr) return;
  for (std::size_t i = 0; i < kMaxCreateSites; ++i)
    if (g_sites[i].count.load(std::memory_order_relaxed) > 0) fn(g_sites[i], arg);
}

TableCounters table_counters() noexcept {
  TableCounters c;
  c.created = g_created.load(std::memory_order_relaxed);
  c.dropped_slots = g_dropped_slots.load(std::memory_order_relaxed);
  c.dropped_sites = g_dropped_sites.load(std::memory_order_relaxed);
  return c;
}

void note_exited_tid(int tid) noexcept {
  std::uint64_t i = g_exited_next.fetch_add(1, std::memory_order_relaxed);
  g_exited[i % kExitedRing].store(tid, std::memory_order_relaxed);
}

bool was_exited_tid(int tid) noexcept {
  for (const auto& t : g_exited)
    if (t.load(std::memory_order_relaxed) == tid) return true;
  return false;
}

}  // namespace lw::os_threads
