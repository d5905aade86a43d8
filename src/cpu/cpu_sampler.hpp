// cpu_sampler.hpp: the CPU profiler's sampling half. While it runs, every thread of the process
// has a CPU-time timer of its own (timer_create on the thread's CPU clock, SIGEV_THREAD_ID), which
// sends it SIGPROF after each 1/hz seconds of CPU it uses; the handler records where the thread
// was into a lock-free ring (sample_ring.hpp), and a collecting thread ("lw-cpu") drains the ring
// into counts per (stack, thread, labels) and gives threads that appeared since their timers. One
// sampling at a time. Thread-safe; start and stop allocate, the handler never does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "leakwatch/result.hpp"

namespace lw::cpu {

inline constexpr int kDefaultHz = 100;
inline constexpr int kMaxHz = 1000;

// SampleKey is what one count is kept for: the stack (innermost first; pc[0] is the interrupted
// instruction + 1), the thread and the label set current then (a base::LabelSetId).
struct SampleKey {
  std::vector<std::uint64_t> pcs;
  int tid = 0;
  std::uint32_t label_set = 0;
  bool operator<(const SampleKey& o) const {
    return std::tie(pcs, tid, label_set) < std::tie(o.pcs, o.tid, o.label_set);
  }
};

// Sampled is one finished sampling.
struct Sampled {
  std::map<SampleKey, std::int64_t> counts;
  std::map<int, std::string> thread_names;  // the threads seen, named as at their last look
  int hz = kDefaultHz;
  std::int64_t start_unix_ns = 0;
  std::int64_t duration_ns = 0;
  std::uint64_t dropped = 0;  // samples lost to a full ring
  std::uint64_t threads_timed = 0;  // threads that had a timer at some point
};

// start_sampling() starts sampling every thread at `hz` (1..kMaxHz). Errors: "cpu profiling
// already in use", or the program handles SIGPROF itself.
Result<void> start_sampling(int hz);

// stop_sampling() stops the timers, drains the ring and returns the counts. Error when not
// sampling.
Result<Sampled> stop_sampling();

// sampling() says whether a sampling runs.
bool sampling() noexcept;

}  // namespace lw::cpu
