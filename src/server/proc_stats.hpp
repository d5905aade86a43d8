// proc_stats.hpp: the process figures Prometheus' process collector publishes (CPU time, memory,
// file descriptors, start time), read from /proc/self without symbolizing or walking anything, so
// /metrics stays cheap. Thread-safe; allocates only inside opendir().
#pragma once

#include <cstdint>

namespace lw::server {

struct ProcStats {
  double cpu_seconds = 0;               // user + system CPU time
  std::uint64_t virtual_bytes = 0;      // VmSize
  std::uint64_t resident_bytes = 0;     // RSS
  double virtual_max_bytes = 0;         // RLIMIT_AS (≈1.8e19 when unlimited, as Go reports it)
  std::int64_t threads = 0;             // OS threads now
  std::int64_t open_fds = 0;
  std::int64_t max_fds = 0;             // RLIMIT_NOFILE soft limit
  double start_time_seconds = 0;        // since the Unix epoch
};

// read_proc_stats() reads /proc/self/stat, /proc/self/fd and the resource limits. Fields it cannot
// read stay 0.
ProcStats read_proc_stats();

// kProcStatsMaxAge is how old recent_proc_stats() lets its figures get. Reading /proc costs tens of
// microseconds per file on some kernels (60 us for the set here, measured by
// tools/bench/server/metrics_cost), more than the rest of a /metrics answer; Prometheus scrapes
// every few seconds, so figures 100 ms old lose nothing and a scrape storm costs the target little.
inline constexpr std::int64_t kProcStatsMaxAgeNs = 100'000'000;

// recent_proc_stats() returns read_proc_stats() figures at most `max_age_ns` old (one reader
// refreshes while the others wait for it). Thread-safe.
ProcStats recent_proc_stats(std::int64_t max_age_ns = kProcStatsMaxAgeNs);

}  // namespace lw::server
