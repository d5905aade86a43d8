// cpu_profile_overhead: what a running CPU profile costs the program. Two threads (one per core
// here) each do a fixed amount of work (sums of pseudo-random ints, as the CPU profile's test
// fixture does); each rep times it once plain and once under lw::start_cpu_profile at 100 Hz, in
// alternating order, and prints the work rate's ratio (profiled / plain; 1.0 = free).
//
//   cpu_profile_overhead [reps=7] [units=400] [threads=2]
// Prints one JSON line per rep and a summary line with the median ratio.
#include <leakwatch/cpu_profile.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace {

std::atomic<long> g_sink{0};

__attribute__((noinline)) long calculation(std::mt19937& rng) {
  long sum = 0;
  for (int i = 0; i < 100'000; ++i) sum += static_cast<int>(rng() & 0xffff);
  return sum;
}

double work_seconds(int threads, int units) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([units, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      long local = 0;
      for (int u = 0; u < units; ++u) local += calculation(rng);
      g_sink.fetch_add(local);
    });
  for (auto& t : ts) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double profiled_seconds(int threads, int units) {
  if (auto r = lw::start_cpu_profile("/dev/null"); !r) {
    std::fprintf(stderr, "cpu_profile_overhead: %s\n", r.error().message.c_str());
    std::exit(2);
  }
  const double s = work_seconds(threads, units);
  (void)lw::stop_cpu_profile();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  const int units = argc > 2 ? std::atoi(argv[2]) : 400;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  work_seconds(threads, units / 4);  // warm up
  std::vector<double> ratios;
  for (int r = 0; r < reps; ++r) {
    double plain = 0, profiled = 0;
    if (r % 2 == 0) {
      plain = work_seconds(threads, units);
      profiled = profiled_seconds(threads, units);
    } else {
      profiled = profiled_seconds(threads, units);
      plain = work_seconds(threads, units);
    }
    const double ratio = plain / profiled;  // work rate profiled / plain
    ratios.push_back(ratio);
    std::printf("{\"rep\":%d,\"plain_s\":%.3f,\"profiled_s\":%.3f,\"rate_ratio\":%.4f}\n", r, plain, profiled, ratio);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("{\"threads\":%d,\"units\":%d,\"hz\":100,\"rate_ratio_min\":%.4f,\"rate_ratio_median\":%.4f,"
              "\"rate_ratio_max\":%.4f}\n",
              threads, units, ratios.front(), ratios[ratios.size() / 2], ratios.back());
  return 0;
}
