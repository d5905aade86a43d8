// libc_threads.hpp: the next definitions of the pthread, semaphore and barrier functions, which
// the interposers in this module forward to: glibc's, or another interposer's that comes between
// (a sanitizer's runtime, another tool) so that it still sees every call. Thread-safe; never
// allocates after libc_threads() has run once (the first use resolves; dlsym may allocate once).
//
// Mutex and rwlock calls start out bound to glibc's exported __pthread_* aliases: they need no
// look-up, so the mutex hooks work from the very first lock of the process, before any
// constructor. The others are found with dlsym(RTLD_NEXT); when that lands in glibc, dlvsym pins
// glibc's current symbol version: a plain dlsym of a versioned symbol such as pthread_cond_wait may
// return the oldest version (GLIBC_2.2.5), whose condition variable layout differs.
#pragma once

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

// glibc exports the __pthread_* aliases only under their original version (compatibility
// symbols), so they are bound by .symver rather than by name.
extern "C" {
int lw_glibc_mutex_lock(pthread_mutex_t*);
int lw_glibc_mutex_trylock(pthread_mutex_t*);
int lw_glibc_mutex_unlock(pthread_mutex_t*);
int lw_glibc_rwlock_rdlock(pthread_rwlock_t*);
int lw_glibc_rwlock_tryrdlock(pthread_rwlock_t*);
int lw_glibc_rwlock_wrlock(pthread_rwlock_t*);
int lw_glibc_rwlock_trywrlock(pthread_rwlock_t*);
}
__asm__(".symver lw_glibc_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_mutex_trylock, __pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_mutex_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_rwlock_rdlock, __pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_rwlock_tryrdlock, __pthread_rwlock_tryrdlock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_rwlock_wrlock, __pthread_rwlock_wrlock@GLIBC_2.2.5");
__asm__(".symver lw_glibc_rwlock_trywrlock, __pthread_rwlock_trywrlock@GLIBC_2.2.5");

namespace lw::os_threads {

// LockCalls are the lock functions the hot hooks call. Bound to glibc's aliases at load time;
// rebound once by libc_threads() to the next definitions of the public names (glibc's, or an
// interposer's between us and glibc). Written only then (during start-up, single-threaded); read
// freely.
struct LockCalls {
  int (*mutex_lock)(pthread_mutex_t*);
  int (*mutex_trylock)(pthread_mutex_t*);
  int (*rwlock_rdlock)(pthread_rwlock_t*);
  int (*rwlock_tryrdlock)(pthread_rwlock_t*);
  int (*rwlock_wrlock)(pthread_rwlock_t*);
  int (*rwlock_trywrlock)(pthread_rwlock_t*);
  int (*mutex_unlock)(pthread_mutex_t*);
};
extern LockCalls g_lock_calls;

struct LibcThreads {
  int (*create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*) = nullptr;
  int (*join)(pthread_t, void**) = nullptr;
  int (*tryjoin)(pthread_t, void**) = nullptr;
  int (*timedjoin)(pthread_t, void**, const timespec*) = nullptr;
  int (*clockjoin)(pthread_t, void**, clockid_t, const timespec*) = nullptr;
  int (*detach)(pthread_t) = nullptr;
  int (*mutex_timedlock)(pthread_mutex_t*, const timespec*) = nullptr;
  int (*mutex_clocklock)(pthread_mutex_t*, clockid_t, const timespec*) = nullptr;
  int (*cond_wait)(pthread_cond_t*, pthread_mutex_t*) = nullptr;
  int (*cond_timedwait)(pthread_cond_t*, pthread_mutex_t*, const timespec*) = nullptr;
  int (*cond_clockwait)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const timespec*) = nullptr;
  int (*rwlock_timedrdlock)(pthread_rwlock_t*, const timespec*) = nullptr;
  int (*rwlock_timedwrlock)(pthread_rwlock_t*, const timespec*) = nullptr;
  int (*rwlock_clockrdlock)(pthread_rwlock_t*, clockid_t, const timespec*) = nullptr;
  int (*rwlock_clockwrlock)(pthread_rwlock_t*, clockid_t, const timespec*) = nullptr;
  int (*sem_wait)(sem_t*) = nullptr;
  int (*sem_timedwait)(sem_t*, const timespec*) = nullptr;
  int (*sem_clockwait)(sem_t*, clockid_t, const timespec*) = nullptr;
  int (*barrier_wait)(pthread_barrier_t*) = nullptr;
};

// libc_threads() returns the resolved table (resolving it on first use). A function glibc lacks
// stays null; its hook then fails with ENOSYS.
const LibcThreads& libc_threads() noexcept;

}  // namespace lw::os_threads
