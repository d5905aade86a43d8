// live_history.hpp: the live page's gauges over time, in a ring of fixed size allocated once
// (kLivePoints points of 80 bytes: 288 KB), so the page can chart the time before it was opened:
// a point every 2 s while a page is open (the last two hours), every 10 s otherwise (ten hours). Thread-safe (one mutex; written once a second by the server's loop
// thread, read by the page's requests); add() never allocates, since() allocates its answer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "src/server/proc_stats.hpp"
#include "src/snapshot/model.hpp"

namespace lw::server {

inline constexpr std::size_t kLivePoints = 3600;

struct LivePoint {
  std::int64_t unix_ms = 0;
  std::uint64_t heap_alloc = 0;    // MemStats.HeapAlloc: the program's live heap bytes
  std::uint64_t heap_objects = 0;
  std::uint64_t sys = 0;           // MemStats.Sys
  std::uint64_t rss = 0;           // the whole process's resident bytes (leakwatch's own included)
  std::uint64_t tasks = 0;         // live tasks
  std::uint64_t threads = 0;       // the program's OS threads (leakwatch's own left out)
  std::uint64_t leaked_tasks = 0;  // live tasks proven never to wake
  std::uint64_t leaked_threads = 0;
  std::uint64_t self_bytes = 0;    // heap bytes leakwatch itself holds
};

// live_point() reads one point from a counters snapshot and the process figures.
LivePoint live_point(const snapshot::Snapshot& s, const ProcStats& proc);

class LiveHistory {
 public:
  LiveHistory();
  // add() appends a point, overwriting the oldest once the ring is full; a point no newer than
  // the newest held is dropped (two readers of one capture add it once).
  void add(const LivePoint& p);
  // since() returns the points newer than `unix_ms` (all of them for 0), oldest first.
  std::vector<LivePoint> since(std::int64_t unix_ms) const;

 private:
  mutable std::mutex mu_;
  std::unique_ptr<std::array<LivePoint, kLivePoints>> ring_;  // Guarded by mu_.
  std::size_t next_ = 0;                                      // Guarded by mu_.
  std::size_t size_ = 0;                                      // Guarded by mu_.
};

}  // namespace lw::server
