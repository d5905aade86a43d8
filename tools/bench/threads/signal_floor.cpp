// signal_floor: what the kernel alone charges to interrupt every thread once, the floor under any
// signal-based stack capture (ours included). Starts N threads (default 2,000) parked on a futex,
// then signals each once, 32 in flight at a time as the stack capture does, with a handler that
// only counts and wakes the sender. Links nothing of leakwatch.
//
//   signal_floor [threads=2000] [reps=5]
// Prints one JSON line per rep and a summary line.
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kInFlight = 32;
std::atomic<std::uint32_t> g_answers{0};
std::atomic<std::uint32_t> g_release{0};

void futex_wait(std::atomic<std::uint32_t>* w, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* w, int n) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

void on_signal(int, siginfo_t*, void*) {
  g_answers.fetch_add(1);
  futex_wake(&g_answers, 1);
}

void wait_answers(std::uint32_t target) {
  for (std::uint32_t seen = g_answers.load(); seen < target; seen = g_answers.load()) futex_wait(&g_answers, seen);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const int sig = SIGRTMAX - 7;
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(sig, &sa, nullptr);
  std::vector<int> tids(static_cast<std::size_t>(n));
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      tids[static_cast<std::size_t>(i)] = static_cast<int>(gettid());
      started.fetch_add(1);
      while (g_release.load() == 0) futex_wait(&g_release, 0);
    });
  while (started.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let every thread reach its wait
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::uint32_t sent = g_answers.load();
    for (int i = 0; i < n; i += kInFlight) {
      const int batch = std::min(kInFlight, n - i);
      for (int k = 0; k < batch; ++k) syscall(SYS_tgkill, getpid(), tids[static_cast<std::size_t>(i + k)], sig);
      sent += static_cast<std::uint32_t>(batch);
      wait_answers(sent);
    }
    const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ms.push_back(took);
    std::printf("{\"rep\":%d,\"threads\":%d,\"signal_all_ms\":%.1f}\n", r, n, took);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("{\"threads\":%d,\"signal_all_ms_min\":%.1f,\"signal_all_ms_median\":%.1f,\"signal_all_ms_max\":%.1f}\n", n,
              ms.front(), ms[ms.size() / 2], ms.back());
  g_release.store(1);
  futex_wake(&g_release, 1 << 30);
  for (auto& t : threads) t.join();
  return 0;
}
