#include "src/threads/libc_threads.hpp"

#include <dlfcn.h>

#include <atomic>

namespace lw::os_threads {
namespace {

template <typename F>
void find(F* out, const char* name, const char* version) noexcept {
  void* p = dlvsym(RTLD_NEXT, name, version);
  if (p == nullptr) p = dlsym(RTLD_NEXT, name);
  *out = reinterpret_cast<F>(p);
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
