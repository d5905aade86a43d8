// detect.hpp: the verdicts over snapshot series (docs/detection.md explains each one, its
// statistics and its limits). Pure functions; thread-safe; allocate.
#pragma once

#include <cstdint>
#include <vector>

#include "src/diff/finding.hpp"
#include "src/diff/series.hpp"

namespace lw::diff {

struct DetectOptions {
  std::int64_t stuck_after_ns = 5LL * 60 * 1'000'000'000;  // --stuck-after
  std::size_t min_points = 5;           // growth verdicts need this many snapshots of one run
  double min_t = 4.0;                   // slope / its standard error, over the whole window
  double min_tail_t = 2.0;              // ... over the later half (plateau check)
  double min_tail_ratio = 0.25;         // later-half slope / whole-window slope
  double max_tail_drop_se = 2.0;        // whole slope - later-half slope, in later-half SEs
  double min_kendall_tau = 0.5;         // monotonic-ish: (concordant - discordant) / pairs
  std::int64_t min_growth_bytes = 16 * 1024;  // growth over the window below this is ignored
  std::int64_t min_task_growth = 5;           // tasks added over the window below this are ignored
  std::int64_t min_profile_growth = 5;        // custom profile keys added over the window, likewise
};

// detect() returns the findings of every series, strongest first within each kind.
std::vector<Finding> detect(const std::vector<Series>& series, const StackNames& names,
                            const DetectOptions& options = {});

// detect_series() is detect() for one series.
std::vector<Finding> detect_series(const Series& series, const StackNames& names,
                                   const DetectOptions& options);

}  // namespace lw::diff
