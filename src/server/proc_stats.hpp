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

}  // namespace lw::server
