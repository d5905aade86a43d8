// The blocking-call hooks: mutex, rwlock, semaphore, condition variable and barrier waits. A lock
// is tried first (glibc's own trylock, one atomic exchange), and only when it would block does the
// hook publish the wait (kind, object, exact start) in the thread's slot and make the blocking call.
// So the uncontended lock costs one extra call, and nothing here allocates or takes a lock that can.
// Condition and barrier waits always block, so they always publish.
//
// The owner of a mutex is read from glibc's pthread_mutex_t at capture time (deadlock_proof.cpp),
// so unlocks need no bookkeeping; the unlock hook only serves the mutex profile, and while that is
// off it is one load and a jump to glibc.
#include <errno.h>
#include <semaphore.h>

#include "src/base/contention_event.hpp"
#include "src/threads/current_slot.hpp"
#include "src/threads/libc_threads.hpp"
#include "src/threads/wait_profile.hpp"

using lw::os_threads::libc_threads;
using lw::os_threads::WaitKind;
using lw::os_threads::WaitScope;

namespace {

LW_THREAD_HOOK [[gnu::noinline]] int contended_mutex_lock(pthread_mutex_t* m) noexcept {
  WaitScope wait(WaitKind::kMutexLock, m, false);
  return lw::os_threads::g_lock_calls.mutex_lock(m);
}

LW_THREAD_HOOK [[gnu::noinline]] int contended_rdlock(pthread_rwlock_t* l) noexcept {
  WaitScope wait(WaitKind::kRwlockRead, l, false);
  return lw::os_threads::g_lock_calls.rwlock_rdlock(l);
}

LW_THREAD_HOOK [[gnu::noinline]] int contended_wrlock(pthread_rwlock_t* l) noexcept {
  WaitScope wait(WaitKind::kRwlockWrite, l, false);
  return lw::os_threads::g_lock_calls.rwlock_wrlock(l);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// A contended unlock charges the delay of every thread still waiting for the mutex to the
// unlocker's stack (Go's mutex profile), recorded for 1 in n of them. glibc's lock word says
// whether anyone may wait: 2 for the normal kinds, the FUTEX_WAITERS bit (negative) for the robust
// and priority-inheriting ones. Waiters are charged while the mutex is still held; the event is
// recorded after it is released.
LW_THREAD_HOOK [[gnu::noinline]] int profiled_mutex_unlock(pthread_mutex_t* m) noexcept {
  const int word = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
  if ((word != 2 && word >= 0) || !lw::os_threads::program_waits()) return lw::os_threads::g_lock_calls.mutex_unlock(m);
  const std::int64_t delay_ns = lw::os_threads::charge_waiters(m);
  const bool sampled = delay_ns > 0 && lw::base::mutex_sampled();
  const int rc = lw::os_threads::g_lock_calls.mutex_unlock(m);
  if (sampled) lw::base::mutex_event(delay_ns, 0);
  return rc;
}

#endif

}  // namespace

extern "C" {

// Not in sanitizer builds: until the lock calls are rebound, the hook would forward to glibc's
// __pthread_mutex_unlock alias, which a sanitizer intercepts without being able to forward it
// (its real pointer is null), and programs unlock mutexes in constructors long before that.
// There the mutex profile leaves pthread mutexes out (docs/contention.md).
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_mutex_unlock(pthread_mutex_t* m) {
  if (lw::base::mutex_profile_fraction() > 0) [[unlikely]] return profiled_mutex_unlock(m);
  return lw::os_threads::g_lock_calls.mutex_unlock(m);
}
#endif

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_mutex_lock(pthread_mutex_t* m) {
  const int rc = lw::os_threads::g_lock_calls.mutex_trylock(m);
  if (rc != EBUSY) [[likely]] return rc;
  return contended_mutex_lock(m);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_mutex_timedlock(pthread_mutex_t* m, const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.mutex_trylock(m);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().mutex_timedlock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kMutexLock, m, true);
  return real(m, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                                                   const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.mutex_trylock(m);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().mutex_clocklock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kMutexLock, m, true);
  return real(m, clock, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_tryrdlock(l);
  if (rc != EBUSY) [[likely]] return rc;
  return contended_rdlock(l);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_trywrlock(l);
  if (rc != EBUSY) [[likely]] return rc;
  return contended_wrlock(l);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_tryrdlock(l);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().rwlock_timedrdlock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kRwlockRead, l, true);
  return real(l, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_trywrlock(l);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().rwlock_timedwrlock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kRwlockWrite, l, true);
  return real(l, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock,
                                                                      const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_tryrdlock(l);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().rwlock_clockrdlock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kRwlockRead, l, true);
  return real(l, clock, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock,
                                                                      const timespec* deadline) {
  const int rc = lw::os_threads::g_lock_calls.rwlock_trywrlock(l);
  if (rc != EBUSY) return rc;
  auto real = libc_threads().rwlock_clockwrlock;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kRwlockWrite, l, true);
  return real(l, clock, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  auto real = libc_threads().cond_wait;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kConditionWait, c, false);
  return real(c, m);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                                                  const timespec* deadline) {
  auto real = libc_threads().cond_timedwait;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kConditionWait, c, true);
  return real(c, m, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m,
                                                                  clockid_t clock, const timespec* deadline) {
  auto real = libc_threads().cond_clockwait;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kConditionWait, c, true);
  return real(c, m, clock, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int sem_wait(sem_t* s) {
  const int saved_errno = errno;
  if (sem_trywait(s) == 0) [[likely]] return 0;
  if (errno != EAGAIN) return -1;
  errno = saved_errno;
  auto real = libc_threads().sem_wait;
  if (real == nullptr) return errno = ENOSYS, -1;
  WaitScope wait(WaitKind::kSemaphoreWait, s, false);
  return real(s);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int sem_timedwait(sem_t* s, const timespec* deadline) {
  const int saved_errno = errno;
  if (sem_trywait(s) == 0) return 0;
  if (errno != EAGAIN) return -1;
  errno = saved_errno;
  auto real = libc_threads().sem_timedwait;
  if (real == nullptr) return errno = ENOSYS, -1;
  WaitScope wait(WaitKind::kSemaphoreWait, s, true);
  return real(s, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int sem_clockwait(sem_t* s, clockid_t clock, const timespec* deadline) {
  const int saved_errno = errno;
  if (sem_trywait(s) == 0) return 0;
  if (errno != EAGAIN) return -1;
  errno = saved_errno;
  auto real = libc_threads().sem_clockwait;
  if (real == nullptr) return errno = ENOSYS, -1;
  WaitScope wait(WaitKind::kSemaphoreWait, s, true);
  return real(s, clock, deadline);
}

LW_THREAD_HOOK __attribute__((visibility("default"))) int pthread_barrier_wait(pthread_barrier_t* b) {
  auto real = libc_threads().barrier_wait;
  if (real == nullptr) return ENOSYS;
  WaitScope wait(WaitKind::kBarrierWait, b, false);
  return real(b);
}

}  // extern "C"
