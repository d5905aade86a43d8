// thread_dump_bench: the cost of a full thread dump. Starts N threads (default 2,000) blocked on a
// condition variable a few frames deep, then times lw::threads() with every stack taken, several
// times, and reports the longest time any one thread stood in the stack signal's handler.
//
//   thread_dump_bench [threads=2000] [reps=5] [handler|capturer]
// The last argument says who walks each stack: the signalled thread in its handler (the default)
// or the capturing thread, from the context the handler saved.
// Prints one JSON line per rep and a summary line.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "leakwatch/thread_info.hpp"
#include "src/threads/stack_signal.hpp"

namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_done = false;
int g_parked = 0;

[[gnu::noinline]] void park() {
  std::unique_lock<std::mutex> lock(g_mu);
  ++g_parked;
  g_cv.notify_all();
  g_cv.wait(lock, [] { return g_done; });
}

[[gnu::noinline]] void level(int depth) {
  if (depth == 0) return park();
  level(depth - 1);
  asm volatile("" ::: "memory");
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const bool capturer_walks = argc > 3 && std::string_view(argv[3]) == "capturer";
  lw::os_threads::use_handler_unwind(!capturer_walks);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(level, 8);
  {
    std::unique_lock<std::mutex> lock(g_mu);
    g_cv.wait(lock, [&] { return g_parked == n; });
  }
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<lw::ThreadInfo> all = lw::threads(true);
    const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::size_t with_stack = 0;
    for (const auto& t : all) with_stack += t.stack.empty() ? 0 : 1;
    ms.push_back(took);
    std::printf("{\"rep\":%d,\"threads\":%zu,\"with_stack\":%zu,\"dump_ms\":%.1f}\n", r, all.size(), with_stack, took);
  }
  const auto c = lw::os_threads::stack_signal_counters();
  std::sort(ms.begin(), ms.end());
  std::printf("{\"threads\":%d,\"dump_ms_min\":%.1f,\"dump_ms_median\":%.1f,\"dump_ms_max\":%.1f,"
              "\"longest_handler_us\":%.1f}\n",
              n, ms.front(), ms[ms.size() / 2], ms.back(), static_cast<double>(c.longest_stop_ns) / 1e3);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_done = true;
  }
  g_cv.notify_all();
  for (auto& t : threads) t.join();
  return 0;
}
