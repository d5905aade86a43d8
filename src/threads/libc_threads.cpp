#include "src/threads/libc_threads.hpp"

#include <dlfcn.h>

#include <cstring>

namespace lw::os_threads {

constinit LockCalls g_lock_calls = {lw_glibc_mutex_lock,   lw_glibc_mutex_trylock, lw_glibc_rwlock_rdlock,
                                    lw_glibc_rwlock_tryrdlock, lw_glibc_rwlock_wrlock, lw_glibc_rwlock_trywrlock,
                                    lw_glibc_mutex_unlock};

namespace {

bool in_libc(void* p) noexcept {
  Dl_info info;
  return dladdr(p, &info) != 0 && info.dli_fname != nullptr && std::strstr(info.dli_fname, "/libc.so") != nullptr;
}

template <typename F>
void find(F* out, const char* name, const char* version) noexcept {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr || in_libc(p)) {
    if (void* v = dlvsym(RTLD_NEXT, name, version)) p = v;
  }
  *out = reinterpret_cast<F>(p);
}

// rebind_locks() points the lock calls at the next definitions of the public names: glibc's, or
// an interposer's between us and glibc. (The load-time binding to glibc's __pthread_* aliases may
// itself land in a sanitizer's interceptor of those aliases, which cannot forward them.)
void rebind_locks() noexcept {
  LockCalls c = g_lock_calls;
  find(&c.mutex_lock, "pthread_mutex_lock", "GLIBC_2.2.5");
  find(&c.mutex_trylock, "pthread_mutex_trylock", "GLIBC_2.34");
  find(&c.rwlock_rdlock, "pthread_rwlock_rdlock", "GLIBC_2.34");
  find(&c.rwlock_tryrdlock, "pthread_rwlock_tryrdlock", "GLIBC_2.34");
  find(&c.rwlock_wrlock, "pthread_rwlock_wrlock", "GLIBC_2.34");
  find(&c.rwlock_trywrlock, "pthread_rwlock_trywrlock", "GLIBC_2.34");
  find(&c.mutex_unlock, "pthread_mutex_unlock", "GLIBC_2.2.5");
  if (c.mutex_lock && c.mutex_trylock && c.rwlock_rdlock && c.rwlock_tryrdlock && c.rwlock_wrlock && c.rwlock_trywrlock &&
      c.mutex_unlock)
    g_lock_calls = c;
}

LibcThreads resolve() noexcept {
  LibcThreads t;
  find(&t.create, "pthread_create", "GLIBC_2.34");
  find(&t.join, "pthread_join", "GLIBC_2.34");
  find(&t.tryjoin, "pthread_tryjoin_np", "GLIBC_2.34");
  find(&t.timedjoin, "pthread_timedjoin_np", "GLIBC_2.34");
  find(&t.clockjoin, "pthread_clockjoin_np", "GLIBC_2.34");
  find(&t.detach, "pthread_detach", "GLIBC_2.34");
  find(&t.mutex_timedlock, "pthread_mutex_timedlock", "GLIBC_2.34");
  find(&t.mutex_clocklock, "pthread_mutex_clocklock", "GLIBC_2.34");
  find(&t.cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
  find(&t.cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
  find(&t.cond_clockwait, "pthread_cond_clockwait", "GLIBC_2.34");
  find(&t.rwlock_timedrdlock, "pthread_rwlock_timedrdlock", "GLIBC_2.34");
  find(&t.rwlock_timedwrlock, "pthread_rwlock_timedwrlock", "GLIBC_2.34");
  find(&t.rwlock_clockrdlock, "pthread_rwlock_clockrdlock", "GLIBC_2.34");
  find(&t.rwlock_clockwrlock, "pthread_rwlock_clockwrlock", "GLIBC_2.34");
  find(&t.sem_wait, "sem_wait", "GLIBC_2.34");
  find(&t.sem_timedwait, "sem_timedwait", "GLIBC_2.34");
  find(&t.sem_clockwait, "sem_clockwait", "GLIBC_2.34");
  find(&t.barrier_wait, "pthread_barrier_wait", "GLIBC_2.34");
  rebind_locks();
  return t;
}

}  // namespace

const LibcThreads& libc_threads() noexcept {
  // A function-local static: initialised once, thread-safely (the guard is glibc's
  // __cxa_guard, which uses a futex, not pthread_mutex_lock).
  static const LibcThreads table = resolve();
  return table;
}

}  // namespace lw::os_threads
