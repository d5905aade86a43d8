// The thread-creation hooks: pthread_create (std::thread, std::jthread and std::async come through
// it), the joins and pthread_detach. Each forwards to glibc (libc_threads.hpp) and records what it
// saw in the thread table; none allocates with malloc. pthread_create keeps the program's start
// routine and argument in the new thread's slot and starts the thread in start_thread() below, which
// fills in the tid, counts the creation site and marks the exit however the thread ends (return,
// pthread_exit or cancellation unwind through ExitMark).
//
// A full slot table never fails a pthread_create: the thread is started unwrapped and untracked
// (dropped_slots counts it).
#include <dlfcn.h>
#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "src/base/clock.hpp"
#include "src/base/current_labels.hpp"
#include "src/base/current_task.hpp"
#include "src/base/thread_start_hook.hpp"
#include "src/threads/current_slot.hpp"
#include "src/threads/libc_threads.hpp"
#include "src/unwind/capture.hpp"

namespace lw::os_threads {
namespace {

// ExitMark records the thread's end when the start routine returns or its frames are unwound.
struct ExitMark {
  ThreadSlot* slot;
  ~ExitMark() {
    slot->exit_ns.store(base::wall_now_ns(), std::memory_order_relaxed);
    prctl(PR_GET_NAME, slot->exit_name, 0, 0, 0);
    note_exited_tid(slot->tid.load(std::memory_order_relaxed));
    // Thread-local destructors still run after this: they must not touch a slot that may be freed.
    tls_slot = nullptr;
    mark_exited(slot);
  }
};

LW_THREAD_HOOK void* start_thread(void* p) {
  auto* slot = static_cast<ThreadSlot*>(p);
  tls_slot = slot;
  slot->tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  slot->handle.store(pthread_self(), std::memory_order_relaxed);
  slot->site = note_create_site(slot->create_stack);
  count_created();
  slot->state.store(SlotState::kRunning, std::memory_order_release);
  base::run_thread_start_hook();
  ExitMark mark{slot};
  return slot->start_routine(slot->start_arg);
}

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer's pthread_create interceptor, when it comes before ours in the search order (a
// program that links libleakwatch.so), hands this hook its own start wrapper: start_thread() would
// then run, instrumented, before TSan knows the thread, and crash. Such threads are started as
// they are and registered on first use (current_slot()), without creator or creation stack.
bool behind_tsan() noexcept {
  static const bool kBehind = [] {
    Dl_info first{}, ours{};
    void* found = dlsym(RTLD_DEFAULT, "pthread_create");
    return found != nullptr && dladdr(found, &first) != 0 &&
           dladdr(reinterpret_cast<void*>(&start_thread), &ours) != 0 && first.dli_fbase != ours.dli_fbase;
  }();
  return kBehind;
}
#endif

int creator_tid() noexcept {
  ThreadSlot* self = tls_slot;
  int tid = self != nullptr ? self->tid.load(std::memory_order_relaxed) : 0;
  return tid != 0 ? tid : static_cast<int>(gettid());
}

}  // namespace

ThreadSlot* current_slot() noexcept {
  // A thread the table could not hold is not looked up again on every contended lock.
  static thread_local bool untracked __attribute__((tls_model("initial-exec"))) = false;
  if (tls_slot != nullptr || untracked) return tls_slot;
  const int tid = static_cast<int>(gettid());
  ThreadSlot* s = find_by_tid(tid);
  if (s == nullptr) {
    s = acquire_slot();
    if (s == nullptr) {
      untracked = true;
      return nullptr;
    }
    s->tid.store(tid, std::memory_order_relaxed);
    s->handle.store(pthread_self(), std::memory_order_relaxed);
    s->main_thread = tid == static_cast<int>(getpid());
    s->state.store(SlotState::kRunning, std::memory_order_release);
    link_live(s);
  }
  tls_slot = s;
  return s;
}

namespace {

// A plain thread's labels (lw::with_labels outside tasks) are published in its slot, where
// lw::threads() reads them. Installed from this file, beside current_slot(), so that every link
// that tracks threads has it (startup.cpp is only linked whole into the shared libraries).
std::atomic<std::uint32_t>* label_home() noexcept {
  ThreadSlot* slot = current_slot();
  return slot != nullptr ? &slot->label_set : nullptr;
}

__attribute__((constructor)) void install_label_home() { base::set_label_home_provider(label_home); }

}  // namespace

}  // namespace lw::os_threads

