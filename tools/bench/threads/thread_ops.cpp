// thread_ops: the thread interposer's benchmark workload. It links nothing of leakwatch: run it
// plain and under LD_PRELOAD of libleakwatch_preload.so (run_thread_bench.sh) and compare.
//
//   thread_ops lock [iterations=20000000]   uncontended std::mutex lock + unlock, with a second
//                                           (idle) thread alive, as in any threaded service
//   thread_ops lock1 [iterations]           the same in a single-threaded process, where glibc
//                                           takes and releases the lock without atomic instructions
//   thread_ops create [iterations=20000]    pthread_create + pthread_join of an empty thread
// Prints one JSON line: {"op":"lock","ns_per_op":N}.
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

[[gnu::noinline]] double lock_unlock(long n) {
  static std::mutex m;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    m.lock();
    asm volatile("" ::: "memory");
    m.unlock();
  }
  return seconds_since(start);
}

void* empty_thread(void*) { return nullptr; }

[[gnu::noinline]] double create_join(long n) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, nullptr, empty_thread, nullptr) != 0) std::abort();
    pthread_join(t, nullptr);
  }
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: thread_ops lock|lock1|create [iterations]\n");
    return 2;
  }
  const bool lock = std::strncmp(argv[1], "lock", 4) == 0;
  const long n = argc > 2 ? std::atol(argv[2]) : (lock ? 20'000'000 : 20'000);
  // A second thread that only waits: glibc drops its single-thread shortcuts for good once a
  // thread has been created.
  std::mutex idle_mu;
  std::condition_variable idle_cv;
  bool done = false;
  std::thread idle;
  if (std::strcmp(argv[1], "lock") == 0)
    idle = std::thread([&] {
      std::unique_lock<std::mutex> l(idle_mu);
      idle_cv.wait(l, [&] { return done; });
    });
  const double s = lock ? lock_unlock(n) : create_join(n);
  if (idle.joinable()) {
    {
      std::lock_guard<std::mutex> l(idle_mu);
      done = true;
    }
    idle_cv.notify_all();
    idle.join();
  }
  std::printf("{\"op\":\"%s\",\"iterations\":%ld,\"ns_per_op\":%.2f}\n", argv[1], n, s * 1e9 / static_cast<double>(n));
  return 0;
}
