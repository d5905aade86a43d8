// live_json.hpp: /debug/leakwatch/live.json, what the live page shows: the gauges now and their
// history, tasks and threads by state and wait reason, the top heap sites by in-use bytes, the
// proven leaks with their stacks, and the profiles with their counts. Built from a counters
// snapshot (no thread stack taken: the page refreshes every second and must cost the target less
// than a /metrics scrape); docs/http.md has the schema. Thread-safe; allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/frame_names.hpp"
#include "src/server/live_history.hpp"
#include "src/server/proc_stats.hpp"
#include "src/server/profile_endpoints.hpp"
#include "src/snapshot/model.hpp"

namespace lw::server {

inline constexpr std::size_t kLiveTopSites = 15;   // heap sites listed
inline constexpr std::size_t kLiveLeaks = 10;      // leaked tasks, and threads, listed (each)
inline constexpr std::size_t kLiveGroups = 50;     // state / wait reason rows, for tasks and threads
inline constexpr std::size_t kLiveFrames = 16;     // frames per stack

struct LiveInput {
  const snapshot::Snapshot* counters = nullptr;
  ProcStats proc;
  std::vector<ListedProfile> profiles;  // as the /debug/pprof/ index lists them
  FrameNames* names = nullptr;
};

// write_live_figures() is the document up to its history: "{" and every field that depends on
// the capture alone, unterminated. finish_live_json() adds the history the client asked for
// (since=) and closes it.
std::string write_live_figures(const LiveInput& in);
std::string finish_live_json(std::string_view figures, const std::vector<LivePoint>& history);

}  // namespace lw::server