using lw::os_threads::libc_threads;
using lw::os_threads::ThreadSlot;
using lw::os_threads::WaitKind;
using lw::os_threads::WaitScope;

namespace {

// A join's wait object is the pthread_t: the joined thread may not know its own tid yet.
const void* handle_object(pthread_t handle) noexcept { return reinterpret_cast<const void*>(handle); }

}  // namespace

extern "C" {

// The hooks keep their frames (this file is built with -fno-optimize-sibling-calls), so skipping
// one frame starts the creation stack at pthread_create's caller. The stack is unwound with DWARF
// (~140 ns, against the microseconds a thread takes to create): a frame-pointer walk would lose
// the caller of std::thread's constructor, which libstdc++ calls without a frame pointer.
LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                                          void* (*start)(void*), void* arg) {
  auto real = libc_threads().create;
  if (real == nullptr) return ENOSYS;
#if defined(__SANITIZE_THREAD__)
  if (lw::os_threads::behind_tsan()) return real(thread, attr, start, arg);
#endif
  ThreadSlot* slot = lw::os_threads::acquire_slot();
  if (slot == nullptr) return real(thread, attr, start, arg);
  lw::unwind::capture_stack(&slot->create_stack, 1);
  slot->creator_tid = lw::os_threads::creator_tid();
  slot->creator_task = lw::base::current_task_id();
  slot->start_ns = lw::base::wall_now_ns();
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr) pthread_attr_getdetachstate(attr, &detach);
  slot->join.store(detach == PTHREAD_CREATE_DETACHED ? lw::os_threads::SlotJoin::kDetached
                                                     : lw::os_threads::SlotJoin::kJoinable,
                   std::memory_order_relaxed);
  slot->start_routine = start;
  slot->start_arg = arg;
  const std::uint32_t generation = slot->generation;
  lw::os_threads::link_live(slot);
  const int rc = real(thread, attr, lw::os_threads::start_thread, slot);
  if (rc != 0) {
    lw::os_threads::release_slot(slot);
    return rc;
  }
  // The slot is the new thread's now: it may already have exited and been released.
  lw::os_threads::publish_handle(slot, generation, *thread);
  return rc;
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_join(pthread_t thread, void** result) {
  auto real = libc_threads().join;
  if (real == nullptr) return ENOSYS;
  int rc;
  {
    WaitScope wait(WaitKind::kThreadJoin, handle_object(thread), false);
    rc = real(thread, result);
  }
  if (rc == 0) lw::os_threads::mark_joined(thread);
  return rc;
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_tryjoin_np(pthread_t thread, void** result) {
  auto real = libc_threads().tryjoin;
  if (real == nullptr) return ENOSYS;
  const int rc = real(thread, result);
  if (rc == 0) lw::os_threads::mark_joined(thread);
  return rc;
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_timedjoin_np(pthread_t thread, void** result,
                                                                const timespec* deadline) {
  auto real = libc_threads().timedjoin;
  if (real == nullptr) return ENOSYS;
  int rc;
  {
    WaitScope wait(WaitKind::kThreadJoin, handle_object(thread), true);
    rc = real(thread, result, deadline);
  }
  if (rc == 0) lw::os_threads::mark_joined(thread);
  return rc;
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_clockjoin_np(pthread_t thread, void** result,
                                                                clockid_t clock, const timespec* deadline) {
  auto real = libc_threads().clockjoin;
  if (real == nullptr) return ENOSYS;
  int rc;
  {
    WaitScope wait(WaitKind::kThreadJoin, handle_object(thread), true);
    rc = real(thread, result, clock, deadline);
  }
  if (rc == 0) lw::os_threads::mark_joined(thread);
  return rc;
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_detach(pthread_t thread) {
  auto real = libc_threads().detach;
  if (real == nullptr) return ENOSYS;
  const int rc = real(thread);
  if (rc == 0) lw::os_threads::mark_detached(thread);
  return rc;
}

// Referenced by the module's link options, so a program linking the static archive keeps the hooks.
__attribute__((visibility("default"))) void lw_threads_interposer_anchor() {}

}  // extern "C"
