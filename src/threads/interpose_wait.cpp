// The blocking-call hooks: mutex, rwlock, semaphore, condition variable and barrier waits. A lock
// is tried first (glibc's own trylock, one atomic exchange), and only when it would block does the
// hook publish the wait (kind, object, exact start) in the thread's slot and make the blocking call.
// So the uncontended lock costs one extra call, and nothing here allocates or takes a lock that can.
// Condition and barrier waits always block, so they always publish.
//
// Unlocks are not hooked: the owner of a mutex is read from glibc's pthread_mutex_t at capture time
// (deadlock_proof.cpp).
#include <errno.h>
#include <semaphore.h>

#include "src/threads/current_slot.hpp"
#include "src/threads/libc_threads.hpp"

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

}  // namespace

extern "C" {

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
