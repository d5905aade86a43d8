// cpu_profile_overhead: what a running CPU profile costs the program. Two threads (one per core
// here) each do a fixed amount of work (sums of pseudo-random ints, as the CPU profile's test
// fixture does); each rep times it once plain and once under lw::start_cpu_profile at 100 Hz, in
// alternating order, and prints the work rate's ratio (profiled / plain; 1.0 = free), by wall
// time and by the CPU time the whole process used (the workers, the signal handler that runs on
// them, and the profile's collector thread): on a machine whose cores are shared the wall ratio
// carries the machine's noise (±10% per timing here), the CPU ratio the profile's own cost.
//
//   cpu_profile_overhead [reps=7] [units=400] [threads=2] [hz=100]
// A rate of 1000 (the most start_cpu_profile takes) makes each sample's cost ten times as visible:
// the cost at 100 Hz is a tenth of the loss measured there.
// Prints one JSON line per rep and a summary line with the median ratio.
#include <leakwatch/cpu_profile.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <time.h>
#include <vector>

namespace {

std::atomic<long> g_sink{0};

__attribute__((noinline)) long calculation(std::mt19937& rng) {
  long sum = 0;
  for (int i = 0; i < 100'000; ++i) sum += static_cast<int>(rng() & 0xffff);
  return sum;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

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

Timing timed(int threads, int units) {
  const double cpu0 = process_cpu_seconds();
  Timing t;
  t.wall = work_seconds(threads, units);
  t.cpu = process_cpu_seconds() - cpu0;
  return t;
}

int g_hz = 100;

Timing profiled(int threads, int units) {
  if (auto r = lw::start_cpu_profile("/dev/null", g_hz); !r) {
    std::fprintf(stderr, "cpu_profile_overhead: %s\n", r.error().message.c_str());
    std::exit(2);
  }
  const Timing t = timed(threads, units);
  (void)lw::stop_cpu_profile();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  const int units = argc > 2 ? std::atoi(argv[2]) : 400;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  g_hz = argc > 4 ? std::atoi(argv[4]) : 100;
  work_seconds(threads, units / 4);  // warm up
  std::vector<double> ratios, cpu_ratios;
  for (int r = 0; r < reps; ++r) {
    Timing plain, prof;
    if (r % 2 == 0) {
      plain = timed(threads, units);
      prof = profiled(threads, units);
    } else {
      prof = profiled(threads, units);
      plain = timed(threads, units);
    }
    const double ratio = plain.wall / prof.wall;  // work rate profiled / plain
    const double cpu_ratio = plain.cpu / prof.cpu;
    ratios.push_back(ratio);
    cpu_ratios.push_back(cpu_ratio);
    std::printf("{\"rep\":%d,\"plain_s\":%.3f,\"profiled_s\":%.3f,\"rate_ratio\":%.4f,\"plain_cpu_s\":%.3f,"
                "\"profiled_cpu_s\":%.3f,\"cpu_rate_ratio\":%.4f}\n",
                r, plain.wall, prof.wall, ratio, plain.cpu, prof.cpu, cpu_ratio);
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(cpu_ratios.begin(), cpu_ratios.end());
  std::printf("{\"threads\":%d,\"units\":%d,\"hz\":%d,\"rate_ratio_min\":%.4f,\"rate_ratio_median\":%.4f,"
              "\"rate_ratio_max\":%.4f,\"cpu_rate_ratio_min\":%.4f,\"cpu_rate_ratio_median\":%.4f,"
              "\"cpu_rate_ratio_max\":%.4f}\n",
              threads, units, g_hz, ratios.front(), ratios[ratios.size() / 2], ratios.back(), cpu_ratios.front(),
              cpu_ratios[cpu_ratios.size() / 2], cpu_ratios.back());
  return 0;
}
