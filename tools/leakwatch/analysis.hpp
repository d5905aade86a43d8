// analysis.hpp: reading a window of stored snapshots back as the differ's series and running the
// verdicts. Used by `diff` and `watch`. Not thread-safe (uses one Store); allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leakwatch/result.hpp"
#include "src/diff/detect.hpp"
#include "src/store/store.hpp"

namespace lw::cli {

struct AnalysisRequest {
  std::optional<std::string> target;  // all targets when unset
  std::int64_t window_ns = 30LL * 60 * 1'000'000'000;  // counted back from each target's newest snapshot
  std::optional<std::int64_t> from_id;  // with to_id: exactly these snapshots instead of a window
  std::optional<std::int64_t> to_id;
  diff::DetectOptions detect;
};

struct Analysis {
  std::vector<diff::Finding> findings;
  std::size_t snapshots = 0;  // snapshots read
  std::size_t series = 0;     // (target, process run) series judged
  // Snapshots left out because their stored task or thread set does not decode, each with why
  // ("snapshot 17: its task set does not decode: ..."); the others are judged without them.
  std::vector<std::pair<std::int64_t, std::string>> skipped;
};

// open_store() opens the store at `path`; with `must_exist` (commands that only read), a missing
// file is an Error rather than a new empty store, and the file is opened read-only.
Result<std::unique_ptr<store::Store>> open_store(const std::string& path, bool must_exist);

// run_of() names the process run a snapshot belongs to: its instance id, or, for a target that
// sends none, its pid and start time. The differ's series are (target, run).
std::string run_of(const store::SnapshotInfo& info);

// analyze() loads the snapshots `req` selects and returns the findings.
Result<Analysis> analyze(store::Store& st, const AnalysisRequest& req);

}  // namespace lw::cli
